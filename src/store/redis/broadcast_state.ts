/**
 * A broadcast's per-user delivery states as take.lua and record.lua store them (see
 * src/ledger/delivery.ts): the final and retry states are `STATE_LETTER`s; the take step
 * itself writes "taken" (with the formId) and "lost".
 *
 * @module
 */
import { STATE_LETTER } from "../../ledger/delivery.ts";
import type { LedgerKeys } from "./keys.ts";
import type { LuaConstants } from "./scripts.ts";

/**
 * The state of a user whose credit was taken, followed by the formId.
 *
 * @example
 * ```ts
 * STATE_TAKEN + "f1"; // the state after taking credit f1
 * ```
 */
export const STATE_TAKEN = "t|";

/**
 * The state of a user whose delivery was lost after its credit was taken.
 *
 * @example
 * ```ts
 * state === STATE_LOST; // a lost delivery: never retried
 * ```
 */
export const STATE_LOST = "u";

/**
 * What take.lua and record.lua receive about states.
 *
 * @example
 * ```ts
 * writingScriptSource("record", BROADCAST_STATE_CONSTANTS);
 * ```
 */
export const BROADCAST_STATE_CONSTANTS: LuaConstants = { STATE_LETTER, STATE_TAKEN, STATE_LOST };

/**
 * The state of a user whose credit `formId` was taken.
 *
 * @example
 * ```ts
 * takenState("f1"); // "t|f1"
 * ```
 */
export function takenState(formId: string): string {
  return STATE_TAKEN + formId;
}

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
