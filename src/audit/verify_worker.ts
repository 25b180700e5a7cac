/**
 * The verifying half of a parallel audit (`parallel.ts`), run as a Worker: it receives each
 * page as the main thread read it (usually as the events' canonical texts), reads the page's
 * chain hashes with a reader of its own (opened from the recipe the main thread sends: a worker
 * cannot be handed a client), and checks every link with the same `ChainVerifier` a one-thread
 * audit uses.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import type { LogHead, StoredEvent } from "../ledger/events.ts";
import {
  chainLookup,
  type ChainPieces,
  pageEvents,
  type RawEntry,
} from "../store/redis/log_page.ts";
import type { ChainReader, ChainReaderModule, ChainReaderRecipe } from "./raw_log.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { type ChainBreak, ChainVerifier, unreadableEntry, type VerifyOptions } from "./verify.ts";

/** Messages to the worker, in this order: init, pages, finish. */
export type ToVerifier =
  | { init: { reader: ChainReaderRecipe; verify: VerifyOptions } }
  | { page: VerifierPage }
  | { finish: { head: LogHead | null } };

/**
 * Events `after+1 .. to`. When they are exactly the entries `<seq>-0` .. and all decode (the
 * usual case), their canonical texts and times: the main thread decoded them for its fold, so
 * the worker need not decode them again. Otherwise the entries as read.
 */
export type VerifierPage =
  & { after: number; to: number }
  & ({ canonical: string[]; at: string[] } | { entries: RawEntry[][] });

/** What the verifier holds at the end of a run. */
export interface VerifierState {
  break: ChainBreak | null;
  from: Checkpoint;
  last: Checkpoint;
  verified: number;
  uncheckedCheckpoints: number[];
}

/** Messages from the worker: one `checked` per page, then the `state` after finish. */
export type FromVerifier =
  | { checked: { through: number; broken: boolean } }
  | { state: VerifierState }
  | { failed: string };

let reader: Promise<ChainReader> | null = null;
let verifier: ChainVerifier | null = null;
/** Pages are verified one after another; their chain hashes are read as soon as they arrive. */
let queue: Promise<void> = Promise.resolve();

const post = (message: FromVerifier) => self.postMessage(message);

self.onmessage = ({ data }: MessageEvent<ToVerifier>) => {
  if ("init" in data) {
    const { module, options } = data.init.reader;
    reader = import(module).then((m: ChainReaderModule) => m.openChainReader(options));
    reader.catch(() => {}); // surfaced by the first page's read, in order
    verifier = new ChainVerifier(data.init.verify);
    return;
  }
  if ("page" in data) {
    const { page } = data;
    const chain = reader!.then((r) => r.readChain(page.after, page.to));
    chain.catch(() => {}); // surfaced in order, by the queue
    queue = queue.then(() => verifyPage(page, chain)).catch(fail);
    return;
  }
  const { head } = data.finish;
  queue = queue.then(() => {
    const v = verifier!;
    const broken = v.finish(head ?? undefined);
    post({
      state: {
        break: broken,
        from: v.from,
        last: v.last,
        verified: v.verified,
        uncheckedCheckpoints: v.uncheckedCheckpoints(),
      },
    });
  }).catch(fail);
};

function fail(err: unknown) {
  post({ failed: err instanceof Error ? err.message : String(err) });
}

async function verifyPage(page: VerifierPage, chain: Promise<ChainPieces>) {
  const v = verifier!;
  if ("entries" in page) {
    const { events, error } = pageEvents(page.entries, await chain);
    for (const event of events) v.check(event);
    if (error) v.fail(unreadableEntry(page.after + events.length, error.message));
  } else {
    const hashOf = chainLookup(await chain);
    let prev = hashOf(page.after);
    for (let i = 0; i < page.canonical.length; i++) {
      const seq = page.after + 1 + i;
      const hash = hashOf(seq);
      // Type and data are in the canonical text, which is all the check hashes.
      const event = { id: `${seq}-0`, seq, type: "", at: page.at[i], data: null, prev, hash };
      v.check(event as unknown as StoredEvent, page.canonical[i]);
      prev = hash;
    }
  }
  post({ checked: { through: page.to, broken: v.broken !== null } });
}
