/**
 * Delivery: spend one credit per message, exactly once. For a batch of users (one push, or one
 * chunk of a broadcast) it takes a credit for each in one store call, sends them all (bounded
 * by the WeChat client's concurrency), and records every outcome in one store call; then the
 * users whose credit was spent or whose send hit a transient fault go round again, up to the
 * configured bounds. Every outcome leaves an audit event, so the log says where each credit
 * went:
 *
 * - sent: `FormIdConsumed`, `PushSucceeded`;
 * - spent or bad (41028/41029/43101): `FormIdConsumed`, `PushFailed` (class spent), then the
 *   user's next credit (43101 on a subscribe credit first voids the template's others:
 *   `CreditsVoided`);
 * - transient, request, token, quota: `FormIdConsumed`, `PushFailed`, `FormIdReleased`;
 * - unknown (a timeout after sending): `FormIdConsumed`, `PushFailed` (class unknown): counted
 *   as spent and never sent again.
 *
 * @module
 */
import type { Credit, CreditFilter } from "../ledger/credit_rules.ts";
import { pushFailed, pushSucceeded } from "../ledger/events.ts";
import type { DeliveryOutcome, DeliveryRef, DeliveryState } from "../ledger/delivery.ts";
import { voidsAfter } from "../ledger/delivery_rules.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Message, MessageData, SendResult, WeChatClient } from "../wechat/client.ts";
import { type ErrClass, INTERRUPTED_MESSAGE, LOCAL, returnsCredit } from "../wechat/errcodes.ts";

/** Which credits a message may spend: any fitting one, legacy template only, subscribe only. */
export type PushKind = "auto" | "template" | "subscribe";

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

/** How one delivery ended. `skipped`: a broadcast had already handled this user. */
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

/** The reports of a batch, and whether WeChat's daily quota stopped it. */
export interface BatchReport {
  reports: DeliveryReport[];
  quotaReached: boolean;
}

/** Delivery bounds. */
export interface DeliverySettings {
  maxAttempts: number;
  maxCredits: number;
  retryBaseMs: number;
}

/**
 * Most deliveries per store call. Redis runs a script alone, so one call for a whole chunk would
 * hold every other client up while it hashes hundreds of events; slices keep each call short
 * (~100 events) and are sent together (the client pipelines them into one request).
 */
export const STORE_SLICE = 100;

function slices<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += STORE_SLICE) out.push(items.slice(i, i + STORE_SLICE));
  return out;
}

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

interface Progress {
  ref: DeliveryRef;
  report: DeliveryReport;
  spent: number;
  faults: number;
  last: SendResult | null;
}

/**
 * Spends credits on messages and records what happened, through the ledger's `take` and
 * `record` (which stamp each store call with the ledger's clock).
 *
 * @example
 * ```ts
 * const deliverer = new Deliverer(ledger, client, { maxAttempts: 3, maxCredits: 3, retryBaseMs: 200 });
 * const report = await deliverer.deliver("o1", "push-1", { templateId: "TPL", data: {} });
 * ```
 */
export class Deliverer {
  constructor(
    private readonly ledger: Ledger,
    private readonly client: WeChatClient,
    private readonly settings: DeliverySettings,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Delivers one message to one user. */
  async deliver(openId: string, pushId: string, message: PushMessage): Promise<DeliveryReport> {
    const { reports } = await this.deliverMany([{ openId, pushId }], message);
    return reports[0];
  }

  /**
   * Delivers `message` to each user of the batch (distinct openIds). With a `broadcastId` the
   * store tracks each user's state so the broadcast reaches a user at most once.
   */
  async deliverMany(
    refs: DeliveryRef[],
    message: PushMessage,
    broadcastId?: string,
  ): Promise<BatchReport> {
    const all: Progress[] = refs.map((ref) => ({
      ref,
      report: { pushId: ref.pushId, openId: ref.openId, status: "failed", attempts: 0 },
      spent: 0,
      faults: 0,
      last: null,
    }));
    const filter = filterOf(message.templateId, message.kind);
    let pending = all;
    let quotaReached = false;
    for (let round = 0; pending.length > 0; round++) {
      // A loop, not Math.max(...): a batch may be too long to spread as arguments.
      let backoff = 0;
      for (const p of pending) {
        if (p.last?.class === "transient") backoff = Math.max(backoff, p.faults);
      }
      if (backoff > 0) await this.sleep(this.#backoffMs(backoff));
      const taken = (await Promise.all(
        slices(pending).map((slice) =>
          this.ledger.take({ ...filter, broadcastId, deliveries: slice.map((p) => p.ref) })
        ),
      )).flat();
      const outcomes: DeliveryOutcome[] = [];
      const sends: Promise<void>[] = [];
      const again: Progress[] = [];
      taken.forEach((take, i) => {
        const p = pending[i];
        if (take.status === "done") p.report.status = "skipped";
        else if (take.status === "lost") {
          Object.assign(p.report, {
            status: "failed",
            errcode: LOCAL.INTERRUPTED,
            errmsg: INTERRUPTED_MESSAGE,
            class: "unknown",
          });
        } else if (take.status === "none") {
          // After a spent credit (or a fault) the user has nothing left: that failure stands.
          const state: DeliveryState = p.last ? "failed" : "no_credit";
          outcomes.push({
            openId: p.ref.openId,
            pushId: p.ref.pushId,
            credit: null,
            release: false,
            events: [],
            state,
            ...(p.last ? { errcode: p.last.errcode } : {}),
          });
          if (!p.last) p.report.status = "no_credit";
        } else {
          sends.push(
            this.#send(p, take.credit, message, broadcastId).then((outcome) => {
              outcomes.push(outcome);
              const cls = p.last!.class;
              if (cls === "quota") quotaReached = true;
              if (outcome.state === "retry") again.push(p);
            }),
          );
        }
      });
      await Promise.all(sends);
      // Outside a broadcast an outcome without events or a release has nothing to record.
      const toRecord = broadcastId !== undefined
        ? outcomes
        : outcomes.filter((o) => o.events.length > 0 || o.release);
      await Promise.all(slices(toRecord).map((slice) => this.#record(broadcastId, slice)));
      // After the daily quota is reached nothing more is sent; released users stay pending.
      pending = quotaReached ? [] : again;
    }
    return { reports: all.map((p) => p.report), quotaReached };
  }

  /** Sends one message on `credit` and decides the outcome to record. */
  async #send(
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
      ...(message.emphasisKeyword !== undefined
        ? { emphasisKeyword: message.emphasisKeyword }
        : {}),
      ...(message.miniprogramState !== undefined
        ? { miniprogramState: message.miniprogramState }
        : {}),
      ...(message.lang !== undefined ? { lang: message.lang } : {}),
    };
    const result = credit.kind === "subscribe"
      ? await this.client.sendSubscribe(msg)
      : await this.client.sendTemplate(msg, credit.formId);
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
    if (result.class === "spent") retry = ++p.spent < this.settings.maxCredits;
    if (result.class === "transient") retry = ++p.faults < this.settings.maxAttempts;
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
   * Records outcomes. In a broadcast recording is idempotent (the store applies an outcome only
   * while the user's state is the expected one), so a failed call is retried a few times before
   * the chunk is left for another worker; outside a broadcast a retry could release twice.
   */
  async #record(broadcastId: string | undefined, outcomes: DeliveryOutcome[]) {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.ledger.record(broadcastId, outcomes);
      } catch (err) {
        if (broadcastId === undefined || attempt >= 3) throw err;
        await this.sleep(100 * 2 ** attempt);
      }
    }
  }

  /** Exponential backoff with equal jitter: half fixed, half random. */
  #backoffMs(faults: number): number {
    const ceiling = this.settings.retryBaseMs * 2 ** (faults - 1);
    return ceiling / 2 + Math.random() * ceiling / 2;
  }
}
