/**
 * The Redis store, through `@upstash/redis` (the client that runs on Deno Deploy). Every write
 * is one Lua script call that appends its events and updates the projection atomically. This
 * class only wires the parts: each script's owner module (collect.ts, take.ts, record.ts, ...),
 * the log reader, the sealer and the rebuilder.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import type { Credit, CreditView } from "../../ledger/credit_rules.ts";
import type {
  BroadcastTally,
  DeliveryOutcome,
  TakeRequest,
  TakeResult,
} from "../../ledger/delivery.ts";
import type { LogHead, StoredEvent } from "../../ledger/events.ts";
import type {
  CollectRequest,
  CollectResult,
  LedgerStore,
  ProjectionPage,
  RebuildResult,
  UserPage,
} from "../../ledger/store.ts";
import { upstashClient } from "../../shared/upstash_client.ts";
import { collectScript } from "./collect.ts";
import { limitScript } from "./limits.ts";
import type { LimitCheck, LimitDecision } from "../../ledger/limits.ts";
import { ledgerKeys } from "./keys.ts";
import { LogReader } from "./log_reader.ts";
import type { ChainPieces, RawEntry } from "./log_page.ts";
import { LogWriter } from "./log_writer.ts";
import { ProjectionReader } from "./projection_read.ts";
import { Rebuilder } from "./rebuild.ts";
import { recordScript } from "./record.ts";
import { CHAIN_CHUNK, Sealer } from "./sealer.ts";
import { takeScript } from "./take.ts";
import { tallyScript } from "./tally.ts";
import { answerScript } from "./answer.ts";
import { SubscriptionScripts } from "./subscriptions.ts";
import type { AnswerReply, AnswerRequest } from "../../ledger/answer_rules.ts";
import type { RegisteredTemplate } from "../../ledger/registry.ts";
import type { SubscriptionView } from "../../ledger/subscription_state.ts";

/**
 * How to reach Redis and where the ledger lives in it.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { url, token, prefix: "ledger", segmentEvents: 100_000 };
 * ```
 */
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

/**
 * The ledger store on Redis Streams and hashes.
 *
 * @example
 * ```ts
 * const store = new RedisStore(redis, "ledger", 100_000);
 * await store.collect("o1", [{ formId: "f1", kind: "form", uses: 1, expiresAt: null }], Date.now());
 * ```
 */
export class RedisStore implements LedgerStore {
  readonly kind = "redis" as const;
  readonly #redis: Redis;
  readonly #reader: LogReader;
  readonly #projection: ProjectionReader;
  readonly #rebuilder: Rebuilder;
  readonly #collect: ReturnType<typeof collectScript>;
  readonly #take: ReturnType<typeof takeScript>;
  readonly #record: ReturnType<typeof recordScript>;
  readonly #tally: ReturnType<typeof tallyScript>;
  readonly #answer: ReturnType<typeof answerScript>;
  readonly #subscriptions: SubscriptionScripts;
  readonly #limits: ReturnType<typeof limitScript>;

  constructor(redis: Redis, prefix: string, segmentEvents: number, chainChunk = CHAIN_CHUNK) {
    this.#redis = redis;
    const keys = ledgerKeys(prefix);
    const sealer = new Sealer(redis, keys.head, prefix, chainChunk);
    const log = new LogWriter(redis, keys, prefix, segmentEvents, sealer);
    this.#reader = new LogReader(redis, keys, sealer);
    this.#projection = new ProjectionReader(redis, keys, prefix);
    this.#rebuilder = new Rebuilder(redis, keys, this.#reader, sealer, segmentEvents);
    this.#collect = collectScript(log);
    this.#take = takeScript(log, keys);
    this.#record = recordScript(log, keys);
    this.#tally = tallyScript(redis, keys);
    this.#answer = answerScript(log);
    this.#subscriptions = new SubscriptionScripts(redis, keys, prefix, log);
    this.#limits = limitScript(redis, prefix);
  }

  async answer(request: AnswerRequest, now: number): Promise<AnswerReply> {
    const [reply] = await this.#answer([request], now);
    return reply;
  }

  answerMany(requests: AnswerRequest[], now: number): Promise<AnswerReply[]> {
    return this.#answer(requests, now);
  }

  subscriptions(openId: string, now: number): Promise<SubscriptionView> {
    return this.#subscriptions.view(openId, now);
  }

  syncTemplates(templates: RegisteredTemplate[], now: number): Promise<boolean> {
    return this.#subscriptions.sync(templates, now);
  }

  templates(): Promise<RegisteredTemplate[] | null> {
    return this.#subscriptions.templates();
  }

  async collect(openId: string, credits: Credit[], now: number): Promise<CollectResult> {
    const [result] = await this.#collect([{ openId, credits }], now);
    return result;
  }

  collectMany(uploads: CollectRequest[], now: number): Promise<CollectResult[]> {
    return this.#collect(uploads, now);
  }

  countLimits(checks: LimitCheck[], now: number): Promise<LimitDecision[]> {
    return this.#limits(checks, now);
  }

  takeMany(request: TakeRequest, now: number): Promise<TakeResult[]> {
    return this.#take(request, now);
  }

  recordMany(
    broadcastId: string | undefined,
    outcomes: DeliveryOutcome[],
    now: number,
  ): Promise<void> {
    return this.#record(broadcastId, outcomes, now);
  }

  tally(broadcastId: string): Promise<BroadcastTally> {
    return this.#tally(broadcastId);
  }

  view(openId: string, now: number): Promise<CreditView> {
    return this.#projection.view(openId, now);
  }

  users(cursor: string, count: number, now: number): Promise<UserPage> {
    return this.#projection.users(cursor, count, now);
  }

  projectionPage(cursor: string, count: number, now: number): Promise<ProjectionPage> {
    return this.#projection.page(cursor, count, now);
  }

  readEvents(after: number, limit: number): Promise<StoredEvent[]> {
    return this.#reader.readEvents(after, limit);
  }

  /**
   * The stream entries of events `after+1 .. to` as stored, one list per segment (no hashes:
   * see `readChain`). For readers that split reading and verifying, as the parallel audit does;
   * `to` must be sealed (`head()` seals).
   */
  readEntries(after: number, to: number): Promise<RawEntry[][]> {
    return this.#reader.readEntries(after, to);
  }

  /** The stored chain hashes of events `after .. to` (`after` for the first link's prev). */
  readChain(after: number, to: number): Promise<ChainPieces> {
    return this.#reader.readChain(after, to);
  }

  head(): Promise<LogHead> {
    return this.#reader.head();
  }

  unsealed(): Promise<number> {
    return this.#reader.unsealed();
  }

  rebuild(now: number): Promise<RebuildResult> {
    return this.#rebuilder.run(now);
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
}
