/**
 * The audit of a Redis store on two threads. One JavaScript thread cannot read, hash and fold
 * a million events a second fast enough; but once the pages are read, checking a link needs
 * only its event and the stored hashes, not the fold. So this thread reads each page once and
 * folds it, and a Worker (`verify_worker.ts`) reads the page's chain hashes itself and checks
 * every link with the same `ChainVerifier`. The result is the one `auditStore` gives, which
 * the tamper tests check case by case.
 *
 * For the CLI and benchmarks; the service's endpoint audits on one thread (`auditStore`).
 *
 * @module
 */
import type { LogHead } from "../ledger/events.ts";
import { pageEvents, type RawEntry } from "../store/log_page.ts";
import { createRedisStore, type RedisStoreOptions } from "../store/redis.ts";
import {
  auditLive,
  type AuditOptions,
  type AuditResult,
  type LiveAudit,
  type VerifyOutcome,
} from "./audit.ts";
import { PAGE_SIZE, PAGES_IN_FLIGHT } from "./pages.ts";
import { Replay } from "./replay.ts";
import type { FromVerifier, ToVerifier, VerifierState } from "./verify_worker.ts";

/** Options of a parallel audit: those of `auditStore`, without a time budget. */
export type ParallelAuditOptions = Omit<AuditOptions, "budgetMs"> & {
  now?: number;
  compare?: boolean;
};

/**
 * Audits the log of the Redis store `connection` names, as `auditStore` would, on two threads.
 *
 * @example
 * ```ts
 * const { verify, report } = await auditRedisInParallel(
 *   { url, token, prefix: "ledger", segmentEvents: 100_000 },
 *   { replay: true },
 * );
 * ```
 */
export async function auditRedisInParallel(
  connection: RedisStoreOptions,
  options: ParallelAuditOptions = {},
): Promise<AuditResult> {
  const store = createRedisStore(connection);
  const run = new ParallelRun(connection, options, (after, to) => store.readEntries(after, to));
  try {
    return await auditLive(store, run, options);
  } finally {
    run.close();
    await store.close();
  }
}

/** A run: this thread reads and folds, the worker verifies. */
class ParallelRun implements LiveAudit {
  readonly replay: Replay | null;
  readonly #worker: Worker;
  readonly #options: ParallelAuditOptions;
  readonly #read: (after: number, to: number) => Promise<RawEntry[][]>;
  readonly #started = performance.now();
  #lastProgress = performance.now();
  /** Pages sent and not yet checked: their ends, in order. */
  #pending: number[] = [];
  #waiting: (() => void) | null = null;
  #checked = 0;
  #broken = false;
  #failure: Error | null = null;
  #state: VerifierState | null = null;
  #to = 0;
  /** The fold met an entry it cannot read: nothing after it is read (the worker reports it). */
  #unreadable = false;

  constructor(
    connection: RedisStoreOptions,
    options: ParallelAuditOptions,
    read: (after: number, to: number) => Promise<RawEntry[][]>,
  ) {
    this.#options = options;
    this.#read = read;
    this.replay = options.replay ? new Replay() : null;
    this.#worker = new Worker(new URL("./verify_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = ({ data }: MessageEvent<FromVerifier>) => this.#receive(data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#receive({ failed: event.message });
    };
    const { from, checkpoints } = options;
    this.#send({ init: { store: connection, verify: { from, checkpoints } } });
  }

  async consume(after: number, to: number): Promise<void> {
    const pageSize = Math.max(1, this.#options.pageSize ?? PAGE_SIZE);
    const inFlight = Math.max(1, this.#options.inFlight ?? PAGES_IN_FLIGHT);
    const reads: { after: number; to: number; entries: Promise<RawEntry[][]> }[] = [];
    let requested = after;
    this.#to = to;
    while (!this.#unreadable && (requested < to || reads.length > 0)) {
      while (reads.length < inFlight && requested < to) {
        const last = Math.min(to, requested + pageSize);
        const entries = this.#read(requested, last);
        entries.catch(() => {}); // surfaced when awaited
        reads.push({ after: requested, to: last, entries });
        requested = last;
      }
      const read = reads.shift()!;
      const entries = await read.entries;
      // The worker may fall behind by `inFlight` pages, no more: memory stays bounded.
      while (this.#pending.length >= inFlight) await this.#progress();
      this.#send({ page: { after: read.after, to: read.to, ...compact(read.after, entries) } });
      this.#pending.push(read.to);
      this.#fold(entries);
    }
    while (this.#pending.length > 0) await this.#progress();
  }

  async canGoOn(): Promise<boolean> {
    while (this.#pending.length > 0) await this.#progress();
    return !this.#broken && !this.#unreadable;
  }

  async outcome(head: LogHead): Promise<VerifyOutcome> {
    while (this.#pending.length > 0) await this.#progress();
    this.#send({ finish: { head } });
    while (this.#state === null) await this.#progress();
    const state = this.#state;
    return {
      ok: state.break === null,
      complete: true,
      from: state.from,
      through: state.last,
      events: state.verified,
      head,
      break: state.break,
      uncheckedCheckpoints: state.uncheckedCheckpoints,
      elapsedMs: Math.round(performance.now() - this.#started),
    };
  }

  close(): void {
    this.#worker.terminate();
  }

  /**
   * Folds a page into the replay, up to an entry that cannot be read. Without a replay nothing
   * is decoded here: the worker finds such an entry, and ignores the pages after the break.
   */
  #fold(entries: RawEntry[][]): void {
    if (!this.replay) return;
    const { events, error } = pageEvents(entries, null);
    for (const event of events) this.replay.apply(event);
    const last = events.at(-1);
    if (last) this.replay.prune(Date.parse(last.at));
    if (error) this.#unreadable = true;
  }

  /** Waits for the worker's next message. */
  #progress(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting = () => (this.#failure ? reject(this.#failure) : resolve());
    });
  }

  #receive(message: FromVerifier): void {
    if ("checked" in message) {
      this.#pending.shift();
      this.#checked = message.checked.through;
      this.#broken ||= message.checked.broken;
      this.#report();
    } else if ("state" in message) {
      this.#state = message.state;
    } else {
      this.#failure = new Error(`the verifying worker failed: ${message.failed}`);
    }
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.();
  }

  #report(): void {
    const { onProgress, progressEveryMs = 1_000 } = this.#options;
    const now = performance.now();
    if (!onProgress || now - this.#lastProgress < progressEveryMs) return;
    this.#lastProgress = now;
    onProgress({ seq: this.#checked, to: this.#to, elapsedMs: now - this.#started });
  }

  #send(message: ToVerifier): void {
    this.#worker.postMessage(message);
  }
}

/**
 * A page as the worker gets it: the values alone when every entry is the expected `<seq>-0`
 * with one field `e` (the usual case, half the bytes to copy), else the entries as read.
 */
function compact(after: number, entries: RawEntry[][]) {
  const values: string[] = [];
  for (const segment of entries) {
    for (const [id, fields] of segment) {
      if (fields.length !== 2 || fields[0] !== "e" || id !== `${after + values.length + 1}-0`) {
        return { entries };
      }
      values.push(fields[1]);
    }
  }
  return { values };
}
