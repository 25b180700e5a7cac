/**
 * What the simulated WeChat knows about each user's subscriptions: one-time grants per template
 * (counted from accepts, one per accept), long-term templates switched on, the "always keep"
 * choices (总是保持以上选择) with the main switch, and how it pushes events to the service.
 * The rules here are the simulator's reading of WeChat's documentation (docs/subscribe-events.md).
 *
 * @module
 */
import type { PostAttempt } from "./event_pusher.ts";
import type { PushMode } from "../../wechat/event_push/open.ts";
import type { BodyFormat } from "../../wechat/event_push/parse.ts";

/** A kept choice as `wx.getSetting` lists it (`accept`, `reject`, `ban`, or an accept variant). */
export type KeptChoice = string;

/** One user's subscription settings page. */
export interface UserSettings {
  /** 接收订阅消息: off makes `requestSubscribeMessage` fail (20004) and sends answer 43101. */
  mainSwitch: boolean;
  /** Templates the user ticked "always keep" for, with the kept choice. */
  items: Map<string, KeptChoice>;
}

/** The admin console's push settings plus how the simulated WeChat delivers. */
export interface PushTarget {
  url: string;
  token: string;
  appid: string;
  mode: PushMode;
  format: BodyFormat;
  encodingAESKey?: string;
  /** `ToUserName`: the mini-program's original id. */
  toUserName: string;
  /** Extra attempts when the service does not answer `success`: 3, as WeChat. */
  retries: number;
  /** Extra deliveries after a successful one (WeChat's duplicates). */
  duplicates: number;
  delayMs: number;
  timeoutMs: number;
  /** Push `subscribe_msg_sent_event` after each successful subscribe send. Default true. */
  sentEvents: boolean;
  /**
   * Push `subscribe_msg_popup_event` for answers given without a dialog (kept choices). Default
   * false: WeChat documents the popup event as sent "after the user triggers the dialog", and
   * none is shown then (see docs/subscribe-events.md).
   */
  silentEvents: boolean;
}

/** One event the simulator pushed, and how each attempt was answered. */
export interface PushRecord {
  event: string;
  openId: string;
  items: unknown[];
  attempts: PostAttempt[];
  /** Whether an attempt was answered `success`. */
  delivered: boolean;
  at: number;
}

/** The simulator's subscription state. */
export interface SubscribeState {
  settings: Map<string, UserSettings>;
  /** `openid\u0000templateId` of long-term templates switched on. */
  longTerm: Set<string>;
  push: PushTarget | null;
  pushes: PushRecord[];
  /** Pushes still being delivered (sent events go out after the send answered). */
  pending: Set<Promise<unknown>>;
  /** Most template ids one `requestSubscribeMessage` takes (WeChat's documentation: 5). */
  maxTmplIds: number;
}

/**
 * The state as a fresh simulator starts.
 *
 * @example
 * ```ts
 * const sub = freshSubscribeState();
 * ```
 */
export function freshSubscribeState(): SubscribeState {
  return {
    settings: new Map(),
    longTerm: new Set(),
    push: null,
    pushes: [],
    pending: new Set(),
    maxTmplIds: 5,
  };
}

/** The answers that grant a send: accept, with a voice reminder, with a banner reminder. */
export const ACCEPT_ANSWERS = ["accept", "acceptWithAudio", "acceptWithAlert"];

/**
 * Whether an answer (or a kept choice) is an accept. WeChat has added accept variants over time
 * (`acceptWithAudio`, `acceptWithAlert`, `acceptWithForcePush`), so any `accept...` counts.
 *
 * @example
 * ```ts
 * isAccept("acceptWithAudio"); // true
 * ```
 */
export function isAccept(answer: string): boolean {
  return answer.startsWith("accept");
}

/** The grant key of a user and template. */
export const grantKey = (openid: string, templateId: string): string =>
  `${openid}\u0000${templateId}`;

/**
 * A user's settings, created (main switch on, nothing kept) on first use.
 *
 * @example
 * ```ts
 * settingsOf(sub, openid).mainSwitch = false;
 * ```
 */
export function settingsOf(sub: SubscribeState, openid: string): UserSettings {
  let found = sub.settings.get(openid);
  if (!found) sub.settings.set(openid, found = { mainSwitch: true, items: new Map() });
  return found;
}

/**
 * Records one accept: a one-time template gains a grant, a long-term one is switched on.
 *
 * @example
 * ```ts
 * recordAccept(sub, grants, openid, "TPL_SUB", false);
 * ```
 */
export function recordAccept(
  sub: SubscribeState,
  grants: Map<string, number>,
  openid: string,
  templateId: string,
  longTerm: boolean,
): void {
  const key = grantKey(openid, templateId);
  if (longTerm) sub.longTerm.add(key);
  else grants.set(key, (grants.get(key) ?? 0) + 1);
}

/**
 * The user turns a template off in the settings page: a long-term template is switched off, a
 * one-time template's grants are dropped, and the kept choice becomes `reject`. Returns the
 * one-time grants dropped.
 *
 * @example
 * ```ts
 * revokeTemplate(sub, grants, openid, "TPL_SUB"); // 2
 * ```
 */
export function revokeTemplate(
  sub: SubscribeState,
  grants: Map<string, number>,
  openid: string,
  templateId: string,
): number {
  const key = grantKey(openid, templateId);
  const dropped = grants.get(key) ?? 0;
  grants.delete(key);
  sub.longTerm.delete(key);
  settingsOf(sub, openid).items.set(templateId, "reject");
  return dropped;
}

/**
 * Whether a subscribe send may go to the user, spending a one-time grant when it does:
 * the credit id it used, or null (WeChat's 43101). A long-term template that is on is never
 * spent; the main switch off refuses every send.
 *
 * @example
 * ```ts
 * spendGrant(sub, grants, openid, "TPL_SUB", false); // "grant:TPL_SUB" or null
 * ```
 */
export function spendGrant(
  sub: SubscribeState,
  grants: Map<string, number>,
  openid: string,
  templateId: string,
  longTerm: boolean,
): string | null {
  if (sub.settings.get(openid)?.mainSwitch === false) return null;
  const key = grantKey(openid, templateId);
  if (longTerm) return sub.longTerm.has(key) ? `longterm:${templateId}` : null;
  const left = grants.get(key) ?? 0;
  if (left <= 0) return null;
  grants.set(key, left - 1);
  return `grant:${templateId}`;
}
