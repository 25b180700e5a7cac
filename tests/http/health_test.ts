import assert from "node:assert/strict";
import { startService, type StoreKind } from "../helpers/service.ts";

for (const kind of ["memory", "redis"] as StoreKind[]) {
  Deno.test(`healthz reports the ${kind} store and that it answers`, async () => {
    const svc = await startService({ store: kind });
    try {
      const res = await fetch(`${svc.url}/healthz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: "ok", store: kind, storeAnswers: true });
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
    });
  } finally {
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
