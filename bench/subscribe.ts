/**
 * Subscribe-message benchmark, two figures each beside its baseline from the same run:
 *
 * 1. The keyword check's cost per push (the route's gate: the registry's template, from its
 *    cache, and `checkMessageData`) beside the push path without it (validation of the body,
 *    take, send to an in-process WeChat that answers at once, record, on the memory store).
 *    Target: at most 5 µs per push.
 * 2. WeChat's event push answered: signed, encrypted (safe mode, JSON) popup events posted
 *    open-loop at a fixed rate to the real service on the Redis store (Upstash REST bridge in
 *    its own process), each answer's latency from send to `success`. Target: p99 under 50 ms at
 *    500 events/s.
 *
 *   deno run -A bench/subscribe.ts   (env: MESSAGES=2000, ROUNDS=7, RATE=500, SECONDS=10,
 *   PART=keywords or PART=events for one figure only, JSON=1 for a JSON line)
 *
 * @module
 */
import { createApp } from "../src/app.ts";
import { openBackends } from "../src/backends.ts";
import { loadConfig } from "../src/config/config.ts";
import { systemClock } from "../src/shared/clock.ts";
import { checkMessage } from "../src/subscribe/message_check.ts";
import { readMessage } from "../src/http/routes/push_input.ts";
import { startWeChatSim } from "../tools/wechat_sim.ts";
import { popup, PUSH, PUSH_ENV } from "../tests/subscribe/rig.ts";
import { signedPush } from "../tools/wechat_sim_events.ts";
import { startBenchRig } from "./rig.ts";

const env = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const MESSAGES = env("MESSAGES", 2_000);
const ROUNDS = env("ROUNDS", 7);
const RATE = env("RATE", 500);
const SECONDS = env("SECONDS", 10);
const TEMPLATE = {
  id: "bDmywsp2oEHjwAadTGKkUJ-eJEiMiOf7H-dZ6wjdkEQ",
  title: "取件提醒",
  type: 2,
  keywords: [
    { key: "thing1", label: "物品名称" },
    { key: "time2", label: "取件时间" },
    { key: "character_string3", label: "取件码" },
    { key: "phrase4", label: "状态" },
    { key: "thing5", label: "备注" },
  ],
};
const openIdOf = (i: number) => `oBench${String(i).padStart(22, "0")}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];

/** Part 1: the gate's cost per push, beside the push path without it. */
async function keywordCheck() {
  const sim = await startWeChatSim();
  const simPost = (path: string, body: unknown) =>
    fetch(`${sim.url}${path}`, { method: "POST", body: JSON.stringify(body) }).then((r) =>
      r.json()
    );
  await simPost("/__sim/templates", { templates: [TEMPLATE] });
  const config = loadConfig({
    WECHAT_APPID: sim.state.appid,
    WECHAT_SECRET: sim.state.secret,
    WECHAT_API_BASE: sim.url,
    WORKER_ENABLED: "off",
  });
  const service = createApp({ config, backends: openBackends(config), clock: systemClock });
  await service.registry.sync();
  const messages = Array.from({ length: MESSAGES }, (_, i) =>
    readMessage({
      templateId: TEMPLATE.id,
      kind: "subscribe",
      data: {
        thing1: { value: ["顺丰快递", "Nike Air Max 90 42码", "生鲜水果礼盒"][i % 3] },
        time2: {
          value: `2026年${1 + (i % 12)}月${1 + (i % 28)}日 ${String(i % 24).padStart(2, "0")}:05`,
        },
        character_string3: { value: `A-${1000 + i}` },
        phrase4: { value: ["待取件", "已取件", "已超时"][i % 3] },
        thing5: { value: ["请到前台领取", "Leave at door 3B", "柜号 12"][i % 3] },
      },
    }));
  for (const m of messages.slice(0, 200)) {
    const verdict = await checkMessage(service.registry, m);
    if (!verdict.ok) throw new Error(`a bench message is refused: ${JSON.stringify(verdict)}`);
  }
  // Users with credits for the push path (the simulator grants them too).
  const users = Math.min(MESSAGES, 500);
  await simPost(
    "/__sim/grants",
    Array.from(
      { length: users },
      (_, i) => ({ openid: openIdOf(i), templateId: TEMPLATE.id, count: 1_000 }),
    ),
  );
  for (let i = 0; i < users; i++) {
    await service.ledger.collect(
      openIdOf(i),
      Array.from(
        { length: 50 },
        (_, k) => ({
          formId: `sub:b${k}:${TEMPLATE.id}`,
          kind: "subscribe" as const,
          templateId: TEMPLATE.id,
        }),
      ),
    );
  }
  const checkRounds: number[] = [];
  const pushRounds: number[] = [];
  let n = 0;
  for (let round = 0; round < ROUNDS + 1; round++) {
    let t = performance.now();
    for (const m of messages) await checkMessage(service.registry, m);
    const check = (performance.now() - t) * 1000 / messages.length;
    const sample = 200;
    t = performance.now();
    for (let i = 0; i < sample; i++) {
      const m = messages[i];
      await service.push!.deliverer.deliver(openIdOf(n++ % users), `p${n}`, m);
    }
    const push = (performance.now() - t) * 1000 / sample;
    if (round > 0) [checkRounds.push(check), pushRounds.push(push)];
  }
  sim.close();
  await sim.close();
  return { checkUs: median(checkRounds), pushUs: median(pushRounds) };
}

/** Part 2: event-push answers at a fixed rate on the Redis store. */
async function eventPush() {
  const rig = await startBenchRig();
  const sim = await startWeChatSim();
  try {
    const config = loadConfig({
      ...PUSH_ENV,
      UPSTASH_REDIS_REST_URL: rig.upstash.url,
      UPSTASH_REDIS_REST_TOKEN: rig.upstash.token,
      LEDGER_PREFIX: `bench-sub-${Date.now()}`,
      WECHAT_APPID: sim.state.appid,
      WECHAT_SECRET: sim.state.secret,
      WECHAT_API_BASE: sim.url,
      WORKER_ENABLED: "off",
    });
    await fetch(`${sim.url}/__sim/templates`, {
      method: "POST",
      body: JSON.stringify({ templates: [TEMPLATE] }),
    }).then((r) => r.json());
    const backends = openBackends(config);
    const service = createApp({ config, backends, clock: systemClock });
    await service.registry.sync();
    const server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      service.app.fetch,
    );
    const url = `http://127.0.0.1:${server.addr.port}/v1/wechat/events`;
    const total = RATE * SECONDS;
    const now = Math.floor(Date.now() / 1000);
    const pushes = Array.from(
      { length: total },
      (_, i) =>
        signedPush(popup([TEMPLATE.id, "accept"]), {
          openId: openIdOf(i % 5_000),
          createTime: now + i,
        }, {
          ...PUSH,
          appid: sim.state.appid,
        }),
    );
    const latencies: number[] = [];
    let failures = 0;
    const started = performance.now();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const push = pushes[i];
      const t = performance.now();
      sends.push(
        fetch(`${url}?${push.query}`, { method: "POST", body: push.body }).then(async (res) => {
          const body = await res.text();
          latencies.push(performance.now() - t);
          if (body !== "success") failures++;
        }),
      );
    }
    await Promise.all(sends);
    const rate = total / ((performance.now() - started) / 1000);
    await server.shutdown();
    await backends.close();
    return { rate, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), failures, total };
  } finally {
    await sim.close();
    await rig.close();
  }
}

const PART = Deno.env.get("PART") ?? "all";
if (!["all", "keywords", "events"].includes(PART)) {
  throw new Error(`PART must be keywords or events (or unset for both), not ${PART}`);
}
const check = PART === "events" ? null : await keywordCheck();
const events = PART === "keywords" ? null : await eventPush();
const result = {
  ...(check
    ? {
      keywordCheckUsPerPush: Number(check.checkUs.toFixed(2)),
      pushPathUsPerPush: Number(check.pushUs.toFixed(1)),
    }
    : {}),
  ...(events
    ? {
      eventPushRate: Math.round(events.rate),
      eventPushP50Ms: Number(events.p50.toFixed(1)),
      eventPushP99Ms: Number(events.p99.toFixed(1)),
      eventPushFailures: events.failures,
    }
    : {}),
};
if (Deno.env.get("JSON")) console.log(JSON.stringify(result));
if (!Deno.env.get("JSON") && check && result.keywordCheckUsPerPush !== undefined) {
  console.log(
    `keyword check: ${result.keywordCheckUsPerPush} µs per push (target <= 5 µs: ${
      result.keywordCheckUsPerPush <= 5 ? "met" : "no"
    }), beside the push path without it: ${result.pushPathUsPerPush} µs per push`,
  );
}
if (!Deno.env.get("JSON") && events && result.eventPushP99Ms !== undefined) {
  console.log(
    `event push: ${events.total} events at ${result.eventPushRate}/s, answered p50 ${result.eventPushP50Ms} ms, ` +
      `p99 ${result.eventPushP99Ms} ms (target < 50 ms: ${
        result.eventPushP99Ms < 50 ? "met" : "no"
      }), ` +
      `${result.eventPushFailures} not answered success`,
  );
}
