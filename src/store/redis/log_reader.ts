/**
 * Reading the log as stored: its layout (events per segment stream, hashes per chain string),
 * the head, stream entries and chain hashes, with plain XRANGEs, GETRANGEs and HMGETs. Redis
 * spends far less time on those than on a script reshaping the same data.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { GENESIS } from "../../chain/chain.ts";
import type { LogHead, StoredEvent } from "../../ledger/events.ts";
import type { LedgerKeys } from "./keys.ts";
import { type ChainPieces, pageEvents, type RawEntry } from "./log_page.ts";
import type { Sealer } from "./sealer.ts";
import { fromStoredHash, STORED_HASH_LENGTH as W } from "./stored_hash.ts";

/**
 * Events per segment stream and hashes per chain string.
 *
 * @example
 * ```ts
 * const { seg, chunk }: LogLayout = { seg: 100_000, chunk: 1_500 };
 * ```
 */
export interface LogLayout {
  seg: number;
  chunk: number;
}

/**
 * Reads one ledger's log.
 *
 * @example
 * ```ts
 * const reader = new LogReader(redis, ledgerKeys(prefix), sealer);
 * const events = await reader.readEvents(0, 100);
 * ```
 */
export class LogReader {
  readonly #redis: Redis;
  readonly #keys: LedgerKeys;
  readonly #sealer: Sealer;
  #layout: LogLayout | null = null;

  constructor(redis: Redis, keys: LedgerKeys, sealer: Sealer) {
    this.#redis = redis;
    this.#keys = keys;
    this.#sealer = sealer;
  }

  /** Sealed events `after+1 ..`, at most `limit`, sealing what is pending first. */
  async readEvents(after: number, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return [];
    // Only sealed events are read: they are the ones with a hash. Seal what is pending first.
    if (after + limit > this.#sealer.known.seq) await this.#sealer.seal();
    const last = Math.min(after + limit, this.#sealer.known.seq);
    if (last <= after) return [];
    // One XRANGE per segment and one GETRANGE per chain string the page spans, sent together
    // (the client auto-pipelines).
    const [entries, chain] = await Promise.all([
      this.readEntries(after, last),
      this.readChain(after, last),
    ]);
    const { events, error } = pageEvents(entries, chain);
    if (error) throw error;
    return events;
  }

  /**
   * The stream entries of events `after+1 .. to` as stored, one list per segment (no hashes:
   * see `readChain`); `to` must be sealed.
   */
  async readEntries(after: number, to: number): Promise<RawEntry[][]> {
    const layout = await this.layout();
    if (layout === null || to <= after) return [];
    return await Promise.all(this.segmentRanges(layout.seg, after + 1, to));
  }

  /** The stored chain hashes of events `after .. to` (`after` for the first link's prev). */
  async readChain(after: number, to: number): Promise<ChainPieces> {
    const layout = await this.layout();
    const chain: ChainPieces = { after, first: GENESIS, pieces: [] };
    if (layout === null || to <= after) return chain;
    const { chunk } = layout;
    const pieces: Promise<{ from: number; hashes: string }>[] = [];
    for (let from = after + 1; from <= to;) {
      const last = Math.min(to, (Math.floor((from - 1) / chunk) + 1) * chunk);
      const start = from;
      pieces.push(this.#chainRange(chunk, from, last).then((hashes) => ({ from: start, hashes })));
      from = last + 1;
    }
    // Awaited together: a failed read never leaves the other one's rejection unhandled.
    const [first, read] = await Promise.all([
      after > 0 ? this.#chainRange(chunk, after, after) : null,
      Promise.all(pieces),
    ]);
    chain.pieces = read;
    if (first !== null) chain.first = fromStoredHash(first);
    return chain;
  }

  /** Stream entries `from..to` of segments of `seg` events, one XRANGE per segment they span. */
  segmentRanges(seg: number, from: number, to: number): Promise<RawEntry[]>[] {
    const ranges: Promise<RawEntry[]>[] = [];
    while (from <= to) {
      const segment = Math.floor((from - 1) / seg);
      const end = Math.min(to, (segment + 1) * seg);
      ranges.push(this.#range(segment, from, end));
      from = end + 1;
    }
    return ranges;
  }

  /**
   * Events per segment (fixed by the log's first append) and hashes per chain string (fixed by
   * its first seal); `null` while nothing is sealed.
   */
  async layout(): Promise<LogLayout | null> {
    if (this.#layout === null) {
      const [seg, chunk, sealed] = await this.#redis.hmget(
        this.#keys.head,
        "seg",
        "chunk",
        "sealed",
      ) as unknown as (string | null)[];
      if (seg === null || chunk === null) {
        if (Number(sealed ?? 0) === 0) return null;
        throw new Error("the log is sealed but its head has no chain layout (chunk)");
      }
      this.#layout = { seg: Number(seg), chunk: Number(chunk) };
    }
    return this.#layout;
  }

  /** The sealed head (sealing what is pending first) and the time of the last append. */
  async head(): Promise<LogHead> {
    const sealed = await this.#sealer.seal();
    const at = await this.#redis.hget(this.#keys.head, "at") as string | null;
    return { ...sealed, at: at ? new Date(Number(at)).toISOString() : null };
  }

  /** Events appended but not sealed yet. */
  async unsealed(): Promise<number> {
    const [seq, sealed] = await this.#redis.hmget(
      this.#keys.head,
      "seq",
      "sealed",
    ) as unknown as (string | null)[];
    return Math.max(0, Number(seq ?? 0) - Number(sealed ?? 0));
  }

  /** The stored hashes of events `from..to` (one chain string), concatenated. */
  #chainRange(chunk: number, from: number, to: number): Promise<string> {
    const offset = ((from - 1) % chunk) * W;
    return this.#redis.getrange(
      this.#keys.chain(Math.floor((from - 1) / chunk)),
      offset,
      offset + (to - from + 1) * W - 1,
    ) as Promise<string>;
  }

  /** Stream entries `from..to` of one segment, as Redis returns them. */
  #range(segment: number, from: number, to: number): Promise<RawEntry[]> {
    // The end bound `<to>` means `<to>-<max>`: an entry slipped in as `<to>-1` is read (and
    // caught by verification) instead of falling between two pages.
    return this.#redis.xrange(
      this.#keys.segment(segment),
      `${from}-0`,
      `${to}`,
    ) as unknown as Promise<RawEntry[]>;
  }
}
