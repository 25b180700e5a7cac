/**
 * The port of the parallel audit (`parallel.ts`): what it needs from a log stored as stream
 * entries plus chain strings (the Redis layout), without knowing the store that holds it. The
 * composition root (`backends.ts`) hands it the open store for this thread and a recipe by
 * which the verifying worker opens a reader of its own (a worker cannot be handed a client).
 *
 * @module
 */
import type { LedgerStore } from "../ledger/store.ts";
import type { ChainPieces, RawEntry } from "../store/redis/log_page.ts";

/** The log as this thread reads it: its head, the live projection, and its raw pages. */
export interface RawPageSource extends Pick<LedgerStore, "head" | "projectionPage"> {
  /** The stream entries of events `after+1 .. to` as stored, one list per segment. */
  readEntries(after: number, to: number): Promise<RawEntry[][]>;
}

/** What the verifying worker reads the stored chain hashes with. */
export interface ChainReader {
  /** The stored hashes of events `after .. to` (`after` for the first link's prev). */
  readChain(after: number, to: number): Promise<ChainPieces>;
}

/**
 * How a worker thread opens its own {@link ChainReader}: `module` (a URL) exports
 * `openChainReader(options)`; `options` are plain data (they reach the worker by structured
 * clone), e.g. the store's URL, token and prefix.
 */
export interface ChainReaderRecipe {
  module: string;
  options: unknown;
}

/** What a module named by a {@link ChainReaderRecipe} exports. */
export interface ChainReaderModule {
  openChainReader(options: unknown): ChainReader;
}

/**
 * A log the parallel audit can read: its pages here, its chain from a worker.
 *
 * @example
 * ```ts
 * const log: ParallelLog = { pages: store, reopen: { module: url, options: connection } };
 * const { verify } = await auditRedisInParallel(log, { replay: true });
 * ```
 */
export interface ParallelLog {
  pages: RawPageSource;
  reopen: ChainReaderRecipe;
}
