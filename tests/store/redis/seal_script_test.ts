/**
 * The seal script's guards, called directly on a real Redis log: a sealer that lost the race
 * writes nothing, a seal can never reach past the head, and a chain string out of step with the
 * sealed head is refused rather than extended at the wrong offset.
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { canonicalEvent, GENESIS, linkHash } from "../../../src/chain/chain.ts";
import { CHAIN_CHUNK, SEAL_LUA } from "../../../src/store/redis/sealer.ts";
import { STORED_HASH_LENGTH, toStoredHash } from "../../../src/store/redis/stored_hash.ts";
import { ledgerKeys } from "../../../src/store/redis/keys.ts";
import { createRedisStore } from "../../../src/store/redis/redis.ts";
import { uniquePrefix, upstashFromEnv } from "../../helpers/rig.ts";
import { appendUnsealed } from "./unsealed_write.ts";
import { readAll } from "../store_contract.ts";

const T0 = Date.UTC(2026, 10, 25, 12);
const HASH = "ab".repeat(32);
/** HASH as seal.lua takes it: its stored form, then the last hash in hex, then chunk size. */
const sealArgs = (prefix: string, from: string, count: number) => [
  prefix,
  from,
  toStoredHash(HASH).repeat(count),
  HASH,
  String(CHAIN_CHUNK),
];

Deno.test("seal.lua: a stale sealer writes nothing; past the head or out of step is refused", async () => {
  const prefix = uniquePrefix("seal");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 100 });
  const raw = new Redis({ ...upstashFromEnv(), automaticDeserialization: false });
  const keys = ledgerKeys(prefix);
  const seal = raw.createScript(SEAL_LUA);
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
  assert.equal(chainBefore.length, 3 * STORED_HASH_LENGTH);

  // A sealer that read the head before the others sealed: its compare-and-swap fails.
  assert.equal(Number(await seal.exec([keys.head], sealArgs(prefix, "1", 2))), 3);
  assert.equal(await raw.get(keys.chain(0)), chainBefore, "nothing written");

  // Hashes for events that were never appended.
  await assert.rejects(seal.exec([keys.head], sealArgs(prefix, "3", 1)), /beyond the head/);

  // A chain string someone lengthened: the next seal refuses instead of misplacing hashes.
  await raw.append(keys.chain(0), toStoredHash(HASH));
  await store.collect("u", [{ ...collected(1)[0], formId: "g" }], T0);
  await assert.rejects(
    seal.exec([keys.head], sealArgs(prefix, "3", 1)),
    /out of step/,
  );
  assert.equal(await raw.hget(keys.head, "sealed"), "3", "the sealed head did not move");
  await store.close();
});

Deno.test("chain strings hold CHAIN_CHUNK hashes each, and a full one takes no more than its bytes", async () => {
  const prefix = uniquePrefix("chunks");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 1_100 });
  const keys = ledgerKeys(prefix);
  const url = Deno.env.get("TEST_REDIS_URL")!;
  const raw = new IORedis(url);
  try {
    // Two strings and a bit, in calls of up to 70 events: strings grow by many small APPENDs,
    // as in production.
    const total = 2 * CHAIN_CHUNK + 451;
    for (let call = 0; call * 70 < total - 1; call++) {
      const credits = Array.from({ length: Math.min(70, total - 1 - call * 70) }, (_, i) => ({
        formId: `f${call}-${i}`,
        kind: "form" as const,
        uses: 1,
        expiresAt: T0 + 86_400_000,
      }));
      await store.collect(`u${call}`, credits, T0);
    }
    await store.collect("last", [{ formId: "x", kind: "form", uses: 1, expiresAt: null }], T0);
    assert.equal((await store.head()).seq, total);
    assert.equal(await raw.hget(keys.head, "chunk"), String(CHAIN_CHUNK));
    assert.deepEqual(
      await Promise.all([0, 1, 2].map((n) => raw.strlen(keys.chain(n)))),
      [CHAIN_CHUNK, CHAIN_CHUNK, 451].map((n) => n * STORED_HASH_LENGTH),
    );
    // Full strings were copied to exact size: Redis would otherwise hold up to twice the bytes.
    for (const n of [0, 1]) {
      const bytes = Number(await raw.call("MEMORY", "USAGE", keys.chain(n)));
      assert.ok(bytes < CHAIN_CHUNK * STORED_HASH_LENGTH * 1.02, `string ${n} uses ${bytes} bytes`);
    }
    // Pages across string (and segment) boundaries link up and hash right.
    const events = await store.readEvents(CHAIN_CHUNK - 10, 1_520);
    assert.equal(events.length, 1_520);
    let prev = (await store.readEvents(CHAIN_CHUNK - 11, 1))[0].hash;
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

Deno.test("collect seals its own events without reading them back, after any unsealed ones", async () => {
  const prefix = uniquePrefix("seal");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 4 });
  const raw = new Redis({ ...upstashFromEnv(), automaticDeserialization: false });
  const keys = ledgerKeys(prefix);
  const credit = (formId: string) => ({
    formId,
    kind: "form" as const,
    uses: 1,
    expiresAt: T0 + 86_400_000,
  });
  // Sealed right away: the chain string holds one hash per event.
  await store.collect("u", [credit("a"), credit("b"), credit("a")], T0);
  assert.equal(await raw.hget(keys.head, "sealed"), "2");
  assert.equal((await raw.get(keys.chain(0)) as string).length, 2 * STORED_HASH_LENGTH);

  // Another writer appended and died before sealing: the next collect seals its events too.
  await appendUnsealed(raw, prefix, T0 + 1);
  assert.equal(await raw.hget(keys.head, "sealed"), "2");
  await store.collect("v", [credit("c"), credit("d"), credit("e")], T0 + 2);
  assert.equal(await raw.hget(keys.head, "sealed"), "6");

  const events = await readAll(store);
  assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
  let prev = GENESIS;
  for (const event of events) {
    assert.equal(event.prev, prev);
    assert.equal(event.hash, linkHash(prev, canonicalEvent(event)), `hash of ${event.seq}`);
    prev = event.hash;
  }
  assert.equal((await store.head()).hash, prev);
  await store.close();
});
