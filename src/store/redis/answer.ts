/**
 * The owner of answer.lua: one report of subscription answers for one user in one call.
 *
 * @module
 */
import { canonicalJson } from "../../chain/chain.ts";
import {
  ACCEPTS,
  type AnswerOutcome,
  type AnswerRequest,
  type AnswerResult,
} from "../../ledger/answer_rules.ts";
import { subscribeSettingsReported } from "../../ledger/subscribe_events.ts";
import { SEEN_MS } from "../../ledger/subscription_state.ts";
import { encodeEntry } from "./entry.ts";
import { type LogWriter, writingScriptSource } from "./log_writer.ts";

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
 * answer.lua with its prelude and constants: the accepting answers as a set, and the outcomes.
 *
 * @example
 * ```ts
 * redis.createScript(ANSWER_LUA); // what answerScript loads
 * ```
 */
export const ANSWER_LUA = writingScriptSource("answer", {
  ACCEPT: Object.fromEntries(ACCEPTS.map((a) => [a, 1])),
  OUTCOME: Object.fromEntries(OUTCOMES.map((o) => [o, o])),
});

/**
 * The answer operation of one ledger.
 *
 * @example
 * ```ts
 * const answer = answerScript(log);
 * const [result] = await answer({ openId, source: "client", items, expiresAt: null,
 *   windowMs: null }, Date.now());
 * ```
 */
export function answerScript(
  log: LogWriter,
): (request: AnswerRequest, now: number) => Promise<AnswerResult[]> {
  const script = log.load(ANSWER_LUA);
  return async (request, now) => {
    const { openId, source, windowMs, expiresAt, caps, settings, items } = request;
    const args = log.args(now);
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
    for (const item of items) {
      args.push(
        item.templateId,
        item.answer,
        item.key,
        item.longTerm ? "1" : "",
        item.revoke ? "1" : "",
      );
    }
    const flat = await log.write<string[]>("answer", script, args);
    return items.map(({ templateId }, i) => {
      const outcome = flat[2 * i] as AnswerOutcome;
      const formId = flat[2 * i + 1];
      return formId ? { templateId, outcome, formId } : { templateId, outcome };
    });
  };
}
