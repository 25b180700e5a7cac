/**
 * The ledger's commands: the rules (uses per kind, expiry) applied on top of a store.
 *
 * @module
 */
import type { Clock } from "../shared/clock.ts";
import { type Credit, type CreditView, USES_BY_KIND } from "./credit_rules.ts";
import type { CreditKind } from "./events.ts";
import { Coalescer } from "../shared/coalescer.ts";
import { type CreditCaps, DEFAULT_CREDIT_CAPS } from "./credit_caps.ts";
import type { DeliveryOutcome, TakeRequest, TakeResult } from "./delivery.ts";
import type { CountedLimits } from "./limits.ts";
import type { CollectRequest, CollectResult, LedgerStore } from "./store.ts";
import type { AnswerReply, AnswerRequest, AnswerResult } from "./answer_rules.ts";
import type { SubscriptionView } from "./subscription_state.ts";

/** A credit as the outside world hands it in; the ledger decides its uses and expiry. */
export interface CollectItem {
  formId: string;
  kind: CreditKind;
  templateId?: string;
  /** When the mini-program obtained it (epoch ms); later than now counts as now. */
  collectedAt?: number;
}

/** Expiry rules, in seconds. */
export interface ExpiryRules {
  formIdTtlSeconds: number;
  /** Held back from the TTL so a credit is never spent at the very edge of WeChat's window. */
  safetySeconds: number;
  subscribeTtlSeconds: number | null;
}

/**
 * The expiry rules from the service's settings (as `Config` names them).
 *
 * @example
 * ```ts
 * const ledger = new Ledger(store, expiryRulesOf(config), systemClock);
 * ```
 */
export function expiryRulesOf(settings: {
  formIdTtlSeconds: number;
  formIdSafetySeconds: number;
  subscribeTtlSeconds: number | null;
}): ExpiryRules {
  return {
    formIdTtlSeconds: settings.formIdTtlSeconds,
    safetySeconds: settings.formIdSafetySeconds,
    subscribeTtlSeconds: settings.subscribeTtlSeconds,
  };
}

/** What a collection did: the store's answer plus credits refused for having expired already. */
export interface CollectOutcome extends CollectResult {
  expired: string[];
}

/**
 * Most uploads and credits in one store call: a call blocks Redis while it runs, and its request
 * must stay well under Upstash's request size limit (1 MB on the smallest plans), so a batch
 * holds at most 500 credits (about 220 KB at 128-character formIds).
 */
const MAX_UPLOADS_PER_CALL = 64;
const MAX_CREDITS_PER_CALL = 500;
/** Most reports and items in one answer call, for the same reasons. */
const MAX_REPORTS_PER_CALL = 64;
const MAX_ITEMS_PER_CALL = 500;

/**
 * The ledger: commands over one store, with one clock.
 *
 * @example
 * ```ts
 * const ledger = new Ledger(new MemoryStore(), expiryRulesOf(config), systemClock);
 * await ledger.collect("o1", [{ formId: "f1", kind: "form" }]);
 * ```
 */
export class Ledger {
  /**
   * Concurrent collects go to the store together: one atomic `collectMany` call (and one seal)
   * per batch instead of one per upload. Each upload still lands whole or not at all.
   */
  readonly #collects: Coalescer<CollectRequest, CollectResult>;
  /**
   * Concurrent answers (WeChat's event pushes above all: one per user's dialog) likewise: one
   * `answerMany` call and one seal per batch. Each report still lands whole or not at all, and
   * has its own reply.
   */
  readonly #answers: Coalescer<Omit<AnswerRequest, "expiresAt">, AnswerReply>;

  constructor(
    readonly store: LedgerStore,
    readonly rules: ExpiryRules,
    readonly clock: Clock,
  ) {
    // The batch's events are stamped when it is sent, never before any upload in it was made.
    this.#collects = new Coalescer(
      (uploads) => store.collectMany(uploads, clock.now()),
      {
        // Two in flight: a batch goes while the last one is in its round trip (each guesses
        // its seal from the one before, see collect.ts). Measured (bench/upload.ts, same runs):
        // 1, 2, 3 in flight gave 8.5-10.3, 10.8-13.2 and 11.1-11.4 % of the bare endpoint, at
        // 0.033, 0.055 and 0.077 commands per upload.
        maxInFlight: 2,
        maxBatch: MAX_UPLOADS_PER_CALL,
        maxWeight: MAX_CREDITS_PER_CALL,
        weigh: (upload) => upload.credits.length,
      },
    );
    // Stamped when the batch is sent, as collects are; a standing credit's expiry from then.
    this.#answers = new Coalescer(
      (reports) => {
        const now = clock.now();
        const expiresAt = this.expiryOf("subscribe", undefined, now);
        return store.answerMany(reports.map((r) => ({ ...r, expiresAt })), now);
      },
      {
        // Two in flight: a batch's seal need not end before the next batch's call goes.
        maxInFlight: 2,
        maxBatch: MAX_REPORTS_PER_CALL,
        maxWeight: MAX_ITEMS_PER_CALL,
        weigh: (report) => Math.max(1, report.items.length),
      },
    );
  }

  /** The expiry of a credit collected at `collectedAt`, seen at `now`; `null`: never. */
  expiryOf(kind: CreditKind, collectedAt: number | undefined, now: number): number | null {
    if (kind === "subscribe") {
      const ttl = this.rules.subscribeTtlSeconds;
      return ttl === null ? null : now + ttl * 1000;
    }
    const from = Math.min(collectedAt ?? now, now);
    return from + (this.rules.formIdTtlSeconds - this.rules.safetySeconds) * 1000;
  }

  /**
   * Collects credits for one user in one atomic store call (shared with concurrent uploads);
   * expired ones are refused, and those over `caps` (`refused`, see `LedgerStore.collectMany`).
   * With `limits`, the upload counts against them in the same call, and collects nothing when
   * over one: their `settle` gets the decisions (and may throw the refusal).
   *
   * @example
   * ```ts
   * const { accepted, refused } = await ledger.collect("o1", [{ formId: "f1", kind: "form" }]);
   * ```
   */
  async collect(
    openId: string,
    items: CollectItem[],
    caps: CreditCaps = DEFAULT_CREDIT_CAPS,
    limits?: CountedLimits,
  ): Promise<CollectOutcome> {
    const now = this.clock.now();
    const expired: string[] = [];
    const credits: Credit[] = [];
    for (const item of items) {
      const expiresAt = this.expiryOf(item.kind, item.collectedAt, now);
      if (expiresAt !== null && expiresAt <= now) {
        expired.push(item.formId);
        continue;
      }
      credits.push({
        formId: item.formId,
        kind: item.kind,
        ...(item.templateId !== undefined ? { templateId: item.templateId } : {}),
        uses: USES_BY_KIND[item.kind],
        expiresAt,
      });
    }
    // An upload with nothing left to collect still counts against its limits.
    const request: CollectRequest = { openId, credits, caps };
    if (limits) request.limits = limits.checks;
    const result = credits.length > 0 || limits
      ? await this.#collects.add(request)
      : { accepted: [], duplicates: [] };
    if (limits) limits.settle(result.limits ?? []);
    return { ...result, expired };
  }

  /**
   * Takes one use of a credit for each delivery of `request`, in one atomic store call stamped
   * now (see `LedgerStore.takeMany`).
   *
   * @example
   * ```ts
   * const [result] = await ledger.take({ templateId: "TPL", deliveries: [{ openId, pushId }] });
   * ```
   */
  take(request: TakeRequest): Promise<TakeResult[]> {
    return this.store.takeMany(request, this.clock.now());
  }

  /**
   * Records deliveries' outcomes in one atomic store call stamped now (see
   * `LedgerStore.recordMany`); `broadcastId` is `undefined` outside a broadcast.
   *
   * @example
   * ```ts
   * await ledger.record(undefined, [{ openId, pushId, credit, release: true, events: [] }]);
   * ```
   */
  record(broadcastId: string | undefined, outcomes: DeliveryOutcome[]): Promise<void> {
    return this.store.recordMany(broadcastId, outcomes, this.clock.now());
  }

  /** The user's valid credits now. */
  view(openId: string): Promise<CreditView> {
    return this.store.view(openId, this.clock.now());
  }

  /**
   * Applies a report of subscription answers in one atomic store call (shared with concurrent
   * reports: `LedgerStore.answerMany`); a standing credit's expiry follows
   * `SUBSCRIBE_TTL_SECONDS` (see `LedgerStore.answer`). With `limits`, the
   * report counts against them in the same call, and records nothing when over one: their
   * `settle` gets the decisions (and may throw the refusal), as in `collect`.
   *
   * @example
   * ```ts
   * await ledger.answer({ openId, source: "client", items, windowMs: null });
   * ```
   */
  async answer(
    request: Omit<AnswerRequest, "expiresAt" | "limits">,
    limits?: CountedLimits,
  ): Promise<AnswerResult[]> {
    const { results, limits: decisions } = await this.#answers.add(
      limits ? { ...request, limits: limits.checks } : request,
    );
    if (limits) limits.settle(decisions ?? []);
    return results;
  }

  /** The user's subscription state now. */
  subscriptions(openId: string): Promise<SubscriptionView> {
    return this.store.subscriptions(openId, this.clock.now());
  }
}
