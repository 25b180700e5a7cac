/**
 * Every event the ledger appends, as plain typed objects with a `type` and `data`.
 *
 * The log is the source of truth: projections (each user's valid credits) are folds of these
 * events and can always be rebuilt from them.
 *
 * @module
 */

/** Bumped whenever an event's data changes shape; readers refuse a newer log. */
export const SCHEMA_VERSION = 1;

/** The kinds of push credit a mini-program produces. */
export type CreditKind = "form" | "prepay" | "subscribe";

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

/** Any event the ledger knows. */
export type LedgerEvent =
  | FormIdCollected
  | FormIdConsumed
  | FormIdReleased
  | PushSucceeded
  | PushFailed;

/** The names of every event type, for validation of what is read back. */
export const EVENT_TYPES: readonly LedgerEvent["type"][] = [
  "FormIdCollected",
  "FormIdConsumed",
  "FormIdReleased",
  "PushSucceeded",
  "PushFailed",
];

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
