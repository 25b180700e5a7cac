/**
 * The subscription projection as a pure fold over the log, beside the credits
 * (projection.ts): the account's template registry, and per user and template the last answer,
 * the accepts still waiting for the other source's report (client or WeChat), the report keys
 * seen lately (a repeated report is a duplicate) and the client's reported settings.
 *
 * Times matter here (a waiting accept stops waiting at `until`, a key is remembered for
 * {@link SEEN_MS} after its event), so the fold takes each event's time. The memory store keeps
 * its live state in one of these; rebuilds of every store fold the log into a fresh one; the
 * Redis store's answer.lua is the twin.
 *
 * @module
 */
import type { LedgerEvent } from "./events.ts";
import type { RegisteredTemplate } from "./registry.ts";
import type { AnswerSource, SubscribeSettings } from "./subscribe_events.ts";

/**
 * How long a report item's key is remembered, so a repeated report (WeChat retries its pushes
 * for up to ~15 s, a client retries a lost answer) is a duplicate: one day.
 *
 * @example
 * ```ts
 * seenUntil = eventTime + SEEN_MS;
 * ```
 */
export const SEEN_MS = 86_400_000;

/** One user's state for one template. */
export interface TemplateAnswerState {
  /** The last answer and who reported it. */
  answer?: string;
  source?: AnswerSource;
  /** Accepts reported by the client and not yet by WeChat: formId -> waits until (epoch ms). */
  client: Map<string, number>;
  /** Accepts reported by WeChat and not yet by the client: formId -> waits until. */
  wechat: Map<string, number>;
}

/** One user's subscription state. */
export interface UserSubscriptionState {
  templates: Map<string, TemplateAnswerState>;
  settings: SubscribeSettings | null;
  /** Report item keys -> remembered until. */
  seen: Map<string, number>;
}

/** The whole subscription projection. */
export interface SubscriptionProjection {
  users: Map<string, UserSubscriptionState>;
  /** The account's templates; `null` until a first sync. */
  templates: RegisteredTemplate[] | null;
}

/**
 * A fresh, empty projection.
 *
 * @example
 * ```ts
 * const state = emptySubscriptions();
 * for (const e of log) applySubscriptionEvent(state, e, Date.parse(e.at));
 * ```
 */
export function emptySubscriptions(): SubscriptionProjection {
  return { users: new Map(), templates: null };
}

/**
 * A user's state, created when absent.
 *
 * @example
 * ```ts
 * userSubscriptions(state, "o1").settings; // null at first
 * ```
 */
export function userSubscriptions(
  state: SubscriptionProjection,
  openId: string,
): UserSubscriptionState {
  let user = state.users.get(openId);
  if (!user) {
    state.users.set(openId, user = { templates: new Map(), settings: null, seen: new Map() });
  }
  return user;
}

/**
 * A user's state for one template, created when absent.
 *
 * @example
 * ```ts
 * templateState(userSubscriptions(state, "o1"), "T").client.size; // 0
 * ```
 */
export function templateState(
  user: UserSubscriptionState,
  templateId: string,
): TemplateAnswerState {
  let t = user.templates.get(templateId);
  if (!t) user.templates.set(templateId, t = { client: new Map(), wechat: new Map() });
  return t;
}

/**
 * Applies one event, appended at `atMs`, to `state` in place; others are ignored.
 *
 * @example
 * ```ts
 * applySubscriptionEvent(state, subscriptionAnswered({ ... }), Date.now());
 * ```
 */
export function applySubscriptionEvent(
  state: SubscriptionProjection,
  event: LedgerEvent,
  atMs: number,
): void {
  switch (event.type) {
    case "TemplatesSynced":
      state.templates = event.data.templates;
      return;
    case "SubscriptionAnswered": {
      const { openId, templateId, answer, source, key, formId, until } = event.data;
      const user = userSubscriptions(state, openId);
      const t = templateState(user, templateId);
      t.answer = answer;
      t.source = source;
      user.seen.set(key, atMs + SEEN_MS);
      if (formId !== undefined && until !== undefined) t[source].set(formId, until);
      return;
    }
    case "CreditConfirmed": {
      const { openId, templateId, formId, by } = event.data;
      const t = state.users.get(openId)?.templates.get(templateId);
      // Confirmed by one source: it no longer waits on the other's side.
      t?.[by === "wechat" ? "client" : "wechat"].delete(formId);
      return;
    }
    case "SubscribeSettingsReported": {
      const { openId, mainSwitch, itemSettings } = event.data;
      userSubscriptions(state, openId).settings = { mainSwitch, itemSettings: { ...itemSettings } };
      return;
    }
  }
}

/**
 * The first accept of `waiting` still waiting at `now`: the one that stops waiting soonest,
 * ties by formId (byte order for ASCII ids), as Redis's ZRANGEBYSCORE gives it.
 *
 * @example
 * ```ts
 * firstWaiting(new Map([["a", 5], ["b", 3]]), 1); // "b"
 * ```
 */
export function firstWaiting(waiting: ReadonlyMap<string, number>, now: number): string | null {
  let best: string | null = null;
  let bestUntil = Infinity;
  for (const [formId, until] of waiting) {
    if (until <= now) continue;
    if (until < bestUntil || (until === bestUntil && best !== null && formId < best)) {
      best = formId;
      bestUntil = until;
    }
  }
  return best;
}

/** One template's state as a view shows it. */
export interface TemplateSubscriptionView {
  templateId: string;
  /** The last answer, and who reported it. */
  answer: string | null;
  source: AnswerSource | null;
  /** Accepts the client reported that WeChat has not confirmed yet (still within the window). */
  awaitingWechat: number;
}

/** A user's subscription state at a moment. */
export interface SubscriptionView {
  settings: SubscribeSettings | null;
  /** Templates with an answer, by id. */
  templates: TemplateSubscriptionView[];
}

/**
 * The view of one user's state at `now`.
 *
 * @example
 * ```ts
 * subscriptionViewOf(state.users.get("o1"), Date.now()).templates;
 * ```
 */
export function subscriptionViewOf(
  user: UserSubscriptionState | undefined,
  now: number,
): SubscriptionView {
  const templates: TemplateSubscriptionView[] = [];
  for (const [templateId, t] of user?.templates ?? []) {
    let awaiting = 0;
    for (const until of t.client.values()) if (until > now) awaiting++;
    templates.push({
      templateId,
      answer: t.answer ?? null,
      source: t.source ?? null,
      awaitingWechat: awaiting,
    });
  }
  templates.sort((
    a,
    b,
  ) => (a.templateId < b.templateId ? -1 : a.templateId > b.templateId ? 1 : 0));
  return { settings: user?.settings ?? null, templates };
}
