/**
 * Push delivery benchmark: the seed design's loop (one message at a time: read the user's whole
 * credit list, trim it, call WeChat and wait) against ours (a broadcast worked in chunks: one
 * Lua call takes a credit for every user of a chunk, sends go out concurrently, one Lua call
 * records every outcome with its audit events), both against the WeChat simulator with 50 ms
 * latency per call, 20,000 users with 3 credits each, Redis behind the Upstash REST bridge.
 *
 * Reports deliveries per second and Redis commands per delivery (as Upstash bills them: one per
 * command sent over REST, a script call is one, every command of a pipeline counts), counted
 * by wrapping `fetch` for requests to the bridge.
 *
 * Run: `deno run -A bench/push.ts` (env: USERS=20000, BASELINE_USERS=300, LATENCY_MS=50,
 * CHUNK=500, CHUNKS_IN_FLIGHT=12, CONCURRENCY=1024, JSON=1 for a JSON line).
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import { loadConfig } from "../src/config/config.ts";
import { systemClock } from "../src/shared/clock.ts";
import { createPushService } from "../src/push/service.ts";
import { openBackends } from "../src/backends.ts";
import { createRedisStore } from "../src/store/redis/redis.ts";
import { freePort } from "../tests/helpers/redis_server.ts";
import { type BenchRig, startBenchRig } from "./rig.ts";

const env = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const USERS = env("USERS", 20_000);
const CREDITS = 3;
const BASELINE_USERS = env("BASELINE_USERS", 300);
const LATENCY_MS = env("LATENCY_MS", 50);
const APPID = "wx_sim_appid";
const SECRET = "sim_secret";
/** Real template ids are 43 characters, openIds 28, formIds 32: events are hashed at real size. */
const TEMPLATE_ID = "bDmywsp2oEHjwAadTGKkUJ-eJEiMiOf7H-dZ6wjdkEQ";
const MESSAGE = { templateId: TEMPLATE_ID, data: { keyword1: { value: "your order shipped" } } };
const openIdOf = (i: number) => `oBench${String(i).padStart(22, "0")}`;
const formIdOf = (design: "f" | "s", i: number, k: number) =>
  `${design}${String(i).padStart(30, "0")}${k}`;
const DAY = 86_400_000;

/** Counts Upstash commands: every request to the bridge, by the commands in its body. */
let commands = 0;
let bridgeUrl = "";
const realFetch = globalThis.fetch;
globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (bridgeUrl && url.startsWith(bridgeUrl) && typeof init?.body === "string") {
    const body = JSON.parse(init.body);
    commands += url.endsWith("/pipeline") || url.endsWith("/multi-exec") ? body.length : 1;
  }
  return realFetch(input, init);
};

/** The simulator in its own process, as WeChat is not in ours. */
async function startSim(): Promise<{ url: string; close(): Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../tools/wechat_sim.ts", import.meta.url).pathname],
    env: { PORT: String(port), SIM_LATENCY_MS: String(LATENCY_MS) },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0;; i++) {
    try {
      await (await realFetch(`${url}/__sim/stats?brief=1`)).body?.cancel();
      break;
    } catch {
      if (i > 200) throw new Error("simulator did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    async close() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function simPost(url: string, path: string, body: unknown): Promise<void> {
  const res = await realFetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${await res.text()}`);
  await res.body?.cancel();
}

async function simStats(url: string): Promise<{ sendsAccepted: number; peakInFlight: number }> {
  return await (await realFetch(`${url}/__sim/stats?brief=1`)).json();
}

/** Runs `task` over `items` with `width` workers. */
async function pool<T>(items: T[], width: number, task: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await task(items[next++]);
  }));
}

interface Figures {
  deliveries: number;
  seconds: number;
  perSecond: number;
  commands: number;
  commandsPerDelivery: number;
  /** Microseconds Redis spent executing commands (INFO commandstats), per delivery. */
  redisUsPerDelivery: number;
  /** Share of the wall time Redis was busy executing commands. */
  redisBusy: number;
}

/** Total microseconds Redis has spent in commands (scripts included), from INFO commandstats. */
async function redisUsec(direct: BenchRig["direct"]): Promise<number> {
  const info = await direct.info("commandstats");
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_[^:]+:calls=\d+,usec=(\d+)/gm)) total += Number(m[1]);
  return total;
}

/**
 * The seed design, re-implemented: credits are a JSON list per user; for each user, read the
 * whole list, drop expired entries and take the first, write the rest back (the trim), then
 * call WeChat and wait for the answer before the next user.
 */
async function baseline(
  rig: BenchRig,
  simUrl: string,
  users: string[],
): Promise<Figures> {
  const redis = new Redis({
    ...rig.upstash,
    automaticDeserialization: false,
    enableTelemetry: false,
  });
  const token = (await (await realFetch(
    `${simUrl}/cgi-bin/token?grant_type=client_credential&appid=${APPID}&secret=${SECRET}`,
  )).json()).access_token as string;
  commands = 0;
  const usec0 = await redisUsec(rig.direct);
  let delivered = 0;
  const started = performance.now();
  for (const openId of users) {
    const key = `seed:credits:${openId}`;
    const list = await redis.lrange(key, 0, -1) as string[];
    const now = Date.now();
    const valid = list.map((s) => JSON.parse(s) as { formId: string; expiresAt: number })
      .filter((c) => c.expiresAt > now);
    const credit = valid.shift();
    await redis.del(key);
    if (valid.length > 0) await redis.rpush(key, ...valid.map((c) => JSON.stringify(c)));
    if (!credit) continue;
    const res = await fetch(
      `${simUrl}/cgi-bin/message/wxopen/template/send?access_token=${token}`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          touser: openId,
          template_id: MESSAGE.templateId,
          form_id: credit.formId,
          data: MESSAGE.data,
        }),
      },
    );
    if ((await res.json()).errcode === 0) delivered++;
  }
  const seconds = (performance.now() - started) / 1000;
  const usec = await redisUsec(rig.direct) - usec0;
  return {
    deliveries: delivered,
    seconds,
    perSecond: delivered / seconds,
    commands,
    commandsPerDelivery: commands / delivered,
    redisUsPerDelivery: usec / delivered,
    redisBusy: usec / 1e6 / seconds,
  };
}

/** Ours: one broadcast to every user with a credit, worked by one instance's worker. */
async function ours(
  rig: BenchRig,
  simUrl: string,
  prefix: string,
): Promise<Figures & { chunks: number }> {
  const { upstash } = rig;
  const config = loadConfig({
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: upstash.token,
    LEDGER_PREFIX: prefix,
    WECHAT_API_BASE: simUrl,
    WECHAT_APPID: APPID,
    WECHAT_SECRET: SECRET,
    WECHAT_TOKEN_MODE: "classic",
    WECHAT_CONCURRENCY: String(env("CONCURRENCY", 1024)),
    BROADCAST_CHUNK_USERS: String(env("CHUNK", 500)),
    WORKER_CHUNKS_IN_FLIGHT: String(env("CHUNKS_IN_FLIGHT", 12)),
  });
  const { store, coordination } = openBackends(config);
  const push = createPushService({ config, store, coordination, clock: systemClock })!;
  await push.tokens.get(); // as a running service would have it
  commands = 0;
  const usec0 = await redisUsec(rig.direct);
  const started = performance.now();
  const info = await push.broadcasts.create(MESSAGE);
  let chunks = 0;
  for (;;) {
    chunks += (await push.worker.step()).chunks;
    const status = await push.broadcasts.status(info.broadcastId);
    if (status && status.state !== "running") break;
  }
  const seconds = (performance.now() - started) / 1000;
  const usec = await redisUsec(rig.direct) - usec0;
  const status = (await push.broadcasts.status(info.broadcastId))!;
  if (status.sent !== info.total) throw new Error(`not all sent: ${JSON.stringify(status)}`);
  return {
    deliveries: status.sent,
    seconds,
    perSecond: status.sent / seconds,
    commands,
    commandsPerDelivery: commands / status.sent,
    redisUsPerDelivery: usec / status.sent,
    redisBusy: usec / 1e6 / seconds,
    chunks,
  };
}

async function main() {
  const rig = await startBenchRig();
  const sim = await startSim();
  bridgeUrl = rig.upstash.url;
  try {
    const prefix = "bench:push";
    const users = Array.from({ length: USERS }, (_, i) => openIdOf(i));
    await simPost(sim.url, "/__sim/templates", { ids: [TEMPLATE_ID] });
    const t0 = performance.now();
    // The simulator learns every credit: ours (f-) and the baseline's (s-).
    const simCredits = users.flatMap((openId, i) =>
      Array.from({ length: CREDITS }, (_, k) => [
        { openid: openId, kind: "form", id: formIdOf("f", i, k) },
        { openid: openId, kind: "form", id: formIdOf("s", i, k) },
      ]).flat()
    );
    for (let i = 0; i < simCredits.length; i += 10_000) {
      await simPost(sim.url, "/__sim/credits", simCredits.slice(i, i + 10_000));
    }
    // Ours: the ledger, 3 credits per user in one collect each.
    const seedStore = createRedisStore({ ...rig.upstash, prefix, segmentEvents: 100_000 });
    const expiresAt = Date.now() + 6 * DAY;
    await pool(users.map((openId, i) => ({ openId, i })), 16, ({ openId, i }) =>
      seedStore.collect(
        openId,
        Array.from({ length: CREDITS }, (_, k) => ({
          formId: formIdOf("f", i, k),
          kind: "form" as const,
          uses: 1,
          expiresAt: expiresAt + k,
        })),
        Date.now(),
      ));
    // The baseline: a JSON list per user.
    const fill = rig.direct.pipeline();
    users.forEach((openId, i) => {
      fill.rpush(
        `seed:credits:${openId}`,
        ...Array.from(
          { length: CREDITS },
          (_, k) => JSON.stringify({ formId: formIdOf("s", i, k), expiresAt: expiresAt + k }),
        ),
      );
    });
    await fill.exec();
    console.error(
      `seeded ${USERS} users x ${CREDITS} credits in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );

    const before = (await simStats(sim.url)).sendsAccepted;
    const base = await baseline(rig, sim.url, users.slice(0, BASELINE_USERS));
    console.error(`baseline: ${base.deliveries} deliveries in ${base.seconds.toFixed(1)} s`);
    const mine = await ours(rig, sim.url, prefix);
    const after = await simStats(sim.url);
    const accepted = after.sendsAccepted - before;
    if (accepted !== base.deliveries + mine.deliveries) {
      throw new Error(
        `simulator accepted ${accepted}, expected ${base.deliveries + mine.deliveries}`,
      );
    }
    const ratio = mine.perSecond / base.perSecond;
    const result = {
      users: USERS,
      creditsPerUser: CREDITS,
      latencyMs: LATENCY_MS,
      baseline: base,
      ours: mine,
      ratio,
      simPeakInFlight: after.peakInFlight,
    };
    if (Deno.env.get("JSON")) console.log(JSON.stringify(result));
    const f = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d });
    console.log(
      `push delivery, ${f(USERS)} users x ${CREDITS} credits, WeChat sim latency ${LATENCY_MS} ms`,
    );
    console.log(
      `| design | deliveries | seconds | deliveries/s | Redis commands/delivery | Redis µs/delivery | Redis busy |`,
    );
    console.log(`|---|---:|---:|---:|---:|---:|---:|`);
    console.log(
      `| seed baseline (one at a time) | ${f(base.deliveries)} | ${f(base.seconds, 1)} | ${
        f(base.perSecond, 1)
      } | ${f(base.commandsPerDelivery, 3)} | ${f(base.redisUsPerDelivery)} | ${
        f(base.redisBusy * 100)
      }% |`,
    );
    console.log(
      `| ours (broadcast, batched Lua) | ${f(mine.deliveries)} | ${f(mine.seconds, 1)} | ${
        f(mine.perSecond)
      } | ${f(mine.commandsPerDelivery, 3)} | ${f(mine.redisUsPerDelivery)} | ${
        f(mine.redisBusy * 100)
      }% |`,
    );
    console.log(`ratio: ${f(ratio)}x`);
  } finally {
    await sim.close();
    await rig.close();
  }
}

if (import.meta.main) await main();
