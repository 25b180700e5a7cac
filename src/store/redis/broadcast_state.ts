/**
 * A broadcast's per-user delivery states as take.lua and record.lua store them: the states and
 * their letters are the ledger's (src/ledger/delivery.ts, delivery_rules.ts), handed to the
 * scripts from here.
 *
 * @module
 */
import { STATE_LETTER } from "../../ledger/delivery.ts";
import { LOST_STATE, takenState } from "../../ledger/delivery_rules.ts";
import type { LedgerKeys } from "./keys.ts";
import type { LuaConstants } from "./scripts.ts";

/**
 * What take.lua and record.lua receive about states: the letters, the prefix of a "taken"
 * state (`takenState("")`, followed by the formId) and the lost state.
 *
 * @example
 * ```ts
 * writingScriptSource("record", BROADCAST_STATE_CONSTANTS);
 * ```
 */
export const BROADCAST_STATE_CONSTANTS: LuaConstants = {
  STATE_LETTER,
  STATE_TAKEN: takenState(""),
  STATE_LOST: LOST_STATE,
};

/**
 * Pushes a broadcast's state and tally keys onto a script's arguments (two empty strings
 * outside a broadcast).
 *
 * @example
 * ```ts
 * pushBroadcastKeys(args, keys, "b1"); // args ends with "<prefix>:bc:b1:st", "<prefix>:bc:b1:tally"
 * ```
 */
export function pushBroadcastKeys(
  args: string[],
  keys: LedgerKeys,
  broadcastId: string | undefined,
): void {
  if (broadcastId) args.push(keys.broadcastState(broadcastId), keys.broadcastTally(broadcastId));
  else args.push("", "");
}
