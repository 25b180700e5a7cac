/**
 * Picks the store the configuration asks for: Redis (Upstash REST) when a URL is set, the
 * embedded memory store otherwise.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { MemoryStore } from "./memory.ts";
import { createRedisStore, type RedisStore } from "./redis.ts";

/** The configured store. */
export function openStore(config: Config): MemoryStore | RedisStore {
  if (config.redis === null) return new MemoryStore();
  return createRedisStore({
    ...config.redis,
    prefix: config.prefix,
    segmentEvents: config.segmentEvents,
  });
}
