/**
 * The owner of tally.lua: a broadcast's counters.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { type BroadcastTally, parseTally } from "../../ledger/delivery.ts";
import type { LedgerKeys } from "./keys.ts";
import { loadScript, scriptSource } from "./scripts.ts";

/**
 * tally.lua.
 *
 * @example
 * ```ts
 * redis.createScript(TALLY_LUA).exec([keys.broadcastTally("b1")], []);
 * ```
 */
export const TALLY_LUA = scriptSource(["tally"]);

/**
 * The tally operation of one ledger.
 *
 * @example
 * ```ts
 * const tally = tallyScript(redis, ledgerKeys(prefix));
 * const { sent, failed } = await tally("b1");
 * ```
 */
export function tallyScript(
  redis: Redis,
  keys: LedgerKeys,
): (broadcastId: string) => Promise<BroadcastTally> {
  const script = loadScript(redis, TALLY_LUA);
  return async (broadcastId) => {
    const flat = await script.exec([keys.broadcastTally(broadcastId)], []) as string[];
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
    return parseTally(fields);
  };
}
