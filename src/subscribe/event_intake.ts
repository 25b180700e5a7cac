/**
 * WeChat's subscribe events into the ledger, once `openPush` verified them: each is one ledger
 * command, so the route can answer `success` right after one store call (the ledger coalesces
 * the answers of pushes arriving together into one `answerMany` call, each with its own reply).
 *
 * - `subscribe_msg_popup_event`: the answers, as WeChat's report (`LedgerStore.answer`, source
 *   `wechat`): an accept confirms the client's waiting provisional credit, or is a credit;
 * - `subscribe_msg_change_event`: a `reject` turns the template off: the user's live credits of
 *   it are voided (`CreditsVoided`, reason `revoked`); WeChat pushes no other status here;
 * - `subscribe_msg_sent_event`: each item is offered to `onSent` first (with push configured:
 *   the push layer's `Reconciler.confirmSent`, see {@link confirmingUnknowns}, which records
 *   `PushConfirmed` when the item settles a delivery the log has as `unknown`); an item it does
 *   not settle (the log knows the message as sent already, or WeChat reports a failure) is
 *   recorded as `SubscribeMessageSent`, each msgId once.
 *
 * Duplicates (WeChat retries a push it got no `success` for) are recorded once: answers by their
 * key `sub:wx@<CreateTime>:<templateId>` (WeChat's own advice: openid + CreateTime + template),
 * sent items by their msgId.
 *
 * @module
 */
import type { KeyValue } from "../coordination/coordination.ts";
import type { AnswerItem } from "../ledger/answer_rules.ts";
import type { CreditCaps } from "../ledger/credit_caps.ts";
import { WECHAT_CREDIT_PREFIX } from "../ledger/credit_rules.ts";
import { subscribeMessageSent } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Reconciler } from "../push/reconcile.ts";
import type { PushMessage, SentEvent, SentItem } from "../wechat/event_push/mod.ts";
import type { TemplateRegistry } from "./registry.ts";

/** How long a sent item's msgId is remembered against WeChat's retries: 7 days. */
const SENT_SEEN_MS = 7 * 86_400_000;

/**
 * Offered each item of a sent event first: answers whether it settled the item (recorded it, or
 * had already); an item it did not settle is recorded as `SubscribeMessageSent`.
 */
export type SentHandler = (openId: string, item: SentItem) => Promise<boolean>;

/**
 * The sent handler that settles unknown deliveries: WeChat's item handed to
 * `Reconciler.confirmSent`, settled when it recorded `PushConfirmed` (now or on an earlier
 * delivery of the same msgId).
 *
 * @example
 * ```ts
 * new EventIntake(ledger, registry, kv, { windowMs, caps, onSent: confirmingUnknowns(reconciler) });
 * ```
 */
export function confirmingUnknowns(reconciler: Pick<Reconciler, "confirmSent">): SentHandler {
  return async (openId, item) => {
    const result = await reconciler.confirmSent({
      openId,
      templateId: item.templateId,
      msgid: item.msgId,
      errcode: item.errorCode,
    });
    return result === "confirmed" || result === "duplicate";
  };
}

/** What an event did, for the log line and tests. */
export interface IntakeSummary {
  event: string;
  outcomes: string[];
}

/** Settings of the intake. */
export interface IntakeSettings {
  /** SUBSCRIBE_CONFIRM_WINDOW_SECONDS in ms. */
  windowMs: number;
  caps: CreditCaps;
  /** Offered each sent item first (default: none: each is recorded as `SubscribeMessageSent`). */
  onSent?: SentHandler;
}

/**
 * Applies verified pushes to the ledger.
 *
 * @example
 * ```ts
 * const intake = new EventIntake(ledger, registry, kv, { windowMs: 600_000, caps });
 * await intake.handle(outcome.message);
 * ```
 */
export class EventIntake {
  readonly #onSent: SentHandler | undefined;

  constructor(
    private readonly ledger: Ledger,
    private readonly registry: TemplateRegistry,
    private readonly kv: KeyValue,
    private readonly settings: IntakeSettings,
  ) {
    this.#onSent = settings.onSent;
  }

  /** Applies one push; other kinds of push are ignored. */
  async handle(message: PushMessage): Promise<IntakeSummary> {
    if (message.event === "other") return { event: message.name ?? "message", outcomes: [] };
    if (message.event === "subscribe_msg_sent_event") return await this.#sent(message);
    const revoke = message.event === "subscribe_msg_change_event";
    const items: AnswerItem[] = [];
    for (const item of message.items) {
      // A change event only ever says reject (WeChat's documentation); anything else is ignored.
      if (revoke && item.status !== "reject") continue;
      const template = await this.registry.find(item.templateId);
      items.push({
        templateId: item.templateId,
        answer: item.status,
        key: `${WECHAT_CREDIT_PREFIX}${message.createTime}:${item.templateId}`,
        longTerm: template?.kind === "long-term",
        revoke,
      });
    }
    if (items.length === 0) return { event: message.event, outcomes: [] };
    const results = await this.ledger.answer({
      openId: message.openId,
      source: "wechat",
      items,
      caps: this.settings.caps,
      windowMs: this.settings.windowMs,
    });
    return { event: message.event, outcomes: results.map((r) => r.outcome) };
  }

  async #sent(message: SentEvent): Promise<IntakeSummary> {
    const outcomes: string[] = [];
    for (const item of message.items) {
      if (await this.#onSent?.(message.openId, item)) outcomes.push("confirmed");
      else {
        await this.#recordSent(message.openId, item);
        outcomes.push("recorded");
      }
    }
    return { event: message.event, outcomes };
  }

  /** Records one sent item, once per msgId (a failed record forgets it, for WeChat's retry). */
  async #recordSent(openId: string, item: SentItem): Promise<void> {
    const key = `wxsent:${item.msgId}`;
    if (!(await this.kv.set(key, "1", { nx: true, px: SENT_SEEN_MS }))) return;
    const event = subscribeMessageSent({
      openId,
      templateId: item.templateId,
      msgId: item.msgId,
      errorCode: item.errorCode,
      errorStatus: item.errorStatus,
    });
    try {
      await this.ledger.record(undefined, [{
        openId,
        pushId: `wx:${item.msgId}`,
        credit: null,
        release: false,
        events: [event],
      }]);
    } catch (err) {
      await this.kv.del(key).catch(() => {});
      throw err;
    }
  }
}
