import assert from "node:assert/strict";
import { Hono } from "hono";
import { onError } from "../../../src/http/middleware/errors.ts";
import { VerifiedSessions } from "../../../src/http/middleware/session_cache.ts";
import {
  issueSession,
  requireSession,
  type SessionVariables,
} from "../../../src/http/middleware/session_token.ts";
import { ManualClock } from "../../../src/shared/clock.ts";

const SECRET = "test-session-secret-0123456789abcdef";
const T0 = Date.UTC(2026, 5, 1, 12);

Deno.test("verified sessions: a hit until the token expires, oldest dropped beyond capacity", () => {
  const cache = new VerifiedSessions(2);
  cache.set("token-a", "o-a", 100);
  assert.equal(cache.get("token-a", 99.9), "o-a");
  assert.equal(cache.get("token-b", 50), null, "never verified");
  assert.equal(cache.get("token-a", 100), null, "expired");
  assert.equal(cache.size, 0, "an expired entry is dropped");
  cache.set("token-a", "o-a", 200);
  cache.set("token-b", "o-b", 200);
  cache.set("token-c", "o-c", 200);
  assert.equal(cache.size, 2);
  assert.equal(cache.get("token-a", 0), null, "the oldest went");
  assert.equal(cache.get("token-c", 0), "o-c");
});

Deno.test("requireSession: a cached session still expires by the service's clock", async () => {
  const clock = new ManualClock(T0);
  const settings = {
    sessionSecret: SECRET,
    sessionTtlSeconds: 60,
    adminToken: "admin-token-0123456789abcdef0123",
    auditToken: null,
  };
  const app = new Hono<{ Variables: SessionVariables }>();
  app.use("*", requireSession(settings, clock));
  app.get("/me", (c) => c.json({ openId: c.get("openId") }));
  app.onError(onError);
  const { token } = await issueSession("o-alice", SECRET, 60, clock);
  const get = (t: string) => app.request("/me", { headers: { authorization: `Bearer ${t}` } });
  for (let i = 0; i < 3; i++) {
    const res = await get(token);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { openId: "o-alice" });
  }
  // Another token is checked on its own (a forged one is not let in by the cache).
  assert.equal((await get(`${token.slice(0, -2)}xx`)).status, 401);
  clock.advance(60_000);
  assert.equal((await get(token)).status, 401, "expired, though verified before");
});
