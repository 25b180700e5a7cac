import assert from "node:assert/strict";
import { Redis as IORedis } from "ioredis";
import { createRedisStore, RedisStore } from "../../src/store/redis/redis.ts";
import { RebuildRunningError } from "../../src/ledger/store.ts";
import { uniquePrefix, upstashFromEnv } from "../helpers/rig.ts";
import { creditIndexContract } from "./credit_index_contract.ts";
import { pushStateContract } from "./push_state_contract.ts";
import { limitsContract } from "./limits_contract.ts";
import { storeContract, type StoreFactory } from "./store_contract.ts";
import { subscriptionContract } from "./subscription_contract.ts";
import { answerManyContract } from "./answer_many_contract.ts";
import { consume } from "../helpers/store_calls.ts";

const prefixes = new WeakMap<object, string>();

const factory: StoreFactory = ({ segmentEvents, shareWith }) => {
  const prefix = (shareWith && prefixes.get(shareWith)) ?? uniquePrefix("contract");
  const store: RedisStore = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents });
  prefixes.set(store, prefix);
  return Promise.resolve(store);
};
storeContract("redis", factory);
creditIndexContract("redis", factory);
subscriptionContract("redis", factory);
answerManyContract("redis", factory);
pushStateContract("redis", factory);
limitsContract("redis", factory);

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
    // The new version: every user (a spent form credit stays until it expires), the users
    // index and the marker of the credit index's layout; the 20 users holding a live credit
    // have a credit index and a legacy group, the 10 with a spent one a spent index.
    // (Before the credit index the version held 30 + 1 keys: the hashes and the users index.)
    const version = after.filter((key) => key.startsWith(`${prefix}:p1:`));
    const count = (part: string) => version.filter((key) => key.includes(`:p1:${part}`)).length;
    assert.equal(count("u:") + count("users"), 30 + 1);
    assert.deepEqual([count("c:"), count("g:"), count("s:"), count("indexed")], [20, 20, 10, 1]);
    assert.equal(version.length, 30 + 1 + 20 + 20 + 10 + 1);
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

/** The live projection's credit index (c:, g:, s: keys) as stored, entries scored after `now`. */
async function creditIndex(raw: IORedis, prefix: string, now: number) {
  const version = (await raw.get(`${prefix}:proj`)) ?? "0";
  const base = `${prefix}:p${version}:`;
  const index: Record<string, string[]> = {};
  for (const key of (await raw.keys(`${base}[cgs]:*`)).sort()) {
    const flat = await raw.zrangebyscore(key, `(${now}`, "+inf", "WITHSCORES");
    if (flat.length > 0) index[key.slice(base.length)] = flat;
  }
  return index;
}

Deno.test("redis: a rebuild writes the same credit index the writes kept", async () => {
  const prefix = uniquePrefix("index");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 50 });
  const raw = new IORedis(Deno.env.get("TEST_REDIS_URL")!);
  const now = Date.UTC(2026, 10, 25) + 2 * 3_600_000;
  const t0 = now - 2 * 3_600_000;
  try {
    for (let u = 0; u < 6; u++) {
      await store.collect(`user${u}`, [
        { formId: `gone${u}`, kind: "form", uses: 1, expiresAt: t0 + 1_000 },
        { formId: `f${u}`, kind: "form", uses: 1, expiresAt: t0 + 86_400_000 + u },
        { formId: `p${u}`, kind: "prepay", uses: 3, expiresAt: t0 + 86_400_000 },
        { formId: `n${u}`, kind: "form", uses: 1, expiresAt: null },
        { formId: `s${u}`, kind: "subscribe", templateId: `T:${u % 2}`, uses: 1, expiresAt: null },
      ], t0);
      for (let k = 0; k < u; k++) {
        const filter = k % 2 ? { templateId: `T:${u % 2}` } : {};
        const taken = await consume(store, `user${u}`, { ...filter, pushId: `c${u}.${k}` }, now);
        if (taken && k === 3) {
          await store.recordMany(undefined, [{
            openId: `user${u}`,
            pushId: `c${u}.${k}`,
            credit: taken,
            release: true,
            events: [],
          }], now);
        }
      }
    }
    const before = await creditIndex(raw, prefix, now);
    assert.ok(Object.keys(before).some((key) => key.startsWith("s:")), "spent credits indexed");
    assert.ok(Object.keys(before).some((key) => key.startsWith("g:user1:t:T:1")));
    await store.rebuild(now);
    assert.equal(await raw.get(`${prefix}:proj`), "1");
    assert.deepEqual(await creditIndex(raw, prefix, now), before);
  } finally {
    raw.disconnect();
  }
});

Deno.test("redis: a projection built without the credit index is refused until a rebuild", async () => {
  const prefix = uniquePrefix("old");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 50 });
  const raw = new IORedis(Deno.env.get("TEST_REDIS_URL")!);
  const now = Date.UTC(2026, 10, 25);
  try {
    await store.collect("o1", [{ formId: "f1", kind: "form", uses: 1, expiresAt: null }], now);
    // What an older release left: the hash and the users index, no index, no marker.
    const keys = await raw.keys(`${prefix}:p0:[cgs]:*`);
    await raw.del(...keys, `${prefix}:p0:indexed`);
    const refused = /no credit index.*deno task rebuild/;
    await assert.rejects(store.view("o1", now), refused);
    await assert.rejects(consume(store, "o1", { pushId: "p" }, now), refused);
    await assert.rejects(store.collect("o1", [], now), refused);
    const seq = (await store.head()).seq;
    await assert.rejects(
      store.collect("o2", [{ formId: "f", kind: "form", uses: 1, expiresAt: null }], now),
      refused,
    );
    assert.equal((await store.head()).seq, seq, "nothing written");
    await store.rebuild(now);
    assert.equal((await store.view("o1", now)).valid, 1);
    assert.equal((await consume(store, "o1", { pushId: "p" }, now))?.formId, "f1");
  } finally {
    raw.disconnect();
  }
});
