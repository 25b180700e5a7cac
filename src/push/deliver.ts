/**
 * Delivery: spend one credit per message, exactly once, and lose as little as possible when the
 * instance dies. For a batch of users (one push, or one chunk of a broadcast) credits are not
 * taken up front: they are taken in batches sized by the free send slots (`SendSlots`: one per
 * WeChat call this instance may have in flight, `WECHAT_CONCURRENCY`), and each take's answer
 * starts its calls at once. A delivery holds its slot from just before its credit is taken until
 * its outcome is recorded (or handed to the outbox), and no credit is taken ahead of a free call.
 * So what a killed instance leaves taken but unrecorded (and so `unknown`) is at most
 * `WECHAT_CONCURRENCY` deliveries, each a call that started (in flight, or its answer being
 * written) or a take whose answer was still on its way, plus outcomes waiting in its outbox,
 * whatever the chunk sizes; a user whose credit was not taken yet is simply delivered by whoever
 * works the chunk next.
 *
 * Outcomes are recorded in batches of up to `STORE_SLICE` (one store call each); an outcome that
 * cannot be written (the store is unreachable) goes to the outbox, which writes it later. A spent
 * credit or a transient fault sends the user round again (with backoff) once its outcome is
 * recorded, within the configured bounds. See attempt.ts for what each answer means.
 *
 * @module
 */
import type { DeliveryRef } from "../ledger/delivery.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { WeChatClient } from "../wechat/client.ts";
import type { DeliveryReport, DeliverySettings, PushMessage } from "./attempt.ts";
import { type BatchReport, DeliveryRun, type Parts } from "./delivery_run.ts";
import { StoreUnavailable } from "./outage.ts";
import type { Outbox } from "./outbox.ts";
import type { Reconciler } from "./reconcile.ts";
import { SendSlots } from "./send_slots.ts";

export {
  type DeliveryReport,
  type DeliverySettings,
  filterOf,
  type PushKind,
  type PushMessage,
} from "./attempt.ts";
export { type BatchReport, STORE_SLICE } from "./delivery_run.ts";

/**
 * Spends credits on messages and records what happened, through the ledger's `take` and
 * `record` (which stamp each store call with the ledger's clock).
 *
 * @example
 * ```ts
 * const deliverer = new Deliverer(ledger, client, settings, 256, outbox, 86_400_000);
 * const report = await deliverer.deliver("o1", "push-1", { templateId: "TPL", data: {} });
 * ```
 */
export class Deliverer {
  readonly #parts: Parts;

  constructor(
    ledger: Ledger,
    client: WeChatClient,
    settings: DeliverySettings,
    /** WeChat calls in flight at most (`WECHAT_CONCURRENCY`). */
    concurrency: number,
    readonly outbox: Outbox,
    /** How long each push's delivery state is kept (a retried pushId finds it), ms. */
    pushStateMs: number,
    /** Told of unknown subscribe deliveries (see reconcile.ts). */
    unknowns?: Reconciler,
  ) {
    // One slot per call: taken, sent and recorded under it, so nothing waits taken for a call.
    const slots = new SendSlots(concurrency);
    this.#parts = { ledger, client, settings, slots, outbox, pushStateMs, unknowns };
  }

  /**
   * Delivers one message to one user. While the outbox cannot write, the store is asked
   * whether it answers first: a push is refused (`StoreUnavailable`) before it takes a credit.
   * The report says what WeChat answered even when the outcome waits in the outbox.
   */
  async deliver(openId: string, pushId: string, message: PushMessage): Promise<DeliveryReport> {
    await this.ensureStore();
    const { reports } = await this.deliverMany([{ openId, pushId }], message);
    return reports[0];
  }

  /** Throws `StoreUnavailable` when the outbox is failing and the store does not answer. */
  async ensureStore(): Promise<void> {
    if (!this.outbox.failing) return;
    const answers = await this.#parts.ledger.store.ping().catch(() => false);
    if (!answers) throw new StoreUnavailable();
  }

  /**
   * Delivers `message` to each user of the batch (distinct openIds). With a `broadcastId` the
   * store tracks each user's state so the broadcast reaches a user at most once, and this
   * returns only once every outcome is in the ledger (a chunk is not acknowledged before).
   */
  deliverMany(
    refs: DeliveryRef[],
    message: PushMessage,
    broadcastId?: string,
  ): Promise<BatchReport> {
    return new DeliveryRun(this.#parts, refs, message, broadcastId).run();
  }
}
