/**
 * The embedded store's log: its events in order, each chained (`hash = SHA-256(prev ||
 * canonical)`) and frozen as it is appended, so it is never unsealed and no reader can change it.
 *
 * @module
 */
import { canonicalEvent, GENESIS, linkHash } from "../../chain/chain.ts";
import type { LedgerEvent, LogHead, StoredEvent } from "../../ledger/events.ts";

/** Events handed over between two turns of the event loop while reading the log. */
const READ_SLICE = 250;

/**
 * An append-only, hash-chained log in memory.
 *
 * @example
 * ```ts
 * const log = new MemoryLog();
 * const stored = log.append(formIdCollected("o1", credit), new Date().toISOString());
 * const events = await log.read(0, 100); // [stored]
 * ```
 */
export class MemoryLog {
  readonly #events: StoredEvent[] = [];

  /** Events in the log. */
  get length(): number {
    return this.#events.length;
  }

  /** Appends one event at `at` (ISO time), chained to the last; returns it as stored. */
  append(event: LedgerEvent, at: string): StoredEvent {
    const seq = this.#events.length + 1;
    const prev = this.#events.at(-1)?.hash ?? GENESIS;
    const hash = linkHash(prev, canonicalEvent({ seq, type: event.type, at, data: event.data }));
    // Stored frozen, so readers share it instead of copying it (an audit of the whole log
    // would otherwise allocate a copy of every event) and no reader can change the log.
    const data = Object.freeze(structuredClone(event.data));
    const stored = Object.freeze({ type: event.type, data, id: `${seq}-0`, seq, at, prev, hash });
    this.#events.push(stored as StoredEvent);
    return stored as StoredEvent;
  }

  /** Up to `limit` events after seq `after`, handed over a slice at a time. */
  async read(after: number, limit: number): Promise<StoredEvent[]> {
    // Nothing here waits for I/O, so a reader of the whole log (an audit, an export) would
    // never let the event loop turn: the events are handed over a slice at a time, each after a
    // timer, so other requests are served in between.
    const end = Math.min(this.#events.length, after + limit);
    const events: StoredEvent[] = [];
    for (let from = after; from < end; from += READ_SLICE) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      const to = Math.min(end, from + READ_SLICE);
      for (let i = from; i < to; i++) events.push(this.#events[i]);
    }
    return events;
  }

  /** The last event's seq, hash and time (genesis when empty). */
  head(): LogHead {
    const last = this.#events.at(-1);
    return last
      ? { seq: last.seq, hash: last.hash, at: last.at }
      : { seq: 0, hash: GENESIS, at: null };
  }

  /** Every event, in order (synchronously: for a rebuild, which must see one whole log). */
  all(): readonly StoredEvent[] {
    return this.#events;
  }
}
