/**
 * A small key-value, lock and work-queue abstraction beside the ledger store, for what is not
 * the ledger: the shared WeChat access token and its refresh lock, idempotency records,
 * broadcast descriptions and broadcast work. Keys are relative: each implementation puts them
 * under the ledger's prefix. Two implementations behave alike: Redis (shared by every instance)
 * and memory (one process, with the embedded store).
 *
 * @module
 */

/** Options of {@link KeyValue.set}. */
export interface SetOptions {
  /** Time to live in milliseconds. */
  px?: number;
  /** Only set when the key does not exist (a lock). */
  nx?: boolean;
}

/** One key of {@link KeyValue.setMissing}: its value and time to live in milliseconds. */
export interface MissingEntry {
  key: string;
  value: string;
  px: number;
}

/** Strings with expiry, plus the compare-and-delete a lock release needs. */
export interface KeyValue {
  /** The value, or `null` when absent or expired. */
  get(key: string): Promise<string | null>;
  /** Sets the value; with `nx`, returns `false` (and changes nothing) when the key exists. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /**
   * Sets each absent key (as `set` with `nx` and `px`), in order, in one atomic step (one round
   * trip on Redis); whether each was set. A key listed twice is set by its first entry only.
   */
  setMissing(entries: MissingEntry[]): Promise<boolean[]>;
  /** Deletes the key only while it still holds `value`; returns whether it did. */
  deleteIfEquals(key: string, value: string): Promise<boolean>;
  /**
   * Replaces the value (`next`, with expiry `px`; `null` deletes the key) only while the key
   * still holds `expected` (`null`: absent), in one atomic step; returns whether it did. A
   * read-modify-write loop on it loses no concurrent change.
   */
  compareAndSet(
    key: string,
    expected: string | null,
    next: string | null,
    px: number,
  ): Promise<boolean>;
  /** Deletes keys. */
  del(...keys: string[]): Promise<void>;
}

/** One chunk of work read from a queue. */
export interface WorkItem {
  /** The queue it came from. */
  queue: string;
  /** Its id in the queue (a stream entry id). */
  id: string;
  payload: string;
  /** True when it was reclaimed from a consumer that held it too long (a lost worker). */
  reclaimed: boolean;
}

/**
 * Named work queues shared by consumers (a Redis Stream per queue with one consumer group).
 * An item read by a consumer stays pending until acknowledged; an item pending longer than
 * `reclaimAfterMs` is handed to the next consumer that asks (its first holder is presumed dead).
 */
export interface WorkQueue {
  /** Appends items to a queue and makes the queue active. */
  add(queue: string, payloads: string[]): Promise<void>;
  /** Up to `count` items over every active queue: reclaimed stale ones first, then new ones. */
  next(consumer: string, count: number, reclaimAfterMs: number): Promise<WorkItem[]>;
  /** Tells the queue `consumer` is still working `item` (resets its idle time); false if lost. */
  touch(item: WorkItem, consumer: string): Promise<boolean>;
  /** Acknowledges an item: it is done and never handed out again. */
  ack(item: WorkItem): Promise<void>;
  /** Deletes a finished queue with everything in it. */
  drop(queue: string): Promise<void>;
}

/**
 * What is shared beside the ledger: a {@link KeyValue} store (locks, the access token,
 * idempotency records, broadcast descriptions) and the {@link WorkQueue}s, on one backend.
 *
 * @example
 * ```ts
 * const coordination: Coordination = { kv: new MemoryKeyValue(), queue: new MemoryWorkQueue() };
 * ```
 */
export interface Coordination {
  kv: KeyValue;
  queue: WorkQueue;
}
