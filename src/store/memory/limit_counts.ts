/**
 * The embedded store's rate-limit counts: the twin of collect.lua's and limit.lua's (a count per
 * fixed window, started with the window's length to live, as `INCR` then `PEXPIRE` start it).
 *
 * @module
 */
import { decide, type LimitCheck, type LimitDecision, windowKey } from "../../ledger/limits.ts";

/** How often counts past their time are forgotten (a sweep visits every count). */
const SWEEP_EVERY_MS = 10_000;

/**
 * Most windows counted at once (about 100 B each). Past it, a new identifier (a flood of client
 * addresses, say) is counted in one shared overflow window of its limit: memory stays bounded,
 * and the overflow is limited as one client would be, so a flood cannot spread itself thin.
 */
export const MAX_WINDOWS = 100_000;

/**
 * Counts in this process's memory.
 *
 * @example
 * ```ts
 * const counts = new LimitCounts();
 * counts.count([{ limit: "ip", id: "10.0.0.1", tokens: 5, windowMs: 60_000 }], Date.now());
 * ```
 */
export class LimitCounts {
  #windows = new Map<string, { count: number; until: number }>();
  #sweptAt = 0;

  constructor(readonly maxWindows = MAX_WINDOWS) {}

  /** Windows counted now (overflow ones included). */
  get size(): number {
    return this.#windows.size;
  }

  /** Counts one request against each check at `now`; a decision each. */
  count(checks: LimitCheck[], now: number): LimitDecision[] {
    if (now - this.#sweptAt >= SWEEP_EVERY_MS) this.#sweep(now);
    return checks.map((check) => {
      let key = windowKey(check, now);
      if (!this.#windows.has(key) && this.#windows.size >= this.maxWindows) {
        this.#sweep(now);
        if (this.#windows.size >= this.maxWindows) {
          key = windowKey({ ...check, id: "\u0000overflow" }, now);
        }
      }
      let entry = this.#windows.get(key);
      if (!entry || entry.until <= now) {
        entry = { count: 0, until: now + check.windowMs };
        this.#windows.set(key, entry);
      }
      entry.count++;
      return decide(check, entry.count, now);
    });
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#windows) if (entry.until <= now) this.#windows.delete(key);
    this.#sweptAt = now;
  }
}
