/**
 * Writes a large, correctly chained and sealed ledger log straight into Redis, in exactly the
 * layout the store leaves behind once it has appended and sealed (segment streams
 * `<prefix>:log:<n>` with entry id `<seq>-0` and one field as src/store/redis/entry.ts encodes
 * it; chain strings `<prefix>:chain:<n>` of `chunk` hashes in seq order (src/store/redis/stored_hash.ts); head
 * hash `<prefix>:head` with seq, at, seg, chunk, sealed and hash), so audit benchmarks can start from a million events in seconds instead
 * of replaying a million appends.
 *
 * The workload is synthetic but shaped like production: batches of collected credits of every
 * kind, consumptions each followed by a push outcome (success or a WeChat errcode), some uses
 * released after transient failures, and credits expiring as time moves on.
 *
 * @module
 */
import type { Redis as IORedis } from "ioredis";
import { canonicalEvent, GENESIS, linkHash } from "../src/chain/chain.ts";
import { encodeEntry, ENTRY_FIELD, entryValue } from "../src/store/redis/entry.ts";
import { CHAIN_CHUNK } from "../src/store/redis/sealer.ts";
import { toStoredHash } from "../src/store/redis/stored_hash.ts";
import type { CreditKind, FormIdCollected, LedgerEvent } from "../src/ledger/events.ts";

/** Shape of the synthetic workload. */
export interface SyntheticOptions {
  /** Events to produce. */
  events: number;
  /** Distinct users; default `events / 20`. */
  users?: number;
  /** Time of the first event (epoch ms); default 2026-01-01. */
  startMs?: number;
  /** Time the log spans, first to last event (ms); default 30 days. */
  spanMs?: number;
  /** Lifetime of form and prepay credits (ms); default 7 days minus one hour. */
  ttlMs?: number;
  /** PRNG seed, for reproducible logs. */
  seed?: number;
}

/** One synthetic event and the time it is appended at. */
export interface TimedEvent {
  event: LedgerEvent;
  atMs: number;
}

const DAY = 86_400_000;
/** WeChat errcodes of failed pushes, with their class and whether the use goes back. */
const FAILURES = [
  { errcode: -1, errmsg: "system busy", class: "transient", release: true },
  { errcode: 45009, errmsg: "reach max api daily quota limit", class: "quota", release: true },
  { errcode: 40003, errmsg: "invalid openid", class: "request", release: true },
  { errcode: 41028, errmsg: "invalid form id", class: "gone", release: false },
  { errcode: 43101, errmsg: "user refuse to accept the msg", class: "gone", release: false },
] as const;

/** A tiny deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A collected credit the workload may still spend: exactly a FormIdCollected's data. */
type Spendable = FormIdCollected["data"];

/**
 * Yields exactly `options.events` events in log order. Every consumption takes a use the
 * credit really has at that time, so the log folds without anomalies.
 */
export function* syntheticEvents(options: SyntheticOptions): Generator<TimedEvent> {
  const total = options.events;
  const users = options.users ?? Math.max(1, Math.floor(total / 20));
  const start = options.startMs ?? Date.UTC(2026, 0, 1);
  const step = (options.spanMs ?? 30 * DAY) / Math.max(1, total);
  const ttl = options.ttlMs ?? 7 * DAY - 3_600_000;
  const random = prng(options.seed ?? 1);
  const spendable: Spendable[] = [];
  let produced = 0;
  let credits = 0;
  let pushes = 0;
  const at = () => Math.floor(start + produced * step);
  const emit = (event: LedgerEvent): TimedEvent => ({ event, atMs: at() });

  while (produced < total) {
    const openId = `o${Math.floor(random() * users).toString(36).padStart(6, "0")}`;
    if (spendable.length < 64 || random() < 0.42) {
      const batch = 1 + Math.floor(random() * 5);
      for (let i = 0; i < batch && produced < total; i++) {
        const r = random();
        const kind: CreditKind = r < 0.6 ? "form" : r < 0.85 ? "prepay" : "subscribe";
        const templateId = kind === "subscribe" ? `TPL${Math.floor(random() * 4)}` : undefined;
        const credit: Spendable = {
          openId,
          formId: `wx${(credits++).toString(36)}${Math.floor(random() * 1e9).toString(36)}`,
          kind,
          ...(templateId ? { templateId } : {}),
          uses: kind === "prepay" ? 3 : 1,
          expiresAt: kind === "subscribe" ? null : at() + ttl,
        };
        spendable.push(credit);
        const { openId: _, ...data } = credit;
        yield emit({ type: "FormIdCollected", data: { openId, ...data } });
        produced++;
      }
      continue;
    }
    // Consume a random credit that is still valid (dropping expired ones met on the way).
    const i = Math.floor(random() * spendable.length);
    const credit = spendable[i];
    if (credit.expiresAt !== null && credit.expiresAt <= at()) {
      spendable[i] = spendable[spendable.length - 1];
      spendable.pop();
      continue;
    }
    const pushId = `p${(pushes++).toString(36)}`;
    const { openId: owner, formId } = credit;
    yield emit({ type: "FormIdConsumed", data: { openId: owner, formId, pushId } });
    produced++;
    if (--credit.uses === 0) {
      spendable[i] = spendable[spendable.length - 1];
      spendable.pop();
    }
    if (produced >= total) break;
    const templateId = credit.templateId ?? `TPL${Math.floor(random() * 4)}`;
    if (random() < 0.85) {
      yield emit({
        type: "PushSucceeded",
        data: { pushId, openId: owner, formId, templateId, msgid: String(pushes) },
      });
      produced++;
      continue;
    }
    const failure = FAILURES[Math.floor(random() * FAILURES.length)];
    yield emit({
      type: "PushFailed",
      data: {
        pushId,
        openId: owner,
        formId,
        errcode: failure.errcode,
        errmsg: failure.errmsg,
        class: failure.class,
      },
    });
    produced++;
    if (failure.release && produced < total) {
      const { kind, expiresAt } = credit;
      const templated = credit.templateId ? { templateId: credit.templateId } : {};
      yield emit({
        type: "FormIdReleased",
        data: { openId: owner, formId, pushId, kind, ...templated, expiresAt },
      });
      produced++;
      if (credit.uses++ === 0) spendable.push(credit);
    }
  }
}

/** What {@link writeLog} wrote. */
export interface WrittenLog {
  events: number;
  head: { seq: number; hash: string; at: number };
}

/**
 * Appends `events` to the log under `prefix` (which must be empty) with ioredis pipelines,
 * chaining hashes as the store's sealer does, appends them to the chain strings (one APPEND per
 * chain string per pipeline), and writes the head, sealed up to its last event. The projection is not
 * touched: call the store's `rebuild` to build it from the log.
 */
export async function writeLog(
  redis: IORedis,
  prefix: string,
  events: Iterable<TimedEvent>,
  options: {
    segmentEvents: number;
    /** Hashes per chain string (default the store's, {@link CHAIN_CHUNK}). */
    chainChunk?: number;
    batch?: number;
    onProgress?: (seq: number) => void;
  },
): Promise<WrittenLog> {
  const { segmentEvents } = options;
  const chainChunk = options.chainChunk ?? CHAIN_CHUNK;
  const batch = options.batch ?? 5_000;
  let seq = 0;
  let hash = GENESIS;
  let atMs = 0;
  let pipeline = redis.pipeline();
  let queued = 0;
  /** Hashes of the queued entries of chain string `hashString`, not yet APPENDed. */
  let hashes: string[] = [];
  let hashString = 0;
  const appendHashes = () => {
    if (hashes.length === 0) return;
    pipeline.append(`${prefix}:chain:${hashString}`, hashes.map(toStoredHash).join(""));
    hashes = [];
  };
  const inFlight: Promise<unknown>[] = [];
  const flush = async () => {
    appendHashes();
    const exec = pipeline.exec().then((replies) => {
      const failed = replies?.find(([err]) => err);
      if (failed) throw failed[0];
    });
    pipeline = redis.pipeline();
    queued = 0;
    inFlight.push(exec);
    if (inFlight.length >= 4) await inFlight.shift();
  };
  for (const { event, atMs: when } of events) {
    seq++;
    atMs = when;
    const at = new Date(when).toISOString();
    const value = entryValue({ ...encodeEntry(event.type, event.data), a: String(when) });
    hash = linkHash(hash, canonicalEvent({ seq, type: event.type, at, data: event.data }));
    const segment = Math.floor((seq - 1) / segmentEvents);
    const string = Math.floor((seq - 1) / chainChunk);
    if (string !== hashString) {
      appendHashes(); // one APPEND never crosses a chain string boundary
      hashString = string;
    }
    pipeline.xadd(`${prefix}:log:${segment}`, `${seq}-0`, ENTRY_FIELD, value);
    hashes.push(hash);
    if (++queued >= batch) {
      await flush();
      options.onProgress?.(seq);
    }
  }
  appendHashes();
  pipeline.hset(
    `${prefix}:head`,
    "seq",
    seq,
    "at",
    String(atMs),
    "seg",
    segmentEvents,
    "chunk",
    chainChunk,
    "sealed",
    seq,
    ...(seq > 0 ? ["hash", hash] : []),
  );
  await flush();
  await Promise.all(inFlight);
  return { events: seq, head: { seq, hash, at: atMs } };
}
