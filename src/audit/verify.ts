/**
 * Streaming verification of the tamper-evident log, one event at a time, in constant memory:
 * `seq` is dense, every entry id is `<seq>-0`, every `prev` is the previous event's `hash`, every
 * `hash` is `SHA-256(prev + canonical(event))`, and the end of the log agrees with its head and
 * with any checkpoint recorded outside the system. The first break is located precisely: the
 * seq where the log stops being the one that was written, and what is wrong there.
 *
 * Verification may start from genesis or from a recorded checkpoint (`from`): the latter proves
 * the events after the checkpoint extend it, and nothing about the events before it.
 *
 * @module
 */
import type { LogHead, StoredEvent } from "../ledger/events.ts";
import { canonicalEvent, GENESIS, linkHash } from "../chain/chain.ts";
import type { Checkpoint } from "./checkpoint.ts";

/** What can be wrong at a point of the log. */
export type BreakKind =
  /** An entry is not an event (missing or ill-typed fields, unreadable data). */
  | "malformed"
  /** Events are missing: the next entry has a higher seq than expected. */
  | "gap"
  /** An entry that should not be there: its seq is not higher than the previous one's. */
  | "unexpected_entry"
  /** The entry's id is not `<seq>-0`. */
  | "bad_id"
  /** The event has no recorded hash: its segment's chain string ends before it. */
  | "missing_hash"
  /** The event names another previous hash than the previous event's. */
  | "prev_mismatch"
  /** The event's hash is not SHA-256(prev + canonical event): its content changed. */
  | "hash_mismatch"
  /** The event at a recorded checkpoint has another hash than the one recorded. */
  | "checkpoint_mismatch"
  /** The log ends before its head, or before a recorded checkpoint. */
  | "truncated"
  /** The head's hash is not the hash of the event at the head's seq. */
  | "head_mismatch";

/** The first place where the log is not the one that was written. */
export interface ChainBreak {
  /** The seq where the break is: the first event (or missing event) that does not verify. */
  seq: number;
  kind: BreakKind;
  /** What is wrong, for a human. */
  message: string;
  expected?: string | number;
  found?: string | number;
}

/** Where verification starts and what it must agree with. */
export interface VerifyOptions {
  /** Start after this checkpoint instead of at genesis. */
  from?: Checkpoint;
  /** Checkpoints recorded earlier: the events at their seqs must have their hashes. */
  checkpoints?: Checkpoint[];
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Checks events one at a time, in log order. After the first break it stops checking (every
 * later link depends on the broken one) and only counts.
 *
 * @example
 * ```ts
 * const verifier = new ChainVerifier({ checkpoints: [recorded] });
 * for (const event of events) verifier.check(event);
 * const broken = verifier.finish(await store.head());
 * ```
 */
export class ChainVerifier {
  #expected: number;
  #prev: string;
  #lastAt: string | null;
  #checkpoints: Map<number, string>;
  #break: ChainBreak | null = null;
  #verified = 0;
  readonly from: Checkpoint;

  constructor(options: VerifyOptions = {}) {
    this.from = options.from ?? { seq: 0, hash: GENESIS };
    this.#expected = this.from.seq + 1;
    this.#prev = this.from.hash;
    this.#lastAt = this.from.at ?? null;
    this.#checkpoints = new Map();
    for (const point of options.checkpoints ?? []) {
      const known = this.#checkpoints.get(point.seq);
      if (known !== undefined && known !== point.hash) {
        throw new Error(`two different hashes recorded for checkpoint seq ${point.seq}`);
      }
      this.#checkpoints.set(point.seq, point.hash);
    }
    const at = this.#checkpoints.get(this.from.seq);
    if (at !== undefined && at !== this.from.hash) {
      this.#fail({
        seq: this.from.seq,
        kind: "checkpoint_mismatch",
        message: `the starting point and a recorded checkpoint disagree about seq ${this.from.seq}`,
        expected: at,
        found: this.from.hash,
      });
    }
  }

  /** The first break found so far, or `null`. */
  get broken(): ChainBreak | null {
    return this.#break;
  }

  /** Events verified (up to the first break). */
  get verified(): number {
    return this.#verified;
  }

  /** The last verified point of the chain (the starting point before any event). */
  get last(): Checkpoint {
    return { seq: this.#expected - 1, hash: this.#prev, at: this.#lastAt };
  }

  /**
   * Checks the next event; `false` once the chain is broken. `canonical`, when the caller has
   * it already, is `canonicalEvent(event)` (then the event's type and data are not read).
   */
  check(event: StoredEvent, canonical?: string): boolean {
    if (this.#break) return false;
    const seq = this.#expected;
    if (
      typeof event !== "object" || event === null || !Number.isSafeInteger(event.seq) ||
      typeof event.type !== "string" || typeof event.at !== "string" ||
      typeof event.hash !== "string" || typeof event.id !== "string"
    ) {
      return this.#fail({
        seq,
        kind: "malformed",
        message: `the entry after seq ${seq - 1} is not an event (seq, id, type, at, hash)`,
      });
    }
    if (event.seq > seq) {
      return this.#fail({
        seq,
        kind: "gap",
        message: event.seq === seq + 1
          ? `event ${seq} is missing: seq ${seq - 1} is followed by ${event.seq}`
          : `events ${seq}..${event.seq - 1} are missing: seq ${
            seq - 1
          } is followed by ${event.seq}`,
        expected: seq,
        found: event.seq,
      });
    }
    if (event.seq < seq) {
      return this.#fail({
        seq: seq - 1,
        kind: "unexpected_entry",
        message: `an entry with seq ${event.seq} (id ${event.id}) follows seq ${seq - 1}: ` +
          `entries were inserted or reordered`,
        expected: seq,
        found: event.seq,
      });
    }
    if (event.id !== `${seq}-0`) {
      return this.#fail({
        seq,
        kind: "bad_id",
        message: `event ${seq} has entry id ${event.id}, not ${seq}-0`,
        expected: `${seq}-0`,
        found: event.id,
      });
    }
    if (event.prev !== this.#prev && isChainHash(event.hash)) {
      return this.#fail({
        seq,
        kind: "prev_mismatch",
        message: `event ${seq} names a previous hash that is not the hash of event ${seq - 1}`,
        expected: this.#prev,
        found: String(event.prev),
      });
    }
    const hash = linkHash(this.#prev, canonical ?? canonicalEvent(event));
    if (hash !== event.hash && !isChainHash(event.hash)) {
      // Classified only on a mismatch: a format test per event costs more than the hash compare.
      return this.#fail({
        seq,
        kind: "missing_hash",
        message: `event ${seq} has no recorded hash: its chain string was cut, deleted or ` +
          `overwritten before it`,
        found: event.hash,
      });
    }
    if (hash !== event.hash) {
      return this.#fail({
        seq,
        kind: "hash_mismatch",
        message: `event ${seq} does not hash to its recorded hash: its content (type, at or ` +
          `data) changed, or it was rewritten together with the events before it`,
        expected: hash,
        found: event.hash,
      });
    }
    const recorded = this.#checkpoints.get(seq);
    if (recorded !== undefined && recorded !== hash) {
      return this.#fail({
        seq,
        kind: "checkpoint_mismatch",
        message: `event ${seq} has another hash than the checkpoint recorded: the log was ` +
          `rewritten at or before seq ${seq}`,
        expected: recorded,
        found: hash,
      });
    }
    this.#prev = hash;
    this.#lastAt = event.at;
    this.#expected = seq + 1;
    this.#verified++;
    return true;
  }

  /** Records a break found outside `check` (e.g. an entry the reader could not parse). */
  fail(broken: ChainBreak): false {
    return this.#break ? false : this.#fail(broken);
  }

  /**
   * Checks the end: the last event is the head (when the head is given; a head beyond the
   * last event means the tail is missing) and no recorded checkpoint lies beyond the end.
   * Returns the first break, or `null` when everything verified.
   */
  finish(head?: LogHead): ChainBreak | null {
    if (this.#break) return this.#break;
    const last = this.#expected - 1;
    if (head && head.seq < last) {
      this.#fail({
        seq: head.seq + 1,
        kind: "truncated",
        message: `the log's head is at seq ${head.seq}, before seq ${last} where verification ` +
          `started or got to: events ${head.seq + 1}..${last} are gone`,
        expected: last,
        found: head.seq,
      });
    } else if (head && head.seq > last) {
      this.#fail({
        seq: last + 1,
        kind: "truncated",
        message: `the log ends at seq ${last} but its head is at seq ${head.seq}: ` +
          `events ${last + 1}..${head.seq} are missing`,
        expected: head.seq,
        found: last,
      });
    } else if (head && head.seq === last && head.seq > 0 && head.hash !== this.#prev) {
      this.#fail({
        seq: last,
        kind: "head_mismatch",
        message: `the head records another hash for seq ${last} than the event has: ` +
          `the log was rewritten at or before seq ${last}`,
        expected: head.hash,
        found: this.#prev,
      });
    }
    if (this.#break) return this.#break;
    const beyond = [...this.#checkpoints.keys()].filter((seq) => seq > last).sort((a, b) => a - b);
    if (beyond.length > 0) {
      this.#fail({
        seq: last + 1,
        kind: "truncated",
        message: `a checkpoint was recorded at seq ${beyond[0]} but the log ends at seq ${last}: ` +
          `its tail was cut${head && head.seq === last ? " and its head rewritten" : ""}`,
        expected: beyond[0],
        found: last,
      });
    }
    return this.#break;
  }

  /** Checkpoints this run could not check because they lie before its starting point. */
  uncheckedCheckpoints(): number[] {
    return [...this.#checkpoints.keys()].filter((seq) => seq < this.from.seq).sort((a, b) => a - b);
  }

  #fail(broken: ChainBreak): false {
    this.#break = broken;
    return false;
  }
}

/**
 * The break where a reader stopped: the entry after seq `after` could not be parsed.
 *
 * @example
 * ```ts
 * verifier.fail(unreadableEntry(41, "Unexpected token"));
 * ```
 */
export function unreadableEntry(after: number, error: string): ChainBreak {
  return {
    seq: after + 1,
    kind: "malformed",
    message: `the entry after seq ${after} cannot be read: ${error}`,
  };
}

/** Whether `text` is a chain hash (64 lowercase hex characters). */
export function isChainHash(text: unknown): text is string {
  return typeof text === "string" && HEX64.test(text);
}
