/**
 * Keyword check benchmark: the cost per push of `checkMessageData` for a typical 5-keyword
 * subscribe template (thing, time, character_string, phrase, thing), beside a baseline measured
 * in the same run: `JSON.stringify` of the same send body, which every push pays anyway to go
 * out to WeChat. Target: at most 5 µs per push.
 *
 * 2,000 distinct messages (real-looking values, varied lengths, Chinese and ASCII) are checked
 * in turn so no single value is optimised for; each figure is the median of 7 timed rounds after
 * a warm-up.
 *
 *   deno run -A bench/keywords.ts        (env: MESSAGES=2000, ROUNDS=7, JSON=1 for a JSON line)
 *
 * @module
 */
import { checkMessageData } from "../src/wechat/keyword_rules.ts";
import { parseTemplateList } from "../src/wechat/templates.ts";

const env = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const MESSAGES = env("MESSAGES", 2_000);
const ROUNDS = env("ROUNDS", 7);
const TARGET_US = 5;

// The template as WeChat's gettemplate describes it, parsed the way the service will.
const [template] = parseTemplateList({
  errcode: 0,
  errmsg: "ok",
  data: [{
    priTmplId: "bDmywsp2oEHjwAadTGKkUJ-eJEiMiOf7H-dZ6wjdkEQ",
    title: "取件提醒",
    content:
      "物品名称:{{thing1.DATA}}\n取件时间:{{time2.DATA}}\n取件码:{{character_string3.DATA}}\n" +
      "状态:{{phrase4.DATA}}\n备注:{{thing5.DATA}}\n",
    example:
      "物品名称:顺丰快递\n取件时间:2019年10月1日 15:01\n取件码:A-1024\n状态:待取件\n备注:请到前台领取\n",
    type: 2,
  }],
});

const ITEMS = ["顺丰快递", "Nike Air Max 90 42码", "生鲜水果礼盒", "Book: Deno in Action", "文件"];
const NOTES = [
  "请到前台领取",
  "Leave at door 3B",
  "柜号 12, 24小时内有效",
  "—",
  "电话联系 138****0000",
];
const STATES = ["待取件", "已取件", "已超时", "已退回"];
const messages = Array.from({ length: MESSAGES }, (_, i) => ({
  touser: `oBench${String(i).padStart(22, "0")}`,
  template_id: template.id,
  page: `pages/order/detail?id=${i}`,
  miniprogram_state: "formal",
  lang: "zh_CN",
  data: {
    thing1: { value: ITEMS[i % ITEMS.length] },
    time2: {
      value: `2026年${1 + (i % 12)}月${1 + (i % 28)}日 ${String(i % 24).padStart(2, "0")}:${
        String(i % 60).padStart(2, "0")
      }`,
    },
    character_string3: { value: `A-${1000 + (i % 9000)}` },
    phrase4: { value: STATES[i % STATES.length] },
    thing5: { value: NOTES[i % NOTES.length] },
  },
}));

/** Median µs per message of `work` over every message, ROUNDS times, after a warm-up. */
function perMessage(work: (m: typeof messages[number]) => number): number {
  let sink = 0;
  for (let w = 0; w < 3; w++) for (const m of messages) sink += work(m);
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    for (let k = 0; k < 5; k++) for (const m of messages) sink += work(m);
    times.push(((performance.now() - start) * 1000) / (5 * messages.length));
  }
  if (sink === -1) console.log(sink); // keeps the work observable
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

let refused = 0;
for (const m of messages) refused += checkMessageData(template, m.data).length;
if (refused !== 0) throw new Error(`${refused} bench messages break a keyword rule`);

const check = perMessage((m) => checkMessageData(template, m.data).length);
const stringify = perMessage((m) => JSON.stringify(m).length);

if (Deno.env.get("JSON") === "1") {
  console.log(JSON.stringify({ checkUs: check, stringifyUs: stringify, ratio: check / stringify }));
} else {
  console.log(
    `keyword check per push, 5-keyword template, ${MESSAGES} messages (${Deno.build.os}, ` +
      `${navigator.hardwareConcurrency} cores)`,
  );
  console.log("figure                               ours          baseline        ratio");
  console.log(
    `${"µs per push (median of " + ROUNDS + ")"}`.padEnd(37) +
      `${check.toFixed(2)} µs`.padEnd(14) + `${stringify.toFixed(2)} µs`.padEnd(16) +
      `${(check / stringify).toFixed(2)}x`,
  );
  console.log("baseline: JSON.stringify of the same send body (paid by every push anyway).");
  console.log(
    `target: at most ${TARGET_US} µs per push: ${check <= TARGET_US ? "met" : "NOT met"}`,
  );
}
