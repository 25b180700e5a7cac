/**
 * Audit test fixtures: a small ledger on the real Redis (through the bridge and the production
 * client), and raw access to its keys to tamper with the log the way an intruder with Redis
 * access could: the segment streams `<prefix>:log:<n>` (entries `<seq>-0` with one field e,
 * edited here as its parts t, a, d),
 * the chain strings `<prefix>:chain:<n>` (the rig keeps one per segment: its sealed hashes in seq
 * order, in their stored form) and the head hash `<prefix>:head` (seq, at, seg, chunk, sealed,
 * hash).
 */
import { Redis as IORedis } from "ioredis";
import { canonicalEvent, GENESIS, linkHash } from "../../src/chain/chain.ts";
import type { Credit } from "../../src/ledger/credit_rules.ts";
import { decodeEntry, ENTRY_FIELD, entryParts, entryValue } from "../../src/store/redis/entry.ts";
import {
  fromStoredHash,
  STORED_HASH_LENGTH as W,
  toStoredHash,
} from "../../src/store/redis/stored_hash.ts";
import {
  createRedisStore,
  type RedisStore,
  type RedisStoreOptions,
} from "../../src/store/redis/redis.ts";
import type { LedgerStore } from "../../src/ledger/store.ts";
import { uniquePrefix, upstashFromEnv } from "../helpers/rig.ts";
import { consume } from "../helpers/store_calls.ts";

/** 2026-11-25 12:00 UTC. */
export const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A form credit expiring in a week. */
export function form(formId: string, expiresAt = T0 + 7 * DAY): Credit {
  return { formId, kind: "form", uses: 1, expiresAt };
}

/**
 * Writes `users` rounds of three events (two credits collected, one use consumed) at one
 * second apart: user i's events are seqs 3i+1 .. 3i+3.
 */
export async function writeRounds(store: LedgerStore, users: number): Promise<void> {
  for (let i = 0; i < users; i++) {
    const at = T0 + i * 1000;
    await store.collect(`user${i}`, [form(`a${i}`), form(`b${i}`)], at);
    await consume(store, `user${i}`, { pushId: `push${i}` }, at);
  }
}

/** A Redis store under a fresh prefix, and a raw connection to the same Redis. */
export interface TamperRig {
  store: RedisStore;
  /** How `store` was opened (for readers that open their own, as the parallel audit does). */
  connection: RedisStoreOptions;
  prefix: string;
  /** Events per segment. */
  segmentEvents: number;
  raw: IORedis;
  close(): Promise<void>;
}

/** Opens a fresh ledger on the test Redis. */
export function tamperRig(segmentEvents: number): TamperRig {
  const url = Deno.env.get("TEST_REDIS_URL");
  if (!url) throw new Error("TEST_REDIS_URL is not set: run the tests with `deno task test`");
  const prefix = uniquePrefix("audit");
  // One chain string per segment, so tests can name "segment n's hashes".
  const connection = { ...upstashFromEnv(), prefix, segmentEvents, chainChunk: segmentEvents };
  const store = createRedisStore(connection);
  const raw = new IORedis(url);
  return {
    store,
    connection,
    prefix,
    segmentEvents,
    raw,
    async close() {
      await store.close();
      raw.disconnect();
    },
  };
}

/**
 * A stream entry: its id and its parts t, a, d (src/store/redis/entry.ts) to edit one by one, or,
 * for an entry that is not in the store's layout, its raw fields.
 */
export interface RawEntry {
  id: string;
  fields: Record<string, string>;
}

/** Every entry of one segment stream. */
export async function readSegment(raw: IORedis, key: string): Promise<RawEntry[]> {
  const entries = await raw.xrange(key, "-", "+");
  return entries.map(([id, flat]) => {
    const parts = entryParts(flat);
    if (parts) return { id, fields: { ...parts } };
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
    return { id, fields };
  });
}

/** The field/value list to XADD for `fields` (parts t, a, d are joined into the store's one field). */
export function entryFieldList(fields: Record<string, string>): string[] {
  const { t, a, d, ...rest } = fields;
  if (t !== undefined && a !== undefined && d !== undefined && Object.keys(rest).length === 0) {
    return [ENTRY_FIELD, entryValue({ t, a, d })];
  }
  return Object.entries(fields).flat();
}

/**
 * Rewrites a segment stream with `change(entries)`: streams only append, so an intruder deletes
 * the key and adds the entries back, with explicit ids, as they want them.
 */
export async function rewriteSegment(
  raw: IORedis,
  key: string,
  change: (entries: RawEntry[]) => RawEntry[],
): Promise<void> {
  const entries = change(await readSegment(raw, key));
  const pipeline = raw.multi().del(key);
  for (const { id, fields } of entries) {
    pipeline.xadd(key, id, ...entryFieldList(fields));
  }
  await pipeline.exec();
}

/** The stream of segment `n`. */
export function segmentKey(rig: TamperRig, n: number): string {
  return `${rig.prefix}:log:${n}`;
}

/** The chain string of segment `n` (the rig keeps one per segment). */
export function chainKey(rig: TamperRig, n: number): string {
  return `${rig.prefix}:chain:${n}`;
}

/** The chain string of the segment holding `seq`, and the byte offset of its hash there. */
function chainSlot(rig: TamperRig, seq: number): { key: string; offset: number } {
  const n = Math.floor((seq - 1) / rig.segmentEvents);
  return { key: chainKey(rig, n), offset: ((seq - 1) % rig.segmentEvents) * W };
}

/** The hashes of one chain string, in seq order, in hex. */
export async function readChain(raw: IORedis, key: string): Promise<string[]> {
  const text = (await raw.get(key)) ?? "";
  return Array.from(
    { length: Math.ceil(text.length / W) },
    (_, i) => fromStoredHash(text.slice(i * W, i * W + W)),
  );
}

/**
 * Rewrites a chain string with `change(hashes)`: the store only APPENDs to it, an intruder sets
 * the whole string (or deletes it when no hash is left).
 */
export async function rewriteChain(
  raw: IORedis,
  key: string,
  change: (hashes: string[]) => string[],
): Promise<void> {
  const hashes = change(await readChain(raw, key));
  if (hashes.length === 0) await raw.del(key);
  else await raw.set(key, hashes.map(toStoredHash).join(""));
}

/** The recorded hash of event `seq` (GETRANGE on its chain string; "" when there is none). */
export async function chainHash(rig: TamperRig, seq: number): Promise<string> {
  const { key, offset } = chainSlot(rig, seq);
  return fromStoredHash(await rig.raw.getrange(key, offset, offset + W - 1));
}

/** Overwrites the recorded hash of event `seq` in place (SETRANGE on its chain string). */
export async function setChainHash(rig: TamperRig, seq: number, hash: string): Promise<void> {
  const { key, offset } = chainSlot(rig, seq);
  await rig.raw.setrange(key, offset, toStoredHash(hash));
}

/** The head's fields. */
export async function readHead(rig: TamperRig): Promise<Record<string, string>> {
  return await rig.raw.hgetall(`${rig.prefix}:head`);
}

/**
 * Hashes `entries` as a self-consistent chain starting from `prev`, as an intruder who knows
 * the (public) hashing rule would; returns their hashes, in order.
 */
export function rechain(entries: RawEntry[], prev: string = GENESIS): string[] {
  return entries.map((entry) => {
    const seq = Number(entry.id.split("-")[0]);
    const at = new Date(Number(entry.fields.a)).toISOString();
    const canonical = canonicalEvent({ seq, at, ...decodeEntry(entry.fields.t, entry.fields.d) });
    return prev = linkHash(prev, canonical);
  });
}
