/**
 * Credit index benchmark (issue 11): the Redis time of one push's take for a user holding 10,
 * 1,000, 10,000 and 100,000 credits, through the real path (@upstash/redis -> Upstash REST
 * bridge -> redis-server), beside a baseline measured in the same run: a bare EVAL of a script
 * that does nothing. The figure must be flat: a take reads the head of the user's spend groups,
 * never the whole user.
 *
 *   deno task bench credit_index
 *
 * Redis time is the server's own measure of the script call (SLOWLOG with a 0 µs threshold
 * records every command with its duration); the round trip is the client's wall time of the
 * call, bridge and HTTP included.
 *
 * @module
 */
import { createRedisStore } from "../src/store/redis/redis.ts";
import { TAKE_LUA } from "../src/store/redis/take.ts";
import { upstashClient } from "../src/shared/upstash_client.ts";
import { fmt, startBenchRig, usedMemory } from "./rig.ts";

const SIZES = [10, 1_000, 10_000, 100_000];
/** Takes timed per size. */
const TAKES = 505;
const BATCH = 5_000;

const sha1 = async (text: string) =>
  Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text))),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** Server durations (µs) of the calls to script `sha` since the last SLOWLOG RESET. */
async function serverMicros(
  direct: Awaited<ReturnType<typeof startBenchRig>>["direct"],
  sha: string,
) {
  const log = await direct.call("SLOWLOG", "GET", "100000") as [number, number, number, string[]][];
  return log.filter(([, , , args]) => args[1] === sha).map(([, , micros]) => micros);
}

const rig = await startBenchRig();
try {
  const redis = upstashClient(rig.upstash);
  const store = createRedisStore(
    { ...rig.upstash, prefix: "bench:index", segmentEvents: 100_000 },
    redis,
  );
  const now = Date.now();
  const bare = redis.createScript("return 1");
  const takeSha = await sha1(TAKE_LUA);
  const bareSha = await sha1("return 1");
  await rig.direct.call("CONFIG", "SET", "slowlog-max-len", "100000");

  const rows: string[][] = [];
  for (const size of SIZES) {
    const openId = `oWhale${size}`;
    const total = size + TAKES; // the user still holds `size` credits at the last take
    const before = await usedMemory(rig.direct);
    for (let from = 0; from < total; from += BATCH) {
      const credits = [];
      for (let i = from; i < Math.min(total, from + BATCH); i++) {
        // Expiries spread over a week, ids in no particular order.
        const n = (i * 7_919) % total;
        credits.push({
          formId: `f${n.toString(36).padStart(8, "0")}`,
          kind: "form" as const,
          uses: 1,
          expiresAt: now + 86_400_000 + n * 3_000,
        });
      }
      await store.collect(openId, credits, now);
    }
    const bytes = (await usedMemory(rig.direct) - before) / total;
    // Warm up (script cache, connections), then time takes and bare calls alternately.
    for (let i = 0; i < 5; i++) {
      await store.takeMany({ deliveries: [{ openId, pushId: `w${size}.${i}` }] }, now);
      await bare.exec([], []);
    }
    // Only the timed calls are logged (the log's own memory is not the credits').
    await rig.direct.call("SLOWLOG", "RESET");
    await rig.direct.call("CONFIG", "SET", "slowlog-log-slower-than", "0");
    const takeWall: number[] = [];
    const bareWall: number[] = [];
    for (let i = 5; i < TAKES; i++) {
      let started = performance.now();
      const [result] = await store.takeMany(
        { deliveries: [{ openId, pushId: `p${size}.${i}` }] },
        now,
      );
      takeWall.push(performance.now() - started);
      if (result.status !== "taken") throw new Error(`take ${i} found no credit`);
      started = performance.now();
      await bare.exec([], []);
      bareWall.push(performance.now() - started);
    }
    await rig.direct.call("CONFIG", "SET", "slowlog-log-slower-than", "10000");
    const takeMicros = await serverMicros(rig.direct, takeSha);
    const bareMicros = await serverMicros(rig.direct, bareSha);
    await rig.direct.call("SLOWLOG", "RESET");
    rows.push([
      fmt(size),
      `${median(takeMicros)} µs`,
      `${median(bareMicros)} µs`,
      `${median(takeWall).toFixed(2)} ms`,
      `${median(bareWall).toFixed(2)} ms`,
      `${fmt(bytes)} B`,
    ]);
  }

  console.log(
    `one push's take, one user, through @upstash/redis -> REST bridge -> redis-server (${Deno.build.os}, ${navigator.hardwareConcurrency} cores)`,
  );
  const header = [
    "credits held",
    "take, Redis",
    "bare EVAL, Redis",
    "take, round trip",
    "bare EVAL, round trip",
    "Redis bytes/credit",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    `medians of ${TAKES - 5} takes per size (each appends FormIdConsumed and is sealed after);`,
  );
  console.log(
    "Redis = the server's own time of the script call (SLOWLOG); baseline = EVAL 'return 1'.",
  );
  console.log(
    "bytes/credit = used_memory growth per credit collected (hash, index and log entry).",
  );
} finally {
  await rig.close();
}
