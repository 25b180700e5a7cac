/**
 * Reconciliation from WeChat's side. A delivery whose request may have reached WeChat but whose
 * answer never came (a timeout, or an instance lost mid-send) is recorded as failed with class
 * `unknown`. For subscribe messages WeChat later pushes a `subscribe_msg_sent_event` naming the
 * message it delivered; {@link Reconciler.confirmSent} is the command the event route calls for
 * each of its items: it matches the item to an unknown delivery of that user and template and
 * records `PushConfirmed`, so the log says the unknown was in fact sent.
 *
 * Unknown subscribe deliveries are noted (by the deliverer, when it records one) in the
 * coordination store under `unk:<openId>:<templateId>` for 7 days, the longest an event push is
 * worth waiting for; each confirmed item's msgid is remembered for as long, so WeChat's retries
 * of one event push record nothing twice. An item matching no unknown delivery is left to the
 * caller (the event intake records it as `SubscribeMessageSent`). The list changes by
 * compare-and-set (`KeyValue.compareAndSet`), so concurrent notes are all kept and two events
 * never claim the same delivery. An instance that dies between claiming a delivery and recording
 * its `PushConfirmed` loses that claim: the delivery stays unknown, and WeChat's retry of the
 * event is taken for a duplicate.
 *
 * @module
 */
import type { KeyValue } from "../coordination/coordination.ts";
import { pushConfirmed } from "../ledger/events.ts";
import type { Ledger } from "../ledger/ledger.ts";

/** How long an unknown delivery waits for WeChat's confirmation, and a msgid is remembered. */
export const CONFIRM_WINDOW_MS = 7 * 86_400_000;

/** A delivery recorded as unknown. */
export interface UnknownDelivery {
  openId: string;
  templateId: string;
  pushId: string;
  formId?: string;
  broadcastId?: string;
}

/** One item of a `subscribe_msg_sent_event`. */
export interface SentConfirmation {
  openId: string;
  templateId: string;
  msgid: string;
  /** WeChat's `ErrorCode`: 0 = delivered. */
  errcode: number;
}

/**
 * What {@link Reconciler.confirmSent} did: recorded `PushConfirmed` for an unknown delivery;
 * the msgid was confirmed before; no unknown delivery of that user and template waits (the log
 * has the message as sent already, or never took a credit for it); or a failure (not a
 * delivery). The event route records the last two as `SubscribeMessageSent`.
 */
export type ConfirmResult = "confirmed" | "duplicate" | "unmatched" | "not_delivered";

/**
 * Notes unknown deliveries and settles them from WeChat's sent events.
 *
 * @example
 * ```ts
 * const reconciler = new Reconciler(kv, ledger);
 * await reconciler.noteUnknown({ openId: "o1", templateId: "TPL", pushId: "p1", formId: "f1" });
 * await reconciler.confirmSent({ openId: "o1", templateId: "TPL", msgid: "42", errcode: 0 });
 * // "confirmed": PushConfirmed { openId, templateId, msgid, errcode, pushId: "p1", formId }
 * ```
 */
export class Reconciler {
  constructor(private readonly kv: KeyValue, private readonly ledger: Ledger) {}

  /** Remembers an unknown delivery until WeChat's sent event settles it (or the window ends). */
  async noteUnknown(delivery: UnknownDelivery): Promise<void> {
    const key = unknownKey(delivery.openId, delivery.templateId);
    await this.#update(key, (list) => {
      if (list.some((d) => d.pushId === delivery.pushId)) return null;
      list.push(delivery);
      return list;
    });
  }

  /** The command for one item of a `subscribe_msg_sent_event`. */
  async confirmSent(sent: SentConfirmation): Promise<ConfirmResult> {
    if (sent.errcode !== 0) return "not_delivered";
    const key = unknownKey(sent.openId, sent.templateId);
    const mark = `pc:${sent.msgid}`;
    // The msgid first (WeChat's retries of one event: only one goes on), then one waiting
    // delivery, taken off the list atomically (two events never get the same). An unmatched
    // msgid (the usual case: the log has the message as sent) leaves no mark, so the caller's
    // own record of it can be retried by WeChat.
    if (!(await this.kv.set(mark, "1", { nx: true, px: CONFIRM_WINDOW_MS }))) return "duplicate";
    let match: UnknownDelivery | undefined;
    try {
      await this.#update(key, (list) => {
        match = list.shift();
        return match === undefined ? null : list;
      });
    } catch (err) {
      await this.kv.del(mark).catch(() => {});
      throw err;
    }
    if (match === undefined) {
      await this.kv.del(mark);
      return "unmatched";
    }
    const claimed: UnknownDelivery = match;
    const event = pushConfirmed(sent, {
      pushId: claimed.pushId,
      ...(claimed.formId !== undefined ? { formId: claimed.formId } : {}),
      ...(claimed.broadcastId !== undefined ? { broadcastId: claimed.broadcastId } : {}),
    });
    try {
      await this.ledger.record(undefined, [
        {
          openId: sent.openId,
          pushId: claimed.pushId,
          credit: null,
          release: false,
          events: [event],
        },
      ]);
    } catch (err) {
      // WeChat retries the event: let it land then, on the same delivery.
      await this.kv.del(mark).catch(() => {});
      await this.noteUnknown(claimed).catch(() => {});
      throw err;
    }
    return "confirmed";
  }

  /**
   * Read-modify-write of one key's list, retried until no concurrent change came between the
   * read and the write (`change` answers the new list, or `null` for no write).
   */
  async #update(
    key: string,
    change: (list: UnknownDelivery[]) => UnknownDelivery[] | null,
  ): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const raw = await this.kv.get(key);
      const next = change(raw === null ? [] : JSON.parse(raw) as UnknownDelivery[]);
      if (next === null) return;
      const value = next.length === 0 ? null : JSON.stringify(next);
      if (await this.kv.compareAndSet(key, raw, value, CONFIRM_WINDOW_MS)) return;
    }
    throw new Error(`unknown deliveries: ${MAX_ATTEMPTS} concurrent changes in a row`);
  }
}

/** Read-modify-write attempts before giving up (each lost one means another change landed). */
const MAX_ATTEMPTS = 50;

function unknownKey(openId: string, templateId: string): string {
  return `unk:${openId}:${templateId}`;
}
