import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { sign, verify } from "hono/jwt";
import { issueSession, sessionOpenId } from "../../../src/http/middleware/session_token.ts";
import { ManualClock } from "../../../src/shared/clock.ts";

const SECRET = "test-session-secret-0123456789abcdef";
const T0 = Date.UTC(2026, 5, 1, 12);

Deno.test("session tokens are standard HS256 JWTs, read and made alike by hono/jwt", async () => {
  const clock = new ManualClock(T0);
  const { token } = await issueSession("o-alice", SECRET, 600, clock);
  const claims = await verify(token, SECRET, { alg: "HS256", exp: false, iat: false });
  assert.deepEqual(claims, {
    sub: "o-alice",
    use: "formid-session",
    iat: T0 / 1000,
    exp: T0 / 1000 + 600,
  });
  const now = T0 / 1000;
  const theirs = await sign(
    { sub: "o-bob", use: "formid-session", exp: now + 60 },
    SECRET,
    "HS256",
  );
  assert.equal(await sessionOpenId(theirs, SECRET, clock), "o-bob");
  clock.advance(60_000);
  assert.equal(await sessionOpenId(theirs, SECRET, clock), null, "expired by the service's clock");
});

Deno.test("session tokens: a changed signature, header or payload is refused", async () => {
  const clock = new ManualClock(T0);
  const { token } = await issueSession("o-alice", SECRET, 600, clock);
  const [header, payload, mac] = token.split(".");
  assert.equal(await sessionOpenId(token, SECRET, clock), "o-alice");
  const flipped = mac[0] === "A" ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
  const forgeries = [
    `${header}.${payload}.${flipped}`,
    `${header}.${payload}.${mac}x`,
    `${header}.${payload}.`,
    `${header}.${payload}`,
    `${token}.extra`,
    `${btoa('{"alg":"HS512","typ":"JWT"}').replace(/=/g, "")}.${payload}.${mac}`,
    `${header}.${btoa('{"sub":"o-mallory","use":"formid-session","exp":9999999999}')}.${mac}`,
  ];
  for (const forged of forgeries) {
    if (forged === token) continue;
    assert.equal(await sessionOpenId(forged, SECRET, clock), null, forged);
  }
  assert.equal(await sessionOpenId(token, "another-secret-0123456789abcdef-0123", clock), null);
});

Deno.test("session tokens: the signature is HMAC-SHA256 for any secret length", async () => {
  const clock = new ManualClock(T0);
  for (
    const secret of [
      SECRET,
      "k".repeat(64),
      "long-secret-".repeat(12),
      "ü-unicode-0123456789abcdef",
    ]
  ) {
    const { token } = await issueSession("o-alice", secret, 600, clock);
    const input = token.slice(0, token.lastIndexOf("."));
    const expected = createHmac("sha256", secret).update(input).digest("base64url");
    assert.equal(token.slice(input.length + 1), expected);
    assert.equal(await sessionOpenId(token, secret, clock), "o-alice");
  }
});
