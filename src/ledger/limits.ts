/**
 * Rate limits in fixed windows, counted by the store: each request counts one in the current
 * window of each limit it is under (`floor(now / window)`), refused or not, and is allowed while
 * every count is within its limit; a window resets at its end. The same rule, keys and reset as
 * `@upstash/ratelimit`'s fixedWindow, which counted them before (so counts carry over across an
 * upgrade). The memory store counts with these functions; Redis with their Lua twin.
 *
 * @module
 */

/** One request counted against one limit: `tokens` requests per `windowMs` per `id`. */
export interface LimitCheck {
  /** The limit's name (`user`, `ip`, `view`, `login`): its counts are its own. */
  limit: string;
  /** Whom it counts: an openId, a client IP. */
  id: string;
  tokens: number;
  windowMs: number;
}

/** One decision: allowed or not, and when the window resets (epoch ms). */
export interface LimitDecision {
  success: boolean;
  limit: number;
  remaining: number;
  reset: number;
}

/**
 * The window `now` falls in.
 *
 * @example
 * ```ts
 * windowOf({ limit: "user", id: "o1", tokens: 60, windowMs: 60_000 }, 90_000); // 1
 * ```
 */
export function windowOf(check: LimitCheck, now: number): number {
  return Math.floor(now / check.windowMs);
}

/**
 * The name of the count of `check` at `now`: `<limit>:<id>:<window>`, under the store's
 * `<prefix>:rl:` on Redis (what `@upstash/ratelimit` named `<prefix>:<id>:<window>`).
 *
 * @example
 * ```ts
 * windowKey({ limit: "ip", id: "10.0.0.1", tokens: 5, windowMs: 1000 }, 2500); // "ip:10.0.0.1:2"
 * ```
 */
export function windowKey(check: LimitCheck, now: number): string {
  return `${check.limit}:${check.id}:${windowOf(check, now)}`;
}

/**
 * The decision for a request that made its window's count `count`.
 *
 * @example
 * ```ts
 * decide({ limit: "user", id: "o1", tokens: 2, windowMs: 1000 }, 3, 1500);
 * // { success: false, limit: 2, remaining: 0, reset: 2000 }
 * ```
 */
export function decide(check: LimitCheck, count: number, now: number): LimitDecision {
  return {
    success: count <= check.tokens,
    limit: check.tokens,
    remaining: Math.max(0, check.tokens - count),
    reset: (windowOf(check, now) + 1) * check.windowMs,
  };
}

/**
 * Whether a request is refused: any of its decisions is.
 *
 * @example
 * ```ts
 * if (isRefused(decisions)) throw new Error("rate limited");
 * ```
 */
export function isRefused(decisions: LimitDecision[]): boolean {
  return decisions.some((d) => !d.success);
}

/**
 * Checks counted within a collect (`Ledger.collect`) or an answer (`Ledger.answer`), and what
 * their decisions do: `settle` gets them once counted, and throws the caller's refusal when one
 * is refused (nothing of that upload or report was recorded).
 *
 * @example
 * ```ts
 * const limits: CountedLimits = { checks, settle: (d) => void (refused = isRefused(d)) };
 * await ledger.collect("o1", items, caps, limits);
 * ```
 */
export interface CountedLimits {
  readonly checks: LimitCheck[];
  settle(decisions: LimitDecision[]): void;
}
