/**
 * The outbox: delivery outcomes this instance could not write to the ledger (the store was
 * unreachable) wait here, in memory, and are written as soon as the store answers again, with
 * exponential backoff between tries. Writing an outcome twice changes nothing (the store applies
 * an outcome only while the delivery is still in the state its take left), so a write whose
 * answer was lost is simply written again.
 *
 * It is bounded: when `maxOutcomes` wait, `add` waits for room, which holds the deliverer's send
 * slots and so stops new credits being taken. `GET /healthz` reports how many wait; a graceful
 * shutdown drains it. Outcomes still here when the process dies are lost with it: their
 * deliveries end as `unknown` when another worker reclaims them, never as "not sent".
 *
 * @module
 */
import type { DeliveryOutcome } from "../ledger/delivery.ts";
import { isStoreOutage } from "./outage.ts";

/** Writes outcomes to the ledger (`Ledger.record`). */
export type OutcomeWriter = (
  broadcastId: string | undefined,
  outcomes: DeliveryOutcome[],
) => Promise<void>;

/** Outbox bounds. */
export interface OutboxSettings {
  /** Most outcomes held. */
  maxOutcomes: number;
  /** First pause after a failed write, doubled up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** What `GET /healthz` shows. */
export interface OutboxStatus {
  /** Outcomes waiting to be written. */
  waiting: number;
  /** Age of the oldest one, ms (0 when none waits). */
  oldestMs: number;
  /** Outcomes given up after repeated non-outage errors (logged), since start. */
  dropped: number;
}

interface Entry {
  broadcastId: string | undefined;
  outcomes: DeliveryOutcome[];
  since: number;
  /** Failures that were not an outage: a few are tolerated, then the entry is dropped. */
  faults: number;
  written: () => void;
}

/** Failures other than an outage after which an entry is given up. */
const MAX_FAULTS = 5;

/**
 * Outcomes waiting to be written, retried in order with backoff.
 *
 * @example
 * ```ts
 * const outbox = new Outbox((b, o) => ledger.record(b, o), { maxOutcomes: 10_000, baseDelayMs: 100, maxDelayMs: 5_000 });
 * const { written } = await outbox.add(undefined, outcomes); // held
 * await written; // in the ledger
 * ```
 */
export class Outbox {
  #entries: Entry[] = [];
  #waiting = 0;
  #dropped = 0;
  #roomWaiters: (() => void)[] = [];
  #loop: Promise<void> | null = null;
  #failures = 0;
  #wake: (() => void) | null = null;

  constructor(
    private readonly write: OutcomeWriter,
    private readonly settings: OutboxSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Outcomes waiting now. */
  get size(): number {
    return this.#waiting;
  }

  /** Whether the last write attempt failed and none has succeeded since. */
  get failing(): boolean {
    return this.#failures > 0;
  }

  /** For `GET /healthz`. */
  status(): OutboxStatus {
    const oldest = this.#entries[0]?.since;
    return {
      waiting: this.#waiting,
      oldestMs: oldest === undefined ? 0 : this.now() - oldest,
      dropped: this.#dropped,
    };
  }

  /**
   * Keeps `outcomes` until written. Resolves once they are held (after waiting for room when
   * the outbox is full) with `written`, which settles when they are in the ledger.
   */
  async add(
    broadcastId: string | undefined,
    outcomes: DeliveryOutcome[],
  ): Promise<{ written: Promise<void> }> {
    if (outcomes.length === 0) return { written: Promise.resolve() };
    while (this.#waiting > 0 && this.#waiting + outcomes.length > this.settings.maxOutcomes) {
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    let written!: () => void;
    const done = new Promise<void>((resolve) => written = resolve);
    this.#entries.push({ broadcastId, outcomes, since: this.now(), faults: 0, written });
    this.#waiting += outcomes.length;
    this.#run();
    return { written: done };
  }

  /**
   * Writes what waits until nothing does or `deadline` (epoch ms) passes, trying at once;
   * returns how many outcomes are still waiting.
   */
  async drain(deadline: number): Promise<number> {
    while (this.#waiting > 0 && this.now() < deadline) {
      this.#wake?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.#waiting;
  }

  #run(): void {
    if (this.#loop) return;
    this.#loop = this.#writeAll().finally(() => {
      this.#loop = null;
      if (this.#entries.length > 0) this.#run();
    });
  }

  async #writeAll(): Promise<void> {
    while (this.#entries.length > 0) {
      const entry = this.#entries[0];
      try {
        await this.write(entry.broadcastId, entry.outcomes);
        this.#failures = 0;
        this.#settle(entry);
        continue;
      } catch (err) {
        this.#failures++;
        if (!isStoreOutage(err) && ++entry.faults >= MAX_FAULTS) {
          // A fault that is not an outage fails the same way every time: give it up, loudly.
          console.error(
            `outbox: gave up ${entry.outcomes.length} outcome(s) after ${entry.faults} errors:`,
            err instanceof Error ? `${err.name}: ${err.message.split(", command was:")[0]}` : err,
          );
          this.#dropped += entry.outcomes.length;
          this.#settle(entry);
          continue;
        }
      }
      await this.#pause();
    }
  }

  #settle(entry: Entry): void {
    this.#entries.shift();
    this.#waiting -= entry.outcomes.length;
    entry.written();
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  /** Exponential backoff with equal jitter; `drain` cuts it short. */
  #pause(): Promise<void> {
    const { baseDelayMs, maxDelayMs } = this.settings;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(20, this.#failures - 1));
    const ms = ceiling / 2 + Math.random() * ceiling / 2;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }
}
