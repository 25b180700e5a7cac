/**
 * Rate limits: fixed windows of `tokens` requests per identifier (an openId, a client IP),
 * counted by the ledger's store (src/ledger/limits.ts): in Redis, shared by every instance, with
 * the keys, windows and reset `@upstash/ratelimit` used; in memory on the embedded store.
 *
 * An upload counts in the same script call as its collect (one command for a whole coalesced
 * batch of uploads), a subscription report in the same call as its answer:
 * `countedWithCollect` hands the route's collect (or answer) its checks. Other requests (logins,
 * credit views) count alone (`enforceLimits`), many in one script call.
 *
 * @module
 */
import type { Context, Env, MiddlewareHandler } from "hono";
import {
  type CountedLimits,
  isRefused,
  type LimitCheck,
  type LimitDecision,
} from "../../ledger/limits.ts";
import type { LedgerStore } from "../../ledger/store.ts";
import type { Clock } from "../../shared/clock.ts";
import { ApiError } from "./errors.ts";

export type { LimitDecision } from "../../ledger/limits.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The upload's rate limits, for its collect or answer to count (`countedWithCollect`). */
    limits: CountedLimits;
  }
}

/** A limit's shape: `tokens` requests per `windowSeconds`, counted under the name `limit`. */
export interface LimitSpec {
  limit: string;
  tokens: number;
  windowSeconds: number;
}

/** A named limit over identifiers. */
export interface RateLimiter {
  /** The check that counts one request of `identifier` (for a collect or answer to carry). */
  check(identifier: string): LimitCheck;
  /** Counts one request of `identifier` now, alone. */
  limit(identifier: string): Promise<LimitDecision>;
}

/**
 * Limits counted by `store` at `clock`'s time.
 *
 * @example
 * ```ts
 * const limiter = storeLimiters(store, systemClock);
 * const perUser = limiter({ limit: "user", tokens: 60, windowSeconds: 60 });
 * await perUser.limit("o1"); // { success: true, limit: 60, remaining: 59, reset: ... }
 * ```
 */
export function storeLimiters(
  store: Pick<LedgerStore, "countLimits">,
  clock: Clock,
): (spec: LimitSpec) => RateLimiter {
  return ({ limit, tokens, windowSeconds }) => {
    const check = (id: string): LimitCheck => ({
      limit,
      id,
      tokens,
      windowMs: windowSeconds * 1000,
    });
    return {
      check,
      limit: async (id) => (await store.countLimits([check(id)], clock.now()))[0],
    };
  };
}

/**
 * Throws 429 `rate_limited` with `Retry-After` (to the latest reset of the refused ones) if any
 * decision is refused.
 *
 * @example
 * ```ts
 * refuseOver(await Promise.all([perUser.limit(openId), perIp.limit(ip)]), Date.now());
 * ```
 */
export function refuseOver(decisions: LimitDecision[], now: number): void {
  if (!isRefused(decisions)) return;
  let reset = 0;
  for (const d of decisions) if (!d.success && d.reset > reset) reset = d.reset;
  const retryAfter = Math.max(1, Math.ceil((reset - now) / 1000));
  throw new ApiError(429, "rate_limited", `too many requests; retry in ${retryAfter} s`, {
    "Retry-After": String(retryAfter),
  });
}

/**
 * Counts one request against each `[limiter, identifier]` pair (all at once) and throws 429
 * with `Retry-After` if any of them is over its limit.
 *
 * @example
 * ```ts
 * await enforceLimits([[limiters.login, ip]]);
 * ```
 */
export async function enforceLimits(
  checks: [RateLimiter, string][],
  now: () => number = Date.now,
): Promise<void> {
  const decisions = await Promise.all(checks.map(([limiter, id]) => limiter.limit(id)));
  refuseOver(decisions, now());
}

/**
 * Middleware for uploads and subscription reports: the request counts against `checksOf(c)`
 * once, in the route's collect or answer when it makes one (`c.get("limits")` to
 * `Ledger.collect` or `Ledger.answer`: over a limit, nothing is recorded and the call throws
 * 429), else alone after the route answered, replacing its answer with 429 when over (such a
 * route changed nothing: it recorded nothing). A request answered 5xx is not counted.
 *
 * @example
 * ```ts
 * const limits = countedWithCollect(clock, (c) => [[limiters.user, c.get("openId")]]);
 * app.post("/v1/formids", session, limits, (c) => ledger.collect(..., c.get("limits")));
 * ```
 */
export function countedWithCollect<E extends Env>(
  clock: Clock,
  checksOf: (c: Context<E>) => [RateLimiter, string][],
): MiddlewareHandler<E> {
  return async (c, next) => {
    const pairs = checksOf(c);
    let counted = false;
    const limits: CountedLimits = {
      checks: pairs.map(([limiter, id]) => limiter.check(id)),
      settle(decisions) {
        counted = true;
        refuseOver(decisions, clock.now());
      },
    };
    c.set("limits", limits);
    await next();
    // A request that failed (5xx: the store is likely unreachable, its collect counted nothing)
    // is not counted again: that would only fail a second time.
    if (!counted && c.res.status < 500) await enforceLimits(pairs, () => clock.now());
  };
}
