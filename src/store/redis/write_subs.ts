/**
 * The owner of write_subs.lua's arguments: a rebuild's subscription state for many users.
 *
 * @module
 */
import { canonicalJson } from "../../chain/chain.ts";
import type { SubscriptionProjection } from "../../ledger/subscription_state.ts";
import { CREDIT_SEPARATOR } from "./credit_value.ts";
import { scriptSource } from "./scripts.ts";

/**
 * write_subs.lua.
 *
 * @example
 * ```ts
 * redis.createScript(WRITE_SUBS_LUA).exec([keys.users(version)], args);
 * ```
 */
export const WRITE_SUBS_LUA = scriptSource(["write_subs"]);

/**
 * write_subs.lua's ARGV for the users of `openIds` that have subscription state in `subs`, only
 * what is still alive at `now`; `null` when none has any.
 *
 * @example
 * ```ts
 * const args = writeSubsArgs("ledger:p2:", folded.subs, ["o1", "o2"], Date.now());
 * ```
 */
export function writeSubsArgs(
  base: string,
  subs: SubscriptionProjection,
  openIds: string[],
  now: number,
): string[] | null {
  const args = [base];
  const live = (entries: Map<string, number>) => {
    const kept = [...entries].filter(([, until]) => until > now);
    args.push(String(kept.length));
    for (const [id, until] of kept) args.push(id, String(until));
  };
  for (const openId of openIds) {
    const user = subs.users.get(openId);
    if (!user) continue;
    const settings = user.settings;
    args.push(
      openId,
      settings ? canonicalJson({ ...settings, openId }) : "",
      String(user.templates.size),
    );
    for (const [templateId, t] of user.templates) {
      args.push(templateId, `${t.answer ?? ""}${CREDIT_SEPARATOR}${t.source ?? ""}`);
      live(t.client);
      live(t.wechat);
    }
    live(user.seen);
  }
  return args.length === 1 ? null : args;
}
