/**
 * The owner of answer.lua: many reports of subscription answers (one user's each) in one call,
 * each first counted against its rate limits (limits.ts owns their keys), and the events it
 * appended sealed right after without reading them back.
 *
 * @module
 */
import { canonicalEvent, canonicalJson, GENESIS } from "../../chain/chain.ts";
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
import { decodeEntry, encodeEntry } from "./entry.ts";
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
 * The answer operation of one ledger (`LedgerStore.answerMany`): every report in one script
 * call, then one seal of the events it appended, from the head the script saw (no read back).
 *
 * @example
 * ```ts
 * const answerMany = answerScript(log);
 * const [{ results: [result] }] = await answerMany([{ openId, source: "client", items,
 *   expiresAt: null, windowMs: null }], Date.now());
 * ```
 */
export function answerScript(
  log: LogWriter,
): (requests: AnswerRequest[], now: number) => Promise<AnswerReply[]> {
  const script = log.load(ANSWER_LUA);
  // Calls may overlap (the ledger keeps two in flight): each seals after the one before it, so
  // its events follow the head that one left, and one compare-and-swap stores their hashes.
  let lastSeal: Promise<unknown> = Promise.resolve();
  return async (requests, now) => {
    if (requests.length === 0) return [];
    const args = log.args(now);
    const [prefix] = args; // lib.lua's ARGV[1]
    for (const request of requests) pushReport(args, prefix, request, now);
    const flat = await log.exec<(number | string)[]>(script, args);
    // The sealed head and the last seq before the call, then per report each check's count and
    // (unless refused: nothing was written) two per item, then the appended events.
    let at = 3;
    const replies = requests.map(({ items, limits }): AnswerReply => {
      const decisions = limits?.map((check) => decide(check, Number(flat[at++]), now));
      if (decisions && isRefused(decisions)) return { results: [], limits: decisions };
      const results = items.map(({ templateId }): AnswerResult => {
        const outcome = flat[at++] as AnswerOutcome;
        const formId = String(flat[at++]);
        return formId ? { templateId, outcome, formId } : { templateId, outcome };
      });
      return decisions ? { results, limits: decisions } : { results };
    });
    const sealed = { seq: Number(flat[0]), hash: String(flat[1]) || GENESIS };
    const appended = appendedEvents(flat, at, Number(flat[2]), now);
    const previous = lastSeal;
    const sealing = log.sealAfter("answer", async () => {
      await previous;
      if (!appended) return await log.sealer.seal();
      const known = log.sealer.known;
      // Sealed already (by another call's round that read them).
      if (known.seq >= (appended.at(-1)?.seq ?? 0)) return known;
      return await log.sealer.sealAppended(known.seq > sealed.seq ? known : sealed, appended);
    });
    lastSeal = sealing;
    await sealing;
    return replies;
  };
}

/** One report's arguments (answer.lua's header lists them). */
function pushReport(args: string[], prefix: string, request: AnswerRequest, now: number): void {
  const { openId, source, windowMs, expiresAt, caps, settings, items, limits } = request;
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
  args.push(String(items.length));
  for (const item of items) {
    args.push(
      item.templateId,
      item.answer,
      item.key,
      item.longTerm ? "1" : "",
      item.revoke ? "1" : "",
    );
  }
}

/**
 * The events the script appended after seq `last`, as the sealer hashes them (each entry
 * decoded, as a read back would decode it); `null` when the script could not list them all
 * (then the sealer reads the tail).
 */
function appendedEvents(
  flat: (number | string)[],
  at: number,
  last: number,
  now: number,
): { seq: number; canonical: string }[] | null {
  const count = Number(flat[at]);
  if (count < 0) return null;
  const time = new Date(now).toISOString();
  const events: { seq: number; canonical: string }[] = [];
  for (let k = 0; k < count; k++) {
    const { type, data } = decodeEntry(String(flat[at + 1 + 2 * k]), String(flat[at + 2 + 2 * k]));
    const seq = last + 1 + k;
    events.push({ seq, canonical: canonicalEvent({ seq, type, at: time, data }) });
  }
  return events;
}
