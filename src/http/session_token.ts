/**
 * Session tokens for mini-program users: HS256 JWTs signed with `SESSION_SECRET`, bound to one
 * openId (`sub`). They carry nothing else: no session_key, no unionid.
 *
 * Signed and checked with `node:crypto`'s synchronous hashes: WebCrypto's `verify` (through
 * `hono/jwt`) cost about 30 µs per request, the largest single cost of an upload; this costs a
 * few. The format is the standard one (`hono/jwt` and any JWT library read and make the same
 * tokens).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, type Hash, timingSafeEqual } from "node:crypto";
import type { Hono, MiddlewareHandler } from "hono";
import type { Clock } from "../ledger/clock.ts";
import { bearerToken, roleOf, type RoleTokens } from "./auth.ts";
import { ApiError } from "./errors.ts";
import { isOpenId } from "./input_rules.ts";

/** Marks our session tokens apart from any other JWT signed with the same key. */
const USE = "formid-session";

/** The only header we sign with, and the only algorithm we accept. */
const HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");

/**
 * HMAC-SHA256 with the key's padded blocks hashed once (RFC 2104: `H(K^opad || H(K^ipad || m))`):
 * each signature copies the two started hashes instead of setting up an HMAC, half the cost.
 */
interface HmacPads {
  inner: Hash;
  outer: Hash;
}
const pads = new Map<string, HmacPads>();
function hmacPads(secret: string): HmacPads {
  let found = pads.get(secret);
  if (!found) {
    const raw = Buffer.from(secret, "utf8");
    const key = raw.length > 64 ? createHash("sha256").update(raw).digest() : raw;
    const block = Buffer.alloc(64);
    key.copy(block);
    const padded = (byte: number) => Buffer.from(block.map((b) => b ^ byte));
    found = {
      inner: createHash("sha256").update(padded(0x36)),
      outer: createHash("sha256").update(padded(0x5c)),
    };
    pads.set(secret, found);
  }
  return found;
}

/** The HS256 signature of `header.payload`, base64url-encoded. */
function signature(signingInput: string, secret: string): string {
  const { inner, outer } = hmacPads(secret);
  return outer.copy().update(inner.copy().update(signingInput).digest()).digest("base64url");
}

/** What issuing and checking session tokens needs. */
export interface SessionSettings extends RoleTokens {
  sessionSecret: string | null;
  sessionTtlSeconds: number;
}

/** A session token and how long it lives, in seconds. */
export interface IssuedSession {
  token: string;
  expiresIn: number;
}

/** Signs a session token for `openId`, valid `sessionTtlSeconds` from the clock's now. */
export function issueSession(
  openId: string,
  secret: string,
  ttlSeconds: number,
  clock: Clock,
): Promise<IssuedSession> {
  const iat = Math.floor(clock.now() / 1000);
  const payload = Buffer.from(JSON.stringify({ sub: openId, use: USE, iat, exp: iat + ttlSeconds }))
    .toString("base64url");
  const input = `${HEADER}.${payload}`;
  const token = `${input}.${signature(input, secret)}`;
  return Promise.resolve({ token, expiresIn: ttlSeconds });
}

/** The openId a session token is bound to, or `null` if it is not a valid, live session token. */
export function sessionOpenId(token: string, secret: string, clock: Clock): string | null {
  const [header, payload, mac, extra] = token.split(".");
  if (mac === undefined || extra !== undefined || !isHs256(header)) return null;
  // Constant-time comparison of the encoded signatures (only the canonical encoding matches);
  // a wrong length is no match.
  const given = Buffer.from(mac);
  const expected = Buffer.from(signature(`${header}.${payload}`, secret));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof claims !== "object" || claims === null) return null;
  // Expiry is checked against the service's clock.
  const now = clock.now() / 1000;
  if (claims.use !== USE || !isOpenId(claims.sub)) return null;
  if (typeof claims.exp !== "number" || claims.exp <= now) return null;
  return claims.sub;
}

/** Whether a JWT header says HS256 (what we sign with; `none` and every other alg refused). */
function isHs256(header: string): boolean {
  if (header === HEADER) return true;
  try {
    const fields = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    return typeof fields === "object" && fields !== null && fields.alg === "HS256";
  } catch {
    return false;
  }
}

/** Variables `requireSession` puts on the context. */
export interface SessionVariables {
  openId: string;
}

/** A sub-app whose routes run behind `requireSession`. */
export type SessionApp = Hono<{ Variables: SessionVariables }>;

/**
 * Middleware admitting only a valid session token and putting its openId on the context as
 * `c.get("openId")`. An admin or audit token is refused (403), never read as a session.
 */
export function requireSession(
  settings: SessionSettings,
  clock: Clock,
): MiddlewareHandler<{ Variables: SessionVariables }> {
  return async (c, next) => {
    if (settings.sessionSecret === null) {
      throw new ApiError(503, "not_configured", "set SESSION_SECRET to use this endpoint");
    }
    const token = bearerToken(c.req.header("authorization"));
    if (token !== null && roleOf(token, settings) !== null) {
      throw new ApiError(403, "forbidden", "this endpoint takes a session token, not a role token");
    }
    const openId = token === null ? null : sessionOpenId(token, settings.sessionSecret, clock);
    if (openId === null) {
      throw new ApiError(401, "unauthorized", "a valid session token is required", {
        "WWW-Authenticate": 'Bearer realm="formid-ledger", error="invalid_token"',
      });
    }
    c.set("openId", openId);
    await next();
  };
}
