/**
 * The key-value store and work queues in this process's memory, for the embedded store. Each
 * method completes without awaiting, so each is atomic like the Redis commands it mirrors.
 *
 * @module
 */
import type { Clock } from "../shared/clock.ts";
import { systemClock } from "../shared/clock.ts";
import type { KeyValue, MissingEntry, SetOptions, WorkItem, WorkQueue } from "./coordination.ts";

/** In-memory {@link KeyValue}. */
export class MemoryKeyValue implements KeyValue {
  #values = new Map<string, { value: string; expiresAt: number }>();
  constructor(private readonly clock: Clock = systemClock) {}

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.#live(key)?.value ?? null);
  }

  set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    if (options.nx && this.#live(key)) return Promise.resolve(false);
    const expiresAt = options.px === undefined ? Infinity : this.clock.now() + options.px;
    this.#values.set(key, { value, expiresAt });
    return Promise.resolve(true);
  }

  setMissing(entries: MissingEntry[]): Promise<boolean[]> {
    const now = this.clock.now();
    return Promise.resolve(entries.map(({ key, value, px }) => {
      if (this.#live(key)) return false;
      this.#values.set(key, { value, expiresAt: now + px });
      return true;
    }));
  }

  deleteIfEquals(key: string, value: string): Promise<boolean> {
    if (this.#live(key)?.value !== value) return Promise.resolve(false);
    this.#values.delete(key);
    return Promise.resolve(true);
  }

  compareAndSet(
    key: string,
    expected: string | null,
    next: string | null,
    px: number,
  ): Promise<boolean> {
    if ((this.#live(key)?.value ?? null) !== expected) return Promise.resolve(false);
    if (next === null) this.#values.delete(key);
    else this.#values.set(key, { value: next, expiresAt: this.clock.now() + px });
    return Promise.resolve(true);
  }

  del(...keys: string[]): Promise<void> {
    for (const key of keys) this.#values.delete(key);
    return Promise.resolve();
  }

  #live(key: string) {
    const entry = this.#values.get(key);
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.#values.delete(key);
      return undefined;
    }
    return entry;
  }
}

interface Entry {
  id: string;
  payload: string;
}

interface Queue {
  entries: Entry[];
  /** Index of the first entry never handed out. */
  next: number;
  /** id -> who holds it since when. */
  pending: Map<string, { consumer: string; since: number; entry: Entry }>;
}

/** In-memory {@link WorkQueue} with the semantics of a stream consumer group. */
export class MemoryWorkQueue implements WorkQueue {
  #queues = new Map<string, Queue>();
  #seq = 0;
  constructor(private readonly clock: Clock = systemClock) {}

  add(queue: string, payloads: string[]): Promise<void> {
    let q = this.#queues.get(queue);
    if (!q) this.#queues.set(queue, q = { entries: [], next: 0, pending: new Map() });
    for (const payload of payloads) q.entries.push({ id: `${++this.#seq}-0`, payload });
    return Promise.resolve();
  }

  next(consumer: string, count: number, reclaimAfterMs: number): Promise<WorkItem[]> {
    const now = this.clock.now();
    const items: WorkItem[] = [];
    for (const [name, q] of this.#queues) {
      for (const held of q.pending.values()) {
        if (items.length >= count) break;
        if (now - held.since < reclaimAfterMs) continue;
        held.consumer = consumer;
        held.since = now;
        items.push({
          queue: name,
          id: held.entry.id,
          payload: held.entry.payload,
          reclaimed: true,
        });
      }
      while (items.length < count && q.next < q.entries.length) {
        const entry = q.entries[q.next++];
        q.pending.set(entry.id, { consumer, since: now, entry });
        items.push({ queue: name, id: entry.id, payload: entry.payload, reclaimed: false });
      }
      if (items.length >= count) break;
    }
    return Promise.resolve(items);
  }

  touch(item: WorkItem, consumer: string): Promise<boolean> {
    const held = this.#queues.get(item.queue)?.pending.get(item.id);
    if (!held || held.consumer !== consumer) return Promise.resolve(false);
    held.since = this.clock.now();
    return Promise.resolve(true);
  }

  ack(item: WorkItem): Promise<void> {
    this.#queues.get(item.queue)?.pending.delete(item.id);
    return Promise.resolve();
  }

  drop(queue: string): Promise<void> {
    this.#queues.delete(queue);
    return Promise.resolve();
  }
}
