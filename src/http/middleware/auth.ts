/**
 * Bearer-token roles for the service's own callers: admin (the team's backend) and auditor
 * (read-only). Comparison is constant-time; a missing role setting disables its endpoints.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";

/** Who may call an endpoint. */
export type Role = "admin" | "auditor";

/** The configured token for each role (`null`: role disabled). */
export interface RoleTokens {
  adminToken: string | null;
  auditToken: string | null;
}

/**
 * A token's SHA-256: what tokens are compared by (fixed length, so neither the contents nor the
 * length of a secret leak through timing), and what the session cache is keyed by. Computed once
 * per request and shared by both.
 *
 * @example
 * ```ts
 * tokenDigest("abc").length; // 32
 * ```
 */
export function tokenDigest(token: string): Uint8Array {
  return createHash("sha256").update(token, "utf8").digest();
}

/** The configured tokens' digests, made once: a request hashes only its own token. */
const expectedDigests = new Map<string, Uint8Array>();
function expectedDigest(expected: string): Uint8Array {
  let digest = expectedDigests.get(expected);
  if (!digest) {
    digest = tokenDigest(expected);
    expectedDigests.set(expected, digest);
  }
  return digest;
}

/**
 * Constant-time string equality: both sides are hashed to a fixed length first, so neither the
 * contents nor the length of the secret leak through timing.
 *
 * @example
 * ```ts
 * tokensEqual(given, config.adminToken);
 * ```
 */
export function tokensEqual(given: string, expected: string): boolean {
  return digestIs(tokenDigest(given), expected);
}

/** Whether `digest` (a {@link tokenDigest}) is the digest of `expected`, in constant time. */
function digestIs(digest: Uint8Array, expected: string): boolean {
  // Equal digests mean equal inputs; the fixed length keeps timingSafeEqual from throwing.
  return timingSafeEqual(digest, expectedDigest(expected));
}

/** The bearer token of a request, or `null`. */
export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

/** Which role a bearer token holds, if any. */
export function roleOf(token: string | null, tokens: RoleTokens): Role | null {
  return token === null ? null : roleOfDigest(tokenDigest(token), tokens);
}

/**
 * Which role a bearer token holds, from its {@link tokenDigest} (for a caller that needs the
 * digest again).
 *
 * @example
 * ```ts
 * const digest = tokenDigest(token);
 * if (roleOfDigest(digest, config) !== null) throw new ApiError(403, "forbidden", "...");
 * ```
 */
export function roleOfDigest(digest: Uint8Array, tokens: RoleTokens): Role | null {
  // Check both roles every time so timing does not tell which one matched.
  const isAdmin = tokens.adminToken !== null && digestIs(digest, tokens.adminToken);
  const isAuditor = tokens.auditToken !== null && digestIs(digest, tokens.auditToken);
  return isAdmin ? "admin" : isAuditor ? "auditor" : null;
}

/**
 * Middleware admitting only the given roles.
 *
 * @example
 * ```ts
 * app.use("/v1/push", requireRole(config, ["admin"]));
 * ```
 */
export function requireRole(tokens: RoleTokens, allowed: Role[]): MiddlewareHandler {
  return async (c, next) => {
    if (allowed.every((role) => tokenOf(tokens, role) === null)) {
      throw new ApiError(
        503,
        "not_configured",
        `set ${allowed.map(envName).join(" or ")} to use this endpoint`,
      );
    }
    const role = roleOf(bearerToken(c.req.header("authorization")), tokens);
    if (role === null) {
      throw new ApiError(401, "unauthorized", "a valid bearer token is required", {
        "WWW-Authenticate": 'Bearer realm="formid-ledger"',
      });
    }
    if (!allowed.includes(role)) {
      throw new ApiError(403, "forbidden", `this endpoint is for: ${allowed.join(", ")}`);
    }
    await next();
  };
}

function tokenOf(tokens: RoleTokens, role: Role): string | null {
  return role === "admin" ? tokens.adminToken : tokens.auditToken;
}

function envName(role: Role): string {
  return role === "admin" ? "ADMIN_TOKEN" : "AUDIT_TOKEN";
}
