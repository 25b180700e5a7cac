/**
 * The composition root's choice (src/backends.ts): the memory parts without a Redis URL; with
 * one, every part in Redis under the ledger's prefix, shared by instances, and sent through one
 * Upstash client (commands issued together travel in one HTTP request).
 */
import assert from "node:assert/strict";
import { openBackends } from "../src/backends.ts";
import { loadConfig } from "../src/config/config.ts";
import { TEST_ENV } from "./helpers/service.ts";
import { uniquePrefix, upstashFromEnv } from "./helpers/rig.ts";

function redisConfig(prefix: string, env: Record<string, string> = {}) {
  const { url, token } = upstashFromEnv();
  return loadConfig({
    ...TEST_ENV,
    UPSTASH_REDIS_REST_URL: url,
    UPSTASH_REDIS_REST_TOKEN: token,
    LEDGER_PREFIX: prefix,
    ...env,
  });
}

/** Records the bodies of the HTTP requests `fn` makes. */
async function requestsOf(fn: () => Promise<unknown>): Promise<unknown[][][]> {
  const realFetch = globalThis.fetch;
  const bodies: unknown[][][] = [];
  globalThis.fetch = (input, init) => {
    bodies.push(JSON.parse(String(init?.body)));
    return realFetch(input, init);
  };
  try {
    await fn();
  } finally {
    globalThis.fetch = realFetch;
  }
  return bodies;
}

Deno.test("backends (memory): the embedded store and its memory twins, nothing sent anywhere", async () => {
  const backends = openBackends(loadConfig({ ...TEST_ENV, RATE_LIMIT_PER_USER: "1" }));
  try {
    assert.equal(backends.store.kind, "memory");
    assert.equal(backends.durable, false);
    assert.equal(backends.parallelAudit, null);
    const requests = await requestsOf(async () => {
      assert.equal((await backends.limiters.user.limit("u")).success, true);
      assert.equal((await backends.limiters.user.limit("u")).success, false);
      assert.equal(await backends.coordination.kv.set("k", "v"), true);
      assert.equal(await backends.coordination.kv.get("k"), "v");
    });
    assert.deepEqual(requests, []);
  } finally {
    await backends.close();
  }
});

Deno.test("backends (redis): limits and key-value records are shared by instances", async () => {
  const prefix = uniquePrefix("backends");
  const [one, two] = [0, 1].map(() =>
    openBackends(redisConfig(prefix, { RATE_LIMIT_PER_IP: "2" }))
  );
  try {
    assert.equal(one.store.kind, "redis");
    assert.equal(one.durable, true);
    assert.ok(one.parallelAudit !== null);
    assert.ok(!one.description.includes(upstashFromEnv().token), "the token is never logged");
    assert.equal((await one.limiters.ip.limit("10.0.0.1")).success, true);
    assert.equal((await two.limiters.ip.limit("10.0.0.1")).success, true);
    assert.equal((await one.limiters.ip.limit("10.0.0.1")).success, false, "counted together");
    assert.equal((await two.limiters.login.limit("10.0.0.1")).success, true, "a limit of its own");
    assert.equal(await one.coordination.kv.set("lock", "me", { nx: true, px: 5_000 }), true);
    assert.equal(await two.coordination.kv.set("lock", "you", { nx: true, px: 5_000 }), false);
    assert.equal(await two.coordination.kv.get("lock"), "me");
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

Deno.test("backends (redis): the store, the key-value store and the limits share one client", async () => {
  const prefix = uniquePrefix("backends");
  const backends = openBackends(redisConfig(prefix));
  try {
    await backends.limiters.user.limit("warm"); // loads the limit script
    const { kv } = backends.coordination;
    const reads = await requestsOf(() => Promise.all([kv.get("k"), backends.store.unsealed()]));
    assert.deepEqual(reads, [[["get", `${prefix}:k`], [
      "hmget",
      `${prefix}:head`,
      "seq",
      "sealed",
    ]]]);
    const writes = await requestsOf(() =>
      Promise.all([kv.set("k", "v"), backends.limiters.user.limit("alice")])
    );
    assert.equal(writes.length, 1, "one HTTP request");
    assert.deepEqual(writes[0].map((command) => command[0]), ["set", "evalsha"]);
    assert.match(String(writes[0][1][3]), new RegExp(`^${prefix}:rl:user:alice:`));
    assert.equal(await kv.get("k"), "v", "a value comes back as stored, not parsed");
    await kv.set("record", JSON.stringify({ state: "done" }));
    assert.equal(await kv.get("record"), '{"state":"done"}');
  } finally {
    await backends.close();
  }
});
