/**
 * The owner of limit.lua (and of the keys of rate-limit counts, which collect.lua counts too):
 * requests counted against rate limits in fixed windows (src/ledger/limits.ts), shared by every
 * instance of the service. Checks made while others are in flight go to Redis together in one
 * script call: one billed command for the lot.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { Coalescer } from "../../shared/coalescer.ts";
import { decide, type LimitCheck, type LimitDecision, windowKey } from "../../ledger/limits.ts";
import { loadScript, scriptSource } from "./scripts.ts";

/** Most checks in one script call (a few hundred bytes each). */
const MAX_CHECKS_PER_CALL = 500;

/**
 * limit.lua with its prelude.
 *
 * @example
 * ```ts
 * redis.createScript(LIMIT_LUA).exec([limitKey("ledger", check, now)], [String(check.windowMs)]);
 * ```
 */
export const LIMIT_LUA = scriptSource(["fixed_window", "limit"]);

/**
 * The Redis key of a check's count at `now`: `<prefix>:rl:<limit>:<id>:<window>`, the key
 * `@upstash/ratelimit` used with the prefix `<prefix>:rl:<limit>`.
 *
 * @example
 * ```ts
 * limitKey("ledger", { limit: "ip", id: "10.0.0.1", tokens: 5, windowMs: 1000 }, 2500);
 * // "ledger:rl:ip:10.0.0.1:2"
 * ```
 */
export function limitKey(prefix: string, check: LimitCheck, now: number): string {
  return `${prefix}:rl:${windowKey(check, now)}`;
}

/**
 * The count-limits operation of one ledger (`LedgerStore.countLimits`): every check made while
 * a call is in flight goes in the next call.
 *
 * @example
 * ```ts
 * const countLimits = limitScript(redis, "ledger");
 * const [decision] = await countLimits([{ limit: "login", id: ip, tokens: 60, windowMs }], now);
 * ```
 */
export function limitScript(
  redis: Redis,
  prefix: string,
): (checks: LimitCheck[], now: number) => Promise<LimitDecision[]> {
  const script = loadScript(redis, LIMIT_LUA);
  const calls = new Coalescer<{ check: LimitCheck; now: number }, LimitDecision>(
    async (batch) => {
      const keys = batch.map(({ check, now }) => limitKey(prefix, check, now));
      const windows = batch.map(({ check }) => String(check.windowMs));
      const counts = await script.exec(keys, windows) as number[];
      return batch.map(({ check, now }, i) => decide(check, Number(counts[i]), now));
    },
    { maxBatch: MAX_CHECKS_PER_CALL },
  );
  return (checks, now) => Promise.all(checks.map((check) => calls.add({ check, now })));
}
