/**
 * The composition root's one choice: which backend the service runs on. From the configuration
 * it builds every part that depends on it: the ledger store, the coordination store (key-value,
 * locks, idempotency records, work queues), the rate limiters (counted by the store) and the
 * replay guard of WeChat's pushes. With UPSTASH_REDIS_REST_URL set, all of them live in Redis
 * behind ONE Upstash client (`upstashClient`), so every instance shares them; otherwise the
 * embedded memory store and its memory twins serve one process.
 * Nothing else in src/ asks which backend it runs on.
 *
 * @module
 */
import type { Config } from "./config/config.ts";
import type { Coordination } from "./coordination/coordination.ts";
import { MemoryKeyValue, MemoryWorkQueue } from "./coordination/memory.ts";
import { RedisKeyValue, RedisWorkQueue } from "./coordination/redis.ts";
import { KeyValueReplayGuard } from "./coordination/replay_guard.ts";
import { MemoryReplayGuard, type ReplayGuard } from "./wechat/event_push/replay.ts";
import type { ChainReader, ChainReaderModule, ParallelLog } from "./audit/raw_log.ts";
import { type LimitSpec, type RateLimiter, storeLimiters } from "./http/middleware/rate_limit.ts";
import type { IntakeLimiters } from "./http/routes/intake.ts";
import type { LedgerStore } from "./ledger/store.ts";
import { type Clock, systemClock } from "./shared/clock.ts";
import { upstashClient } from "./shared/upstash_client.ts";
import { MemoryStore } from "./store/memory/memory.ts";
import { createRedisStore, type RedisStore, type RedisStoreOptions } from "./store/redis/redis.ts";

/** Every backend-dependent part of one process. */
export interface Backends {
  store: LedgerStore;
  coordination: Coordination;
  /** The upload and login limits. */
  limiters: IntakeLimiters;
  /**
   * Remembers WeChat's accepted pushes against replays: `SET NX PX` in Redis (every instance),
   * a bounded map in memory.
   */
  replayGuard: ReplayGuard;
  /**
   * The log as the parallel audit (`deno task replay`) reads it; `null` on the memory store,
   * whose log lives in the service's memory.
   */
  parallelAudit: ParallelLog | null;
  /** Whether anything survives a restart (not on the embedded memory store). */
  durable: boolean;
  /** One line for the start-up log: which backend, and where (never the token). */
  description: string;
  /** Closes the store (the other parts hold nothing to close). */
  close(): Promise<void>;
}

/**
 * Builds the backends the configuration names. `clock` drives the memory key-value store's
 * expiry and the rate limits' windows (tests pass a manual one).
 *
 * @example
 * ```ts
 * const backends = openBackends(loadConfig(Deno.env.toObject()));
 * const { app } = createApp({ config, backends, clock: systemClock });
 * ```
 */
export function openBackends(config: Config, clock: Clock = systemClock): Backends {
  if (config.redis === null) {
    const store = new MemoryStore();
    return {
      store,
      coordination: { kv: new MemoryKeyValue(clock), queue: new MemoryWorkQueue() },
      limiters: intakeLimiters(config, storeLimiters(store, clock)),
      replayGuard: new MemoryReplayGuard({ clock }),
      parallelAudit: null,
      durable: false,
      description:
        "store: embedded memory store (UPSTASH_REDIS_REST_URL is unset): nothing survives a restart",
      close: () => store.close(),
    };
  }
  const redis = upstashClient(config.redis);
  const options: RedisStoreOptions = {
    ...config.redis,
    prefix: config.prefix,
    segmentEvents: config.segmentEvents,
  };
  const store = createRedisStore(options, redis);
  const kv = new RedisKeyValue(redis, config.prefix);
  return {
    store,
    coordination: { kv, queue: new RedisWorkQueue(redis, config.prefix) },
    limiters: intakeLimiters(config, storeLimiters(store, clock)),
    replayGuard: new KeyValueReplayGuard(kv, clock),
    parallelAudit: redisParallelLog(store, options),
    durable: true,
    description: `store: redis at ${new URL(options.url).host}, prefix "${config.prefix}"`,
    close: () => store.close(),
  };
}

/** The limits, each from `make`; counted by the store (on Redis under `<prefix>:rl:<name>`). */
function intakeLimiters(config: Config, make: (spec: LimitSpec) => RateLimiter): IntakeLimiters {
  const { windowSeconds, perUser, perIp } = config.rateLimit;
  const limiter = (limit: string, tokens: number) => make({ limit, tokens, windowSeconds });
  return {
    user: limiter("user", perUser),
    view: limiter("view", perUser),
    ip: limiter("ip", perIp),
    login: limiter("login", perIp),
  };
}

/**
 * The parallel audit's view of a Redis store opened with `options`: its pages read through
 * `store`, its chain by a worker that reopens the store from `options` with this module's
 * {@link openChainReader}.
 *
 * @example
 * ```ts
 * const result = await auditRedisInParallel(redisParallelLog(store, options), { replay: true });
 * ```
 */
export function redisParallelLog(store: RedisStore, options: RedisStoreOptions): ParallelLog {
  return { pages: store, reopen: { module: import.meta.url, options } };
}

/**
 * Opens a reader of a Redis store's chain, with a client of its own, from the options a
 * {@link redisParallelLog} recipe carries (the verifying worker calls it).
 *
 * @example
 * ```ts
 * const chain = await openChainReader({ url, token, prefix, segmentEvents }).readChain(0, 2000);
 * ```
 */
export const openChainReader: ChainReaderModule["openChainReader"] = (options): ChainReader =>
  createRedisStore(options as RedisStoreOptions);
