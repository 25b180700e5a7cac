/**
 * A write another instance made and never sealed: `record.lua` called directly, outside a
 * broadcast, with one outcome (no state, no tally, no release, no push state, one
 * `PushSucceeded`, no void), which appends one event and leaves it unsealed.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { ledgerKeys } from "../../../src/store/redis/keys.ts";
import { RECORD_LUA } from "../../../src/store/redis/record.ts";

/** Appends one unsealed `PushSucceeded` for user `u` to the ledger at `prefix`, at `now`. */
export async function appendUnsealed(raw: Redis, prefix: string, now: number): Promise<void> {
  const keys = ledgerKeys(prefix);
  await raw.createScript(RECORD_LUA).exec([keys.head, keys.projection], [
    prefix,
    String(now),
    "4",
    ...["", ""],
    ...["u", "", "", "0"],
    ...["", "", "", ""],
    ...["", ""],
    "1",
    "PushSucceeded",
    '{"openId":"u","pushId":"p1"}',
    ...["", ""],
  ]);
}
