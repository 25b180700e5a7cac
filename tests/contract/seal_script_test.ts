/**
 * The seal script's guards, called directly on a real Redis log: a sealer that lost the race
 * writes nothing, a seal can never reach past the head, and a chain string out of step with the
 * sealed head is refused rather than extended at the wrong offset.
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { canonicalEvent, linkHash } from "../../src/audit/chain.ts";
import { CHAIN_CHUNK } from "../../src/store/sealer.ts";
import { ledgerKeys } from "../../src/store/keys.ts";
import { createRedisStore } from "../../src/store/redis.ts";
import { SCRIPTS } from "../../src/store/scripts.ts";
import { uniquePrefix, upstashFromEnv } from "../helpers/rig.ts";

const T0 = Date.UTC(2026, 10, 25, 12);
const HASH = "ab".repeat(32);

Deno.test("seal.lua: a stale sealer writes nothing; past the head or out of step is refused", async () => {
  const prefix = uniquePrefix("seal");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 100 });
  const raw = new Redis({ ...upstashFromEnv(), automaticDeserialization: false });
  const keys = ledgerKeys(prefix);
  const seal = raw.createScript(SCRIPTS.seal);
  const collected = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      formId: `f${i}`,
      kind: "form" as const,
      uses: 1,
      expiresAt: T0 + 86_400_000,
    }));
  await store.collect("u", collected(3), T0);
  assert.equal((await store.head()).seq, 3);
  const chainBefore = await raw.get(keys.chain(0)) as string;
  assert.equal(chainBefore.length, 3 * 64);

  // A sealer that read the head before the others sealed: its compare-and-swap fails.
  assert.equal(Number(await seal.exec([keys.head], [prefix, "1", HASH + HASH])), 3);
  assert.equal(await raw.get(keys.chain(0)), chainBefore, "nothing written");

  // Hashes for events that were never appended.
  await assert.rejects(seal.exec([keys.head], [prefix, "3", HASH]), /beyond the head/);

  // A chain string someone lengthened: the next seal refuses instead of misplacing hashes.
  await raw.append(keys.chain(0), HASH);
  await store.collect("u", [{ ...collected(1)[0], formId: "g" }], T0);
  await assert.rejects(
    seal.exec([keys.head], [prefix, "3", HASH]),
    /out of step/,
  );
  assert.equal(await raw.hget(keys.head, "sealed"), "3", "the sealed head did not move");
  await store.close();
});

Deno.test("chain strings hold 1,000 hashes each, and a full one takes no more than its bytes", async () => {
  const prefix = uniquePrefix("chunks");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 700 });
  const keys = ledgerKeys(prefix);
  const url = Deno.env.get("TEST_REDIS_URL")!;
  const raw = new IORedis(url);
  try {
    // 2,450 events in calls of 70: strings grow by many small APPENDs, as in production.
    for (let call = 0; call < 35; call++) {
      const credits = Array.from({ length: 70 }, (_, i) => ({
        formId: `f${call}-${i}`,
        kind: "form" as const,
        uses: 1,
        expiresAt: T0 + 86_400_000,
      }));
      await store.collect(`u${call}`, credits, T0);
    }
    await store.collect("last", [{ formId: "x", kind: "form", uses: 1, expiresAt: null }], T0);
    assert.equal((await store.head()).seq, 2_451);
    assert.equal(await raw.hget(keys.head, "chunk"), String(CHAIN_CHUNK));
    assert.deepEqual(
      await Promise.all([0, 1, 2].map((n) => raw.strlen(keys.chain(n)))),
      [64_000, 64_000, 451 * 64],
    );
    // Full strings were copied to exact size: Redis would otherwise hold up to twice the bytes.
    for (const n of [0, 1]) {
      const bytes = Number(await raw.call("MEMORY", "USAGE", keys.chain(n)));
      assert.ok(bytes < 66_000, `chain string ${n} uses ${bytes} bytes`);
    }
    // Pages across string (and segment) boundaries link up and hash right.
    const events = await store.readEvents(990, 420);
    assert.equal(events.length, 420);
    let prev = (await store.readEvents(989, 1))[0].hash;
    for (const event of events) {
      assert.equal(event.prev, prev, `prev of ${event.seq}`);
      assert.equal(event.hash, linkHash(prev, canonicalEvent(event)), `hash of ${event.seq}`);
      prev = event.hash;
    }
  } finally {
    raw.disconnect();
    await store.close();
  }
});

Deno.test("a log sealed before chain strings had their own size reads one string per segment", async () => {
  const prefix = uniquePrefix("oldchunks");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 4, chainChunk: 4 });
  const keys = ledgerKeys(prefix);
  const raw = new IORedis(Deno.env.get("TEST_REDIS_URL")!);
  try {
    for (let i = 0; i < 5; i++) {
      await store.collect("u", [{ formId: `f${i}`, kind: "form", uses: 1, expiresAt: null }], T0);
    }
    const written = await store.readEvents(0, 10);
    await raw.hdel(keys.head, "chunk"); // as that layout left the head
    const reader = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 4 });
    assert.deepEqual(await reader.readEvents(0, 10), written);
  } finally {
    raw.disconnect();
    await store.close();
  }
});
