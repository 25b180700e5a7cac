/**
 * Ledger core benchmark (issue 2), through the real Redis path: @upstash/redis -> Upstash REST
 * bridge -> redis-server. Each figure is printed beside a baseline measured in the same run.
 *
 *   deno run -A bench/ledger.ts [--events 1000000]
 *
 * @module
 */
import { ledgerKeys } from "../src/store/redis/keys.ts";
import { createRedisStore } from "../src/store/redis/redis.ts";
import { upstashClient } from "../src/shared/upstash_client.ts";
import { consume } from "../tests/helpers/store_calls.ts";
import { filledOpenId, fillLog } from "./fill_log.ts";
import { fmt, startBenchRig, throughput, usedMemory } from "./rig.ts";

const REBUILD_EVENTS = Number(argValue("--events") ?? 1_000_000);
const USERS = 4_000;
const PER_USER = 5; // one batch of 5 per user
const CONSUMERS = 64;
const COLLECTORS = 64;

function argValue(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

const rig = await startBenchRig();
const now = Date.now();
const expiresAt = now + 6 * 86_400_000;
const openId = (u: number) => `oUser${String(u).padStart(23, "0")}`;
const formId = (u: number, k: number) => `${u.toString(16).padStart(8, "0")}${k}`.padEnd(32, "f");

try {
  const redis = upstashClient(rig.upstash);
  const store = createRedisStore({
    ...rig.upstash,
    prefix: "bench:ledger",
    segmentEvents: 100_000,
  }, redis);
  // The baseline: the same calls through the same client and bridge, each one Lua call that
  // appends the same number of stream entries, without hash chain, projection or dedupe.
  const bare = redis.createScript(
    "for i = 1, tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 't', 'x', 'd', ARGV[2]) end return 1",
  );
  const sample = JSON.stringify({
    expiresAt,
    formId: formId(1, 1),
    kind: "form",
    openId: openId(1),
    uses: 1,
  });

  // collect: batches of 5 credits per call
  const memBefore = await usedMemory(rig.direct);
  const collectRate = PER_USER * await throughput(USERS, COLLECTORS, async (u) => {
    const credits = Array.from({ length: PER_USER }, (_, k) => ({
      formId: formId(u, k),
      kind: "form" as const,
      uses: 1,
      expiresAt,
    }));
    const result = await store.collect(openId(u), credits, now);
    if (result.accepted.length !== PER_USER) throw new Error("collect lost a credit");
  });
  const memAfter = await usedMemory(rig.direct);
  const bytesPerCredit = (memAfter - memBefore) / (USERS * PER_USER);
  const bareCollectRate = PER_USER *
    await throughput(
      USERS,
      COLLECTORS,
      () => bare.exec(["bench:bare:collect"], [String(PER_USER), sample]),
    );
  const bareMemBefore = await usedMemory(rig.direct);
  const bareMemBytes = (bareMemBefore - memAfter) / (USERS * PER_USER);

  // consume: 64 concurrent consumers, one call per credit
  let consumed = 0;
  const consumeRate = await throughput(USERS * PER_USER, CONSUMERS, async (i) => {
    const credit = await consume(store, openId(i % USERS), { pushId: `p${i}` }, now);
    if (credit) consumed++;
  });
  if (consumed !== USERS * PER_USER) throw new Error(`consumed ${consumed} of ${USERS * PER_USER}`);
  const bareConsumeRate = await throughput(
    USERS * PER_USER,
    CONSUMERS,
    () => bare.exec(["bench:bare:consume"], ["1", sample]),
  );

  // rebuild: a log of REBUILD_EVENTS events written straight into Redis, then replayed
  const bigRedis = upstashClient(rig.upstash);
  const big = createRedisStore(
    { ...rig.upstash, prefix: "bench:big", segmentEvents: 100_000 },
    bigRedis,
  );
  const filled = await fillLog(rig.direct, "bench:big", REBUILD_EVENTS, 100_000, now);
  let started = performance.now();
  // Baseline: the plain XRANGE pages the rebuild folds, 4,000 events each, 4 in flight, read
  // through the same client and doing nothing with them.
  let read = 0;
  const inFlight: Promise<unknown[]>[] = [];
  for (let from = 1; from <= filled.seq || inFlight.length > 0; from += 4_000) {
    if (from <= filled.seq) {
      const to = Math.min(filled.seq, from + 3_999);
      const segment = ledgerKeys("bench:big").segment(Math.floor((from - 1) / 100_000));
      inFlight.push(
        bigRedis.xrange(segment, `${from}-0`, `${to}`) as unknown as Promise<unknown[]>,
      );
    }
    if (inFlight.length >= 4 || from > filled.seq) read += (await inFlight.shift()!).length;
  }
  const readRate = read / ((performance.now() - started) / 1000);
  started = performance.now();
  const rebuilt = await big.rebuild(now);
  const rebuildRate = rebuilt.events / ((performance.now() - started) / 1000);
  const outstanding = (await big.view(filledOpenId(0), now)).valid;
  if (rebuilt.events !== filled.seq || outstanding !== 2) {
    throw new Error(
      `rebuild mismatch: ${rebuilt.events} events, ${outstanding} credits for user 0`,
    );
  }
  const users = await rig.direct.zcard(
    ledgerKeys("bench:big").users((await rig.direct.get("bench:big:proj"))!),
  );

  console.log(
    `ledger core through @upstash/redis -> REST bridge -> redis-server (${Deno.build.os}, ${navigator.hardwareConcurrency} cores)`,
  );
  console.log("figure                               ours          baseline        ratio");
  const row = (name: string, ours: number, base: number, unit: string) =>
    console.log(
      `${name.padEnd(36)} ${(fmt(ours) + unit).padEnd(13)} ${(fmt(base) + unit).padEnd(15)} ${
        (ours / base).toFixed(2)
      }x`,
    );
  row("collect, credits/s (batches of 5)", collectRate, bareCollectRate, "/s");
  row("consume, credits/s (64 consumers)", consumeRate, bareConsumeRate, "/s");
  row(`rebuild, events/s (${fmt(rebuilt.events)} events)`, rebuildRate, readRate, "/s");
  row("Redis bytes per outstanding credit", bytesPerCredit, bareMemBytes, " B");
  console.log("baselines: collect/consume = one Lua call appending as many bare stream entries");
  console.log(
    "(no hash chain, no projection); rebuild = reading the same pages without folding them;",
  );
  console.log(
    "memory = the bare entries alone. Redis bytes include the credit's share of the log.",
  );
  console.log(`rebuilt ${fmt(users)} users`);
} finally {
  await rig.close();
}
