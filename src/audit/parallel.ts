/**
 * The audit of a Redis store on two threads. On one, reading, hashing and folding take about
 * 7 µs an event; but checking a link needs only the event's canonical text and the stored
 * hashes, not the fold. So this thread reads each page once, decodes it, folds it and writes
 * each event's canonical text, and a Worker (`verify_worker.ts`) reads the page's chain hashes
 * itself and checks every link with the same `ChainVerifier`. The result is the one
 * `auditStore` gives, which the tamper tests check case by case.
 *
 * For the CLI and benchmarks; the service's endpoint audits on one thread (`auditStore`). The
 * store comes through a port (`raw_log.ts`): this module knows the log's layout, not its store.
 *
 * @module
 */
import type { LogHead, StoredEvent } from "../ledger/events.ts";
import { ENTRY_FIELD } from "../store/redis/entry.ts";
import { pageEvents, type RawEntry } from "../store/redis/log_page.ts";
import {
  auditLive,
  type AuditOptions,
  type AuditResult,
  type LiveAudit,
  type VerifyOutcome,
} from "./audit.ts";
import { canonicalEvent } from "../chain/chain.ts";
import { PAGE_SIZE, PAGES_IN_FLIGHT } from "./pages.ts";
import type { ParallelLog, RawPageSource } from "./raw_log.ts";
import { Replay } from "./replay.ts";
import type { FromVerifier, ToVerifier, VerifierState } from "./verify_worker.ts";

/** Options of a parallel audit: those of `auditStore`, without a time budget. */
export type ParallelAuditOptions = Omit<AuditOptions, "budgetMs"> & {
  now?: number;
  compare?: boolean;
};

/**
 * Audits `log`, as `auditStore` would audit its store, on two threads. The caller opens the
 * store and closes it afterwards.
 *
 * @example
 * ```ts
 * const { parallelAudit } = openBackends(config);
 * const { verify, report } = await auditRedisInParallel(parallelAudit!, { replay: true });
 * ```
 */
export async function auditRedisInParallel(
  log: ParallelLog,
  options: ParallelAuditOptions = {},
): Promise<AuditResult> {
  const run = new ParallelRun(log, options);
  try {
    return await auditLive(log.pages, run, options);
  } finally {
    run.close();
  }
}

/** A run: this thread reads and folds, the worker verifies. */
class ParallelRun implements LiveAudit {
  readonly replay: Replay | null;
  readonly #worker: Worker;
  readonly #options: ParallelAuditOptions;
  readonly #pages: RawPageSource;
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

  constructor(log: ParallelLog, options: ParallelAuditOptions) {
    this.#options = options;
    this.#pages = log.pages;
    this.replay = options.replay ? new Replay() : null;
    this.#worker = new Worker(new URL("./verify_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = ({ data }: MessageEvent<FromVerifier>) => this.#receive(data);
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#receive({ failed: event.message });
    };
    const { from, checkpoints } = options;
    this.#send({ init: { reader: log.reopen, verify: { from, checkpoints } } });
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
        const entries = this.#pages.readEntries(requested, last);
        entries.catch(() => {}); // surfaced when awaited
        reads.push({ after: requested, to: last, entries });
        requested = last;
      }
      const read = reads.shift()!;
      const entries = await read.entries;
      const { events, error } = pageEvents(entries, null);
      // The worker may fall behind by `inFlight` pages, no more: memory stays bounded.
      while (this.#pending.length >= inFlight) await this.#progress();
      const exact = error === null && isExact(read.after, entries);
      this.#send({
        page: exact
          ? {
            after: read.after,
            to: read.to,
            canonical: events.map(canonicalEvent),
            at: events.map((e) => e.at),
          }
          : { after: read.after, to: read.to, entries },
      });
      this.#pending.push(read.to);
      this.#fold(events, error !== null);
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

  /** Folds a page's events; after an entry that cannot be read, nothing more is read. */
  #fold(events: StoredEvent[], unreadable: boolean): void {
    if (this.replay) {
      for (const event of events) this.replay.apply(event);
      const last = events.at(-1);
      if (last) this.replay.prune(Date.parse(last.at));
    }
    if (unreadable) this.#unreadable = true;
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

/** Whether a page's entries are exactly `<after+1>-0`, `<after+2>-0`, ..., each one field `e`. */
function isExact(after: number, entries: RawEntry[][]): boolean {
  let seq = after;
  for (const segment of entries) {
    for (const [id, fields] of segment) {
      seq++;
      if (fields.length !== 2 || fields[0] !== ENTRY_FIELD || id !== `${seq}-0`) return false;
    }
  }
  return true;
}
