/**
 * Rate limits: a fixed window of `limit` requests per identifier (an openId, a client IP).
 * On the Redis store they are counted in Redis by `@upstash/ratelimit`, so every instance of the
 * service shares them; on the embedded store, in memory with the same algorithm (a request
 * counts even when refused; a window is `floor(now / window)`; it resets at its end).
 *
 * @module
 */
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis";
import { Coalescer } from "../../shared/coalescer.ts";
import { ApiError } from "./errors.ts";

/** One decision: allowed or not, and when the window resets (epoch ms). */
export interface LimitDecision {
  success: boolean;
  limit: number;
  remaining: number;
  reset: number;
}

/** A named limit over identifiers. */
export interface RateLimiter {
  limit(identifier: string): Promise<LimitDecision>;
}

/** A limit's shape: `tokens` requests per `windowSeconds`, keys under `prefix`. */
export interface LimitSpec {
  prefix: string;
  tokens: number;
  windowSeconds: number;
}

/** Most limit checks in one pipelined request (a few hundred bytes each). */
const MAX_CHECKS_PER_REQUEST = 500;

/**
 * Limits counted in Redis (Upstash REST) with `@upstash/ratelimit`'s fixed window, through
 * `redis`, the process's shared client (`upstashClient`: it auto-pipelines). Checks made while
 * others are in flight go to Redis together in one pipelined request (one script call each, as
 * before): two checks per upload would otherwise cost two HTTP round trips per upload.
 *
 * @example
 * ```ts
 * const limiters = redisLimiters(upstashClient({ url, token }));
 * const perUser = limiters({ prefix: "ledger:rl:user", tokens: 60, windowSeconds: 60 });
 * ```
 */
export function redisLimiters(redis: Redis): (spec: LimitSpec) => RateLimiter {
  // Each check is started by the batch, all in one synchronous loop, so they share a pipeline;
  // each keeps its own outcome.
  const checks = new Coalescer<() => Promise<LimitDecision>, LimitDecision>(async (starts) => {
    const decisions = starts.map((start) => start());
    await Promise.allSettled(decisions);
    return decisions;
  }, { maxBatch: MAX_CHECKS_PER_REQUEST });
  return (spec) => {
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.fixedWindow(spec.tokens, `${spec.windowSeconds} s`),
      prefix: spec.prefix,
      analytics: false,
      // No timeout: a limit that Redis could not count lets the request through after 5 s by
      // default; here the request waits for Redis like the ledger call behind it would.
      timeout: 0,
    });
    const check = async (identifier: string): Promise<LimitDecision> => {
      const { success, limit, remaining, reset } = await limiter.limit(identifier);
      return { success, limit, remaining, reset };
    };
    return { limit: (identifier) => checks.add(() => check(identifier)) };
  };
}

/** Counts in this process's memory, exactly as the Redis limiter counts. */
export function memoryLimiter(spec: LimitSpec): RateLimiter {
  const windowMs = spec.windowSeconds * 1000;
  const counts = new Map<string, { bucket: number; used: number }>();
  let sweptBucket = 0;
  return {
    limit(identifier) {
      const bucket = Math.floor(Date.now() / windowMs);
      if (bucket !== sweptBucket) {
        // Forget finished windows, as Redis expires their keys.
        for (const [key, entry] of counts) if (entry.bucket !== bucket) counts.delete(key);
        sweptBucket = bucket;
      }
      const entry = counts.get(identifier);
      const used = entry?.bucket === bucket ? entry.used + 1 : 1;
      counts.set(identifier, { bucket, used });
      return Promise.resolve({
        success: used <= spec.tokens,
        limit: spec.tokens,
        remaining: Math.max(0, spec.tokens - used),
        reset: (bucket + 1) * windowMs,
      });
    },
  };
}

/**
 * Counts one request against each `[limiter, identifier]` pair (all at once) and throws 429
 * with `Retry-After` if any of them is over its limit.
 */
export async function enforceLimits(checks: [RateLimiter, string][]): Promise<void> {
  const decisions = await Promise.all(checks.map(([limiter, id]) => limiter.limit(id)));
  const refused = decisions.filter((d) => !d.success);
  if (refused.length === 0) return;
  const reset = Math.max(...refused.map((d) => d.reset));
  const retryAfter = Math.max(1, Math.ceil((reset - Date.now()) / 1000));
  throw new ApiError(429, "rate_limited", `too many requests; retry in ${retryAfter} s`, {
    "Retry-After": String(retryAfter),
  });
}
