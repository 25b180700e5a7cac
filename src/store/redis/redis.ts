/**
 * The Redis store, through `@upstash/redis` (the client that runs on Deno Deploy). Every write
 * is one Lua script call that appends its events and updates the projection atomically.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { canonicalEventText, canonicalJson, GENESIS } from "../../chain/chain.ts";
import { PAGES_IN_FLIGHT } from "../../audit/pages.ts";
import type { Credit, CreditInput, CreditView } from "../../ledger/credit_rules.ts";
import { viewOf } from "../../ledger/credit_rules.ts";
import type { CreditKind, LedgerEvent, LogHead, StoredEvent } from "../../ledger/events.ts";
import { applyEvent, type ProjectionState } from "../../ledger/projection.ts";
import {
  BROADCAST_STATE_TTL_MS,
  type BroadcastTally,
  type DeliveryOutcome,
  LOST_DELIVERY,
  parseTally,
  STATE_LETTER,
  type TakeRequest,
  type TakeResult,
  tallyField,
} from "../../ledger/delivery.ts";
import { type EncodedEntry, encodeEntry, readEntry } from "./entry.ts";
import { type ChainPieces, pageEvents, type RawEntry } from "./log_page.ts";
import { ledgerKeys } from "./keys.ts";
import { SCRIPTS } from "./scripts.ts";
import { CHAIN_CHUNK, Sealer } from "./sealer.ts";
import { fromStoredHash, STORED_HASH_LENGTH as W } from "./stored_hash.ts";
import { upstashClient } from "../../shared/upstash_client.ts";
import {
  type CollectRequest,
  type CollectResult,
  type ConsumeRequest,
  type LedgerStore,
  type ProjectionPage,
  type RebuildResult,
  RebuildRunningError,
  type ReleaseRequest,
  type UserPage,
} from "../../ledger/store.ts";

/** Users index score of a credit that never expires (9999-12-31), as in lib.lua. */
const NO_EXPIRY_SCORE = 253402300799999;
const KIND_LETTER: Record<CreditKind, string> = { form: "f", prepay: "p", subscribe: "s" };
const LETTER_KIND: Record<string, CreditKind> = { f: "form", p: "prepay", s: "subscribe" };
/** Script calls in flight at once while writing a rebuilt projection. */
const WRITES_IN_FLIGHT = 8;
/** Users whose keys one call unlinks while dropping an old projection. */
const DROP_PAGE = 5_000;
/** Users per pipeline while writing a rebuilt projection. */
const USERS_PER_WRITE = 1_000;
/** How long a rebuild's lock lasts if its process dies without releasing it (30 min). */
const REBUILD_LOCK_MS = 30 * 60_000;
/** Events per page while folding the log. */
const FOLD_PAGE = 4_000;
/** The event types that change a projection; a rebuild does not decode the others. */
const FOLDED_TYPES = new Set(["FormIdCollected", "FormIdConsumed", "FormIdReleased"]);

/** One line about an error, without a stack. */
function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : typeof err;
}

/** The scripts that append to the log. */
type WritingScript = "collect" | "consume" | "release" | "append" | "take" | "record";

/** A loaded Lua script: EVALSHA, falling back to EVAL on NOSCRIPT. */
interface LuaScript {
  exec(keys: string[], args: string[]): Promise<unknown>;
}

/** How to reach Redis and where the ledger lives in it. */
export interface RedisStoreOptions {
  url: string;
  token: string;
  prefix: string;
  /** Events per log segment stream; only the first append of a new log decides it. */
  segmentEvents: number;
  /** Hashes per chain string (default {@link CHAIN_CHUNK}); only the first seal decides it. */
  chainChunk?: number;
  /** Deadline of one request in ms (default `UPSTASH_TIMEOUT_MS`, 10 s). */
  timeoutMs?: number;
}

/**
 * Creates a Redis store on `redis`, the process's shared client (by default a client of its own,
 * opened from `options` with `upstashClient`).
 *
 * @example
 * ```ts
 * const store = createRedisStore({ url, token, prefix: "ledger", segmentEvents: 100_000 }, redis);
 * ```
 */
export function createRedisStore(
  options: RedisStoreOptions,
  redis: Redis = upstashClient(options, options.timeoutMs),
): RedisStore {
  return new RedisStore(redis, options.prefix, options.segmentEvents, options.chainChunk);
}

/** The ledger store on Redis Streams and hashes. */
export class RedisStore implements LedgerStore {
  readonly kind = "redis" as const;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #segmentEvents: number;
  readonly #keys: ReturnType<typeof ledgerKeys>;
  readonly #scripts: Record<keyof typeof SCRIPTS, LuaScript>;
  readonly #sealer: Sealer;
  #layout: { seg: number; chunk: number } | null = null;

  constructor(redis: Redis, prefix: string, segmentEvents: number, chainChunk = CHAIN_CHUNK) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#segmentEvents = segmentEvents;
    this.#keys = ledgerKeys(prefix);
    this.#scripts = Object.fromEntries(
      Object.entries(SCRIPTS).map(([name, src]) => [name, redis.createScript(src)]),
    ) as unknown as Record<keyof typeof SCRIPTS, LuaScript>;
    this.#sealer = new Sealer(this.#keys.head, prefix, this.#scripts, chainChunk);
  }

  async collect(openId: string, credits: CreditInput[], now: number): Promise<CollectResult> {
    const [result] = await this.collectMany([{ openId, credits }], now);
    return result;
  }

  async collectMany(uploads: CollectRequest[], now: number): Promise<CollectResult[]> {
    if (uploads.length === 0) return [];
    const args: string[] = [];
    const data: string[] = [];
    for (const { openId, credits } of uploads) {
      args.push(openId, String(credits.length));
      for (const credit of credits) {
        const collected = collectedData(openId, credit);
        // The canonical JSON is what the chain hashes; the entry stores the compact form.
        data.push(canonicalJson(collected));
        const { t, d } = encodeEntry("FormIdCollected", collected);
        args.push(
          credit.formId,
          creditValue(credit),
          String(credit.expiresAt ?? NO_EXPIRY_SCORE),
          t,
          d,
        );
      }
    }
    const reply = await this.#exec<(number | string)[]>("collect", now, args);
    // The new events are known here: seal them from the head the script saw, no read back.
    const at = new Date(now).toISOString();
    const appended: { seq: number; canonical: string }[] = [];
    for (let i = 0; i < data.length; i++) {
      const seq = Number(reply[i + 2]);
      if (seq > 0) {
        appended.push({ seq, canonical: canonicalEventText(seq, "FormIdCollected", at, data[i]) });
      }
    }
    const sealed = { seq: Number(reply[0]), hash: String(reply[1]) || GENESIS };
    await this.#sealAfter("collect", () => this.#sealer.sealAppended(sealed, appended));
    let i = 2;
    return uploads.map(({ credits }) => {
      const result: CollectResult = { accepted: [], duplicates: [] };
      for (const { formId } of credits) {
        (Number(reply[i++]) > 0 ? result.accepted : result.duplicates).push(formId);
      }
      return result;
    });
  }

  async consume(openId: string, request: ConsumeRequest, now: number): Promise<Credit | null> {
    const kinds = request.kinds ??
      (request.templateId === undefined ? ["form", "prepay"] : ["form", "prepay", "subscribe"]);
    const taken = await this.#write<[string, string] | null>("consume", now, [
      openId,
      request.templateId ?? "",
      kinds.map((k) => KIND_LETTER[k]).join(""),
      request.pushId,
    ]);
    if (!taken) return null;
    const credit = parseCredit(taken[0], taken[1]);
    return { ...credit, uses: credit.uses - 1 };
  }

  async release(openId: string, { credit, pushId }: ReleaseRequest, now: number): Promise<void> {
    const { t, d } = releasedEntry(openId, pushId, credit);
    await this.#write("release", now, [
      openId,
      credit.formId,
      creditValue({ ...credit, uses: 1 }),
      String(credit.expiresAt ?? NO_EXPIRY_SCORE),
      t,
      d,
    ]);
  }

  async append(events: LedgerEvent[], now: number): Promise<number[]> {
    if (events.length === 0) return [];
    const args = events.flatMap(entryArgs);
    const seqs = await this.#write<number[]>("append", now, args);
    return seqs.map(Number);
  }

  async takeMany(request: TakeRequest, now: number): Promise<TakeResult[]> {
    if (request.deliveries.length === 0) return [];
    const kinds = request.kinds ??
      (request.templateId === undefined ? ["form", "prepay"] : ["form", "prepay", "subscribe"]);
    const id = request.broadcastId;
    const flat = await this.#write<string[]>("take", now, [
      id ? this.#keys.broadcastState(id) : "",
      id ? this.#keys.broadcastTally(id) : "",
      String(BROADCAST_STATE_TTL_MS),
      id ?? "",
      LOST_DELIVERY.errmsg,
      request.templateId ?? "",
      kinds.map((k) => KIND_LETTER[k]).join(""),
      ...request.deliveries.flatMap((d) => [d.openId, d.pushId]),
    ]);
    const results: TakeResult[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      const [code, formId, value] = [flat[i], flat[i + 1], flat[i + 2]];
      if (code === "t") {
        const credit = parseCredit(formId, value);
        results.push({ status: "taken", credit: { ...credit, uses: credit.uses - 1 } });
      } else if (code === "l") results.push({ status: "lost", formId });
      else results.push({ status: code === "d" ? "done" : "none" });
    }
    return results;
  }

  async recordMany(
    broadcastId: string | undefined,
    outcomes: DeliveryOutcome[],
    now: number,
  ): Promise<void> {
    if (outcomes.length === 0) return;
    const args: string[] = [
      broadcastId ? this.#keys.broadcastState(broadcastId) : "",
      broadcastId ? this.#keys.broadcastTally(broadcastId) : "",
      String(BROADCAST_STATE_TTL_MS),
    ];
    for (const o of outcomes) {
      const c = o.credit;
      args.push(
        o.openId,
        c ? `t|${c.formId}` : "",
        o.state ? STATE_LETTER[o.state] : "",
        tallyField(o.state),
        o.state === "failed" && o.errcode !== undefined ? String(o.errcode) : "",
      );
      if (o.release && c) {
        const { t, d } = releasedEntry(o.openId, o.pushId, c);
        args.push(
          c.formId,
          creditValue({ ...c, uses: 1 }),
          String(c.expiresAt ?? NO_EXPIRY_SCORE),
          t,
          d,
        );
      } else args.push("", "", "", "", "");
      args.push(String(o.events.length), ...o.events.flatMap(entryArgs));
    }
    await this.#write("record", now, args);
  }

  async tally(broadcastId: string): Promise<BroadcastTally> {
    const flat = await this.#scripts.tally.exec(
      [this.#keys.broadcastTally(broadcastId)],
      [],
    ) as string[];
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
    return parseTally(fields);
  }

  async view(openId: string, now: number): Promise<CreditView> {
    const flat = await this.#scripts.view.exec([this.#keys.projection], [this.#prefix, openId]);
    return viewOf(parseCredits(flat as string[]), now);
  }

  async users(cursor: string, count: number, now: number): Promise<UserPage> {
    const page = await this.#scripts.users.exec(
      [this.#keys.projection],
      [this.#prefix, cursor, String(count)],
    ) as string[];
    const openIds: string[] = [];
    for (let i = 1; i < page.length; i += 2) {
      if (Number(page[i + 1]) > now) openIds.push(page[i]);
    }
    return { cursor: String(page[0]), openIds };
  }

  async projectionPage(cursor: string, count: number, now: number): Promise<ProjectionPage> {
    const page = await this.#scripts.projection.exec(
      [this.#keys.projection],
      [this.#prefix, cursor, String(count), String(now)],
    ) as unknown[];
    const users = [];
    for (let i = 1; i < page.length; i += 2) {
      users.push({ openId: String(page[i]), credits: parseCredits(page[i + 1] as string[]) });
    }
    return { cursor: String(page[0]), users };
  }

  async readEvents(after: number, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return [];
    // Only sealed events are read: they are the ones with a hash. Seal what is pending first.
    if (after + limit > this.#sealer.known.seq) await this.#sealer.seal();
    const last = Math.min(after + limit, this.#sealer.known.seq);
    if (last <= after) return [];
    // Plain XRANGEs and GETRANGEs, one per segment and chain string the page spans, sent
    // together (the client auto-pipelines): Redis spends far less time on them than on a
    // reshaping script.
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
   * see `readChain`). For readers that split reading and verifying, as the parallel audit does;
   * `to` must be sealed (`head()` seals).
   */
  async readEntries(after: number, to: number): Promise<RawEntry[][]> {
    const layout = await this.#logLayout();
    if (layout === null || to <= after) return [];
    return await Promise.all(this.#segmentRanges(layout.seg, after + 1, to));
  }

  /** The stored chain hashes of events `after .. to` (`after` for the first link's prev). */
  async readChain(after: number, to: number): Promise<ChainPieces> {
    const layout = await this.#logLayout();
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

  /** The stored hashes of events `from..to` (one chain string), concatenated. */
  #chainRange(chunk: number, from: number, to: number): Promise<string> {
    const offset = ((from - 1) % chunk) * W;
    return this.#redis.getrange(
      this.#keys.chain(Math.floor((from - 1) / chunk)),
      offset,
      offset + (to - from + 1) * W - 1,
    ) as Promise<string>;
  }

  /** Stream entries `from..to`, one XRANGE per segment they span. */
  #segmentRanges(seg: number, from: number, to: number): Promise<RawEntry[]>[] {
    const ranges: Promise<RawEntry[]>[] = [];
    while (from <= to) {
      const segment = Math.floor((from - 1) / seg);
      const end = Math.min(to, (segment + 1) * seg);
      ranges.push(this.#range(segment, from, end));
      from = end + 1;
    }
    return ranges;
  }

  /** Stream entries `from..to` of one segment, as Redis returns them. */
  #range(segment: number, from: number, to: number): Promise<RawEntry[]> {
    // The end bound `<to>` means `<to>-<max>`: an entry slipped in as `<to>-1` is read (and
    // caught by verification) instead of falling between two pages.
    return this.#redis.xrange(
      this.#keys.segment(segment),
      `${from}-0`,
      `${to}`,
    ) as unknown as Promise<
      RawEntry[]
    >;
  }

  /**
   * Events per segment (fixed by the log's first append) and hashes per chain string (fixed by
   * its first seal); `null` while nothing is sealed.
   */
  async #logLayout(): Promise<{ seg: number; chunk: number } | null> {
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

  async head(): Promise<LogHead> {
    const sealed = await this.#sealer.seal();
    const at = await this.#redis.hget(this.#keys.head, "at") as string | null;
    return { ...sealed, at: at ? new Date(Number(at)).toISOString() : null };
  }

  async unsealed(): Promise<number> {
    const [seq, sealed] = await this.#redis.hmget(this.#keys.head, "seq", "sealed") as unknown as (
      | string
      | null
    )[];
    return Math.max(0, Number(seq ?? 0) - Number(sealed ?? 0));
  }

  async rebuild(now: number): Promise<RebuildResult> {
    // One rebuild at a time: two would each drop the projection they started from, and the
    // loser's version would be left behind.
    const token = crypto.randomUUID();
    const lock = this.#keys.rebuildLock;
    const locked = await this.#redis.set(lock, token, { nx: true, px: REBUILD_LOCK_MS });
    if (locked !== "OK") throw new RebuildRunningError();
    const version = String(await this.#redis.incr(this.#keys.projectionCounter));
    let live = false;
    try {
      const old = (await this.#redis.get<string>(this.#keys.projection)) ?? "0";
      const state: ProjectionState = new Map();
      let covered = await this.#fold(state, 0, (await this.head()).seq);
      await this.#writeUsers(version, state, state.keys(), now, true);
      for (;;) {
        const moved = Number(
          await this.#scripts.swap.exec(
            [this.#keys.head, this.#keys.projection],
            [String(covered), version],
          ),
        );
        if (moved === 0) break;
        // The log grew while we rebuilt: fold the rest and rewrite the users it touched.
        const touched = new Set<string>();
        covered = await this.#fold(state, covered, moved, touched);
        await this.#writeUsers(version, state, touched, now, false);
      }
      live = true;
      await this.#dropProjection(old);
      return { events: covered, users: state.size };
    } finally {
      // A rebuild that failed before its swap leaves no half-written version behind (unless the
      // swap went through and only its answer was lost: then the version is live, and stays).
      if (!live) {
        const current = await this.#redis.get<string>(this.#keys.projection).catch(() => version);
        if (current !== version) await this.#dropProjection(version).catch(() => {});
      }
      await this.#scripts.unlock.exec([lock], [token]).catch(() => {});
    }
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.#redis.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Runs a writing script and seals its events before answering. */
  async #write<T>(script: WritingScript, now: number, args: string[]): Promise<T> {
    const result = await this.#exec<T>(script, now, args);
    await this.#sealAfter(script, () => this.#sealer.seal());
    return result;
  }

  /** Runs a writing script; every one starts with the arguments lib.lua expects. */
  #exec<T>(script: WritingScript, now: number, args: string[]): Promise<T> {
    return this.#scripts[script].exec(
      [this.#keys.head, this.#keys.projection],
      [
        this.#prefix,
        String(now),
        new Date(now).toISOString(),
        String(this.#segmentEvents),
        ...args,
      ],
    ) as Promise<T>;
  }

  /**
   * The events are in the hash chain before the write is acknowledged. A failed seal does not
   * fail the write (it is done, and a retry would repeat it): any later seal catches up.
   */
  async #sealAfter(script: WritingScript, seal: () => Promise<unknown>): Promise<void> {
    try {
      await seal();
    } catch (err) {
      console.error(`ledger: sealing after ${script} failed: ${errorText(err)}`);
    }
  }

  /**
   * Folds events `after+1 .. to` into `state`; returns the last seq. A rebuild needs the log's
   * content, not its proof: it reads plain XRANGE pages, several in flight, and skips the chain
   * strings and the time of each event (verification is the audit's job).
   */
  async #fold(state: ProjectionState, after: number, to: number, touched?: Set<string>) {
    const seg = (await this.#logLayout())?.seg ?? this.#segmentEvents;
    const pages: { last: number; entries: Promise<RawEntry[][]> }[] = [];
    let requested = after;
    const request = () => {
      const last = Math.min(to, requested + FOLD_PAGE);
      const entries = Promise.all(this.#segmentRanges(seg, requested + 1, last));
      entries.catch(() => {}); // surfaced when awaited
      pages.push({ last, entries });
      requested = last;
    };
    let next = after;
    while (next < to) {
      while (pages.length < PAGES_IN_FLIGHT && requested < to) request();
      const page = pages.shift()!;
      for (const entries of await page.entries) {
        for (const [id, fields] of entries) {
          const seq = Number(id.slice(0, id.indexOf("-")));
          if (seq !== next + 1 || id !== `${seq}-0`) {
            throw new Error(`log entry ${id} where event ${next + 1} belongs`);
          }
          next = seq;
          const entry = readEntry(fields, FOLDED_TYPES);
          if (!entry) throw new Error(`log entry ${id} is not an event`);
          if (entry.data === undefined) continue; // not a type the fold needs
          const event = entry as unknown as LedgerEvent;
          applyEvent(state, event);
          touched?.add((event.data as { openId: string }).openId);
        }
      }
      if (next < page.last) throw new Error(`log ends at ${next}, head ${to}`);
    }
    return next;
  }

  /** Writes the given users of `state` into projection `version`, replacing what was there. */
  async #writeUsers(
    version: string,
    state: ProjectionState,
    openIds: Iterable<string>,
    now: number,
    fresh: boolean,
  ) {
    const inFlight = new Set<Promise<unknown>>();
    let chunk: string[] = [];
    const flush = async () => {
      const sent = this.#writeUserChunk(version, state, chunk, now, fresh);
      chunk = [];
      inFlight.add(sent);
      sent.finally(() => inFlight.delete(sent));
      if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
    };
    for (const openId of openIds) {
      chunk.push(openId);
      if (chunk.length >= USERS_PER_WRITE) await flush();
    }
    if (chunk.length > 0) await flush();
    await Promise.all(inFlight);
  }

  /** One script call writing each user's credits hash and users index entry. */
  #writeUserChunk(
    version: string,
    state: ProjectionState,
    openIds: string[],
    now: number,
    fresh: boolean,
  ): Promise<unknown> {
    const args = [this.#keys.user(version, ""), fresh ? "1" : "0"];
    for (const openId of openIds) {
      const fields: string[] = [];
      let best = 0;
      for (const credit of state.get(openId)?.values() ?? []) {
        if (credit.expiresAt !== null && credit.expiresAt <= now) continue;
        fields.push(credit.formId, creditValue(credit));
        best = Math.max(best, credit.expiresAt ?? NO_EXPIRY_SCORE);
      }
      // A fresh projection version has no keys yet: a user without credits needs nothing.
      if (fresh && best === 0) continue;
      args.push(openId, String(best), String(fields.length / 2), ...fields);
    }
    if (args.length === 2) return Promise.resolve();
    return this.#scripts.writeUsers.exec([this.#keys.users(version)], args);
  }

  /**
   * Unlinks every key of an old projection version (projection keys, never the log): its users'
   * hashes, found through its users index (every script that creates a user's hash adds the
   * user to the index in the same call), then the index. No scan of the whole keyspace.
   */
  async #dropProjection(version: string) {
    const index = this.#keys.users(version);
    for (let start = 0;; start += DROP_PAGE) {
      const openIds = await this.#redis.zrange(index, start, start + DROP_PAGE - 1) as string[];
      if (openIds.length === 0) break;
      await this.#redis.unlink(...openIds.map((openId) => this.#keys.user(version, openId)));
    }
    await this.#redis.unlink(index);
  }
}

/** The stored FormIdReleased giving one use of `credit` back to `openId` after `pushId`. */
function releasedEntry(openId: string, pushId: string, credit: Credit): EncodedEntry {
  const { formId, kind, templateId, expiresAt } = credit;
  return encodeEntry("FormIdReleased", { openId, formId, pushId, kind, templateId, expiresAt });
}

/** An event as the t and d arguments of a writing script. */
function entryArgs(event: LedgerEvent): string[] {
  const { t, d } = encodeEntry(event.type, event.data);
  return [t, d];
}

/**
 * A FormIdCollected's data, its keys already in canonical (sorted) order so that canonicalJson
 * serialises it in one JSON.stringify.
 */
function collectedData(openId: string, credit: CreditInput) {
  const { expiresAt, formId, kind, templateId, uses } = credit;
  return templateId === undefined
    ? { expiresAt, formId, kind, openId, uses }
    : { expiresAt, formId, kind, openId, templateId, uses };
}

function creditValue(credit: Credit): string {
  return `${credit.expiresAt ?? 0}|${credit.uses}|${KIND_LETTER[credit.kind]}|${
    credit.templateId ?? ""
  }`;
}

function parseCredit(formId: string, value: string): Credit {
  const [expires, uses, letter, ...template] = value.split("|");
  const templateId = template.join("|");
  return {
    formId,
    kind: LETTER_KIND[letter],
    ...(templateId ? { templateId } : {}),
    uses: Number(uses),
    expiresAt: Number(expires) === 0 ? null : Number(expires),
  };
}

function parseCredits(flat: string[]): Credit[] {
  const credits: Credit[] = [];
  for (let i = 0; i < flat.length; i += 2) credits.push(parseCredit(flat[i], flat[i + 1]));
  return credits;
}
