/**
 * Every event the ledger appends, as plain typed objects with a `type` and `data`, and the one
 * function that builds each of them.
 *
 * The log is the source of truth: projections (each user's valid credits) are folds of these
 * events and can always be rebuilt from them. The chain hashes the canonical JSON of `data`, so
 * an optional field that is absent must stay absent (never present as `undefined` or ""): build
 * events with the functions below, never by hand. They write the keys in sorted order, which is
 * the canonical order, so hashing them takes the fast path.
 *
 * @module
 */
import type { Credit, CreditKind } from "./credit_rules.ts";
import type { SubscribeEvent } from "./subscribe_events.ts";

export type { CreditKind } from "./credit_rules.ts";
export * from "./subscribe_events.ts";

/** A credit entered the ledger. `expiresAt` is epoch ms, `null` for a credit that never expires. */
export interface FormIdCollected {
  type: "FormIdCollected";
  data: {
    openId: string;
    formId: string;
    kind: CreditKind;
    templateId?: string;
    uses: number;
    expiresAt: number | null;
  };
}

/** One use of a credit was taken for a push. */
export interface FormIdConsumed {
  type: "FormIdConsumed";
  data: { openId: string; formId: string; pushId: string };
}

/**
 * A use taken by `pushId` went back to the user (the push never reached WeChat, or WeChat said
 * the credit was not spent). It repeats the credit's kind, template and expiry so the fold can
 * restore a credit whose last use had been taken.
 */
export interface FormIdReleased {
  type: "FormIdReleased";
  data: {
    openId: string;
    formId: string;
    pushId: string;
    kind: CreditKind;
    templateId?: string;
    expiresAt: number | null;
  };
}

/** WeChat accepted a message. */
export interface PushSucceeded {
  type: "PushSucceeded";
  data: {
    pushId: string;
    broadcastId?: string;
    openId: string;
    formId: string;
    templateId: string;
    msgid?: string;
  };
}

/** A push attempt failed; `class` says what it meant for the credit. */
export interface PushFailed {
  type: "PushFailed";
  data: {
    pushId: string;
    broadcastId?: string;
    openId: string;
    formId?: string;
    errcode: number;
    errmsg: string;
    class: string;
  };
}

/**
 * WeChat reported (its `subscribe_msg_sent_event`) that message `msgid` reached `openId`, for a
 * delivery the log had as `unknown` (`pushId`, `formId`: which one): an unknown can become sent
 * later. `errcode` is WeChat's `ErrorCode` (0: delivered). A sent item that settles no unknown
 * delivery is recorded as `SubscribeMessageSent` instead (src/subscribe/event_intake.ts).
 */
export interface PushConfirmed {
  type: "PushConfirmed";
  data: {
    openId: string;
    templateId: string;
    msgid: string;
    errcode: number;
    pushId?: string;
    formId?: string;
    broadcastId?: string;
  };
}

/** Any event the ledger knows. */
export type LedgerEvent =
  | FormIdCollected
  | FormIdConsumed
  | FormIdReleased
  | PushSucceeded
  | PushFailed
  | PushConfirmed
  | SubscribeEvent;

/**
 * An event as stored in the log: `seq` is dense from 1, `id` the Redis Stream entry id,
 * `at` ISO-8601 UTC, `prev`/`hash` the tamper-evident chain link.
 */
export type StoredEvent<E extends LedgerEvent = LedgerEvent> = E & {
  id: string;
  seq: number;
  at: string;
  prev: string;
  hash: string;
};

/** The head of the log: the last event's sequence number and hash. */
export interface LogHead {
  seq: number;
  hash: string;
  at: string | null;
}

/**
 * `openId` collected `credit` (its uses and expiry already decided by the ledger).
 *
 * @example
 * ```ts
 * formIdCollected("o1", { formId: "f1", kind: "form", uses: 1, expiresAt: 1_800_000_000_000 });
 * ```
 */
export function formIdCollected(openId: string, credit: Credit): FormIdCollected {
  const { expiresAt, formId, kind, templateId, uses } = credit;
  return {
    type: "FormIdCollected",
    data: templateId === undefined
      ? { expiresAt, formId, kind, openId, uses }
      : { expiresAt, formId, kind, openId, templateId, uses },
  };
}

/**
 * Push `pushId` took one use of `openId`'s credit `formId`.
 *
 * @example
 * ```ts
 * formIdConsumed("o1", "push-1", "f1");
 * ```
 */
export function formIdConsumed(openId: string, pushId: string, formId: string): FormIdConsumed {
  return { type: "FormIdConsumed", data: { formId, openId, pushId } };
}

/**
 * The use of `credit` that push `pushId` took goes back to `openId`.
 *
 * @example
 * ```ts
 * formIdReleased("o1", "push-1", { formId: "f1", kind: "form", uses: 0, expiresAt: null });
 * ```
 */
export function formIdReleased(
  openId: string,
  pushId: string,
  credit: Pick<Credit, "formId" | "kind" | "templateId" | "expiresAt">,
): FormIdReleased {
  const { expiresAt, formId, kind, templateId } = credit;
  return {
    type: "FormIdReleased",
    data: templateId === undefined
      ? { expiresAt, formId, kind, openId, pushId }
      : { expiresAt, formId, kind, openId, pushId, templateId },
  };
}

/** Which push a push event is about: the push, its user and, in a broadcast, the broadcast. */
export interface PushRef {
  pushId: string;
  openId: string;
  broadcastId?: string;
}

/**
 * WeChat accepted push `ref`'s message, sent on credit `formId`.
 *
 * @example
 * ```ts
 * pushSucceeded({ pushId: "p1", openId: "o1" }, { formId: "f1", templateId: "TPL", msgid: "42" });
 * ```
 */
export function pushSucceeded(
  { pushId, openId, broadcastId }: PushRef,
  sent: { formId: string; templateId: string; msgid?: string },
): PushSucceeded {
  const { formId, templateId, msgid } = sent;
  return {
    type: "PushSucceeded",
    data: {
      ...(broadcastId !== undefined ? { broadcastId } : {}),
      formId,
      ...(msgid !== undefined ? { msgid } : {}),
      openId,
      pushId,
      templateId,
    },
  };
}

/**
 * Push `ref` failed with WeChat's (or a local) `errcode`; `formId` is the credit it was sent on.
 *
 * @example
 * ```ts
 * pushFailed({ pushId: "p1", openId: "o1" },
 *   { formId: "f1", errcode: 45009, errmsg: "quota", class: "quota" });
 * ```
 */
export function pushFailed(
  { pushId, openId, broadcastId }: PushRef,
  failure: { formId?: string; errcode: number; errmsg: string; class: string },
): PushFailed {
  const { formId, errcode, errmsg } = failure;
  return {
    type: "PushFailed",
    data: {
      ...(broadcastId !== undefined ? { broadcastId } : {}),
      class: failure.class,
      errcode,
      errmsg,
      ...(formId !== undefined ? { formId } : {}),
      openId,
      pushId,
    },
  };
}

/**
 * WeChat confirmed message `msgid` to `openId`; `ref` names the unknown delivery it settles.
 *
 * @example
 * ```ts
 * pushConfirmed({ openId: "o1", templateId: "TPL", msgid: "123", errcode: 0 },
 *   { pushId: "p1", formId: "f1" });
 * ```
 */
export function pushConfirmed(
  sent: { openId: string; templateId: string; msgid: string; errcode: number },
  ref?: { pushId: string; formId?: string; broadcastId?: string },
): PushConfirmed {
  const { openId, templateId, msgid, errcode } = sent;
  return {
    type: "PushConfirmed",
    data: {
      ...(ref?.broadcastId !== undefined ? { broadcastId: ref.broadcastId } : {}),
      errcode,
      ...(ref?.formId !== undefined ? { formId: ref.formId } : {}),
      msgid,
      openId,
      ...(ref !== undefined ? { pushId: ref.pushId } : {}),
      templateId,
    },
  };
}
