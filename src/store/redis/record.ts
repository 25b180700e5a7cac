/**
 * The owner of record.lua: the outcomes of many deliveries recorded in one call, and of
 * credits.lua's release group of arguments.
 *
 * @module
 */
import type { Credit } from "../../ledger/credit_rules.ts";
import type { DeliveryOutcome } from "../../ledger/delivery.ts";
import { afterOutcome, releases, takenState } from "../../ledger/delivery_rules.ts";
import { formIdReleased, type LedgerEvent } from "../../ledger/events.ts";
import { BROADCAST_STATE_CONSTANTS, pushBroadcastKeys } from "./broadcast_state.ts";
import { creditValue } from "./credit_value.ts";
import { encodeEntry } from "./entry.ts";
import type { LedgerKeys } from "./keys.ts";
import { type LogWriter, writingScriptSource } from "./log_writer.ts";

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
 * Pushes each event's entry t and d onto a script's arguments.
 *
 * @example
 * ```ts
 * pushEntries(args, [pushSucceeded(ref, sent)]);
 * ```
 */
export function pushEntries(args: string[], events: readonly LedgerEvent[]): void {
  for (const event of events) {
    const { t, d } = encodeEntry(event.type, event.data);
    args.push(t, d);
  }
}

/**
 * Pushes credits.lua's `release_credit` arguments giving one use of `credit` back to `openId`
 * after `pushId`: formId, the value when the credit is gone, entry t and d.
 *
 * @example
 * ```ts
 * pushRelease(args, "o1", "p1", credit);
 * ```
 */
export function pushRelease(args: string[], openId: string, pushId: string, credit: Credit): void {
  const { type, data } = formIdReleased(openId, pushId, credit);
  const { t, d } = encodeEntry(type, data);
  args.push(credit.formId, creditValue({ ...credit, uses: 1 }), t, d);
}

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
      // The state and tally an applied outcome leaves (record.lua checks it still applies).
      const effect = o.state === undefined ? null : afterOutcome(o.state, o.errcode);
      args.push(o.openId, c ? takenState(c.formId) : "", effect?.state ?? "");
      const counts = effect?.counts ?? [];
      args.push(String(counts.length));
      for (const field of counts) args.push(field);
      if (releases(o) && c) pushRelease(args, o.openId, o.pushId, c);
      else args.push("", "", "", "");
      // A push's state is kept outside a broadcast only (a broadcast keeps its users').
      const keepPush = !broadcastId && o.state !== undefined && o.pushStateMs !== undefined;
      args.push(
        keepPush ? keys.pushState + o.pushId : "",
        keepPush ? String(o.pushStateMs) : "",
      );
      args.push(String(o.events.length));
      pushEntries(args, o.events);
      args.push(o.voids?.templateId ?? "", o.voids?.reason ?? "");
    }
    await log.writeSealingLater("record", script, args);
  };
}
