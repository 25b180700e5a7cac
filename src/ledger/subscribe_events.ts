/**
 * The events of subscribe messages beyond a credit's own life: the account's templates, each
 * answer a user gave (in the dialog or in WeChat's settings), the matching of an accept both the
 * client and WeChat reported, credits voided because WeChat holds none, the settings the client
 * read from `wx.getSetting`, and WeChat's report of a sent message. Built only by the functions
 * below, which write the keys in sorted (canonical) order and leave absent fields absent.
 *
 * @module
 */
import { canonicalTemplates, type RegisteredTemplate } from "./registry.ts";

/** The account's templates changed (appended only when the synced set differs). */
export interface TemplatesSynced {
  type: "TemplatesSynced";
  data: { templates: RegisteredTemplate[] };
}

/** Who reported an answer: the mini-program (its report) or WeChat (its event push). */
export type AnswerSource = "client" | "wechat";

/**
 * A user answered for a template: `accept`, `acceptWithAudio`, `acceptWithAlert`, `reject`,
 * `ban`, `filter` (the dialog), or `reject` from WeChat's settings page (a change event).
 * `key` identifies the report item (`sub:<reportId>:<templateId>`, `wx:<CreateTime>:<templateId>`)
 * and makes a repeated report a duplicate; `formId` is the credit it created and `until` the
 * moment it stops waiting for the other source's report of the same accept.
 */
export interface SubscriptionAnswered {
  type: "SubscriptionAnswered";
  data: {
    answer: string;
    formId?: string;
    key: string;
    openId: string;
    source: AnswerSource;
    templateId: string;
    until?: number;
  };
}

/**
 * The accept behind credit `formId` was reported by the other source too (`by`): counted once.
 * `by: "wechat"` confirms a client's provisional credit, whose expiry becomes `expiresAt`.
 */
export interface CreditConfirmed {
  type: "CreditConfirmed";
  data: {
    by: AnswerSource;
    expiresAt?: number | null;
    formId: string;
    openId: string;
    templateId: string;
  };
}

/** Why credits were voided. */
export type VoidReason = "revoked" | "errcode_43101";

/** WeChat holds none of the user's credits of a template any more: these are gone. */
export interface CreditsVoided {
  type: "CreditsVoided";
  data: { formIds: string[]; openId: string; reason: VoidReason; templateId: string };
}

/** `wx.getSetting({ withSubscriptions: true })`'s `subscriptionsSetting`, as the client read it. */
export interface SubscribeSettings {
  mainSwitch: boolean;
  /** Only templates where the user ticked "always keep this choice". */
  itemSettings: Record<string, string>;
}

/** The client reported new subscription settings. */
export interface SubscribeSettingsReported {
  type: "SubscribeSettingsReported";
  data: { itemSettings: Record<string, string>; mainSwitch: boolean; openId: string };
}

/**
 * WeChat reported the outcome of a sent subscribe message (`subscribe_msg_sent_event`). A minimal
 * record until the push layer's own confirmation command takes these items.
 */
export interface SubscribeMessageSent {
  type: "SubscribeMessageSent";
  data: {
    errorCode: number;
    errorStatus: string;
    msgId: string;
    openId: string;
    templateId: string;
  };
}

/** Any subscribe event. */
export type SubscribeEvent =
  | TemplatesSynced
  | SubscriptionAnswered
  | CreditConfirmed
  | CreditsVoided
  | SubscribeSettingsReported
  | SubscribeMessageSent;

/**
 * The account's templates are now `templates` (stored in canonical order).
 *
 * @example
 * ```ts
 * templatesSynced([{ id: "T", title: "到货", kind: "one-time", keywords: [] }]);
 * ```
 */
export function templatesSynced(templates: readonly RegisteredTemplate[]): TemplatesSynced {
  return { type: "TemplatesSynced", data: { templates: canonicalTemplates(templates) } };
}

/**
 * `openId` answered `answer` for `templateId`.
 *
 * @example
 * ```ts
 * subscriptionAnswered({ openId: "o1", templateId: "T", answer: "reject", source: "client",
 *   key: "sub:r1:T" });
 * ```
 */
export function subscriptionAnswered(a: {
  openId: string;
  templateId: string;
  answer: string;
  source: AnswerSource;
  key: string;
  formId?: string;
  until?: number;
}): SubscriptionAnswered {
  return {
    type: "SubscriptionAnswered",
    data: {
      answer: a.answer,
      ...(a.formId !== undefined ? { formId: a.formId } : {}),
      key: a.key,
      openId: a.openId,
      source: a.source,
      templateId: a.templateId,
      ...(a.until !== undefined ? { until: a.until } : {}),
    },
  };
}

/**
 * Credit `formId`'s accept was reported by `by` as well.
 *
 * @example
 * ```ts
 * creditConfirmed({ openId: "o1", templateId: "T", formId: "sub:r1:T", by: "wechat",
 *   expiresAt: null });
 * ```
 */
export function creditConfirmed(c: {
  openId: string;
  templateId: string;
  formId: string;
  by: AnswerSource;
  expiresAt?: number | null;
}): CreditConfirmed {
  return {
    type: "CreditConfirmed",
    data: {
      by: c.by,
      ...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
      formId: c.formId,
      openId: c.openId,
      templateId: c.templateId,
    },
  };
}

/**
 * `formIds`, the user's live credits of `templateId`, are void.
 *
 * @example
 * ```ts
 * creditsVoided("o1", "T", "errcode_43101", ["sub:r1:T", "sub:r2:T"]);
 * ```
 */
export function creditsVoided(
  openId: string,
  templateId: string,
  reason: VoidReason,
  formIds: string[],
): CreditsVoided {
  return { type: "CreditsVoided", data: { formIds, openId, reason, templateId } };
}

/**
 * The client's `subscriptionsSetting` for `openId` (itemSettings' keys sorted).
 *
 * @example
 * ```ts
 * subscribeSettingsReported("o1", { mainSwitch: true, itemSettings: { T: "accept" } });
 * ```
 */
export function subscribeSettingsReported(
  openId: string,
  settings: SubscribeSettings,
): SubscribeSettingsReported {
  const itemSettings = Object.fromEntries(
    Object.entries(settings.itemSettings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return {
    type: "SubscribeSettingsReported",
    data: { itemSettings, mainSwitch: settings.mainSwitch, openId },
  };
}

/**
 * WeChat's `subscribe_msg_sent_event` item.
 *
 * @example
 * ```ts
 * subscribeMessageSent({ openId: "o1", templateId: "T", msgId: "42", errorCode: 0,
 *   errorStatus: "success" });
 * ```
 */
export function subscribeMessageSent(s: {
  openId: string;
  templateId: string;
  msgId: string;
  errorCode: number;
  errorStatus: string;
}): SubscribeMessageSent {
  return {
    type: "SubscribeMessageSent",
    data: {
      errorCode: s.errorCode,
      errorStatus: s.errorStatus,
      msgId: s.msgId,
      openId: s.openId,
      templateId: s.templateId,
    },
  };
}
