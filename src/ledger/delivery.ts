/**
 * The batch operations of a ledger store, used by push delivery: take a credit for many
 * deliveries in one call and record many outcomes in one call. One script call per batch keeps
 * Redis commands per delivery far below one (Upstash bills and rate-limits per command).
 *
 * Inside a broadcast the store also keeps each user's delivery state, which makes a broadcast
 * reach each user at most once even when a worker dies and another retries its chunk:
 * absent -> taken (`t|<formId>`) -> sent | failed | no credit, or back to `r` (released, may be
 * retried). A user found still "taken" by a retry belonged to a lost worker: whether WeChat got
 * that message is unknown, so it is counted as failed (class `unknown`), never sent again.
 *
 * @module
 */
import type { Credit, CreditFilter } from "./credit_rules.ts";
import type { LedgerEvent, VoidReason } from "./events.ts";

/** One delivery to take a credit for. */
export interface DeliveryRef {
  openId: string;
  pushId: string;
}

/** Credits to take for many deliveries, all with the same filter. */
export interface TakeRequest extends CreditFilter {
  /** Set for deliveries of a broadcast: the store tracks each user's delivery state. */
  broadcastId?: string;
  /**
   * Outside a broadcast: the store keeps each delivery's state under its pushId for this many
   * ms, exactly as a broadcast keeps its users' (taken, then the outcome's state), so a pushId
   * taken again finds what happened (`done` or `lost`, never a second credit) and its outcome
   * is recorded at most once. The outcomes carry the same `pushStateMs`.
   */
  pushStateMs?: number;
  deliveries: DeliveryRef[];
}

/**
 * What taking did for one delivery:
 * - `taken`: the credit, with the uses it has left after this one;
 * - `none`: no qualifying credit; nothing recorded;
 * - `done`: (broadcast) the user was already handled;
 * - `lost`: (broadcast) a lost worker had taken `formId` for this user; recorded as failed
 *   with class `unknown` (`PushFailed`, errcode -1004) and never retried.
 */
export type TakeResult =
  | { status: "taken"; credit: Credit }
  | { status: "none" }
  | { status: "done" }
  | { status: "lost"; formId: string };

/** What a delivery's user counts as in its broadcast after this outcome. */
export type DeliveryState = "retry" | "sent" | "failed" | "no_credit";

/**
 * How each final or retry state is stored in a broadcast's state hash (both stores; the Lua
 * scripts receive these letters from TypeScript). `t|<formId>` (taken) and `u` (lost) are
 * written by the take step itself.
 */
export const STATE_LETTER: Readonly<Record<DeliveryState, string>> = {
  retry: "r",
  sent: "s",
  failed: "f",
  no_credit: "n",
};

/**
 * A delivery whose credit was taken by a worker that was lost before recording an outcome: it
 * may or may not have reached WeChat. Recorded as failed with class `unknown` and never retried.
 * The errcode is a local one (all below -1000, see src/wechat/errcodes.ts).
 */
export const LOST_DELIVERY = {
  errcode: -1004,
  errmsg: "delivery interrupted: the worker was lost after taking the credit",
} as const;

/** The outcome of one delivery attempt, to record. */
export interface DeliveryOutcome {
  openId: string;
  pushId: string;
  /** The credit `takeMany` took for this attempt (`null`: none was taken). */
  credit: Credit | null;
  /** Give the credit's use back (appends `FormIdReleased` after the audit events). */
  release: boolean;
  /** Audit events: `PushSucceeded` or `PushFailed`. */
  events: LedgerEvent[];
  /**
   * Void the user's live credits of this template after the events (`CreditsVoided`, one event
   * for all of them): WeChat said it holds none (43101).
   */
  voids?: { templateId: string; reason: VoidReason };
  /** Broadcast only: the user's state afterwards (`undefined`: unchanged). */
  state?: DeliveryState;
  /** Broadcast only: the errcode counted for a failed user. */
  errcode?: number;
  /**
   * Outside a broadcast, for a delivery taken with `pushStateMs`: the outcome applies only
   * while the push is still in the state its take left, and `state` is then kept this long.
   */
  pushStateMs?: number;
}

/** A broadcast's counters: users sent, failed, without a credit; failures by errcode. */
export interface BroadcastTally {
  sent: number;
  failed: number;
  noCredit: number;
  errors: Record<string, number>;
}

/** How long a broadcast's state and tally are kept after its last write, in ms (30 days). */
export const BROADCAST_STATE_TTL_MS = 30 * 86_400_000;

/**
 * The tally field a final state counts under.
 *
 * @example
 * ```ts
 * tallyField("no_credit"); // "noCredit"
 * tallyField("retry"); // ""
 * ```
 */
export function tallyField(state: DeliveryState | undefined): "sent" | "failed" | "noCredit" | "" {
  return state === "sent"
    ? "sent"
    : state === "failed"
    ? "failed"
    : state === "no_credit"
    ? "noCredit"
    : "";
}

/**
 * Turns a flat tally hash (`sent`, `failed`, `noCredit`, `e:<code>`) into a tally.
 *
 * @example
 * ```ts
 * parseTally({ sent: "2", failed: "1", "e:41028": "1" });
 * // { sent: 2, failed: 1, noCredit: 0, errors: { "41028": 1 } }
 * ```
 */
export function parseTally(fields: Record<string, string | number>): BroadcastTally {
  const tally: BroadcastTally = { sent: 0, failed: 0, noCredit: 0, errors: {} };
  for (const [field, value] of Object.entries(fields)) {
    const n = Number(value);
    if (field === "sent" || field === "failed" || field === "noCredit") tally[field] = n;
    else if (field.startsWith("e:")) tally.errors[field.slice(2)] = n;
  }
  return tally;
}
