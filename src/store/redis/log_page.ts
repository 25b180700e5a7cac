/**
 * A page of the Redis log as stored, turned into events: its stream entries (XRANGE replies)
 * and the stored hashes of its chain strings (GETRANGE replies). `RedisStore.readEvents` and
 * the parallel audit's verifying worker both read pages with it, so they read an entry alike.
 *
 * @module
 */
import type { StoredEvent } from "../../ledger/events.ts";
import { readEntry } from "./entry.ts";
import { IsoTimes } from "./iso_time.ts";
import { fromStoredHash, STORED_HASH_LENGTH as W } from "./stored_hash.ts";

/** A stream entry as XRANGE returns it without deserialization: id and field/value pairs. */
export type RawEntry = [string, string[]];

/** The stored hashes of events `after+1 ..`, as read from one or more chain strings. */
export interface ChainPieces {
  /** Seq before the first piece. */
  after: number;
  /** The hash of event `after` in hex (`GENESIS` for 0, `""` when it has none). */
  first: string;
  /** Each chain string's part: the seq of its first hash, and the hashes as stored. */
  pieces: { from: number; hashes: string }[];
}

/** Events read from a page, up to the first entry that cannot be read. */
export interface PageEvents {
  events: StoredEvent[];
  /** The first entry whose data or time does not decode; the events stop before it. */
  error: SyntaxError | null;
}

/**
 * What a log entry that is not one (fields other than `e`, no type or time) reads as: an event
 * of no known type, with no time and no data, which verification reports as malformed.
 */
const MALFORMED = { type: "", a: "", data: null };

/**
 * Reads the entries of a page (one list per segment it spans, in order) as events, with their
 * `prev` and `hash` from `chain` (both `""` without it).
 *
 * @example
 * ```ts
 * const { events, error } = pageEvents([await xrange(...)], chainPieces);
 * if (error) throw error;
 * ```
 */
export function pageEvents(entries: RawEntry[][], chain: ChainPieces | null): PageEvents {
  const hashOf = chain ? chainLookup(chain) : () => "";
  const events: StoredEvent[] = [];
  const times = new IsoTimes();
  // The previous entry's hash, so consecutive events decode each stored hash once.
  let lastSeq = chain?.after ?? -1;
  let lastHash = chain?.first ?? "";
  try {
    for (const segment of entries) {
      for (const [id, fields] of segment) {
        const { type, a, data } = readEntry(fields) ?? MALFORMED;
        const seq = Number(id.slice(0, id.indexOf("-")));
        const ms = Number(a);
        if (!Number.isSafeInteger(ms) || Math.abs(ms) > 8.64e15) {
          throw new SyntaxError(`the time of entry ${id} is not epoch milliseconds`);
        }
        const at = times.format(ms);
        const prev = seq - 1 === lastSeq ? lastHash : hashOf(seq - 1);
        const hash = hashOf(seq);
        events.push({ id, seq, type, at, data, prev, hash } as StoredEvent);
        lastSeq = seq;
        lastHash = hash;
      }
    }
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return { events, error: err };
  }
  return { events, error: null };
}

/**
 * The hex hash of any seq the pieces cover (`""` for one they do not).
 *
 * @example
 * ```ts
 * const hashOf = chainLookup(await store.readChain(0, 100));
 * hashOf(0); // GENESIS
 * ```
 */
export function chainLookup({ after, first, pieces }: ChainPieces): (seq: number) => string {
  return (seq) => {
    if (seq === after) return first;
    const piece = pieces.findLast((c) => c.from <= seq);
    if (!piece) return "";
    const at = (seq - piece.from) * W;
    return fromStoredHash(piece.hashes.slice(at, at + W));
  };
}
