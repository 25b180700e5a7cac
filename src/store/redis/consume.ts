/**
 * The owner of consume.lua: one use of a user's soonest-expiring qualifying credit.
 *
 * @module
 */
import type { Credit } from "../../ledger/credit_rules.ts";
import type { ConsumeRequest } from "../../ledger/store.ts";
import { kindLetters, parseCredit } from "./credit_value.ts";
import { type LogWriter, writingScriptSource } from "./log_writer.ts";

/**
 * consume.lua with its prelude and constants.
 *
 * @example
 * ```ts
 * redis.createScript(CONSUME_LUA); // what consumeScript loads
 * ```
 */
export const CONSUME_LUA = writingScriptSource("consume");

/**
 * The consume operation of one ledger: the credit with the uses it has left, or `null`.
 *
 * @example
 * ```ts
 * const consume = consumeScript(log);
 * const credit = await consume("o1", { pushId: "p1" }, Date.now());
 * ```
 */
export function consumeScript(
  log: LogWriter,
): (openId: string, request: ConsumeRequest, now: number) => Promise<Credit | null> {
  const script = log.load(CONSUME_LUA);
  return async (openId, request, now) => {
    const args = log.args(now);
    args.push(openId, request.templateId ?? "", kindLetters(request), request.pushId);
    const taken = await log.write<[string, string] | null>("consume", script, args);
    return taken ? parseCredit(taken[0], taken[1], 1) : null;
  };
}
