/**
 * The embedded store: the log and projection in this process's memory. It is the default when
 * no Redis is configured, and nothing in it survives a restart.
 *
 * Every method does its reads and writes without awaiting in between, so each one is atomic
 * with respect to every other call, as a Lua script is in Redis.
 *
 * @module
 */
import { capRefusal } from "../../ledger/credit_caps.ts";
import {
  type Credit,
  type CreditFilter,
  type CreditView,
  isLongTerm,
  isValid,
  pickCredit,
  viewOf,
} from "../../ledger/credit_rules.ts";
import {
  type AnswerReply,
  type AnswerRequest,
  answerStep,
  liveOfTemplate,
} from "../../ledger/answer_rules.ts";
import { type RegisteredTemplate, sameTemplates } from "../../ledger/registry.ts";
import {
  applySubscriptionEvent,
  emptySubscriptions,
  type SubscriptionProjection,
  type SubscriptionView,
  subscriptionViewOf,
} from "../../ledger/subscription_state.ts";
import { isDuplicate } from "../../ledger/spend_groups.ts";
import {
  creditsVoided,
  formIdCollected,
  formIdConsumed,
  type LedgerEvent,
  type LogHead,
  type StoredEvent,
  subscribeSettingsReported,
  templatesSynced,
} from "../../ledger/events.ts";
import { applyEvent, type ProjectionState } from "../../ledger/projection.ts";
import { count, holdsValid, liveCounts } from "./counts.ts";
import { isRefused, type LimitCheck, type LimitDecision } from "../../ledger/limits.ts";
import {
  type BroadcastTally,
  type DeliveryOutcome,
  type DeliveryRef,
  parseTally,
  type TakeRequest,
  type TakeResult,
} from "../../ledger/delivery.ts";
import {
  afterOutcome,
  outcomeApplies,
  outcomeEvents,
  takenState,
  takeStep,
} from "../../ledger/delivery_rules.ts";
import type {
  CollectRequest,
  CollectResult,
  LedgerStore,
  ProjectionPage,
  RebuildResult,
  UserPage,
} from "../../ledger/store.ts";
import { LimitCounts } from "./limit_counts.ts";
import { MemoryLog } from "./log.ts";

/** A broadcast's per-user states (the letters of `STATE_LETTER`, `t|<formId>`, `u`) and tally. */
interface BroadcastRecord {
  states: Map<string, string>;
  tally: Record<string, number>;
}

/**
 * The in-memory ledger store.
 *
 * @example
 * ```ts
 * const store = new MemoryStore();
 * await store.collect("o1", [{ formId: "f1", kind: "form", uses: 1, expiresAt: null }], Date.now());
 * ```
 */
export class MemoryStore implements LedgerStore {
  readonly kind = "memory" as const;
  #log = new MemoryLog();
  #projection: ProjectionState = new Map();
  #subscriptions: SubscriptionProjection = emptySubscriptions();
  #broadcasts = new Map<string, BroadcastRecord>();
  /** pushId -> state of a push taken with `pushStateMs`, and until when it is kept. */
  #pushStates = new Map<string, { state: string; until: number }>();
  #limits = new LimitCounts();

  collect(openId: string, credits: Credit[], now: number): Promise<CollectResult> {
    return this.collectMany([{ openId, credits }], now).then(([result]) => result);
  }

  collectMany(uploads: CollectRequest[], now: number): Promise<CollectResult[]> {
    // No await in between: the whole batch is one atomic step. Each credit is committed before
    // the next is looked at, so a formId repeated in an upload is a duplicate of the first.
    const results = uploads.map(({ openId, credits, caps, limits }) => {
      const result: CollectResult = { accepted: [], duplicates: [] };
      if (limits) {
        // Counted first; over a limit, the upload collects nothing.
        result.limits = this.#limits.count(limits, now);
        if (isRefused(result.limits)) return result;
      }
      const live = caps ? liveCounts(this.#projection.get(openId), now) : null;
      for (const credit of credits) {
        if (isDuplicate(this.#projection.get(openId)?.get(credit.formId), now)) {
          result.duplicates.push(credit.formId);
          continue;
        }
        if (caps && live) {
          const template = credit.kind === "subscribe" ? credit.templateId ?? "" : null;
          const counts = { user: live.user, template: live.templates.get(template ?? "") ?? 0 };
          const reason = capRefusal(credit, counts, caps);
          if (reason !== null) {
            (result.refused ??= []).push({ formId: credit.formId, reason });
            continue;
          }
          if (isValid(credit, now)) {
            live.user++;
            if (template !== null) live.templates.set(template, counts.template + 1);
          }
        }
        result.accepted.push(credit.formId);
        this.#commit([formIdCollected(openId, credit)], now);
      }
      return result;
    });
    return Promise.resolve(results);
  }

  countLimits(checks: LimitCheck[], now: number): Promise<LimitDecision[]> {
    return Promise.resolve(this.#limits.count(checks, now));
  }

  takeMany(request: TakeRequest, now: number): Promise<TakeResult[]> {
    const id = request.broadcastId;
    const bc = id === undefined ? undefined : this.#broadcast(id);
    const ms = request.pushStateMs;
    const results = request.deliveries.map((delivery): TakeResult => {
      if (bc === undefined && ms === undefined) return this.#take(delivery, request, now);
      const set = (state: string) =>
        bc
          ? bc.states.set(delivery.openId, state)
          : this.#pushStates.set(delivery.pushId, { state, until: now + ms! });
      const state = bc ? bc.states.get(delivery.openId) : this.#pushState(delivery.pushId, now);
      const step = takeStep(state, id, delivery);
      if (step.action === "done") return { status: "done" };
      if (step.action === "lost") {
        set(step.state);
        if (bc) count(bc.tally, step.counts);
        this.#commit([step.event], now);
        return { status: "lost", formId: step.formId };
      }
      const result = this.#take(delivery, request, now);
      if (result.status === "taken") set(takenState(result.credit.formId));
      return result;
    });
    return Promise.resolve(results);
  }

  recordMany(
    broadcastId: string | undefined,
    outcomes: DeliveryOutcome[],
    now: number,
  ): Promise<void> {
    const bc = broadcastId === undefined ? undefined : this.#broadcast(broadcastId);
    for (const o of outcomes) {
      const tracked = bc !== undefined && o.state !== undefined;
      const pushTracked = bc === undefined && o.state !== undefined &&
        o.pushStateMs !== undefined;
      // Applies only while the user's state is the expected one: idempotent, never counted twice.
      if (tracked && !outcomeApplies(bc.states.get(o.openId), o.credit)) continue;
      if (pushTracked && !outcomeApplies(this.#pushState(o.pushId, now), o.credit)) continue;
      this.#commit(outcomeEvents(o), now);
      if (o.voids) this.#void(o.openId, o.voids.templateId, o.voids.reason, now);
      if (pushTracked) {
        const { state } = afterOutcome(o.state!, o.errcode);
        this.#pushStates.set(o.pushId, { state, until: now + o.pushStateMs! });
      }
      if (!tracked) continue;
      const effect = afterOutcome(o.state!, o.errcode);
      bc.states.set(o.openId, effect.state);
      count(bc.tally, effect.counts);
    }
    return Promise.resolve();
  }

  answer(request: AnswerRequest, now: number): Promise<AnswerReply> {
    return Promise.resolve(this.#answerOne(request, now));
  }

  answerMany(requests: AnswerRequest[], now: number): Promise<AnswerReply[]> {
    // One after the other, as answer.lua applies a call's reports.
    return Promise.resolve(requests.map((request) => this.#answerOne(request, now)));
  }

  #answerOne(request: AnswerRequest, now: number): AnswerReply {
    const { openId, settings } = request;
    // Counted first; over a limit, the report records nothing (as answer.lua does per report).
    const limits = request.limits && this.#limits.count(request.limits, now);
    if (limits && isRefused(limits)) return { results: [], limits };
    const held = () => ({
      credits: this.#projection.get(openId),
      user: this.#subscriptions.users.get(openId),
    });
    if (settings) {
      const event = subscribeSettingsReported(openId, settings);
      const old = held().user?.settings;
      if (
        !old ||
        JSON.stringify(subscribeSettingsReported(openId, old).data) !== JSON.stringify(event.data)
      ) {
        this.#commit([event], now);
      }
    }
    // Each item's events are folded before the next item is decided, as answer.lua does.
    const results = request.items.map((item) => {
      const { events, result } = answerStep(request, item, held(), now);
      this.#commit(events, now);
      return result;
    });
    return limits ? { results, limits } : { results };
  }

  subscriptions(openId: string, now: number): Promise<SubscriptionView> {
    return Promise.resolve(
      structuredClone(subscriptionViewOf(this.#subscriptions.users.get(openId), now)),
    );
  }

  syncTemplates(templates: RegisteredTemplate[], now: number): Promise<boolean> {
    if (sameTemplates(this.#subscriptions.templates, templates)) return Promise.resolve(false);
    this.#commit([templatesSynced(templates)], now);
    return Promise.resolve(true);
  }

  templates(): Promise<RegisteredTemplate[] | null> {
    return Promise.resolve(structuredClone(this.#subscriptions.templates));
  }

  /** Voids the user's live credits of a template in one event (none: nothing appended). */
  #void(openId: string, templateId: string, reason: "errcode_43101" | "revoked", now: number) {
    const live = liveOfTemplate(this.#projection.get(openId)?.values() ?? [], templateId, now);
    if (live.length === 0) return;
    this.#commit([creditsVoided(openId, templateId, reason, live.map((c) => c.formId))], now);
  }

  tally(broadcastId: string): Promise<BroadcastTally> {
    return Promise.resolve(parseTally(this.#broadcasts.get(broadcastId)?.tally ?? {}));
  }

  /**
   * Takes one use of the user's best qualifying credit (`pickCredit`), appending
   * `FormIdConsumed`; expired credits met on the way are dropped, not even needed for dedupe.
   */
  #take({ openId, pushId }: DeliveryRef, filter: CreditFilter, now: number): TakeResult {
    const credits = this.#projection.get(openId);
    if (!credits) return { status: "none" };
    const { credit, expired } = pickCredit(credits.values(), filter, now);
    for (const gone of expired) credits.delete(gone.formId);
    if (credit === null) return { status: "none" };
    // A long-term subscription is never used up: no event, nothing changes.
    if (isLongTerm(credit)) return { status: "taken", credit: { ...credit } };
    // Copied before the commit, which folds the event into (and so changes) `credit`.
    const taken = { ...credit, uses: credit.uses - 1 };
    this.#commit([formIdConsumed(openId, pushId, credit.formId)], now);
    return { status: "taken", credit: taken };
  }

  /** A kept push state, `undefined` when absent or past its time. */
  #pushState(pushId: string, now: number): string | undefined {
    const kept = this.#pushStates.get(pushId);
    if (kept && kept.until <= now) this.#pushStates.delete(pushId);
    return kept && kept.until > now ? kept.state : undefined;
  }

  #broadcast(id: string): BroadcastRecord {
    let bc = this.#broadcasts.get(id);
    if (!bc) this.#broadcasts.set(id, bc = { states: new Map(), tally: {} });
    return bc;
  }

  view(openId: string, now: number): Promise<CreditView> {
    return Promise.resolve(viewOf(this.#projection.get(openId)?.values() ?? [], now));
  }

  users(cursor: string, count: number, now: number): Promise<UserPage> {
    const all: string[] = [];
    for (const [openId, credits] of this.#projection) {
      if (holdsValid(credits, now)) all.push(openId);
    }
    all.sort();
    const start = Number(cursor);
    const openIds = all.slice(start, start + count);
    const next = start + count >= all.length ? "0" : String(start + count);
    return Promise.resolve({ cursor: next, openIds });
  }

  projectionPage(cursor: string, count: number, now: number): Promise<ProjectionPage> {
    const all: [string, Map<string, Credit>][] = [];
    for (const entry of this.#projection) if (holdsValid(entry[1], now)) all.push(entry);
    all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const start = Number(cursor);
    const users = all.slice(start, start + count).map(([openId, credits]) => ({
      openId,
      credits: [...credits.values()].map((c) => ({ ...c })),
    }));
    const next = start + count >= all.length ? "0" : String(start + count);
    return Promise.resolve({ cursor: next, users });
  }

  readEvents(after: number, limit: number): Promise<StoredEvent[]> {
    return this.#log.read(after, limit);
  }

  head(): Promise<LogHead> {
    return Promise.resolve(this.#log.head());
  }

  rebuild(_now: number): Promise<RebuildResult> {
    const fresh: ProjectionState = new Map();
    const subscriptions = emptySubscriptions();
    for (const event of this.#log.all()) {
      applyEvent(fresh, event);
      applySubscriptionEvent(subscriptions, event, Date.parse(event.at));
    }
    this.#projection = fresh;
    this.#subscriptions = subscriptions;
    return Promise.resolve({ events: this.#log.length, users: fresh.size });
  }

  /** Always 0: this store chains each event as it appends it. */
  unsealed(): Promise<number> {
    return Promise.resolve(0);
  }

  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #commit(events: LedgerEvent[], now: number): number[] {
    const at = new Date(now).toISOString();
    return events.map((event) => {
      const { seq } = this.#log.append(event, at);
      applyEvent(this.#projection, event);
      applySubscriptionEvent(this.#subscriptions, event, now);
      return seq;
    });
  }
}
