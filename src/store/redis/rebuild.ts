/**
 * Rebuilding the projection from the log (the owner of swap.lua and write_users.lua): fold the
 * whole log into a new projection version, write it, make it live only if the log has not
 * moved since (else fold the rest and try again), then drop the old version. One rebuild at a
 * time, under a lock released with coordination's delete-if-equals script.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { DELETE_IF_EQUALS_LUA } from "../../coordination/redis.ts";
import type { LedgerEvent } from "../../ledger/events.ts";
import { applyEvent, type ProjectionState } from "../../ledger/projection.ts";
import {
  applySubscriptionEvent,
  emptySubscriptions,
  type SubscriptionProjection,
} from "../../ledger/subscription_state.ts";
import { canonicalJson } from "../../chain/chain.ts";
import { WRITE_SUBS_LUA, writeSubsArgs } from "./write_subs.ts";
import { type RebuildResult, RebuildRunningError } from "../../ledger/store.ts";
import { CREDIT_VALUE_CONSTANTS, creditValue, indexEntry, usersScore } from "./credit_value.ts";
import { readEntry } from "./entry.ts";
import type { LedgerKeys } from "./keys.ts";
import type { LogReader } from "./log_reader.ts";
import type { RawEntry } from "./log_page.ts";
import { loadScript, type LuaScript, scriptSource } from "./scripts.ts";
import type { Sealer } from "./sealer.ts";

/**
 * swap.lua.
 *
 * @example
 * ```ts
 * redis.createScript(SWAP_LUA).exec([keys.head, keys.projection], [String(covered), version]);
 * ```
 */
export const SWAP_LUA = scriptSource(["swap"]);
/**
 * write_users.lua with its prelude and constants.
 *
 * @example
 * ```ts
 * redis.createScript(WRITE_USERS_LUA).exec([keys.users(version)], args);
 * ```
 */
export const WRITE_USERS_LUA = scriptSource(
  ["credit_value", "write_users"],
  CREDIT_VALUE_CONSTANTS,
);
/**
 * drop_users.lua with its prelude and constants.
 *
 * @example
 * ```ts
 * redis.createScript(DROP_USERS_LUA).exec([], [keys.user(version, ""), ...openIds]);
 * ```
 */
export const DROP_USERS_LUA = scriptSource(["credit_value", "drop_users"], CREDIT_VALUE_CONSTANTS);

/** Script calls in flight at once while writing a rebuilt projection. */
const WRITES_IN_FLIGHT = 8;
/** Users whose keys one call unlinks while dropping an old projection. */
const DROP_PAGE = 1_000;
/** Users per script call while writing a rebuilt projection. */
const USERS_PER_WRITE = 1_000;
/** How long a rebuild's lock lasts if its process dies without releasing it (30 min). */
const REBUILD_LOCK_MS = 30 * 60_000;
/** Events per page while folding the log. */
const FOLD_PAGE = 4_000;
/** Pages read ahead while folding the log. */
const FOLD_PAGES_IN_FLIGHT = 4;
/** The event types that change a projection; a rebuild does not decode the others. */
const FOLDED_TYPES = new Set([
  "FormIdCollected",
  "FormIdConsumed",
  "FormIdReleased",
  "CreditsVoided",
  "CreditConfirmed",
  "SubscriptionAnswered",
  "SubscribeSettingsReported",
  "TemplatesSynced",
]);

/** What a rebuild folds the log into: the credits and the subscription state. */
interface Folded {
  credits: ProjectionState;
  subs: SubscriptionProjection;
}

/**
 * Rebuilds one ledger's projection.
 *
 * @example
 * ```ts
 * const rebuilder = new Rebuilder(redis, ledgerKeys(prefix), reader, sealer, 100_000);
 * const { events, users } = await rebuilder.run(Date.now());
 * ```
 */
export class Rebuilder {
  readonly #redis: Redis;
  readonly #keys: LedgerKeys;
  readonly #reader: LogReader;
  readonly #sealer: Sealer;
  readonly #segmentEvents: number;
  readonly #swap: LuaScript;
  readonly #writeUsers: LuaScript;
  readonly #dropUsers: LuaScript;
  readonly #writeSubs: LuaScript;
  readonly #unlock: LuaScript;

  constructor(
    redis: Redis,
    keys: LedgerKeys,
    reader: LogReader,
    sealer: Sealer,
    segmentEvents: number,
  ) {
    this.#redis = redis;
    this.#keys = keys;
    this.#reader = reader;
    this.#sealer = sealer;
    this.#segmentEvents = segmentEvents;
    this.#swap = loadScript(redis, SWAP_LUA);
    this.#writeUsers = loadScript(redis, WRITE_USERS_LUA);
    this.#dropUsers = loadScript(redis, DROP_USERS_LUA);
    this.#writeSubs = loadScript(redis, WRITE_SUBS_LUA);
    this.#unlock = loadScript(redis, DELETE_IF_EQUALS_LUA);
  }

  /** Rebuilds the projection; throws {@link RebuildRunningError} while another one runs. */
  async run(now: number): Promise<RebuildResult> {
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
      // The version keeps the credit index (lib.lua refuses to write to one that does not).
      await this.#redis.set(this.#keys.indexed(version), "1");
      const state: Folded = { credits: new Map(), subs: emptySubscriptions() };
      let covered = await this.#fold(state, 0, (await this.#sealer.seal()).seq);
      const everyone = new Set([...state.credits.keys(), ...state.subs.users.keys()]);
      await this.#write(version, state, everyone, now, true);
      for (;;) {
        const moved = Number(
          await this.#swap.exec(
            [this.#keys.head, this.#keys.projection],
            [String(covered), version],
          ),
        );
        if (moved === 0) break;
        // The log grew while we rebuilt: fold the rest and rewrite the users it touched.
        const touched = new Set<string>();
        covered = await this.#fold(state, covered, moved, touched);
        await this.#write(version, state, touched, now, false);
      }
      live = true;
      await this.#drop(old);
      return { events: covered, users: state.credits.size };
    } finally {
      // A rebuild that failed before its swap leaves no half-written version behind (unless the
      // swap went through and only its answer was lost: then the version is live, and stays).
      if (!live) {
        const current = await this.#redis.get<string>(this.#keys.projection).catch(() => version);
        if (current !== version) await this.#drop(version).catch(() => {});
      }
      await this.#unlock.exec([lock], [token]).catch(() => {});
    }
  }

  /**
   * Folds events `after+1 .. to` into `state`; returns the last seq. A rebuild needs the log's
   * content, not its proof: it reads plain XRANGE pages, several in flight, and skips the chain
   * strings and the time of each event (verification is the audit's job).
   */
  async #fold(state: Folded, after: number, to: number, touched?: Set<string>) {
    const seg = (await this.#reader.layout())?.seg ?? this.#segmentEvents;
    const pages: { last: number; entries: Promise<RawEntry[][]> }[] = [];
    let requested = after;
    const request = () => {
      const last = Math.min(to, requested + FOLD_PAGE);
      const entries = Promise.all(this.#reader.segmentRanges(seg, requested + 1, last));
      entries.catch(() => {}); // surfaced when awaited
      pages.push({ last, entries });
      requested = last;
    };
    let next = after;
    while (next < to) {
      while (pages.length < FOLD_PAGES_IN_FLIGHT && requested < to) request();
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
          applyEvent(state.credits, event);
          applySubscriptionEvent(state.subs, event, Number(entry.a));
          const openId = (event.data as { openId?: string }).openId;
          if (openId !== undefined) touched?.add(openId);
        }
      }
      if (next < page.last) throw new Error(`log ends at ${next}, head ${to}`);
    }
    return next;
  }

  /**
   * Writes the given users of `state` into projection `version`, replacing what was there, and
   * the template registry.
   */
  async #write(
    version: string,
    state: Folded,
    openIds: Iterable<string>,
    now: number,
    fresh: boolean,
  ) {
    const inFlight = new Set<Promise<unknown>>();
    let chunk: string[] = [];
    const flush = async () => {
      const sent = this.#writeChunk(version, state, chunk, now, fresh);
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
    const templates = state.subs.templates;
    if (templates !== null) {
      await this.#redis.set(`${this.#base(version)}tpl`, canonicalJson(templates));
    }
  }

  /** Writes one chunk of users: their credits, then their subscription state. */
  async #writeChunk(
    version: string,
    state: Folded,
    openIds: string[],
    now: number,
    fresh: boolean,
  ): Promise<unknown> {
    // Subscription state after the credits: write_users.lua clears a live version's user keys.
    await this.#writeCredits(version, state.credits, openIds, now, fresh);
    return this.#writeSubscriptions(version, state.subs, openIds, now);
  }

  /** One write_subs.lua call for the users of `openIds` with subscription state. */
  #writeSubscriptions(
    version: string,
    subs: SubscriptionProjection,
    openIds: string[],
    now: number,
  ): Promise<unknown> {
    const args = writeSubsArgs(this.#base(version), subs, openIds, now);
    if (args === null) return Promise.resolve();
    return this.#writeSubs.exec([this.#keys.users(version)], args);
  }

  /** One write_users.lua call writing each user's credits hash, credit index and users entry. */
  #writeCredits(
    version: string,
    state: ProjectionState,
    openIds: string[],
    now: number,
    fresh: boolean,
  ): Promise<unknown> {
    const args = [this.#base(version), fresh ? "1" : "0"];
    for (const openId of openIds) {
      const at = args.length;
      args.push(openId, "", "");
      let best = 0;
      let n = 0;
      for (const credit of state.get(openId)?.values() ?? []) {
        if (credit.expiresAt !== null && credit.expiresAt <= now) continue;
        const { group, score } = indexEntry(credit);
        args.push(credit.formId, creditValue(credit), group, score);
        best = Math.max(best, Number(usersScore(credit)));
        n++;
      }
      // A fresh projection version has no keys yet: a user without credits needs nothing.
      if (fresh && best === 0) args.length = at;
      else [args[at + 1], args[at + 2]] = [String(best), String(n)];
    }
    if (args.length === 2) return Promise.resolve();
    return this.#writeUsers.exec([this.#keys.users(version)], args);
  }

  /** The key prefix of projection `version`: `<prefix>:p<version>:`. */
  #base(version: string): string {
    return this.#keys.user(version, "").slice(0, -"u:".length);
  }

  /**
   * Unlinks every key of an old projection version (projection keys, never the log): its users'
   * hashes and credit indexes, found through its users index (every script that creates a
   * user's keys adds the user to the index in the same call), then the index and its marker.
   * No scan of the whole keyspace.
   */
  async #drop(version: string) {
    const index = this.#keys.users(version);
    for (let start = 0;; start += DROP_PAGE) {
      const openIds = await this.#redis.zrange(index, start, start + DROP_PAGE - 1) as string[];
      if (openIds.length === 0) break;
      await this.#dropUsers.exec([], [this.#base(version), ...openIds]);
    }
    await this.#redis.unlink(index, this.#keys.indexed(version), `${this.#base(version)}tpl`);
  }
}
