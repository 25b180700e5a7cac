import assert from "node:assert/strict";
import { Redis as IORedis } from "ioredis";
import { startService, type StoreKind } from "../../helpers/service.ts";

for (const kind of ["memory", "redis"] as StoreKind[]) {
  Deno.test(`healthz reports the ${kind} store and that it answers`, async () => {
    const svc = await startService({ store: kind });
    try {
      const res = await fetch(`${svc.url}/healthz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        status: "ok",
        store: kind,
        storeAnswers: true,
        unsealed: 0,
      });
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    } finally {
      await svc.close();
    }
  });
}

Deno.test("healthz says 503 when Redis does not answer", async () => {
  const svc = await startService({
    store: "redis",
    env: { UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9", UPSTASH_REDIS_REST_TOKEN: "x" },
  });
  try {
    const res = await fetch(`${svc.url}/healthz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      status: "unavailable",
      store: "redis",
      storeAnswers: false,
      unsealed: null,
    });
  } finally {
    await svc.close();
  }
});

Deno.test("healthz counts the events left unsealed when an unsealed entry blocks sealing", async () => {
  const svc = await startService({ store: "redis" });
  const raw = new IORedis(Deno.env.get("TEST_REDIS_URL")!);
  const unsealed = async () => (await (await fetch(`${svc.url}/healthz`)).json()).unsealed;
  const credit = (formId: string) => ({ formId, kind: "form" as const, uses: 1, expiresAt: null });
  try {
    const now = Date.now();
    await svc.store.collect("o1", [credit("f1")], now);
    assert.equal(await unsealed(), 0, "a write seals its events before it answers");
    // An entry appended and changed before anyone sealed it (here: written by hand, unreadable).
    const { prefix } = svc.config;
    await raw.xadd(`${prefix}:log:0`, "2-0", "e", "not an entry");
    await raw.hset(`${prefix}:head`, "seq", "2");
    // Later writes still land, but the sealer refuses to chain past the bad entry.
    await svc.store.collect("o1", [credit("f2")], now);
    await svc.store.collect("o1", [credit("f3")], now);
    assert.equal(await unsealed(), 3);
    assert.equal((await svc.store.view("o1", now)).valid, 3);
  } finally {
    raw.disconnect();
    await svc.close();
  }
});

Deno.test("unknown routes answer 404 in the error shape", async () => {
  const svc = await startService({ store: "memory" });
  try {
    const res = await fetch(`${svc.url}/nope`);
    assert.equal(res.status, 404);
    const body = await res.json();
    assert.equal(body.error.code, "not_found");
    assert.equal(typeof body.error.message, "string");
  } finally {
    await svc.close();
  }
});
