import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { sign, verify } from "hono/jwt";
import { verifyHs256 } from "../../../src/http/middleware/session_jwt.ts";

const SECRET = "test-session-secret-0123456789abcdef";

const b64url = (text: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text))).replace(/\+/g, "-")
    .replace(/\//g, "_").replace(/=+$/, "");

/** A token with any header and payload text, correctly signed with `secret`. */
function signedRaw(header: string, payload: string, secret = SECRET): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/** What hono/jwt's verify answers, with the options the session check used: payload or null. */
async function honoAnswer(token: string, secret = SECRET): Promise<unknown> {
  try {
    return await verify(token, secret, { alg: "HS256", exp: false, nbf: false, iat: false });
  } catch {
    return null;
  }
}

Deno.test("verifyHs256: a token hono/jwt signed is read back whole", async () => {
  const claims = { sub: "o-alice", use: "formid-session", iat: 1, exp: 2 };
  const token = await sign(claims, SECRET, "HS256");
  assert.deepEqual(verifyHs256(token, SECRET), claims);
  assert.equal(verifyHs256(token, "another-secret-0123456789abcdef"), null);
});

Deno.test("verifyHs256: expiry is not its concern (the caller checks claims)", async () => {
  const token = await sign({ sub: "o-alice", exp: 1 }, SECRET, "HS256");
  assert.deepEqual(verifyHs256(token, SECRET), { sub: "o-alice", exp: 1 });
});

Deno.test("verifyHs256: tampered, malformed and other-algorithm tokens are refused", async () => {
  const token = await sign({ sub: "o-alice", exp: 2_000_000_000 }, SECRET, "HS256");
  const [header, payload, mac] = token.split(".");
  const flipped = mac[0] === "A" ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
  const refused = [
    `${header}.${payload}.${flipped}`,
    `${header}.${payload}.${mac}x`,
    `${header}.${payload}.${mac}==`,
    `${header}.${payload}.${mac.slice(0, -1)}`,
    `${header}.${payload}.${mac.replace(/.$/, "*")}`,
    `${header}.${payload}.`,
    `${header}.${payload}`,
    `${token}.extra`,
    "",
    "...",
    `${b64url('{"alg":"HS512","typ":"JWT"}')}.${payload}.${mac}`,
    `${header}.${b64url('{"sub":"o-mallory","exp":9999999999}')}.${mac}`,
    // Correctly signed, but not an HS256 JWT header, or not a JSON object payload.
    signedRaw('{"alg":"HS512","typ":"JWT"}', '{"sub":"o-alice"}'),
    signedRaw('{"alg":"none"}', '{"sub":"o-alice"}'),
    signedRaw('{"typ":"JWT"}', '{"sub":"o-alice"}'),
    signedRaw('{"alg":"HS256","typ":"JWS"}', '{"sub":"o-alice"}'),
    signedRaw('{"alg":"HS256","typ":1}', '{"sub":"o-alice"}'),
    signedRaw('{"alg":"HS256","crit":["b64"]}', '{"sub":"o-alice"}'),
    signedRaw('["alg"]', '{"sub":"o-alice"}'),
    signedRaw("not json", '{"sub":"o-alice"}'),
    signedRaw('{"alg":"HS256"}', "not json"),
    signedRaw('{"alg":"HS256"}', "null"),
    // Signed with another secret.
    signedRaw('{"alg":"HS256","typ":"JWT"}', '{"sub":"o-alice"}', "another-secret"),
  ];
  for (const forged of refused) {
    assert.equal(verifyHs256(forged, SECRET), null, forged);
  }
});

Deno.test("verifyHs256: answers as hono/jwt's verify does, token by token", async () => {
  const token = await sign({ sub: "o-alice", exp: 2_000_000_000 }, SECRET, "HS256");
  const [header, payload, mac] = token.split(".");
  const cases = [
    token,
    `${header}.${payload}.${mac}=`,
    `${header}.${payload}.${mac}==`,
    `${header}.${payload}.${mac}x`,
    `${header}.${payload}.${mac.slice(1)}`,
    signedRaw('{"alg":"HS256"}', '{"sub":"o-alice"}'),
    signedRaw('{"alg":"HS256","typ":"jwt"}', '{"sub":"o-alice"}'),
    signedRaw('{"alg":"HS256","typ":"application/JWT"}', '{"sub":"o-alice"}'),
    signedRaw('{"alg":"HS256","typ":"JWS"}', '{"sub":"o-alice"}'),
    signedRaw('{"alg":"HS256","crit":[]}', '{"sub":"o-alice"}'),
    signedRaw('{"alg":"HS384"}', '{"sub":"o-alice"}'),
    signedRaw('{"alg":"HS256"}', '{"sub":"ü-ñ","n":[1,2]}'),
    signedRaw('{"alg":"HS256"}', "[1,2]"),
    signedRaw('{"alg":"HS256"}', "not json"),
  ];
  for (const candidate of cases) {
    assert.deepEqual(verifyHs256(candidate, SECRET), await honoAnswer(candidate), candidate);
  }
});

Deno.test("verifyHs256: secrets of any length (a key longer than SHA-256's block is hashed first, RFC 2104)", async () => {
  for (const secret of ["k".repeat(32), "k".repeat(64), "k".repeat(65), "密钥".repeat(40)]) {
    const claims = { sub: "o-alice", exp: 2_000_000_000 };
    const token = await sign(claims, secret, "HS256");
    assert.deepEqual(verifyHs256(token, secret), claims, `${secret.length} characters`);
    assert.equal(verifyHs256(token, `${secret}x`), null, "another secret");
  }
});
