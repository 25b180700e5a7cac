/**
 * The owner of release.lua, and of lib.lua's release group of arguments (which record.lua
 * takes too): one use given back to a user's credit, as a FormIdReleased.
 *
 * @module
 */
import type { Credit } from "../../ledger/credit_rules.ts";
import type { ReleaseRequest } from "../../ledger/store.ts";
import { creditValue, usersScore } from "./credit_value.ts";
import { encodeEntry } from "./entry.ts";
import { type LogWriter, writingScriptSource } from "./log_writer.ts";

/**
 * release.lua with its prelude and constants.
 *
 * @example
 * ```ts
 * redis.createScript(RELEASE_LUA); // what releaseScript loads
 * ```
 */
export const RELEASE_LUA = writingScriptSource("release");

/**
 * Pushes lib.lua's `release_credit` arguments giving one use of `credit` back to `openId`
 * after `pushId`: formId, the value when the credit is gone, users score, entry t and d.
 *
 * @example
 * ```ts
 * const args = log.args(now);
 * args.push(openId);
 * pushRelease(args, openId, pushId, credit);
 * ```
 */
export function pushRelease(args: string[], openId: string, pushId: string, credit: Credit): void {
  const { formId, kind, templateId, expiresAt } = credit;
  const { t, d } = encodeEntry("FormIdReleased", {
    openId,
    formId,
    pushId,
    kind,
    templateId,
    expiresAt,
  });
  args.push(formId, creditValue({ ...credit, uses: 1 }), usersScore(credit), t, d);
}

/**
 * The release operation of one ledger.
 *
 * @example
 * ```ts
 * const release = releaseScript(log);
 * await release("o1", { credit, pushId: "p1" }, Date.now());
 * ```
 */
export function releaseScript(
  log: LogWriter,
): (openId: string, request: ReleaseRequest, now: number) => Promise<void> {
  const script = log.load(RELEASE_LUA);
  return async (openId, { credit, pushId }, now) => {
    const args = log.args(now);
    args.push(openId);
    pushRelease(args, openId, pushId, credit);
    await log.write("release", script, args);
  };
}
