/**
 * The broadcast delivery state machine as pure decisions: what taking a credit does given the
 * user's state, whether an outcome still applies, and the state and tally after it. The memory
 * store calls these; take.lua and record.lua are their twins in Redis (the store contract suite
 * proves they agree).
 *
 * A user's state in a broadcast: absent -> taken (`t|<formId>`) -> sent `s` | failed `f` | no
 * credit `n`, or released for a retry `r` (taken again later); a take that finds `t|<formId>`
 * makes it lost `u`. See `STATE_LETTER` for the letters an outcome writes.
 *
 * @module
 */
import { type Credit, isLongTerm } from "./credit_rules.ts";
import { formIdReleased, type LedgerEvent, type PushFailed, pushFailed } from "./events.ts";
import {
  type DeliveryOutcome,
  type DeliveryRef,
  type DeliveryState,
  LOST_DELIVERY,
  STATE_LETTER,
  tallyField,
} from "./delivery.ts";

/** The state of a user whose delivery was lost (its worker died after taking the credit). */
export const LOST_STATE = "u";

const TAKEN_PREFIX = "t|";

/**
 * The state of a user whose credit `formId` was taken and whose outcome is not recorded yet.
 *
 * @example
 * ```ts
 * takenState("f1"); // "t|f1"
 * ```
 */
export function takenState(formId: string): string {
  return TAKEN_PREFIX + formId;
}

/**
 * What taking does for one user of a broadcast:
 * - `take`: take a credit (the user is new, or was released for a retry);
 * - `lost`: a worker took `formId` and was lost before recording: the user's state becomes
 *   `state`, the tally fields `counts` go up by one and `event` is appended; never retried;
 * - `done`: the user was already handled.
 */
export type TakeStep =
  | { action: "take" }
  | { action: "done" }
  | { action: "lost"; formId: string; state: string; counts: string[]; event: PushFailed };

/**
 * Decides what taking does for `delivery`, a user of broadcast `broadcastId` (or, with
 * `broadcastId` undefined, a push whose state is kept) whose state is `state` (`undefined`:
 * absent).
 *
 * @example
 * ```ts
 * takeStep(undefined, "B", { openId: "o1", pushId: "B.o1" }); // { action: "take" }
 * takeStep("t|f1", "B", { openId: "o1", pushId: "B.o1" }).action; // "lost"
 * takeStep("s", "B", { openId: "o1", pushId: "B.o1" }); // { action: "done" }
 * ```
 */
export function takeStep(
  state: string | undefined,
  broadcastId: string | undefined,
  delivery: DeliveryRef,
): TakeStep {
  if (state === undefined || state === STATE_LETTER.retry) return { action: "take" };
  if (!state.startsWith(TAKEN_PREFIX)) return { action: "done" };
  const formId = state.slice(TAKEN_PREFIX.length);
  const event = pushFailed({ ...delivery, broadcastId }, {
    formId,
    errcode: LOST_DELIVERY.errcode,
    errmsg: LOST_DELIVERY.errmsg,
    class: "unknown",
  });
  const { counts } = afterOutcome("failed", LOST_DELIVERY.errcode);
  return { action: "lost", formId, state: LOST_STATE, counts, event };
}

/**
 * Whether an outcome recorded for a user whose state is `state` applies: it must be the outcome
 * of the take that is still pending (`t|<formId>` of its `credit`), or, without a credit, the
 * user must not have been handled yet (absent or released). Anything else means it was
 * recorded already or the delivery was declared lost: it changes nothing.
 *
 * @example
 * ```ts
 * outcomeApplies("t|f1", { formId: "f1", kind: "form", uses: 0, expiresAt: null }); // true
 * outcomeApplies("s", null); // false
 * ```
 */
export function outcomeApplies(state: string | undefined, credit: Credit | null): boolean {
  if (credit !== null) return state === takenState(credit.formId);
  return state === undefined || state === STATE_LETTER.retry;
}

/** A user's state letter after an outcome, and the tally fields that go up by one. */
export interface OutcomeEffect {
  state: string;
  /** `sent`, `failed` or `noCredit`, then `e:<errcode>` for a failure with an errcode. */
  counts: string[];
}

/**
 * What an outcome that applies does to the user's state and the broadcast's tally.
 *
 * @example
 * ```ts
 * afterOutcome("failed", 41028); // { state: "f", counts: ["failed", "e:41028"] }
 * afterOutcome("retry"); // { state: "r", counts: [] }
 * ```
 */
export function afterOutcome(state: DeliveryState, errcode?: number): OutcomeEffect {
  const counts: string[] = [];
  const field = tallyField(state);
  if (field) counts.push(field);
  if (state === "failed" && errcode !== undefined) counts.push(`e:${errcode}`);
  return { state: STATE_LETTER[state], counts };
}

/**
 * Whether an outcome gives its credit's use back: when it asks to, and the credit's use was
 * taken (a long-term subscription's never is).
 *
 * @example
 * ```ts
 * releases({ openId: "o", pushId: "p", credit: null, release: true, events: [] }); // false
 * ```
 */
export function releases(outcome: DeliveryOutcome): boolean {
  return outcome.release && outcome.credit !== null && !isLongTerm(outcome.credit);
}

/**
 * The events an outcome appends, in order: its audit events, then `FormIdReleased` when it
 * gives its credit's use back ({@link releases}). A void (`voids`) is decided by the store.
 *
 * @example
 * ```ts
 * outcomeEvents({ openId: "o", pushId: "p", credit: null, release: false, events: [] }); // []
 * ```
 */
export function outcomeEvents(outcome: DeliveryOutcome): LedgerEvent[] {
  const { credit } = outcome;
  if (!releases(outcome) || credit === null) return outcome.events;
  return [...outcome.events, formIdReleased(outcome.openId, outcome.pushId, credit)];
}

/**
 * What a failed send on `credit` voids: after 43101 WeChat holds no credit of the template for
 * the user, so the user's remaining ones are voided at once instead of tried one by one.
 *
 * @example
 * ```ts
 * voidsAfter(subscribeCredit, 43101); // { voids: { templateId: "T", reason: "errcode_43101" } }
 * voidsAfter(formCredit, 41028); // {}
 * ```
 */
export function voidsAfter(
  credit: Credit,
  errcode: number,
): { voids?: { templateId: string; reason: "errcode_43101" } } {
  if (errcode !== 43101 || credit.kind !== "subscribe" || credit.templateId === undefined) {
    return {};
  }
  return { voids: { templateId: credit.templateId, reason: "errcode_43101" } };
}
