/**
 * The keyword check against WeChat's rules, case by case, and the same cases sent to the WeChat
 * simulator's subscribe send over real HTTP: the module and the simulator are two independent
 * implementations of the rules, and they must agree on every case (ok <=> errcode 0; the key the
 * module reports <=> the key named by the simulator's 47003). The templates the module checks
 * against are the ones the simulator's gettemplate answers, read with parseTemplateList.
 */
import assert from "node:assert/strict";
import {
  checkKeywordValue,
  checkMessageData,
  describeProblems,
} from "../../src/wechat/keyword_rules.ts";
import {
  keywordsOfContent,
  parseTemplateList,
  type SubscribeTemplate,
  TemplateListError,
} from "../../src/wechat/templates.ts";
import { type SimTemplate, startWeChatSim } from "../../tools/wechat_sim.ts";

type Json = Record<string, unknown>;
type Sim = Awaited<ReturnType<typeof startWeChatSim>>;

const ROOMS = ["客厅", "厨房", "设备发生故障，导致工作异常，请及时查看"];
const STATES = ["已完成", "已取消"];

/** A template with one keyword of every type, and a value for each that WeChat takes. */
const WIDE: SimTemplate = {
  id: "TPL_WIDE",
  title: "全类型",
  type: 2,
  keywords: [
    { key: "thing1", label: "物品名称" },
    { key: "short_thing2", label: "状态" },
    { key: "number3", label: "数量" },
    { key: "letter4", label: "字母" },
    { key: "symbol5", label: "符号" },
    { key: "character_string6", label: "单号" },
    { key: "time7", label: "取件时间" },
    { key: "date8", label: "日期" },
    { key: "amount9", label: "金额" },
    { key: "phone_number10", label: "电话" },
    { key: "car_number11", label: "车牌" },
    { key: "name12", label: "姓名" },
    { key: "phrase13", label: "进度" },
    { key: "enum_string14", label: "所在位置", enumValues: ROOMS },
    { key: "phrase15", label: "订单状态", enumValues: STATES },
  ],
};
const WIDE_VALID: Record<string, string> = {
  thing1: "order shipped",
  short_thing2: "已发货",
  number3: "12",
  letter4: "ABC",
  symbol5: "-",
  character_string6: "SF1234567890",
  time7: "15:01",
  date8: "2019年10月1日",
  amount9: "¥12.50",
  phone_number10: "+86-0766-66888866",
  car_number11: "粤A8Z888挂",
  name12: "张三",
  phrase13: "配送中",
  enum_string14: "客厅",
  phrase15: "已完成",
};
/** A typical 5-keyword template. */
const PICKUP: SimTemplate = {
  id: "TPL_PICKUP",
  title: "取件提醒",
  type: 3,
  keywords: [
    { key: "thing1", label: "物品名称" },
    { key: "time2", label: "取件时间" },
    { key: "character_string3", label: "取件码" },
    { key: "phrase4", label: "状态" },
    { key: "thing5", label: "备注" },
  ],
};
const PICKUP_VALID = {
  thing1: { value: "顺丰快递" },
  time2: { value: "2019年10月1日 15:01" },
  character_string3: { value: "A-1024" },
  phrase4: { value: "待取件" },
  thing5: { value: "请到前台领取" },
};
const ODD: SimTemplate[] = [
  { id: "TPL_ENUM_BARE", title: "无枚举值", type: 2, keywords: [{ key: "enum1", label: "x" }] },
  { id: "TPL_CONST", title: "未知类型", type: 2, keywords: [{ key: "const1", label: "x" }] },
];

/** One case: `data` for `template`, and the key WeChat refuses (null: it sends). */
interface Case {
  name: string;
  template: string;
  data: unknown;
  bad: string | null;
}

const cases: Case[] = [];
/** Cases for one keyword of WIDE: each value in an otherwise valid message. */
function keyword(key: string, ok: string[], bad: string[]) {
  for (const [values, isOk] of [[ok, true], [bad, false]] as const) {
    for (const value of values) {
      const data: Json = {};
      for (const [k, v] of Object.entries(WIDE_VALID)) data[k] = { value: k === key ? value : v };
      cases.push({
        name: `${key} ${JSON.stringify(value)} ${isOk ? "ok" : "refused"}`,
        template: WIDE.id,
        data,
        bad: isOk ? null : key,
      });
    }
  }
}

keyword(
  "thing1",
  [
    "一二三四五六七八九十一二三四五六七八九十",
    "x".repeat(20),
    "😀".repeat(10), // 10 emoji are 20 UTF-16 units
    "第１名 ＡＢ", // full-width digits and letters are printable: fine in a thing
    "Café ñ",
    "价格:¥12 (含税)",
  ],
  [
    "x".repeat(21),
    "一".repeat(21),
    "😀".repeat(10) + "a", // 21 units
    "line1\nline2",
    "tab\there",
    "👨‍👩‍👧", // joined by U+200D
    "",
    "   ",
    "a\u3000b", // ideographic space
    "\uD83D", // a lone surrogate
    "a\u200Bb", // zero-width space
  ],
);
keyword("short_thing2", ["已发货", "abcde"], ["abcdef", "😀😀😀"]);
keyword(
  "number3",
  ["339208499", "12.5", "0", "1".repeat(32), "3.14159"],
  ["1".repeat(33), "１２３", "-5", "1,000", "1.2.3", ".5", "5.", "12a", "1e5", " 12"],
);
keyword("letter4", ["abcXYZ", "A".repeat(32)], ["A".repeat(33), "abc1", "ＡＢＣ", "ab cd", "é"]);
keyword("symbol5", ["!@#", "😀😀", "¥%", "·"], ["!!!!!!", "a!", "😀😀😀", "❤️"]);
keyword(
  "character_string6",
  ["20250910171633530938", "NO-2024_01/A", "A".repeat(32), "SF 1234"],
  ["北京", "X".repeat(33), "１２３", "ＡＢ12", "abc\n"],
);
keyword(
  "time7",
  [
    "09:05:30",
    "2019年10月1日 15:01",
    "2021年10月21日 12:00:00",
    "2019-10-18 13:42:00",
    "2025年09月10日 17:25",
    "15:01~16:00",
    "2019年10月1日 15:01~2019年10月1日 16:00",
    "23:59:59",
    "00:00",
    "2019/10/18 13:42",
    "10月1日 08:00",
  ],
  [
    "25:00",
    "9:05",
    "24:00",
    "15:60",
    "2019年10月1日",
    "15:01~16:00~17:00",
    "15:01 ~ 16:00",
    "15:01～16:00",
    "１５:０１",
    "2019年13月1日 15:01",
    "15时01分",
    "2019-10-18T13:42:00",
    "12:00:00:00",
  ],
);
keyword(
  "date8",
  [
    "2019年10月1日 15:01",
    "2019-12-25 09:42",
    "2018/01/01",
    "2018.01.01",
    "2018-01",
    "01-01",
    "2019年10月",
    "10月1日",
    "2019年10月1日~2019年10月7日",
    "2024年2月29日",
    "2月29日",
    "2024-02-29 23:59:59",
  ],
  [
    "2023年2月29日",
    "2019-13-01",
    "2019-02-30",
    "2019-1-5",
    "2018-01/01",
    "2019年10月1日15:01",
    "10月",
    "2019",
    "2019-10-01 25:00",
    "１０月１日",
    "2019-10-01~",
    "yesterday",
  ],
);
keyword(
  "amount9",
  ["¥100元", "$5", "￥1000000000", "€0.99", "¥12.5元", "¥123456789.0"],
  [
    "100元",
    "12.50",
    "¥12345678901",
    "¥1,000",
    "-¥5",
    "¥-5",
    "¥¥5",
    "¥5元元",
    "¥１２",
    "¥5.",
    "USD5",
    "¥123456789.01",
  ],
);
keyword(
  "phone_number10",
  ["13800138000", "(0766) 6688 8866", "010-12345678"],
  ["+86-0766-668888661", "138ab", "１３８", "---", "tel:123", "电话123"],
);
keyword(
  "car_number11",
  ["京A12345", "AB12345", "粤B12345F", "WJ1234"],
  ["粤A8Z888挂X", "粤A8Z中88", "粤A-8Z888", "粤A 8888", "京A１２３４５"],
);
keyword(
  "name12",
  [
    "张San",
    "John Smith",
    "阿依古丽·买买提",
    "一二三四五六七八九十",
    "A".repeat(20),
    "O'Brien-Smith",
    "张三A李四B王五C",
  ],
  [
    "一二三四五六七八九十一",
    "张三李四王五赵六钱七A",
    "A".repeat(21),
    "张三2",
    "Agent 007",
    "李\n四",
  ],
);
keyword("phrase13", ["已发货", "五个汉字啊"], [
  "配送中ab",
  "六个汉字啊呀",
  "已 发货",
  "OK",
  "配送中!",
]);
keyword("enum_string14", [ROOMS[1], ROOMS[2]], ["卧室", "客厅 ", ""]);
keyword("phrase15", ["已取消"], ["正常结束", "配送中"]);

// Whole messages: presence, unknown keys, shapes.
const pickup = (name: string, data: unknown, bad: string | null) =>
  cases.push({ name, template: PICKUP.id, data, bad });
pickup("all five keywords", PICKUP_VALID, null);
pickup("a color beside the value", {
  ...PICKUP_VALID,
  thing1: { value: "顺丰快递", color: "#173177" },
}, null);
const { time2: _time, ...noTime } = PICKUP_VALID;
pickup("a keyword missing", noTime, "time2");
pickup("a key the template does not have", { ...PICKUP_VALID, thing9: { value: "x" } }, "thing9");
pickup("data is not an object", "hello", "data");
pickup("data is a list", [1, 2], "data");
pickup(
  "a value that is a number",
  { ...PICKUP_VALID, character_string3: { value: 1024 } },
  "character_string3",
);
pickup("an entry that is a bare string", { ...PICKUP_VALID, thing5: "备注" }, "thing5");
pickup("an entry without value", { ...PICKUP_VALID, phrase4: {} }, "phrase4");
pickup("thing over 20", { ...PICKUP_VALID, thing1: { value: "一".repeat(23) } }, "thing1");
cases.push({
  name: "enum keyword without values",
  template: "TPL_ENUM_BARE",
  data: { enum1: { value: "x" } },
  bad: "enum1",
});
cases.push({
  name: "undocumented type",
  template: "TPL_CONST",
  data: { const1: { value: "x" } },
  bad: "const1",
});

async function call(url: string, body?: unknown): Promise<Json> {
  const res = await fetch(url, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return await res.json();
}

async function setUp(sim: Sim) {
  const all = [WIDE, PICKUP, ...ODD];
  const made = await call(`${sim.url}/__sim/templates`, { templates: all });
  assert.equal(made.ok, true);
  const { openid } = await call(`${sim.url}/__sim/users`, { user: "alice" });
  await call(
    `${sim.url}/__sim/grants`,
    all.map((t) => ({ openid, templateId: t.id, count: 1000 })),
  );
  const token = (await call(
    `${sim.url}/cgi-bin/token?grant_type=client_credential&appid=wx_sim_appid&secret=sim_secret`,
  )).access_token as string;
  const listed = parseTemplateList(
    await call(`${sim.url}/wxaapi/newtmpl/gettemplate?access_token=${token}`),
  );
  return { openid: openid as string, token, templates: new Map(listed.map((t) => [t.id, t])) };
}

Deno.test("the table has at least 100 cases, valid and refused for every type", () => {
  assert.ok(cases.length >= 100, `${cases.length} cases`);
  for (const { key } of WIDE.keywords) {
    assert.ok(cases.some((c) => c.bad === null && c.name.startsWith(`${key} `)), `${key} ok`);
    assert.ok(cases.some((c) => c.bad === key), `${key} refused`);
  }
});

Deno.test("keyword rules: the module and the simulator agree on every case", async (t) => {
  const sim = await startWeChatSim();
  try {
    const { openid, token, templates } = await setUp(sim);
    for (const c of cases) {
      await t.step(c.name, async () => {
        const template = templates.get(c.template);
        assert.ok(template, `gettemplate lists ${c.template}`);
        const problems = checkMessageData(template, c.data);
        const answer = await call(
          `${sim.url}/cgi-bin/message/subscribe/send?access_token=${token}`,
          { touser: openid, template_id: c.template, data: c.data },
        );
        if (c.bad === null) {
          assert.deepEqual(problems, [], describeProblems(problems));
          assert.equal(answer.errcode, 0, String(answer.errmsg));
        } else {
          assert.deepEqual(problems.map((p) => p.key), [c.bad], describeProblems(problems));
          assert.equal(answer.errcode, 47003, JSON.stringify(answer));
          const named = /argument invalid! (data(?:\.[A-Za-z_0-9]+)?)/.exec(
            answer.errmsg as string,
          )?.[1];
          assert.equal(named === "data" ? "data" : named?.slice(5), c.bad, String(answer.errmsg));
        }
      });
    }
    // Refused sends spent nothing: exactly one grant per accepted case went.
    const stats = await call(`${sim.url}/__sim/stats`);
    assert.equal(stats.sendsAccepted, cases.filter((c) => c.bad === null).length);
  } finally {
    await sim.close();
  }
});

Deno.test("keyword rules: reasons a developer can act on", () => {
  const tpl = (keywords: SubscribeTemplate["keywords"]): SubscribeTemplate => ({
    id: "T",
    title: "",
    kind: "one-time",
    keywords,
  });
  const two = tpl(keywordsOfContent("物品名称:{{thing1.DATA}}\n取件时间:{{time2.DATA}}"));
  assert.equal(
    describeProblems(checkMessageData(two, { thing1: { value: "x".repeat(23) } })),
    "thing1: 23 characters, at most 20; time2: missing: the template has it",
  );
  assert.deepEqual(
    checkMessageData(two, { thing1: { value: "x" }, time2: { value: "15:01" } }),
    [],
  );
  const k = (type: string, enumValues?: string[]) => ({
    key: `${type}1`,
    type,
    label: "",
    enumValues,
  });
  assert.equal(
    checkKeywordValue(k("thing"), "😀".repeat(11)),
    "22 characters (an emoji or other character beyond U+FFFF counts 2), at most 20",
  );
  assert.equal(
    checkKeywordValue(k("number"), "１２"),
    '"１" (U+FF11) is not allowed: digits 0-9 and one decimal point only',
  );
  assert.match(checkKeywordValue(k("amount"), "100元")!, /one currency symbol/);
  assert.equal(checkKeywordValue(k("amount"), "¥12345678901"), "11 digits, at most 10");
  assert.equal(
    checkKeywordValue(k("name"), "张三李四王五赵六钱七A"),
    "11 characters, at most 10 (a name with Chinese in it counts as a Chinese name)",
  );
  assert.match(checkKeywordValue(k("thing"), "a\nb")!, /^U\+000A is not allowed/);
  assert.match(checkKeywordValue(k("time"), "9:05")!, /"9:05" is not a 24-hour time/);
  assert.match(checkKeywordValue(k("date"), "2019-02-30")!, /"2019-02-30" is not a date/);
  assert.equal(
    checkKeywordValue(k("phrase", STATES), "正常结束"),
    '"正常结束" is not one of the template\'s values (已完成, 已取消)',
  );
  assert.match(checkKeywordValue(k("const"), "x")!, /"const" has no known rule/);
  assert.equal(checkKeywordValue(k("thing"), " "), "empty");
});

Deno.test("templates: WeChat's documented gettemplate answer parses", () => {
  const answer = {
    errcode: 0,
    errmsg: "ok",
    data: [
      {
        priTmplId: "9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU",
        title: "报名结果通知",
        content: "会议时间:{{date2.DATA}}\n会议地点:{{thing1.DATA}}\n",
        example: "会议时间:2016年8月8日\n会议地点:TIT会议室\n",
        type: 2,
      },
      {
        priTmplId: "cy_DfOZL7lypxHh3ja3DyAUbn1GYQRGwezuy5LBTFME",
        title: "洗衣机故障提醒",
        content:
          "完成时间:{{time1.DATA}}\n所在位置:{{enum_string2.DATA}}\n提示说明:{{enum_string3.DATA}}\n",
        example:
          "完成时间:2021年10月21日 12:00:00\n所在位置:客厅\n提示说明:设备发生故障，导致工作异常，请及时查看\n",
        keywordEnumValueList: [
          { enumValueList: ["客厅", "餐厅"], keywordCode: "enum_string2.DATA" },
          {
            enumValueList: ["设备发生故障，导致工作异常，请及时查看"],
            keywordCode: "enum_string3.DATA",
          },
        ],
        type: 3,
      },
    ],
  };
  const [meeting, washer] = parseTemplateList(answer);
  assert.deepEqual(meeting, {
    id: "9Aw5ZV1j9xdWTFEkqCpZ7mIBbSC34khK55OtzUPl0rU",
    title: "报名结果通知",
    kind: "one-time",
    keywords: [
      { key: "date2", type: "date", label: "会议时间" },
      { key: "thing1", type: "thing", label: "会议地点" },
    ],
  });
  assert.equal(washer.kind, "long-term");
  assert.deepEqual(washer.keywords[1], {
    key: "enum_string2",
    type: "enum_string",
    label: "所在位置",
    enumValues: ["客厅", "餐厅"],
  });
  // WeChat's own examples pass the check.
  assert.deepEqual(
    checkMessageData(meeting, { date2: { value: "2016年8月8日" }, thing1: { value: "TIT会议室" } }),
    [],
  );
  assert.deepEqual(
    checkMessageData(washer, {
      time1: { value: "2021年10月21日 12:00:00" },
      enum_string2: { value: "客厅" },
      enum_string3: { value: "设备发生故障，导致工作异常，请及时查看" },
    }),
    [],
  );
});

Deno.test("templates: errcodes and malformed answers throw TemplateListError", () => {
  const thrown = (answer: unknown) => {
    try {
      parseTemplateList(answer);
    } catch (e) {
      assert.ok(e instanceof TemplateListError);
      return e;
    }
    assert.fail("no error");
  };
  assert.equal(thrown({ errcode: 40001, errmsg: "invalid credential" }).errcode, 40001);
  assert.match(thrown([]).message, /not a JSON object/);
  assert.match(thrown({ errcode: 0, data: {} }).message, /data is not a list/);
  assert.match(thrown({ data: [{ title: "x", content: "", type: 2 }] }).message, /no priTmplId/);
  assert.match(
    thrown({ data: [{ priTmplId: "a", content: "", type: 1 }] }).message,
    /neither 2 nor 3/,
  );
  assert.match(
    thrown({
      data: [{
        priTmplId: "a",
        content: "",
        type: 2,
        keywordEnumValueList: [{ keywordCode: "x" }],
      }],
    })
      .message,
    /malformed/,
  );
  assert.deepEqual(parseTemplateList({ errcode: 0, errmsg: "ok", data: [] }), []);
  // A repeated placeholder is one keyword; a full-width colon ends a label too.
  assert.deepEqual(keywordsOfContent("状态：{{phrase1.DATA}}{{phrase1.DATA}}"), [
    { key: "phrase1", type: "phrase", label: "状态" },
  ]);
});
