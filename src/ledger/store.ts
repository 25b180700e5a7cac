/**
 * The one interface every ledger store implements. A store is defined by the contract suite in
 * `tests/store/store_contract.ts`: the memory store behaves exactly like the Redis store, atomicity included.
 *
 * Each write method is one atomic step: its events are appended to the log and the projection
 * is updated together, or nothing happens.
 *
 * @module
 */
import type { CapReason, CreditCaps } from "./credit_caps.ts";
import type { Credit, CreditView } from "./credit_rules.ts";
import type { LogHead, StoredEvent } from "./events.ts";
import type { BroadcastTally, DeliveryOutcome, TakeRequest, TakeResult } from "./delivery.ts";
import type { AnswerReply, AnswerRequest } from "./answer_rules.ts";
import type { RegisteredTemplate } from "./registry.ts";
import type { SubscriptionView } from "./subscription_state.ts";
import type { LimitCheck, LimitDecision } from "./limits.ts";

/** A credit `collect` refused for a cap, and which. */
export interface CapRefusal {
  formId: string;
  reason: CapReason;
}

/**
 * What `collect` did with each credit of the batch. `refused` is there only when a cap refused
 * something (credits refused change nothing).
 */
export interface CollectResult {
  accepted: string[];
  duplicates: string[];
  refused?: CapRefusal[];
  /**
   * One decision per rate-limit check of the request (`CollectRequest.limits`), in order; when
   * one is refused (`isRefused`) the upload collected nothing (`accepted` and `duplicates` empty).
   */
  limits?: LimitDecision[];
}

/**
 * One upload's credits for one user, as one entry of `collectMany`; `caps` bound the user's
 * live credits (none when absent: tools and benchmarks).
 */
export interface CollectRequest {
  openId: string;
  credits: Credit[];
  caps?: CreditCaps;
  /**
   * Rate limits this upload counts against, counted in the same atomic step before its credits
   * (as `countLimits` counts them); over any of them, it collects nothing. `credits` may then be
   * empty: the upload only counts.
   */
  limits?: LimitCheck[];
}

/** A page of users who may hold valid credits; `cursor` is "0" when the listing is done. */
export interface UserPage {
  cursor: string;
  openIds: string[];
}

/** One user's credits as the live projection holds them. */
export interface UserCredits {
  openId: string;
  credits: Credit[];
}

/** A page of the live projection; `cursor` is "0" when the listing is done. */
export interface ProjectionPage {
  cursor: string;
  users: UserCredits[];
}

/** The result of a projection rebuild. */
export interface RebuildResult {
  events: number;
  users: number;
}

/** A rebuild was asked for while another one (in any process) is running. */
export class RebuildRunningError extends Error {
  constructor() {
    super("a rebuild of this ledger's projection is already running; try again when it ends");
    this.name = "RebuildRunningError";
  }
}

/** The ledger store: an append-only event log and the per-user projection folded from it. */
export interface LedgerStore {
  /** "memory" or "redis", for health reports. */
  readonly kind: "memory" | "redis";
  /**
   * Appends one `FormIdCollected` per new credit and adds it to the user's view. A formId the
   * user holds unexpired (spent or not) is a duplicate (`isDuplicate`).
   */
  collect(openId: string, credits: Credit[], now: number): Promise<CollectResult>;
  /**
   * Collects many uploads in one atomic step, as if `collect` ran for each in order; one
   * result per upload. With `caps`, a credit that would take the user's live credits (or its
   * template's) over a cap is refused (`capRefusal`), in order: an upload partly over collects
   * exactly up to the cap.
   */
  collectMany(uploads: CollectRequest[], now: number): Promise<CollectResult[]>;
  /**
   * Takes one use of a credit for each of many deliveries in one atomic step (one
   * `FormIdConsumed` each): the valid credit the filter allows that expires soonest
   * (`pickCredit`), returned with the uses it has left; in a broadcast, each user at most once
   * (see `TakeResult` and `takeStep`). It reads the heads of the filter's spend groups
   * (`spendGroupsOf`), not all the user's credits.
   */
  takeMany(request: TakeRequest, now: number): Promise<TakeResult[]>;
  /**
   * Records many deliveries' outcomes (audit events, releases, broadcast tally) atomically, in
   * order (`outcomeEvents`, then a `voids`' `CreditsVoided`). In a broadcast an outcome applies only while the user's state is
   * the expected one (`outcomeApplies`), so recording twice changes nothing.
   */
  recordMany(
    broadcastId: string | undefined,
    outcomes: DeliveryOutcome[],
    now: number,
  ): Promise<void>;
  /**
   * Applies one report of subscription answers (the client's, or WeChat's event push) in one
   * atomic step, item by item (`answerStep`): answers, credits, confirmations, voids. With
   * `request.limits`, the report first counts against them in the same step (as `countLimits`
   * counts them) and, over any of them, records nothing (`results` empty).
   */
  answer(request: AnswerRequest, now: number): Promise<AnswerReply>;
  /**
   * Applies many reports (of one user each, or several of one user) in one atomic step, as if
   * `answer` ran for each in order; one reply per report. A report over its rate limits records
   * nothing and does not affect the others.
   */
  answerMany(requests: AnswerRequest[], now: number): Promise<AnswerReply[]>;
  /** The user's subscription state at `now`: settings, and per template the last answer. */
  subscriptions(openId: string, now: number): Promise<SubscriptionView>;
  /**
   * Makes `templates` the account's template registry: appends `TemplatesSynced` and updates
   * the registry in one step when the set differs from the one held; `false` when it was the same.
   */
  syncTemplates(templates: RegisteredTemplate[], now: number): Promise<boolean>;
  /** The template registry; `null` when no sync ever happened. */
  templates(): Promise<RegisteredTemplate[] | null>;
  /**
   * Counts one request against each of `checks` at `now` (fixed windows, see ledger/limits.ts),
   * in one atomic step, in the same counts as the checks collects and answers carry; a decision
   * each.
   */
  countLimits(checks: LimitCheck[], now: number): Promise<LimitDecision[]>;
  /** A broadcast's counters so far. */
  tally(broadcastId: string): Promise<BroadcastTally>;
  /** The user's valid credits at `now` (read from the index of live credits, not a scan). */
  view(openId: string, now: number): Promise<CreditView>;
  /** Users that may hold credits valid at `now`, in pages. */
  users(cursor: string, count: number, now: number): Promise<UserPage>;
  /**
   * The live projection in pages, for audits: every user who may hold credits valid at `now`,
   * with the credits the projection holds for them (spent or expired ones may be included; a
   * user may appear on two pages).
   */
  projectionPage(cursor: string, count: number, now: number): Promise<ProjectionPage>;
  /** Up to `limit` events with `seq > after`, in order. */
  readEvents(after: number, limit: number): Promise<StoredEvent[]>;
  /** The last event's seq and hash (`seq` 0 on an empty log). */
  head(): Promise<LogHead>;
  /**
   * Events appended but not yet in the hash chain, without sealing them. Each write seals its
   * events right after, so this stays near 0; a count that keeps growing means sealing is stuck
   * (an unsealed entry was changed or removed) and the newest events are not tamper-evident.
   */
  unsealed(): Promise<number>;
  /**
   * Replays the whole log into a fresh projection and swaps it in. One at a time: a second
   * concurrent rebuild throws `RebuildRunningError`.
   */
  rebuild(now: number): Promise<RebuildResult>;
  /** Whether the backing store answers. */
  ping(): Promise<boolean>;
  /** Releases connections. */
  close(): Promise<void>;
}
