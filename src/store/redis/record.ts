/**
 * The owner of record.lua: the outcomes of many deliveries recorded in one call.
 *
 * @module
 */
import { type DeliveryOutcome, STATE_LETTER, tallyField } from "../../ledger/delivery.ts";
import { pushEntries } from "./append.ts";
import { BROADCAST_STATE_CONSTANTS, pushBroadcastKeys, takenState } from "./broadcast_state.ts";
import type { LedgerKeys } from "./keys.ts";
import { type LogWriter, writingScriptSource } from "./log_writer.ts";
import { pushRelease } from "./release.ts";

/**
 * record.lua with its prelude and constants.
 *
 * @example
 * ```ts
 * redis.createScript(RECORD_LUA); // what recordScript loads
 * ```
 */
export const RECORD_LUA = writingScriptSource("record", BROADCAST_STATE_CONSTANTS);

/**
 * The record operation of one ledger.
 *
 * @example
 * ```ts
 * const recordMany = recordScript(log, keys);
 * await recordMany("b1", outcomes, Date.now());
 * ```
 */
export function recordScript(
  log: LogWriter,
  keys: LedgerKeys,
): (broadcastId: string | undefined, outcomes: DeliveryOutcome[], now: number) => Promise<void> {
  const script = log.load(RECORD_LUA);
  return async (broadcastId, outcomes, now) => {
    if (outcomes.length === 0) return;
    const args = log.args(now);
    pushBroadcastKeys(args, keys, broadcastId);
    for (const o of outcomes) {
      const c = o.credit;
      args.push(
        o.openId,
        c ? takenState(c.formId) : "",
        o.state ? STATE_LETTER[o.state] : "",
        tallyField(o.state),
        o.state === "failed" && o.errcode !== undefined ? String(o.errcode) : "",
      );
      if (o.release && c) pushRelease(args, o.openId, o.pushId, c);
      else args.push("", "", "", "", "");
      const keepPush = !broadcastId && o.state !== undefined && o.pushStateMs !== undefined;
      args.push(
        keepPush ? keys.pushState + o.pushId : "",
        keepPush ? String(o.pushStateMs) : "",
      );
      args.push(String(o.events.length));
      pushEntries(args, o.events);
    }
    await log.write("record", script, args);
  };
}
