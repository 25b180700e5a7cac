/**
 * One delivery attempt, from a taken credit to the outcome to record: the message WeChat gets,
 * the call (text or subscribe, by the credit's kind), and what its answer means for the credit
 * and the user (see src/wechat/errcodes.ts):
 *
 * - sent: `PushSucceeded`;
 * - spent or bad (41028/41029/43101): `PushFailed` (class spent), then the user's next credit
 *   (43101 on a subscribe credit first voids the template's others: `CreditsVoided`);
 * - transient, request, token, quota: `PushFailed`, `FormIdReleased`;
 * - unknown (a timeout after sending): `PushFailed` (class unknown): counted as spent and never
 *   sent again.
 *
 * @module
 */
import type { Credit, CreditFilter } from "../ledger/credit_rules.ts";
import type { DeliveryOutcome, DeliveryRef } from "../ledger/delivery.ts";
import { voidsAfter } from "../ledger/delivery_rules.ts";
import { pushFailed, pushSucceeded } from "../ledger/events.ts";
import type { Message, MessageData, SendResult, WeChatClient } from "../wechat/client.ts";
import { type ErrClass, returnsCredit } from "../wechat/errcodes.ts";

/** Which credits a message may spend: any fitting one, legacy template only, subscribe only. */
export type PushKind = "auto" | "template" | "subscribe";

/**
 * The credit filter a push kind gives.
 *
 * @example
 * ```ts
 * filterOf("TPL", "subscribe"); // { templateId: "TPL", kinds: ["subscribe"] }
 * ```
 */
export function filterOf(templateId: string, kind: PushKind = "auto"): CreditFilter {
  if (kind === "template") return { templateId, kinds: ["form", "prepay"] };
  if (kind === "subscribe") return { templateId, kinds: ["subscribe"] };
  return { templateId };
}

/** A message to deliver, for every user of a batch alike. */
export interface PushMessage {
  templateId: string;
  page?: string;
  data: MessageData;
  emphasisKeyword?: string;
  kind?: PushKind;
  miniprogramState?: Message["miniprogramState"];
  lang?: Message["lang"];
}

/** How one delivery ended. `skipped`: a broadcast (or a replayed push) had already handled it. */
export interface DeliveryReport {
  pushId: string;
  openId: string;
  status: "sent" | "failed" | "no_credit" | "skipped";
  /** WeChat send calls made for it. */
  attempts: number;
  msgid?: string;
  errcode?: number;
  errmsg?: string;
  class?: ErrClass;
}

/** Delivery bounds. */
export interface DeliverySettings {
  maxAttempts: number;
  maxCredits: number;
  retryBaseMs: number;
}

/** One delivery's progress over its attempts. */
export interface Progress {
  ref: DeliveryRef;
  report: DeliveryReport;
  /** Credits WeChat called spent so far. */
  spent: number;
  /** Transient faults so far. */
  faults: number;
  /** The last attempt's answer. */
  last: SendResult | null;
}

/**
 * A fresh progress for `ref`.
 *
 * @example
 * ```ts
 * const p = progressOf({ openId: "o1", pushId: "p1" }); // p.report.status === "failed"
 * ```
 */
export function progressOf(ref: DeliveryRef): Progress {
  return {
    ref,
    report: { pushId: ref.pushId, openId: ref.openId, status: "failed", attempts: 0 },
    spent: 0,
    faults: 0,
    last: null,
  };
}

/**
 * Sends `message` to `p`'s user on `credit` and decides the outcome to record (state `retry`
 * when the delivery should go round again within `settings`).
 *
 * @example
 * ```ts
 * const outcome = await attempt(client, settings, p, credit, message, "b1");
 * ```
 */
export async function attempt(
  client: WeChatClient,
  settings: DeliverySettings,
  p: Progress,
  credit: Credit,
  message: PushMessage,
  broadcastId: string | undefined,
): Promise<DeliveryOutcome> {
  const { openId, pushId } = p.ref;
  const msg: Message = {
    touser: openId,
    templateId: message.templateId,
    data: message.data,
    ...(message.page !== undefined ? { page: message.page } : {}),
    ...(message.emphasisKeyword !== undefined ? { emphasisKeyword: message.emphasisKeyword } : {}),
    ...(message.miniprogramState !== undefined
      ? { miniprogramState: message.miniprogramState }
      : {}),
    ...(message.lang !== undefined ? { lang: message.lang } : {}),
  };
  const result = credit.kind === "subscribe"
    ? await client.sendSubscribe(msg)
    : await client.sendTemplate(msg, credit.formId);
  p.last = result;
  p.report.attempts += result.calls;
  const ref = { pushId, openId, broadcastId };
  if (result.class === "ok") {
    Object.assign(p.report, { status: "sent" }, result.msgid ? { msgid: result.msgid } : {});
    const event = pushSucceeded(ref, {
      formId: credit.formId,
      templateId: message.templateId,
      msgid: result.msgid,
    });
    return { openId, pushId, credit, release: false, events: [event], state: "sent" };
  }
  Object.assign(p.report, {
    status: "failed",
    errcode: result.errcode,
    errmsg: result.errmsg,
    class: result.class,
  });
  const event = pushFailed(ref, {
    formId: credit.formId,
    errcode: result.errcode,
    errmsg: result.errmsg,
    class: result.class,
  });
  let retry = false;
  if (result.class === "spent") retry = ++p.spent < settings.maxCredits;
  if (result.class === "transient") retry = ++p.faults < settings.maxAttempts;
  return {
    openId,
    pushId,
    credit,
    release: returnsCredit(result.class),
    events: [event],
    state: retry ? "retry" : "failed",
    ...(retry ? {} : { errcode: result.errcode }),
    // 43101: WeChat holds none of this template's credits for the user: void them all.
    ...voidsAfter(credit, result.errcode),
  };
}

/**
 * The outcome to keep for a write that must wait in the outbox: a delivery whose use went back
 * is not tried again before that is written, so a `retry` ends as the failure it was.
 *
 * @example
 * ```ts
 * final({ ...outcome, state: "retry" }, 45011).state; // "failed"
 * ```
 */
export function final(outcome: DeliveryOutcome, errcode: number | undefined): DeliveryOutcome {
  if (outcome.state !== "retry") return outcome;
  return { ...outcome, state: "failed", ...(errcode !== undefined ? { errcode } : {}) };
}
