/**
 * How the service's Upstash clients fail (src/shared/upstash_options.ts): a request that never
 * answers fails at its deadline instead of stalling its caller, and a request whose connection
 * dies is not sent again (a resent script would run twice).
 */
import assert from "node:assert/strict";
import { createRedisStore } from "../../src/store/redis/redis.ts";
import { consume } from "../helpers/store_calls.ts";

Deno.test("a request Upstash never answers fails at its deadline", async () => {
  const never = Promise.withResolvers<Response>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => never.promise);
  try {
    const store = createRedisStore({
      url: `http://127.0.0.1:${server.addr.port}`,
      token: "t",
      prefix: "x",
      segmentEvents: 10,
      timeoutMs: 200,
    });
    const started = performance.now();
    await assert.rejects(store.collect("o", [
      { formId: "f", kind: "form", uses: 1, expiresAt: null },
    ], Date.now()));
    const waited = performance.now() - started;
    assert.ok(waited >= 150 && waited < 5_000, `failed after ${Math.round(waited)} ms`);
  } finally {
    never.resolve(new Response("late"));
    await server.shutdown();
  }
});

Deno.test("a request whose connection dies is sent once, not retried", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let requests = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      // Read the request, then hang up without an answer: the script may or may not have run.
      const buffer = new Uint8Array(65_536);
      if ((await conn.read(buffer)) !== null) requests++;
      conn.close();
    }
  })();
  try {
    const store = createRedisStore({
      url: `http://127.0.0.1:${listener.addr.port}`,
      token: "t",
      prefix: "x",
      segmentEvents: 10,
    });
    await assert.rejects(consume(store, "o", { pushId: "p" }, Date.now()));
    assert.equal(requests, 1);
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});
