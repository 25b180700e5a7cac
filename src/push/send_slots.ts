/**
 * Send slots: one per WeChat call this instance may have in flight (`WECHAT_CONCURRENCY`). A
 * delivery holds a slot from just before its credit is taken until its outcome is recorded (or
 * handed to the outbox), so the deliveries an instance has taken but not recorded never exceed
 * the slots: that is all a killed instance can leave as `unknown`. Credits are taken in batches
 * sized by the free slots, never for a whole chunk up front, and never ahead of a free call.
 *
 * @module
 */

interface Waiter {
  max: number;
  min: number;
  grant: (n: number) => void;
}

/**
 * A counting semaphore whose holders ask for a batch: up to `max` slots, at least `min`. Waiters
 * are served first come, first served, so a lone push is not starved by a broadcast.
 *
 * @example
 * ```ts
 * const slots = new SendSlots(256);
 * const n = await slots.acquire(100, 20); // 20..100 slots, as soon as 20 are free
 * slots.release(n);
 * ```
 */
export class SendSlots {
  #free: number;
  #waiting: Waiter[] = [];

  constructor(readonly size: number) {
    this.#free = size;
  }

  /** Slots held now. */
  get inUse(): number {
    return this.size - this.#free;
  }

  /** Waits for `min` free slots (capped at the size), then takes up to `max`; returns how many. */
  acquire(max: number, min = 1): Promise<number> {
    const want = Math.max(1, Math.min(max, this.size));
    const least = Math.max(1, Math.min(min, want));
    if (this.#waiting.length === 0 && this.#free >= least) {
      const n = Math.min(want, this.#free);
      this.#free -= n;
      return Promise.resolve(n);
    }
    return new Promise((grant) => this.#waiting.push({ max: want, min: least, grant }));
  }

  /** Gives `n` slots back and serves waiters in order. */
  release(n: number): void {
    if (n <= 0) return;
    this.#free = Math.min(this.size, this.#free + n);
    while (this.#waiting.length > 0 && this.#free >= this.#waiting[0].min) {
      const w = this.#waiting.shift()!;
      const granted = Math.min(w.max, this.#free);
      this.#free -= granted;
      w.grant(granted);
    }
  }
}
