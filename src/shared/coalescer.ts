/**
 * Coalescing concurrent calls into batches: calls made while batches are in flight wait, and go
 * together in the next one. A lone call goes at once (when the current job is done); under load a
 * batch holds whatever arrived during one round trip, so many concurrent callers cost one
 * round trip to Redis instead of one each.
 *
 * @module
 */

interface Waiting<T, R> {
  item: T;
  resolve: (result: R | PromiseLike<R>) => void;
  reject: (err: unknown) => void;
}

/** How a coalescer batches. */
export interface CoalescerOptions<T> {
  /** Batches running at once (default 1). */
  maxInFlight?: number;
  /** Most items in one batch (default unlimited). */
  maxBatch?: number;
  /** Most total weight in one batch (default unlimited); a heavier single item goes alone. */
  maxWeight?: number;
  /** An item's weight (default 1). */
  weigh?: (item: T) => number;
}

/**
 * Runs items in batches with `run`, which answers one result per item, in order (a result may
 * be a promise: its item settles as it does). If `run` fails, every item of that batch fails
 * with its error; other batches are not affected.
 *
 * @example
 * ```ts
 * const lengths = new Coalescer((words: string[]) => Promise.resolve(words.map((w) => w.length)));
 * await Promise.all([lengths.add("a"), lengths.add("bb")]); // one call to run: [1, 2]
 * ```
 */
export class Coalescer<T, R> {
  readonly #run: (items: T[]) => Promise<(R | PromiseLike<R>)[]>;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  readonly #maxWeight: number;
  readonly #weigh: (item: T) => number;
  #waiting: Waiting<T, R>[] = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    run: (items: T[]) => Promise<(R | PromiseLike<R>)[]>,
    options: CoalescerOptions<T> = {},
  ) {
    this.#run = run;
    this.#maxInFlight = options.maxInFlight ?? 1;
    this.#maxBatch = options.maxBatch ?? Infinity;
    this.#maxWeight = options.maxWeight ?? Infinity;
    this.#weigh = options.weigh ?? (() => 1);
  }

  /** Adds an item to the next batch; resolves with its result. */
  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#waiting.length === 0) {
      return;
    }
    this.#scheduled = true;
    // Once the current job is done: calls it makes join the batch. Under load, calls arriving
    // while the in-flight batches run wait, and go together when one finishes.
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#inFlight < this.#maxInFlight && this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.#batchSize());
      this.#inFlight++;
      this.#runBatch(batch).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
    }
  }

  /** How many of the waiting items the next batch takes (at least one). */
  #batchSize(): number {
    let weight = 0;
    let size = 0;
    while (size < this.#waiting.length && size < this.#maxBatch) {
      weight += this.#weigh(this.#waiting[size].item);
      if (size > 0 && weight > this.#maxWeight) break;
      size++;
    }
    return size;
  }

  async #runBatch(batch: Waiting<T, R>[]): Promise<void> {
    try {
      const results = await this.#run(batch.map((w) => w.item));
      if (results.length !== batch.length) {
        throw new Error(`batch of ${batch.length} answered ${results.length} results`);
      }
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
