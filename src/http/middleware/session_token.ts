/**
 * Session tokens for mini-program users: HS256 JWTs (`hono/jwt`) signed with `SESSION_SECRET`,
 * bound to one openId (`sub`). They carry nothing else: no session_key, no unionid.
 *
 * @module
 */
import type { Hono, MiddlewareHandler } from "hono";
import { sign } from "hono/jwt";
import type { Clock } from "../../shared/clock.ts";
import { bearerToken, roleOfDigest, type RoleTokens, tokenDigest } from "./auth.ts";
import { ApiError } from "./errors.ts";
import { isOpenId } from "./input_rules.ts";
import { VerifiedSessions } from "./session_cache.ts";
import { verifyHs256 } from "./session_jwt.ts";

/** Marks our session tokens apart from any other JWT signed with the same key. */
const USE = "formid-session";

/**
 * The HMAC key for signing with a secret, imported once: hono/jwt would otherwise import the raw
 * secret on every sign. (Tokens are checked synchronously, by session_jwt.ts.)
 */
const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    keys.set(secret, key);
  }
  return key;
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
export async function issueSession(
  openId: string,
  secret: string,
  ttlSeconds: number,
  clock: Clock,
): Promise<IssuedSession> {
  const iat = Math.floor(clock.now() / 1000);
  const token = await sign(
    { sub: openId, use: USE, iat, exp: iat + ttlSeconds },
    await hmacKey(secret),
    "HS256",
  );
  return { token, expiresIn: ttlSeconds };
}

/** The openId a session token is bound to, or `null` if it is not a valid, live session token. */
export function sessionOpenId(
  token: string,
  secret: string,
  clock: Clock,
): Promise<string | null> {
  return Promise.resolve(verifySession(token, secret, clock)?.openId ?? null);
}

/** A valid, live session token's openId and expiry (epoch seconds), or `null`. */
function verifySession(
  token: string,
  secret: string,
  clock: Clock,
): { openId: string; exp: number } | null {
  // Expiry is checked here against the service's clock, not the signature check's.
  const payload = verifyHs256(token, secret);
  if (payload === null) return null;
  const now = clock.now() / 1000;
  if (payload.use !== USE || !isOpenId(payload.sub)) return null;
  if (typeof payload.exp !== "number" || payload.exp <= now) return null;
  return { openId: payload.sub, exp: payload.exp };
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
  // One cache per middleware (and so per secret): a user's next requests skip the signature.
  const verified = new VerifiedSessions();
  const checked = (token: string, digest: Uint8Array, secret: string): string | null => {
    const known = verified.get(token, clock.now() / 1000, digest);
    if (known !== null) return known;
    const session = verifySession(token, secret, clock);
    if (session) verified.set(token, session.openId, session.exp, digest);
    return session?.openId ?? null;
  };
  return async (c, next) => {
    if (settings.sessionSecret === null) {
      throw new ApiError(503, "not_configured", "set SESSION_SECRET to use this endpoint");
    }
    const token = bearerToken(c.req.header("authorization"));
    // One digest of the token serves the role check and the cache.
    const digest = token === null ? null : tokenDigest(token);
    if (digest !== null && roleOfDigest(digest, settings) !== null) {
      throw new ApiError(403, "forbidden", "this endpoint takes a session token, not a role token");
    }
    const openId = token === null || digest === null
      ? null
      : checked(token, digest, settings.sessionSecret);
    if (openId === null) {
      throw new ApiError(401, "unauthorized", "a valid session token is required", {
        "WWW-Authenticate": 'Bearer realm="formid-ledger", error="invalid_token"',
      });
    }
    c.set("openId", openId);
    await next();
  };
}
