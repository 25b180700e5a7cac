/**
 * The Upstash REST bridge (tools/upstash_bridge.ts), driven through the real `@upstash/redis`
 * client with its defaults (auto-pipelining, base64 responses) and through raw fetch.
 * Run with `deno task test` (tests/run.ts starts redis-server and the bridge).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Redis } from "@upstash/redis";
import { uniquePrefix, upstashFromEnv } from "../helpers/rig.ts";

const { url, token } = upstashFromEnv();

interface RawOptions {
  /** Bearer token to send; null sends no Authorization header. */
  token?: string | null;
  /** Send `Upstash-Encoding: base64`. */
  b64?: boolean;
  /** Send this text as the body instead of JSON. */
  text?: string;
}

/** POSTs to the bridge and returns the status and the parsed JSON body. */
async function raw(
  path: string,
  body: unknown,
  opts: RawOptions = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const t = opts.token === undefined ? token : opts.token;
  if (t !== null) headers.authorization = `Bearer ${t}`;
  if (opts.b64) headers["upstash-encoding"] = "base64";
  const res = await fetch(url + path, {
    method: "POST",
    headers,
    body: opts.text ?? JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

Deno.test("set/get round-trips unicode, JSON and binary values", async () => {
  const redis = new Redis({ url, token });
  const p = uniquePrefix("bridge-values");
  const text = 'héllo wörld 🌍 汉字 \u0000\t\n "quoted" \\ back';
  assert.equal(await redis.set(`${p}:u`, text), "OK");
  assert.equal(await redis.get(`${p}:u`), text);

  const obj = { a: 1, b: [true, null, "x"], c: { d: "é" } };
  await redis.set(`${p}:o`, obj);
  assert.deepEqual(await redis.get(`${p}:o`), obj);

  // Bytes that are not UTF-8 come back exactly, as base64 of the raw bytes.
  const setBytes = [
    "EVAL",
    "return redis.call('SET', KEYS[1], string.char(0, 255, 128, 10))",
    1,
    `${p}:b`,
  ];
  assert.deepEqual((await raw("/", setBytes)).body, { result: "OK" });
  const got = await raw("/", ["GET", `${p}:b`], { b64: true });
  assert.deepEqual(got, { status: 200, body: { result: "AP+ACg==" } });

  // Path form.
  assert.equal(
    (await raw(`/set/${encodeURIComponent(`${p}:path`)}/a%20b`, null, { text: "" })).status,
    200,
  );
  assert.deepEqual((await raw("/", ["GET", `${p}:path`])).body, { result: "a b" });
});

Deno.test("integers stay numbers, floats are strings, nil is null", async () => {
  const redis = new Redis({ url, token });
  const p = uniquePrefix("bridge-types");
  const n = await redis.incrby(`${p}:n`, 41);
  assert.equal(n, 41);
  assert.deepEqual(await raw("/", ["INCR", `${p}:n`]), { status: 200, body: { result: 42 } });
  assert.deepEqual(await raw("/", ["INCR", `${p}:n`], { b64: true }), {
    status: 200,
    body: { result: 43 },
  });

  // JSON numbers and booleans become strings on the way to Redis.
  assert.deepEqual((await raw("/", ["SET", `${p}:f`, 12.5])).body, { result: "OK" });
  assert.deepEqual((await raw("/", ["INCRBYFLOAT", `${p}:f`, 1])).body, { result: "13.5" });
  await raw("/", ["SET", `${p}:t`, true]);
  assert.deepEqual((await raw("/", ["GET", `${p}:t`])).body, { result: "true" });

  assert.equal(await redis.get(`${p}:missing`), null);
  assert.deepEqual(await raw("/", ["GET", `${p}:missing`], { b64: true }), {
    status: 200,
    body: { result: null },
  });
});

Deno.test("pipeline: one failing command does not fail the batch", async () => {
  const redis = new Redis({ url, token });
  const p = uniquePrefix("bridge-pipeline");
  const res = await redis.pipeline().set(`${p}:s`, "text").incr(`${p}:s`).get(`${p}:s`).exec({
    keepErrors: true,
  });
  assert.equal(res[0].result, "OK");
  assert.match(String(res[1].error), /^ERR value is not an integer/);
  assert.equal(res[2].result, "text");

  const r = await raw("/pipeline", [["SET", `${p}:r`, 1], ["NOSUCHCMD"], ["INCR", `${p}:r`]]);
  assert.equal(r.status, 200);
  const items = r.body as { result?: unknown; error?: string }[];
  assert.deepEqual(items[0], { result: "OK" });
  assert.match(String(items[1].error), /^ERR unknown command/);
  assert.deepEqual(items[2], { result: 2 });
});

Deno.test("multi-exec: atomic success and an error inside EXEC", async () => {
  const redis = new Redis({ url, token });
  const p = uniquePrefix("bridge-multi");
  const res = await redis.multi().set(`${p}:n`, 1).incr(`${p}:n`).incrby(`${p}:n`, 10).get(`${p}:n`)
    .exec();
  assert.deepEqual(res, ["OK", 2, 12, 12]);

  // A command failing inside EXEC is an error item, with HTTP 200; the others still ran.
  const r = await raw("/multi-exec", [["SET", `${p}:s`, "x"], ["INCR", `${p}:s`], [
    "APPEND",
    `${p}:s`,
    "y",
  ]]);
  assert.equal(r.status, 200);
  const items = r.body as { result?: unknown; error?: string }[];
  assert.deepEqual(items[0], { result: "OK" });
  assert.match(String(items[1].error), /^ERR value is not an integer/);
  assert.deepEqual(items[2], { result: 2 });
});

Deno.test("multi-exec: a command rejected while queuing aborts the transaction", async () => {
  const redis = new Redis({ url, token });
  const p = uniquePrefix("bridge-execabort");
  const r = await raw("/multi-exec", [["SET", `${p}:a`, "x"], ["NOSUCHCMD", "1"]]);
  assert.equal(r.status, 400);
  assert.match(String((r.body as { error: string }).error), /^EXECABORT/);
  assert.equal(await redis.get(`${p}:a`), null);

  // Through the client: XADD without fields fails Redis's arity check at queue time.
  const tx = redis.multi().set(`${p}:b`, "x").xadd(`${p}:stream`, "*", {});
  await assert.rejects(tx.exec(), /EXECABORT/);
  assert.equal(await redis.get(`${p}:b`), null);
});

Deno.test("multi-exec: concurrent transactions each get their own connection", async () => {
  const redis = new Redis({ url, token });
  const p = uniquePrefix("bridge-multi-conc");
  const runs = Array.from({ length: 20 }, () => redis.multi().incr(`${p}:n`).incr(`${p}:n`).exec());
  for (const [a, b] of await Promise.all(runs)) assert.equal(b, a + 1);
  assert.equal(await redis.get(`${p}:n`), 40);
});

Deno.test("createScript: first exec goes EVALSHA -> NOSCRIPT -> EVAL", async () => {
  const redis = new Redis({ url, token });
  const p = uniquePrefix("bridge-script");
  const names: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).startsWith(url) && typeof init?.body === "string") {
      const body = JSON.parse(init.body);
      const cmds: unknown[][] = Array.isArray(body[0]) ? body : [body];
      for (const c of cmds) names.push(String(c[0]).toLowerCase());
    }
    return realFetch(input, init);
  }) as typeof fetch;
  try {
    // The unique comment gives a script Redis has never seen.
    const script = redis.createScript<number>(`return tonumber(ARGV[1]) + 1 -- ${p}`);
    assert.equal(await script.exec([], ["41"]), 42);
    assert.deepEqual(names, ["evalsha", "eval"]);
    names.length = 0;
    assert.equal(await script.exec([], ["1"]), 2);
    assert.deepEqual(names, ["evalsha"]);
  } finally {
    globalThis.fetch = realFetch;
  }
  const r = await raw("/", ["EVALSHA", "0".repeat(40), 0]);
  assert.equal(r.status, 400);
  assert.match(String((r.body as { error: string }).error), /^NOSCRIPT /);
});

Deno.test("XADD / XRANGE round trip", async () => {
  const redis = new Redis({ url, token });
  const p = uniquePrefix("bridge-stream");
  const id1 = await redis.xadd(`${p}:s`, "*", { name: "ann", n: 3 });
  const id2 = await redis.xadd(`${p}:s`, "*", { name: "bob ✓" });
  assert.match(id1, /^\d+-\d+$/);
  assert.deepEqual(await redis.xrange(`${p}:s`, "-", "+"), {
    [id1]: { name: "ann", n: 3 },
    [id2]: { name: "bob ✓" },
  });
});

Deno.test("auth: wrong or missing token is 401", async () => {
  for (const t of ["wrong", "", null]) {
    const r = await raw("/", ["PING"], { token: t });
    assert.equal(r.status, 401);
    assert.equal(typeof (r.body as { error: unknown }).error, "string");
  }
  const bad = new Redis({ url, token: "wrong" });
  await assert.rejects(bad.get("x"), /Unauthorized/);
});

Deno.test("malformed bodies are 400 with an error", async () => {
  for (const path of ["/", "/pipeline", "/multi-exec"]) {
    const r = await raw(path, null, { text: "{not json" });
    assert.equal(r.status, 400);
    assert.equal(typeof (r.body as { error: unknown }).error, "string");
  }
  assert.equal((await raw("/", { set: 1 })).status, 400);
  assert.equal((await raw("/pipeline", [])).status, 400);
  const r = await raw("/pipeline", [["PING"], "nope", [{ a: 1 }]]);
  const items = r.body as { result?: unknown; error?: string }[];
  assert.deepEqual(items[0], { result: "PONG" });
  assert.match(String(items[1].error), /^ERR/);
  assert.match(String(items[2].error), /^ERR/);
});

Deno.test("blocking commands are rejected", async () => {
  const p = uniquePrefix("bridge-blocking");
  const r = await raw("/", ["BLPOP", `${p}:l`, 0]);
  assert.equal(r.status, 400);
  assert.match(String((r.body as { error: string }).error), /not available/);
  const items = (await raw("/pipeline", [["XREAD", "BLOCK", 0, "STREAMS", `${p}:s`, "$"], [
    "XREAD",
    "STREAMS",
    `${p}:s`,
    "0",
  ]])).body as { result?: unknown; error?: string }[];
  assert.match(String(items[0].error), /not available/);
  assert.deepEqual(items[1], { result: null });
});

Deno.test("auto-pipelining: 500 concurrent INCRs give 500", async () => {
  const redis = new Redis({ url, token });
  const p = uniquePrefix("bridge-incr");
  const results = await Promise.all(Array.from({ length: 500 }, () => redis.incr(`${p}:n`)));
  assert.deepEqual(results.toSorted((a, b) => a - b), Array.from({ length: 500 }, (_, i) => i + 1));
  assert.equal(await redis.get(`${p}:n`), 500);
});

Deno.test("base64 encoding reaches nested arrays; integers, nil and errors stay plain", async () => {
  const p = uniquePrefix("bridge-b64");
  const script = "return {1, 'a', {2, 'bé', {}}, redis.call('PING')}";
  const r = await raw("/", ["EVAL", script, 0], { b64: true });
  assert.deepEqual(r.body, { result: [1, b64("a"), [2, b64("bé"), []], b64("PONG")] });
  const plain = await raw("/", ["EVAL", script, 0]);
  assert.deepEqual(plain.body, { result: [1, "a", [2, "bé", []], "PONG"] });

  await raw("/", ["XADD", `${p}:s`, "1-1", "f", "v"]);
  const items = (await raw("/pipeline", [["XRANGE", `${p}:s`, "-", "+"], ["GET", `${p}:nil`], [
    "INCR",
    `${p}:s`,
  ], ["TYPE", `${p}:s`]], { b64: true })).body as { result?: unknown; error?: string }[];
  assert.deepEqual(items[0], { result: [[b64("1-1"), [b64("f"), b64("v")]]] });
  assert.deepEqual(items[1], { result: null });
  assert.match(String(items[2].error), /^WRONGTYPE/);
  assert.deepEqual(items[3], { result: b64("stream") });
});
