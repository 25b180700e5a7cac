import assert from "node:assert/strict";
import { Redis as IORedis } from "ioredis";
import { createRedisStore, RedisStore } from "../../src/store/redis/redis.ts";
import { RebuildRunningError } from "../../src/ledger/store.ts";
import { uniquePrefix, upstashFromEnv } from "../helpers/rig.ts";
import { storeContract } from "./store_contract.ts";
import { consume } from "../helpers/store_calls.ts";

const prefixes = new WeakMap<object, string>();

storeContract("redis", ({ segmentEvents, shareWith }) => {
  const prefix = (shareWith && prefixes.get(shareWith)) ?? uniquePrefix("contract");
  const store: RedisStore = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents });
  prefixes.set(store, prefix);
  return Promise.resolve(store);
});

Deno.test("redis: a rebuild leaves no key of the projection it replaced", async () => {
  const prefix = uniquePrefix("drop");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 50 });
  const raw = new IORedis(Deno.env.get("TEST_REDIS_URL")!);
  const now = Date.UTC(2026, 10, 25);
  const projectionKeys = async () => (await raw.keys(`${prefix}:p*`)).sort();
  try {
    for (let u = 0; u < 30; u++) {
      const credits = [{ formId: `f${u}`, kind: "form" as const, uses: 1, expiresAt: now + 1000 }];
      await store.collect(`user${u}`, credits, now);
      if (u % 3 === 0) await consume(store, `user${u}`, { pushId: `p${u}` }, now);
    }
    const live = await projectionKeys();
    assert.ok(live.includes(`${prefix}:p0:users`) && live.includes(`${prefix}:p0:u:user1`));
    await store.rebuild(now);
    const after = await projectionKeys();
    assert.equal(after.filter((key) => key.startsWith(`${prefix}:p0:`)).length, 0);
    // The new version: every user (a spent form credit stays until it expires) and the index.
    assert.equal(after.filter((key) => key.startsWith(`${prefix}:p1:`)).length, 30 + 1);
    assert.equal(await raw.get(`${prefix}:proj`), "1");
  } finally {
    raw.disconnect();
  }
});

Deno.test("redis: a rebuild refuses a log with a missing or foreign entry and keeps the live projection", async () => {
  const now = Date.UTC(2026, 10, 25);
  const raw = new IORedis(Deno.env.get("TEST_REDIS_URL")!);
  const setup = async () => {
    const prefix = uniquePrefix("refuse");
    const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 50 });
    for (let u = 0; u < 5; u++) {
      await store.collect(
        `user${u}`,
        [{ formId: `f${u}`, kind: "form", uses: 1, expiresAt: null }],
        now,
      );
    }
    return { prefix, store, before: await store.view("user1", now) };
  };
  try {
    // An entry deleted from the middle of the log.
    let { prefix, store, before } = await setup();
    await raw.xdel(`${prefix}:log:0`, "3-0");
    await assert.rejects(store.rebuild(now), /log entry 4-0 where event 3 belongs/);
    assert.equal(await raw.get(`${prefix}:proj`), null, "the live projection stays");
    assert.deepEqual(await store.view("user1", now), before);
    // The failed rebuild released its lock and left no key of its own behind.
    await assert.rejects(store.rebuild(now), /log entry 4-0 where event 3 belongs/);
    assert.equal(await raw.exists(`${prefix}:rebuild`), 0);
    assert.deepEqual(await raw.keys(`${prefix}:p[1-9]*`), []);
    // An entry that is not in the store's layout.
    ({ prefix, store, before } = await setup());
    await raw.xadd(`${prefix}:log:0`, "5-1", "t", "FormIdCollected");
    await assert.rejects(store.rebuild(now), /log entry 5-1 where event 6 belongs/);
    ({ prefix, store } = await setup());
    await raw.multi().del(`${prefix}:log:0`).xadd(`${prefix}:log:0`, "1-0", "t", "x").exec();
    await assert.rejects(store.rebuild(now), /log entry 1-0 is not an event/);
  } finally {
    raw.disconnect();
  }
});

Deno.test("redis: rebuilds run one at a time; the one refused changes nothing", async () => {
  const prefix = uniquePrefix("lock");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 50 });
  const other = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 50 });
  const raw = new IORedis(Deno.env.get("TEST_REDIS_URL")!);
  const now = Date.UTC(2026, 10, 25);
  try {
    for (let u = 0; u < 40; u++) {
      const credits = [{ formId: `f${u}`, kind: "form" as const, uses: 1, expiresAt: null }];
      await store.collect(`user${u}`, credits, now);
    }
    // Two processes at once (two stores, one ledger): exactly one rebuilds.
    const outcomes = await Promise.allSettled([store.rebuild(now), other.rebuild(now)]);
    const refused = outcomes.filter((o) => o.status === "rejected");
    assert.equal(refused.length, 1, JSON.stringify(outcomes));
    assert.ok((refused[0] as PromiseRejectedResult).reason instanceof RebuildRunningError);
    const live = await raw.get(`${prefix}:proj`);
    const versions = new Set(
      (await raw.keys(`${prefix}:p*:*`)).map((k) => k.slice(prefix.length + 1).split(":")[0]),
    );
    assert.deepEqual([...versions], [`p${live}`], "only the live version has keys");
    assert.equal((await other.view("user7", now)).valid, 1);
    // The lock is gone with the rebuild that held it.
    assert.equal(await raw.exists(`${prefix}:rebuild`), 0);
    assert.equal((await other.rebuild(now)).users, 40);
  } finally {
    raw.disconnect();
  }
});
