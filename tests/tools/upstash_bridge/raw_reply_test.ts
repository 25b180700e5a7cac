/**
 * The bridge relays Redis's replies untransformed, whatever the case of the command name, as
 * Upstash's REST API does: ioredis's reply transformer (HGETALL to an object) and argument
 * transformers (HSET/HMSET/MSET/MSETNX given an object) never apply. Driven over real HTTP,
 * with raw fetch (the exact JSON) and with the real `@upstash/redis` client.
 */
import assert from "node:assert/strict";
import { Command } from "ioredis";
import { Redis } from "@upstash/redis";
import { uniquePrefix, upstashFromEnv } from "../../helpers/rig.ts";
import { b64All, type Item, post } from "./post.ts";

const { url, token } = upstashFromEnv();
const PATHS = ["/", "/pipeline", "/multi-exec"] as const;
const CASES = (name: string) => [name.toLowerCase(), name.toUpperCase(), mixedCase(name)];
const mixedCase = (s: string) =>
  [...s].map((c, i) => i % 2 ? c.toUpperCase() : c.toLowerCase()).join("");

/** Sends one command through `path` and returns its item as Upstash would shape it. */
async function one(path: (typeof PATHS)[number], cmd: unknown[], b64: boolean): Promise<Item> {
  const r = await post(url, token, path, path === "/" ? cmd : [cmd], b64);
  if (path === "/") return r.body as Item;
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const items = r.body as Item[];
  assert.equal(items.length, 1);
  return items[0];
}

Deno.test("ioredis transforms the replies and arguments of exactly these commands", () => {
  // If an ioredis upgrade adds one, the tests below must cover it too.
  const t = (Command as unknown as {
    _transformer: { reply: Record<string, unknown>; argument: Record<string, unknown> };
  })._transformer;
  assert.deepEqual(Object.keys(t.reply).sort(), ["hgetall"]);
  assert.deepEqual(Object.keys(t.argument).sort(), ["hmset", "hset", "mset", "msetnx"]);
});

Deno.test("HGETALL in any case answers Upstash's flat array: alone, pipelined, in a transaction", async () => {
  const p = uniquePrefix("bridge-raw-hgetall");
  await post(url, token, "/", ["HSET", `${p}:h`, "f1", "v1", "f2", "v é", "n", 3]);
  const flat = ["f1", "v1", "f2", "v é", "n", "3"];
  for (const b64 of [false, true]) {
    for (const name of CASES("hgetall")) {
      for (const path of PATHS) {
        const where = `${name} via ${path}, b64=${b64}`;
        assert.deepEqual(await one(path, [name, `${p}:h`], b64), {
          result: b64 ? b64All(flat) : flat,
        }, where);
        assert.deepEqual(await one(path, [name, `${p}:missing`], b64), { result: [] }, where);
      }
    }
  }
  // Several in one pipeline, next to other commands.
  const r = await post(url, token, "/pipeline", [["hgetall", `${p}:h`], ["HLEN", `${p}:h`], [
    "HgetAll",
    `${p}:h`,
  ]]);
  assert.deepEqual(r.body, [{ result: flat }, { result: 3 }, { result: flat }]);
});

Deno.test("HSET, HMSET, MSET, MSETNX in any case take their pairs as sent", async () => {
  for (const b64 of [false, true]) {
    const enc = (v: unknown) => b64 ? b64All(v) : v;
    for (const path of PATHS) {
      for (const [i, name] of CASES("x").entries()) {
        const p = uniquePrefix(`bridge-raw-args-${i}`);
        const cased = (n: string) => CASES(n)[i];
        const where = `case ${name} via ${path}, b64=${b64}`;
        assert.deepEqual(
          await one(path, [cased("hset"), `${p}:h`, "a", "1", "b", 2], b64),
          { result: 2 },
          where,
        );
        assert.deepEqual(
          await one(path, [cased("hmset"), `${p}:h`, "c", "3", "a", "x"], b64),
          { result: enc("OK") },
          where,
        );
        assert.deepEqual(
          await one(path, [cased("mset"), `${p}:k1`, "v1", `${p}:k2`, "v2"], b64),
          { result: enc("OK") },
          where,
        );
        assert.deepEqual(
          await one(path, [cased("msetnx"), `${p}:k3`, "v3", `${p}:k4`, "v4"], b64),
          { result: 1 },
          where,
        );
        assert.deepEqual(
          await one(path, [cased("msetnx"), `${p}:k3`, "no", `${p}:k5`, "no"], b64),
          { result: 0 },
          where,
        );
        const check = await post(url, token, "/pipeline", [
          ["HGETALL", `${p}:h`],
          ["MGET", `${p}:k1`, `${p}:k2`, `${p}:k3`, `${p}:k4`, `${p}:k5`],
        ]);
        assert.deepEqual(check.body, [
          { result: ["a", "x", "b", "2", "c", "3"] },
          { result: ["v1", "v2", "v3", "v4", null] },
        ], where);
      }
    }
  }
});

Deno.test("XRANGE, XREVRANGE, CONFIG GET, ZRANGE WITHSCORES are relayed as Redis sends them", async () => {
  const p = uniquePrefix("bridge-raw-arrays");
  await post(url, token, "/pipeline", [
    ["XADD", `${p}:s`, "1-1", "name", "ann", "n", "3"],
    ["XADD", `${p}:s`, "2-1", "name", "bob ✓"],
    ["ZADD", `${p}:z`, 1, "a", 2.5, "b"],
  ]);
  const entries = [["1-1", ["name", "ann", "n", "3"]], ["2-1", ["name", "bob ✓"]]];
  const cases: [unknown[], unknown][] = [
    [["xrange", `${p}:s`, "-", "+"], entries],
    [["XRANGE", `${p}:s`, "-", "+", "COUNT", 1], entries.slice(0, 1)],
    [["xrevrange", `${p}:s`, "+", "-"], entries.toReversed()],
    [["zrange", `${p}:z`, 0, -1, "withscores"], ["a", "1", "b", "2.5"]],
    [["hgetall", `${p}:s`], "WRONGTYPE"],
  ];
  for (const b64 of [false, true]) {
    for (const path of PATHS) {
      for (const [cmd, want] of cases) {
        const got = await one(path, cmd, b64);
        if (want === "WRONGTYPE") assert.match(String(got.error), /^WRONGTYPE/);
        else assert.deepEqual(got, { result: b64 ? b64All(want) : want }, `${cmd[0]} ${path}`);
      }
      for (const name of CASES("config")) {
        const got = await one(path, [name, "get", "maxmemory-policy"], b64);
        const [key, value] = got.result as string[];
        assert.equal(key, b64 ? b64All("maxmemory-policy") : "maxmemory-policy");
        assert.equal(typeof value, "string");
        assert.equal((got.result as string[]).length, 2);
      }
    }
  }
});

Deno.test("@upstash/redis gets hashes, streams and sets right in every mode", async () => {
  const clients = {
    "auto-pipelined, base64": new Redis({ url, token, enableTelemetry: false }),
    "single requests, base64": new Redis({
      url,
      token,
      enableTelemetry: false,
      enableAutoPipelining: false,
    }),
    "single requests, plain": new Redis({
      url,
      token,
      enableTelemetry: false,
      enableAutoPipelining: false,
      responseEncoding: false,
    }),
  };
  for (const [mode, redis] of Object.entries(clients)) {
    const p = uniquePrefix("bridge-raw-client");
    assert.equal(await redis.hset(`${p}:h`, { name: "ann ✓", n: 3 }), 2, mode);
    assert.deepEqual(await redis.hgetall(`${p}:h`), { name: "ann ✓", n: 3 }, mode);
    assert.equal(await redis.hgetall(`${p}:missing`), null, mode);
    assert.equal(await redis.hmset(`${p}:h`, { extra: "x" }), "OK", mode);
    assert.deepEqual(await redis.hgetall(`${p}:h`), { name: "ann ✓", n: 3, extra: "x" }, mode);
    assert.equal(await redis.mset({ [`${p}:a`]: "1a", [`${p}:b`]: { o: 1 } }), "OK", mode);
    assert.equal(await redis.msetnx({ [`${p}:a`]: "no", [`${p}:c`]: "no" }), 0, mode);
    assert.deepEqual(await redis.mget(`${p}:a`, `${p}:b`, `${p}:c`), ["1a", { o: 1 }, null]);
    await redis.xadd(`${p}:s`, "1-1", { f: "v" });
    await redis.xadd(`${p}:s`, "2-1", { g: "w" });
    assert.deepEqual(await redis.xrange(`${p}:s`, "-", "+"), {
      "1-1": { f: "v" },
      "2-1": { g: "w" },
    });
    assert.deepEqual(await redis.xrevrange(`${p}:s`, "+", "-", 1), { "2-1": { g: "w" } });

    const piped = await redis.pipeline().hgetall(`${p}:h`).hset(`${p}:h2`, { k: "v" })
      .hgetall(`${p}:h2`).exec();
    assert.deepEqual(piped, [{ name: "ann ✓", n: 3, extra: "x" }, 1, { k: "v" }], mode);
    const tx = await redis.multi().hgetall(`${p}:h2`).hmset(`${p}:h2`, { l: "w" })
      .hgetall(`${p}:h2`).exec();
    assert.deepEqual(tx, [{ k: "v" }, "OK", { k: "v", l: "w" }], mode);
  }
});
