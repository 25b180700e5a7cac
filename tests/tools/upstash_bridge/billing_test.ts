/**
 * The bridge counts billable commands as Upstash bills them: one per command sent to Redis,
 * alone, pipelined or in a transaction; a script's EVALSHA-NOSCRIPT-EVAL round is two. Each
 * test starts its own bridge (on the test redis-server) so that its counts are its own.
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { type Bridge, startBridge } from "../../../tools/upstash_bridge.ts";
import { uniquePrefix } from "../../helpers/rig.ts";
import { post } from "./post.ts";

const TOKEN = "billing-test-token";

async function withBridge(fn: (bridge: Bridge, redis: Redis) => Promise<void>): Promise<void> {
  const redisUrl = Deno.env.get("TEST_REDIS_URL");
  if (!redisUrl) throw new Error("TEST_REDIS_URL is not set: run with `deno task test`");
  const bridge = await startBridge({ redisUrl, token: TOKEN });
  try {
    await fn(bridge, new Redis({ url: bridge.url, token: TOKEN, enableTelemetry: false }));
  } finally {
    await bridge.close();
  }
}

Deno.test("a single command is one, whether it succeeds or fails; refused requests are none", async () => {
  await withBridge(async (bridge) => {
    const p = uniquePrefix("bill-single");
    assert.deepEqual(bridge.commands(), { total: 0, byName: {} });
    await post(bridge.url, TOKEN, "/", ["set", `${p}:s`, "text"]);
    await post(bridge.url, TOKEN, "/", ["GET", `${p}:s`], true);
    assert.equal((await post(bridge.url, TOKEN, "/", ["INCR", `${p}:s`])).status, 400);
    await fetch(`${bridge.url}/get/${p}:s`, { headers: { authorization: `Bearer ${TOKEN}` } })
      .then((r) => r.body?.cancel());
    assert.deepEqual(bridge.commands(), { total: 4, byName: { GET: 2, INCR: 1, SET: 1 } });

    // Never sent to Redis: a bad token, a malformed body, a command Upstash does not serve.
    assert.equal((await post(bridge.url, "wrong", "/", ["GET", `${p}:s`])).status, 401);
    assert.equal((await post(bridge.url, TOKEN, "/", { get: 1 })).status, 400);
    assert.equal((await post(bridge.url, TOKEN, "/", ["BLPOP", `${p}:l`, 0])).status, 400);
    assert.equal(bridge.commands().total, 4);
  });
});

Deno.test("a pipeline of n commands is n", async () => {
  await withBridge(async (bridge, redis) => {
    const p = uniquePrefix("bill-pipeline");
    const r = await post(bridge.url, TOKEN, "/pipeline", [
      ["SET", `${p}:n`, 1],
      ["INCR", `${p}:n`],
      "not a command",
      ["NOSUCHCMD"],
      ["GET", `${p}:n`],
    ]);
    assert.equal(r.status, 200);
    // Four reached Redis (NOSUCHCMD too: Redis answered it); the malformed one did not.
    assert.deepEqual(bridge.commands(), {
      total: 4,
      byName: { GET: 1, INCR: 1, NOSUCHCMD: 1, SET: 1 },
    });

    bridge.resetCommands();
    // The client auto-pipelines commands of the same tick into one /pipeline request.
    await Promise.all(Array.from({ length: 10 }, () => redis.incr(`${p}:auto`)));
    assert.deepEqual(bridge.commands(), { total: 10, byName: { INCR: 10 } });

    bridge.resetCommands();
    await redis.pipeline().set(`${p}:a`, 1).get(`${p}:a`).hset(`${p}:h`, { f: 1 }).hgetall(
      `${p}:h`,
    ).exec();
    assert.deepEqual(bridge.commands(), {
      total: 4,
      byName: { GET: 1, HGETALL: 1, HSET: 1, SET: 1 },
    });
  });
});

Deno.test("a transaction of n commands is n; MULTI and EXEC are not billed", async () => {
  await withBridge(async (bridge, redis) => {
    const p = uniquePrefix("bill-multi");
    const r = await post(bridge.url, TOKEN, "/multi-exec", [
      ["SET", `${p}:n`, 1],
      ["INCR", `${p}:n`],
      ["GET", `${p}:n`],
    ]);
    assert.deepEqual(r.body, [{ result: "OK" }, { result: 2 }, { result: "2" }]);
    assert.deepEqual(bridge.commands(), { total: 3, byName: { GET: 1, INCR: 1, SET: 1 } });

    bridge.resetCommands();
    assert.deepEqual(await redis.multi().incr(`${p}:m`).incrby(`${p}:m`, 5).exec(), [1, 6]);
    assert.deepEqual(bridge.commands(), { total: 2, byName: { INCR: 1, INCRBY: 1 } });

    // Refused by the bridge before Redis: nothing sent, nothing billed.
    bridge.resetCommands();
    const bad = await post(bridge.url, TOKEN, "/multi-exec", [["SET", `${p}:x`, 1], ["BLPOP"]]);
    assert.equal(bad.status, 400);
    assert.deepEqual(bridge.commands(), { total: 0, byName: {} });
  });
});

Deno.test("Script.exec: EVALSHA failing with NOSCRIPT then EVAL is two, later runs one", async () => {
  await withBridge(async (bridge, redis) => {
    const p = uniquePrefix("bill-script");
    // The unique comment gives a script Redis has never seen.
    const script = redis.createScript<number>(`return tonumber(ARGV[1]) + 1 -- ${p}`);
    assert.equal(await script.exec([], ["41"]), 42);
    assert.deepEqual(bridge.commands(), { total: 2, byName: { EVAL: 1, EVALSHA: 1 } });
    assert.equal(await script.exec([], ["1"]), 2);
    assert.deepEqual(bridge.commands(), { total: 3, byName: { EVAL: 1, EVALSHA: 2 } });
  });
});

Deno.test("GET /_bridge/commands reads the counts, DELETE resets them, both need the token", async () => {
  await withBridge(async (bridge) => {
    const p = uniquePrefix("bill-http");
    const at = `${bridge.url}/_bridge/commands`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    await post(bridge.url, TOKEN, "/pipeline", [["SET", `${p}:a`, 1], ["GET", `${p}:a`]]);
    const want = { total: 2, byName: { GET: 1, SET: 1 } };

    for (const headers of [{}, { authorization: "Bearer wrong" }] as Record<string, string>[]) {
      const r = await fetch(at, { headers });
      assert.equal(r.status, 401);
      assert.equal(typeof (await r.json()).error, "string");
    }
    let r = await fetch(at, { headers: auth });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), want);
    // Reading the bill is not a Redis command: it neither reaches Redis nor counts.
    r = await fetch(`${at}/`, { headers: auth });
    assert.deepEqual(await r.json(), want);
    r = await fetch(at, { method: "POST", headers: auth, body: "" });
    assert.equal(r.status, 405);
    assert.equal(typeof (await r.json()).error, "string");
    // The whole /_bridge namespace is the bridge's own: never a Redis command.
    r = await fetch(`${bridge.url}/_bridge/other`, { method: "POST", headers: auth, body: "" });
    assert.equal(r.status, 404);
    assert.equal(typeof (await r.json()).error, "string");
    assert.deepEqual(bridge.commands(), want);

    r = await fetch(at, { method: "DELETE", headers: auth });
    assert.deepEqual(await r.json(), want);
    assert.deepEqual(bridge.commands(), { total: 0, byName: {} });
    r = await fetch(at, { headers: auth });
    assert.deepEqual(await r.json(), { total: 0, byName: {} });
  });
});
