/**
 * What one subscription answer does to the ledger: the rules of `LedgerStore.answer`, as a pure
 * decision over one user's credits and subscription state. The memory store calls
 * {@link answerStep}; answer.lua is its twin (the store contract suite proves they agree).
 *
 * For each item of a report (the client's) or of an event push (WeChat's), in order:
 * - a key seen within `SEEN_MS` (or a credit of that id still held) is a `duplicate` and changes
 *   nothing;
 * - otherwise `SubscriptionAnswered` records the answer (with the event push only: without it
 *   the client's report stands as it always did, its credits the only events), then:
 * - an accept (`accept`, `acceptWithAudio`, `acceptWithAlert`) of a long-term template holds the
 *   user's one long-term credit (`active` when it is held already);
 * - an accept of a one-time template, without the event push (`windowMs` null), is a credit;
 * - with the event push, an accept both sources report is one credit: the second report matches
 *   the first one still waiting on the other side (`CreditConfirmed`, `confirmed`); a first
 *   report from WeChat is a credit; a first report from the client is `provisional` (it expires
 *   at the end of the window unless WeChat confirms it), except for a template the user keeps as
 *   "always accept" (WeChat may not push an event for an accept without a dialog): that credit
 *   stands (`credited`) and still waits for WeChat's report to match;
 * - a revocation (WeChat's change event) voids the user's live credits of the template
 *   (`CreditsVoided`, `voided`);
 * - any other answer is state only (`answered`).
 * A credit over a cap is refused (`user_full`, `template_full`); its answer is still recorded.
 * A report carrying rate limits (`AnswerRequest.limits`) is counted against them before any of
 * this (as a collect counts an upload's, src/ledger/limits.ts); over one, it records nothing.
 *
 * @module
 */
import { type CapReason, capRefusal, type CreditCaps } from "./credit_caps.ts";
import { bySpendOrder, type Credit, isValid, LONG_TERM_PREFIX } from "./credit_rules.ts";
import { formIdCollected, type LedgerEvent } from "./events.ts";
import { isDuplicate } from "./spend_groups.ts";
import {
  type AnswerSource,
  creditConfirmed,
  creditsVoided,
  type SubscribeSettings,
  subscriptionAnswered,
} from "./subscribe_events.ts";
import { firstWaiting, type UserSubscriptionState } from "./subscription_state.ts";
import type { LimitCheck, LimitDecision } from "./limits.ts";

/** The answers that grant a send. */
export const ACCEPTS: readonly string[] = ["accept", "acceptWithAudio", "acceptWithAlert"];

/** One template's answer in a report or an event. */
export interface AnswerItem {
  templateId: string;
  answer: string;
  /**
   * The item's key: `sub:<reportId>:<templateId>` (client) or `sub:wx@<CreateTime>:<templateId>`
   * (WeChat). A one-time accept's credit has this id.
   */
  key: string;
  /** The template is long-term (type 3). */
  longTerm: boolean;
  /** WeChat's change event turned the template off: void the user's credits of it. */
  revoke: boolean;
}

/** One report of answers for one user, applied in one atomic step. */
export interface AnswerRequest {
  openId: string;
  source: AnswerSource;
  items: AnswerItem[];
  /** The client's `wx.getSetting` result, recorded (when changed) before the items. */
  settings?: SubscribeSettings;
  caps?: CreditCaps;
  /** The expiry of a standing subscribe credit (`null`: never). */
  expiresAt: number | null;
  /** With WeChat's event push: how long an accept waits for the other source; `null`: none. */
  windowMs: number | null;
  /**
   * Rate limits this report counts against, counted in the same atomic step before anything of
   * it (as `LedgerStore.countLimits` counts them); over any of them, it records nothing.
   */
  limits?: LimitCheck[];
}

/** What an item did. */
export type AnswerOutcome =
  | "credited"
  | "provisional"
  | "confirmed"
  | "active"
  | "voided"
  | "answered"
  | "duplicate"
  | CapReason;

/** One item's outcome; `formId` is the credit it created, confirmed or held. */
export interface AnswerResult {
  templateId: string;
  outcome: AnswerOutcome;
  formId?: string;
}

/**
 * What `LedgerStore.answer` did: one result per item, in order; with `AnswerRequest.limits`, one
 * decision per check, in order, and when one is refused (`isRefused`) `results` is empty: the
 * report recorded nothing.
 */
export interface AnswerReply {
  results: AnswerResult[];
  limits?: LimitDecision[];
}

/** What `answerStep` decided for one item: its events (in order) and outcome. */
export interface AnswerStep {
  events: LedgerEvent[];
  result: AnswerResult;
}

/**
 * Whether `settings` keep `templateId` as "always accept".
 *
 * @example
 * ```ts
 * keepsAccept({ mainSwitch: true, itemSettings: { T: "accept" } }, "T"); // true
 * ```
 */
export function keepsAccept(settings: SubscribeSettings | null | undefined, templateId: string) {
  return settings?.mainSwitch === true && settings.itemSettings[templateId] === "accept";
}

/**
 * The user's live credits of `templateId` in spend order (what a void takes).
 *
 * @example
 * ```ts
 * liveOfTemplate(userCredits, "T", Date.now()).map((c) => c.formId);
 * ```
 */
export function liveOfTemplate(
  credits: Iterable<Credit>,
  templateId: string,
  now: number,
): Credit[] {
  const live: Credit[] = [];
  for (const c of credits) {
    if (c.kind === "subscribe" && c.templateId === templateId && isValid(c, now)) live.push(c);
  }
  return live.sort(bySpendOrder);
}

/**
 * Decides one item against the user's current credits and state (the caller commits the events,
 * whose fold updates both, before the next item).
 *
 * @example
 * ```ts
 * const { events, result } = answerStep(request, item, { credits, user }, now);
 * ```
 */
export function answerStep(
  request: AnswerRequest,
  item: AnswerItem,
  held: { credits: Map<string, Credit> | undefined; user: UserSubscriptionState | undefined },
  now: number,
): AnswerStep {
  const { openId, source, windowMs } = request;
  const { templateId, answer, key } = item;
  // Without the event push the client's report stands as before this module: only its
  // credits are appended (no answers, nothing for a refusal or a refused credit).
  const recorded = windowMs !== null;
  const seen = held.user?.seen.get(key);
  if ((seen !== undefined && seen > now) || isDuplicate(held.credits?.get(key), now)) {
    return { events: [], result: { templateId, outcome: "duplicate" } };
  }
  const answered = (extra: { formId?: string; until?: number } = {}): LedgerEvent[] =>
    recorded ? [subscriptionAnswered({ openId, templateId, answer, source, key, ...extra })] : [];
  const credits = held.credits;
  if (item.revoke) {
    const live = liveOfTemplate(credits?.values() ?? [], templateId, now);
    if (live.length === 0) {
      return { events: answered(), result: { templateId, outcome: "answered" } };
    }
    const voided = creditsVoided(openId, templateId, "revoked", live.map((c) => c.formId));
    return { events: [...answered(), voided], result: { templateId, outcome: "voided" } };
  }
  if (!ACCEPTS.includes(answer)) {
    return { events: answered(), result: { templateId, outcome: "answered" } };
  }
  const mint = (
    formId: string,
    expiresAt: number | null,
    outcome: AnswerOutcome,
    until?: number,
  ) => {
    const credit: Credit = { formId, kind: "subscribe", templateId, uses: 1, expiresAt };
    const reason = request.caps
      ? capRefusal(credit, liveCounts(credits, templateId, now), request.caps)
      : null;
    if (reason !== null) return { events: answered(), result: { templateId, outcome: reason } };
    return {
      events: [
        ...answered({ formId, ...(until !== undefined ? { until } : {}) }),
        formIdCollected(openId, credit),
      ],
      result: { templateId, outcome, formId },
    };
  };
  if (item.longTerm) {
    const formId = LONG_TERM_PREFIX + templateId;
    if (isDuplicate(credits?.get(formId), now)) {
      return { events: answered(), result: { templateId, outcome: "active", formId } };
    }
    return mint(formId, null, "credited");
  }
  if (windowMs === null) return mint(key, request.expiresAt, "credited");
  const t = held.user?.templates.get(templateId);
  const other = firstWaiting(
    source === "client" ? t?.wechat ?? new Map() : t?.client ?? new Map(),
    now,
  );
  if (other !== null) {
    const confirmed = creditConfirmed({
      openId,
      templateId,
      formId: other,
      by: source,
      ...(source === "wechat" ? { expiresAt: request.expiresAt } : {}),
    });
    return {
      events: [...answered(), confirmed],
      result: { templateId, outcome: "confirmed", formId: other },
    };
  }
  const until = now + windowMs;
  if (source === "wechat") return mint(key, request.expiresAt, "credited", until);
  // A silent accept ("always keep") may never be reported by WeChat: it stands.
  if (keepsAccept(held.user?.settings, templateId)) {
    return mint(key, request.expiresAt, "credited", until);
  }
  const expiresAt = request.expiresAt === null ? until : Math.min(until, request.expiresAt);
  return mint(key, expiresAt, "provisional", until);
}

/** The user's live credits, in all and of `templateId`, for the caps. */
function liveCounts(
  credits: Map<string, Credit> | undefined,
  templateId: string,
  now: number,
): { user: number; template: number } {
  const live = { user: 0, template: 0 };
  for (const c of credits?.values() ?? []) {
    if (!isValid(c, now)) continue;
    live.user++;
    if (c.kind === "subscribe" && c.templateId === templateId) live.template++;
  }
  return live;
}
