/**
 * Picks the store the configuration asks for: Redis (Upstash REST) when a URL is set, the
 * embedded memory store otherwise.
 *
 * @module
 */
import type { Config } from "../config/config.ts";
import { MemoryStore } from "./memory/memory.ts";
import { createRedisStore, type RedisStore, type RedisStoreOptions } from "./redis/redis.ts";

/** The configured store. */
export function openStore(config: Config): MemoryStore | RedisStore {
  const redis = redisStoreOptions(config);
  return redis === null ? new MemoryStore() : createRedisStore(redis);
}

/** How to open the configured Redis store (`null` when none is configured). */
export function redisStoreOptions(config: Config): RedisStoreOptions | null {
  if (config.redis === null) return null;
  return { ...config.redis, prefix: config.prefix, segmentEvents: config.segmentEvents };
}
