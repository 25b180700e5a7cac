/**
 * Security headers by kind of response: the API's JSON answers (success, error, not found) get
 * OWASP's API set and `no-store` unless the route chose its own caching; the `/docs` page keeps
 * the full browser set.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  API_SECURITY_HEADERS,
  securityHeaders,
} from "../../../src/http/middleware/security_headers.ts";
import { startService } from "../../helpers/service.ts";

const BROWSER_ONLY = ["x-xss-protection", "x-dns-prefetch-control", "origin-agent-cluster"];

Deno.test("security headers: API answers get the API set, the docs page the browser set", async () => {
  const svc = await startService({ store: "memory" });
  try {
    for (const path of ["/healthz", "/v1/nothing-here"]) {
      const res = await fetch(`${svc.url}${path}`);
      await res.body?.cancel();
      for (const [name, value] of API_SECURITY_HEADERS) {
        assert.equal(res.headers.get(name), value, `${path}: ${name}`);
      }
      assert.equal(res.headers.get("cache-control"), "no-store", path);
      for (const name of BROWSER_ONLY) {
        assert.equal(res.headers.get(name), null, `${path}: ${name}`);
      }
    }
    const docs = await fetch(`${svc.url}/docs`);
    await docs.body?.cancel();
    assert.equal(docs.status, 200);
    assert.equal(docs.headers.get("x-frame-options"), "SAMEORIGIN");
    assert.equal(docs.headers.get("x-content-type-options"), "nosniff");
    for (const name of BROWSER_ONLY) assert.ok(docs.headers.get(name) !== null, `/docs: ${name}`);
  } finally {
    await svc.close();
  }
});

Deno.test("security headers: a route's own Cache-Control stays", async () => {
  const app = new Hono();
  app.use(securityHeaders());
  app.get("/cached", (c) => c.json({}, 200, { "cache-control": "private, max-age=5" }));
  app.get("/plain", (c) => c.json({}));
  const cached = await app.request("/cached");
  assert.equal(cached.headers.get("cache-control"), "private, max-age=5");
  assert.equal(cached.headers.get("x-frame-options"), "DENY");
  assert.equal((await app.request("/plain")).headers.get("cache-control"), "no-store");
});
