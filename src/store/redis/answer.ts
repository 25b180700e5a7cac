/**
 * The owner of answer.lua: one report of subscription answers for one user in one call, which
 * first counts the report against its rate limits (limits.ts owns their keys).
 *
 * @module
 */
import { canonicalJson } from "../../chain/chain.ts";
import {
  ACCEPTS,
  type AnswerOutcome,
  type AnswerReply,
  type AnswerRequest,
  type AnswerResult,
} from "../../ledger/answer_rules.ts";
import { decide, isRefused } from "../../ledger/limits.ts";
import { subscribeSettingsReported } from "../../ledger/subscribe_events.ts";
import { SEEN_MS } from "../../ledger/subscription_state.ts";
import { encodeEntry } from "./entry.ts";
import { limitKey } from "./limits.ts";
import { LIB_CONSTANTS, type LogWriter } from "./log_writer.ts";
import { scriptSource } from "./scripts.ts";

const OUTCOMES: AnswerOutcome[] = [
  "credited",
  "provisional",
  "confirmed",
  "active",
  "voided",
  "answered",
  "duplicate",
  "user_full",
  "template_full",
];

/**
 * answer.lua with its prelude (a writing script's, and fixed_window.lua for the rate limits)
 * and constants: the accepting answers as a set, and the outcomes.
 *
 * @example
 * ```ts
 * redis.createScript(ANSWER_LUA); // what answerScript loads
 * ```
 */
export const ANSWER_LUA = scriptSource(
  ["lib", "credit_value", "credits", "fixed_window", "answer"],
  {
    ...LIB_CONSTANTS,
    ACCEPT: Object.fromEntries(ACCEPTS.map((a) => [a, 1])),
    OUTCOME: Object.fromEntries(OUTCOMES.map((o) => [o, o])),
  },
);

/**
 * The answer operation of one ledger (`LedgerStore.answer`).
 *
 * @example
 * ```ts
 * const answer = answerScript(log);
 * const { results: [result] } = await answer({ openId, source: "client", items,
 *   expiresAt: null, windowMs: null }, Date.now());
 * ```
 */
export function answerScript(
  log: LogWriter,
): (request: AnswerRequest, now: number) => Promise<AnswerReply> {
  const script = log.load(ANSWER_LUA);
  return async (request, now) => {
    const { openId, source, windowMs, expiresAt, caps, settings, items, limits } = request;
    const args = log.args(now);
    const [prefix] = args; // lib.lua's ARGV[1]
    const until = windowMs === null ? "" : String(now + windowMs);
    const standing = expiresAt === null ? "0" : String(expiresAt);
    const provisional = windowMs === null
      ? ""
      : String(expiresAt === null ? now + windowMs : Math.min(now + windowMs, expiresAt));
    args.push(openId, source, until, String(now + SEEN_MS), standing, provisional);
    args.push(caps ? String(caps.perUser) : "", caps ? String(caps.perTemplate) : "");
    if (settings) {
      const event = subscribeSettingsReported(openId, settings);
      const { t, d } = encodeEntry(event.type, event.data);
      args.push(canonicalJson(event.data), t, d);
    } else args.push("", "", "");
    // The rate limits: per check the count's key, the limit and the window's length.
    args.push(String(limits?.length ?? 0));
    for (const check of limits ?? []) {
      args.push(limitKey(prefix, check, now), String(check.tokens), String(check.windowMs));
    }
    for (const item of items) {
      args.push(
        item.templateId,
        item.answer,
        item.key,
        item.longTerm ? "1" : "",
        item.revoke ? "1" : "",
      );
    }
    const flat = await log.exec<(number | string)[]>(script, args);
    // Each check's count, then (unless refused: nothing was written) two per item.
    const decisions = limits?.map((check, k) => decide(check, Number(flat[k]), now));
    if (decisions && isRefused(decisions)) return { results: [], limits: decisions };
    await log.sealAfter("answer", () => log.sealer.seal());
    const at = limits?.length ?? 0;
    const results = items.map(({ templateId }, i): AnswerResult => {
      const outcome = flat[at + 2 * i] as AnswerOutcome;
      const formId = String(flat[at + 2 * i + 1]);
      return formId ? { templateId, outcome, formId } : { templateId, outcome };
    });
    return decisions ? { results, limits: decisions } : { results };
  };
}
