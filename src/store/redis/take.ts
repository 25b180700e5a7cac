/**
 * The owner of take.lua: a credit taken for each of many deliveries in one call, with a
 * broadcast's per-user states (or, outside a broadcast, each push's kept state) deciding first.
 *
 * @module
 */
import { LOST_DELIVERY, type TakeRequest, type TakeResult } from "../../ledger/delivery.ts";
import { afterOutcome } from "../../ledger/delivery_rules.ts";
import { BROADCAST_STATE_CONSTANTS, pushBroadcastKeys } from "./broadcast_state.ts";
import { spendGroupsOf } from "../../ledger/spend_groups.ts";
import { isLongTerm } from "../../ledger/credit_rules.ts";
import { KIND_LETTER, parseCredit } from "./credit_value.ts";
import type { LedgerKeys } from "./keys.ts";
import { type LogWriter, writingScriptSource } from "./log_writer.ts";
import type { LuaConstants } from "./scripts.ts";

/**
 * What take.lua answers for one delivery, the first of its three reply fields.
 *
 * @example
 * ```ts
 * reply[0] === TAKE_REPLY.taken; // the first delivery got a credit
 * ```
 */
export const TAKE_REPLY = { taken: "t", none: "n", done: "d", lost: "l" } as const;

/**
 * What take.lua receives besides lib.lua's constants. `LOST_COUNTS` are the tally fields a
 * lost delivery counts (`afterOutcome("failed", LOST_DELIVERY.errcode).counts`), space-separated.
 *
 * @example
 * ```ts
 * writingScriptSource("take", TAKE_CONSTANTS);
 * ```
 */
export const TAKE_CONSTANTS: LuaConstants = {
  ...BROADCAST_STATE_CONSTANTS,
  LOST_ERRCODE: LOST_DELIVERY.errcode,
  LOST_ERRMSG: LOST_DELIVERY.errmsg,
  LOST_COUNTS: afterOutcome("failed", LOST_DELIVERY.errcode).counts.join(" "),
  TAKE_REPLY,
};

/**
 * take.lua with its prelude and constants.
 *
 * @example
 * ```ts
 * redis.createScript(TAKE_LUA); // what takeScript loads
 * ```
 */
export const TAKE_LUA = writingScriptSource("take", TAKE_CONSTANTS);

/**
 * The take operation of one ledger: one result per delivery, in order.
 *
 * @example
 * ```ts
 * const takeMany = takeScript(log, keys);
 * const results = await takeMany({ deliveries: [{ openId: "o1", pushId: "p1" }] }, Date.now());
 * ```
 */
export function takeScript(
  log: LogWriter,
  keys: LedgerKeys,
): (request: TakeRequest, now: number) => Promise<TakeResult[]> {
  const script = log.load(TAKE_LUA);
  return async (request, now) => {
    if (request.deliveries.length === 0) return [];
    const args = log.args(now);
    pushBroadcastKeys(args, keys, request.broadcastId);
    args.push(request.broadcastId ?? "");
    // A push's state is kept outside a broadcast only (a broadcast keeps its users').
    const keepPush = request.pushStateMs !== undefined && !request.broadcastId;
    args.push(keepPush ? keys.pushState : "", keepPush ? String(request.pushStateMs) : "");
    const groups = spendGroupsOf(request);
    args.push(String(groups.length));
    for (const { group, kinds } of groups) {
      args.push(group, kinds === null ? "" : kinds.map((kind) => KIND_LETTER[kind]).join(""));
    }
    for (const { openId, pushId } of request.deliveries) args.push(openId, pushId);
    const flat = await log.writeSealingLater<string[]>("take", script, args);
    const results: TakeResult[] = [];
    for (let i = 0; i < flat.length; i += 3) {
      const code = flat[i];
      if (code === TAKE_REPLY.taken) {
        // A long-term subscription's use is never taken (isLongTerm).
        const credit = parseCredit(flat[i + 1], flat[i + 2]);
        if (!isLongTerm(credit)) credit.uses -= 1;
        results.push({ status: "taken", credit });
      } else if (code === TAKE_REPLY.lost) results.push({ status: "lost", formId: flat[i + 1] });
      else results.push({ status: code === TAKE_REPLY.done ? "done" : "none" });
    }
    return results;
  };
}
