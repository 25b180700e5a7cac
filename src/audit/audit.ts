/**
 * One audit run over a source of log chunks (the store, read in pages, or an NDJSON export):
 * verify every link, optionally fold every event into a replay, stop at a deadline if asked,
 * and say how far it got. Used by `GET /v1/audit/verify` and `deno task replay`.
 *
 * @module
 */
import type { LogHead } from "../ledger/events.ts";
import type { LedgerStore } from "../ledger/store.ts";
import { ProjectionCheck, type ProjectionComparison } from "./compare.ts";
import { type LogChunk, logPages } from "./pages.ts";
import { Replay, type ReplayReport } from "./replay.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { type ChainBreak, ChainVerifier, unreadableEntry, type VerifyOptions } from "./verify.ts";

/** How far an audit has got, for progress lines. */
export interface AuditProgress {
  /** Last seq read. */
  seq: number;
  /** Seq the run reads up to, when known (the head when it started). */
  to: number | null;
  elapsedMs: number;
}

/** Options of an audit run. */
export interface AuditOptions extends VerifyOptions {
  /** Fold every event into a replay (report and projection comparison). */
  replay?: boolean;
  /** Stop reading after this many ms (the result then says how far it got). */
  budgetMs?: number;
  /** Called at most every `progressEveryMs` (default 1,000) while reading. */
  onProgress?: (progress: AuditProgress) => void;
  progressEveryMs?: number;
  /** Events per page and pages in flight, for store sources. */
  pageSize?: number;
  inFlight?: number;
}

/** The verification part of an audit's outcome. */
export interface VerifyOutcome {
  /** Every event read verified and the end agrees with the head and checkpoints. */
  ok: boolean;
  /** The whole log (up to the head when the run started) was read. */
  complete: boolean;
  /** Where verification started (genesis is seq 0). */
  from: Checkpoint;
  /** The last event verified: a checkpoint to resume from or to record. */
  through: Checkpoint;
  /** Events verified. */
  events: number;
  /** The head the run compared the end with, if any. */
  head: LogHead | null;
  break: ChainBreak | null;
  /** Recorded checkpoints before the starting point, which this run could not check. */
  uncheckedCheckpoints: number[];
  elapsedMs: number;
}

/** What an audit found. */
export interface AuditResult {
  verify: VerifyOutcome;
  /** The replay report (when `replay` was asked). */
  report?: ReplayReport;
  /** The live projection compared with the rebuilt one (store audits from genesis). */
  comparison?: ProjectionComparison;
}

/** A run in progress: verifier, replay and clock shared by the steps of an audit. */
class Run {
  readonly verifier: ChainVerifier;
  readonly replay: Replay | null;
  readonly started = performance.now();
  #lastProgress = performance.now();
  events = 0;
  stopped = false;

  constructor(readonly options: AuditOptions) {
    this.verifier = new ChainVerifier(options);
    this.replay = options.replay ? new Replay() : null;
  }

  /** Feeds chunks until the source ends, the chain breaks beyond repair or the budget ends. */
  async consume(chunks: AsyncIterable<LogChunk>, to: number | null): Promise<void> {
    const { budgetMs, onProgress } = this.options;
    const every = this.options.progressEveryMs ?? 1_000;
    // A whole export verified from a checkpoint: the events up to it are skipped, unread.
    const skipThrough = this.options.from?.seq ?? 0;
    for await (const chunk of chunks) {
      for (const event of chunk.events) {
        if (skipThrough > 0 && event?.seq <= skipThrough && !this.verifier.verified) continue;
        this.verifier.check(event);
        this.replay?.apply(event);
      }
      this.events += chunk.events.length;
      const last = chunk.events.at(-1);
      if (this.replay && last) this.replay.prune(Date.parse(last.at));
      if (chunk.unreadable) {
        const { after, error } = chunk.unreadable;
        this.verifier.fail(unreadableEntry(after, error));
        return;
      }
      const now = performance.now();
      if (onProgress && now - this.#lastProgress >= every) {
        this.#lastProgress = now;
        onProgress({ seq: last?.seq ?? 0, to, elapsedMs: now - this.started });
      }
      if (budgetMs !== undefined && now - this.started >= budgetMs) {
        this.stopped = true;
        return;
      }
    }
  }

  outcome(head: LogHead | null): VerifyOutcome {
    const broken = this.stopped && !this.verifier.broken
      ? null
      : this.verifier.finish(head ?? undefined);
    return {
      ok: broken === null,
      complete: !this.stopped,
      from: this.verifier.from,
      through: this.verifier.last,
      events: this.verifier.verified,
      head,
      break: broken,
      uncheckedCheckpoints: this.verifier.uncheckedCheckpoints(),
      elapsedMs: Math.round(performance.now() - this.started),
    };
  }
}

/**
 * Audits a log given as chunks (e.g. an NDJSON export), optionally against a head.
 *
 * @example
 * ```ts
 * const file = await Deno.open("export.ndjson");
 * const { verify, report } = await auditChunks(readNdjson(file.readable), { replay: true });
 * ```
 */
export async function auditChunks(
  chunks: AsyncIterable<LogChunk>,
  options: AuditOptions & { head?: LogHead; now?: number } = {},
): Promise<AuditResult> {
  const run = new Run(options);
  await run.consume(chunks, options.head?.seq ?? null);
  const verify = run.outcome(options.head ?? null);
  return {
    verify,
    ...(run.replay ? { report: run.replay.report(options.now ?? Date.now()) } : {}),
  };
}

/**
 * Audits the store's log up to its head when the run starts; with `replay`, from genesis,
 * and a live store, also compares the rebuilt projection with the live one at `now`. Events
 * appended meanwhile are verified too, and the users they touch are left out of the comparison.
 */
export function auditStore(
  store: Pick<LedgerStore, "readEvents" | "head" | "projectionPage">,
  options: AuditOptions & { now?: number; compare?: boolean } = {},
): Promise<AuditResult> {
  const run = new Run(options);
  const pages = (after: number, to: number) =>
    logPages(store, { after, to, pageSize: options.pageSize, inFlight: options.inFlight });
  return auditLive(store, {
    replay: run.replay,
    consume: (after, to) => run.consume(pages(after, to), to),
    canGoOn: () => Promise.resolve(!run.stopped && !run.verifier.broken),
    outcome: (head) => Promise.resolve(run.outcome(head)),
  }, options);
}

/** How an audit of a live store reads, verifies and folds its log (in one thread or two). */
export interface LiveAudit {
  /** The replay events are folded into, when one was asked for. */
  replay: Replay | null;
  /** Verifies (and folds) the events `after+1 .. to`. */
  consume(after: number, to: number): Promise<void>;
  /** Whether everything consumed so far verified, and the run was not stopped. */
  canGoOn(): Promise<boolean>;
  /** The verification outcome, the end compared with `head`. */
  outcome(head: LogHead): Promise<VerifyOutcome>;
}

/**
 * The steps of a live store's audit, whoever does the reading: the log up to the head, then
 * the live projection compared (from genesis only), then what was appended meanwhile.
 */
export async function auditLive(
  store: Pick<LedgerStore, "head" | "projectionPage">,
  audit: LiveAudit,
  options: AuditOptions & { now?: number; compare?: boolean },
): Promise<AuditResult> {
  const { replay } = audit;
  let head = await store.head();
  const start = options.from?.seq ?? 0;
  await audit.consume(start, head.seq);
  const now = options.now ?? Date.now();
  let comparison: ProjectionComparison | undefined;
  if (replay && options.compare !== false && start === 0 && await audit.canGoOn()) {
    const check = new ProjectionCheck(replay, now);
    await check.scan(store);
    const later = await store.head();
    const touched = new Set<string>();
    if (later.seq > head.seq) {
      replay.touched = touched;
      await audit.consume(head.seq, later.seq);
      head = later;
    }
    comparison = check.finish(touched);
  }
  return {
    verify: await audit.outcome(head),
    ...(replay ? { report: replay.report(now) } : {}),
    ...(comparison ? { comparison } : {}),
  };
}
