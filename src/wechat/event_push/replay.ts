/**
 * Replay detection for pushes: a port, so that several instances can share one store (Redis
 * `SET key 1 PXAT expiresAt NX` fits it), and a bounded in-memory implementation.
 *
 * A key is a (timestamp, nonce, signature) triple. It only needs remembering while its timestamp is
 * inside the accepted window: after that the timestamp check refuses the request anyway, so each
 * claim carries the moment it may be forgotten.
 *
 * @module
 */
import { type Clock, systemClock } from "../../shared/clock.ts";

/** Where accepted pushes are remembered. */
export interface ReplayGuard {
  /**
   * Records `key` until `expiresAtMs` (epoch ms). Resolves `true` when the key was new (the push
   * may be processed) and `false` when it is already recorded and not yet expired (a replay).
   */
  claim(key: string, expiresAtMs: number): Promise<boolean>;
  /**
   * Forgets `key`: the route calls it when processing an accepted push failed, so that WeChat's
   * retry of the same request is let through instead of refused as a replay.
   */
  release(key: string): Promise<void>;
}

/** Sizing of {@link MemoryReplayGuard}. */
export interface MemoryReplayGuardOptions {
  /** At most this many keys are kept; past it the oldest are forgotten first. Default 100,000. */
  maxEntries?: number;
  clock?: Clock;
}

/**
 * A replay guard for one process. Memory is bounded by `maxEntries`: expired keys are dropped as
 * new ones arrive, and when the guard is full the oldest key is forgotten (that one push could then
 * be replayed while its timestamp is still fresh; size it above the pushes a window brings).
 *
 * @example
 * ```ts
 * const guard = new MemoryReplayGuard({ maxEntries: 10_000 });
 * await guard.claim("1714036504:1514711492:f464b2...", Date.now() + 300_000); // true
 * await guard.claim("1714036504:1514711492:f464b2...", Date.now() + 300_000); // false
 * ```
 */
export class MemoryReplayGuard implements ReplayGuard {
  /** key -> expiry (epoch ms), in insertion order. */
  readonly #entries = new Map<string, number>();
  readonly #max: number;
  readonly #clock: Clock;

  constructor(options: MemoryReplayGuardOptions = {}) {
    this.#max = Math.max(1, options.maxEntries ?? 100_000);
    this.#clock = options.clock ?? systemClock;
  }

  /** How many keys are held now (expired ones included until they are swept). */
  get size(): number {
    return this.#entries.size;
  }

  claim(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.#clock.now();
    this.#sweep(now);
    const known = this.#entries.get(key);
    if (known !== undefined && known > now) return Promise.resolve(false);
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, expiresAtMs);
    return Promise.resolve(true);
  }

  release(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }

  /** Drops expired keys from the front; a later-expiring key in front stops the sweep early,
   * which only delays the rest until the size bound or a later sweep takes them. */
  #sweep(now: number): void {
    for (const [key, expiresAt] of this.#entries) {
      if (expiresAt > now) break;
      this.#entries.delete(key);
    }
  }
}
