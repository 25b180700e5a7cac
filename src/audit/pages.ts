/**
 * Reads the log in pages with a few pages in flight, so the network and the verifier overlap,
 * in memory bounded by `pageSize * inFlight` whatever the log's length.
 *
 * A page the store cannot parse (an entry whose data is not JSON) is split until the one
 * unreadable entry is found, so a reader reports exactly where the log is malformed.
 *
 * @module
 */
import type { StoredEvent } from "../ledger/events.ts";
import type { LedgerStore } from "../ledger/store.ts";

/** A run of consecutive log entries, or the entry where reading stopped. */
export interface LogChunk {
  events: StoredEvent[];
  /** Set when the entry after `after` could not be read; nothing follows in this source. */
  unreadable?: { after: number; error: string };
}

/** Which part of the log to read and how. */
export interface PageOptions {
  /** Read events with seq > after. */
  after: number;
  /** ... up to and including this seq (usually the head's seq when reading started). */
  to: number;
  /** Events per page (default 2,000). */
  pageSize?: number;
  /** Pages requested at once (default 4). */
  inFlight?: number;
}

/** Default events per page read. */
export const PAGE_SIZE = 2_000;
/** Default pages in flight. */
export const PAGES_IN_FLIGHT = 4;

/**
 * Yields the events `after+1 .. to` in order, in pages, reading ahead.
 *
 * @example
 * ```ts
 * for await (const chunk of logPages(store, { after: 0, to: (await store.head()).seq })) {
 *   for (const event of chunk.events) verifier.check(event);
 * }
 * ```
 */
export async function* logPages(
  store: Pick<LedgerStore, "readEvents">,
  options: PageOptions,
): AsyncGenerator<LogChunk> {
  const pageSize = Math.max(1, options.pageSize ?? PAGE_SIZE);
  const inFlight = Math.max(1, options.inFlight ?? PAGES_IN_FLIGHT);
  const queue: Promise<LogChunk>[] = [];
  let next = options.after;
  const request = () => {
    const limit = Math.min(pageSize, options.to - next);
    const page = readRange(store, next, limit);
    page.catch(() => {}); // surfaced when awaited; never an unhandled rejection meanwhile
    queue.push(page);
    next += limit;
  };
  while (next < options.to || queue.length > 0) {
    while (queue.length < inFlight && next < options.to) request();
    const chunk = await queue.shift()!;
    yield chunk;
    if (chunk.unreadable) return;
  }
}

/** One page; a page that does not parse is bisected down to the entry that does not. */
async function readRange(
  store: Pick<LedgerStore, "readEvents">,
  after: number,
  limit: number,
): Promise<LogChunk> {
  try {
    return { events: await store.readEvents(after, limit) };
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    if (limit <= 1) return { events: [], unreadable: { after, error: err.message } };
    const half = Math.floor(limit / 2);
    const first = await readRange(store, after, half);
    if (first.unreadable) return first;
    const second = await readRange(store, after + half, limit - half);
    return { events: [...first.events, ...second.events], unreadable: second.unreadable };
  }
}
