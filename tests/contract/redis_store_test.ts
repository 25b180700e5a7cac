import { createRedisStore, RedisStore } from "../../src/store/redis.ts";
import { uniquePrefix, upstashFromEnv } from "../helpers/rig.ts";
import { storeContract } from "./store_contract.ts";

const prefixes = new WeakMap<object, string>();

storeContract("redis", ({ segmentEvents, shareWith }) => {
  const prefix = (shareWith && prefixes.get(shareWith)) ?? uniquePrefix("contract");
  const store: RedisStore = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents });
  prefixes.set(store, prefix);
  return Promise.resolve(store);
});
