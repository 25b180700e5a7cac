/**
 * One batch delivery at work (see deliver.ts): users wait in a ready list; each round asks the
 * send slots for a batch and takes that many credits (up to five slices, sent together: the
 * client pipelines them into one request). Each slice's answer starts its WeChat calls at once
 * (nothing is awaited between them but what the client needs); answered outcomes are recorded in
 * batches (a full slice, nothing else being sent by this run, or after a short linger), then the
 * slots go back and users who must go round again rejoin the list. A delivery holds its slot from
 * just before its take to its recorded outcome (or its handing to the outbox), so an instance
 * never holds more deliveries taken and unrecorded than its slots, and each of them is a call
 * that started: in flight, or its answer being written.
 *
 * @module
 */
import type { CreditFilter } from "../ledger/credit_rules.ts";
import type {
  DeliveryOutcome,
  DeliveryRef,
  DeliveryState,
  TakeResult,
} from "../ledger/delivery.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { WeChatClient } from "../wechat/client.ts";
import { INTERRUPTED_MESSAGE, LOCAL } from "../wechat/errcodes.ts";
import {
  attempt,
  type DeliveryReport,
  type DeliverySettings,
  filterOf,
  final,
  type Progress,
  progressOf,
  type PushMessage,
} from "./attempt.ts";
import type { Outbox } from "./outbox.ts";
import type { Reconciler } from "./reconcile.ts";
import type { SendSlots } from "./send_slots.ts";

/** The reports of a batch, and whether WeChat's daily quota stopped it. */
export interface BatchReport {
  reports: DeliveryReport[];
  quotaReached: boolean;
}

/**
 * Most deliveries per store call. Redis runs a script alone, so one call for a whole chunk would
 * hold every other client up while it hashes hundreds of events; slices keep each call short
 * (~100 events) and are sent together (the client pipelines them into one request).
 */
export const STORE_SLICE = 100;

/** Most credits taken in one round: several slices, sent together in one pipelined request. */
export const MAX_BATCH = 5 * STORE_SLICE;

/**
 * Fewest credits taken in one call while more users wait (fewer when fewer wait): small takes
 * would cost Redis commands (Upstash bills per command) for no gain.
 */
export const MIN_TAKE = 32;

/**
 * Longest an answered outcome waits for others to share its record call. Short: a slot waiting
 * here is a WeChat call not made. (A batch's calls start together and mostly answer together, so
 * a slice usually fills, or the run has nothing else sending, well before it.)
 */
export const RECORD_LINGER_MS = 10;

/** What every run shares: the ledger, the WeChat client, the slots and the outbox. */
export interface Parts {
  ledger: Ledger;
  client: WeChatClient;
  settings: DeliverySettings;
  /** One per delivery, held from just before its take to its recorded outcome (or outbox). */
  slots: SendSlots;
  outbox: Outbox;
  /** How long a push's delivery state is kept (outside a broadcast), ms. */
  pushStateMs: number;
  /** Told of unknown subscribe deliveries, for WeChat's sent events to settle later. */
  unknowns?: Reconciler;
}

/** An answered (or never sent) delivery whose outcome is to be recorded. */
interface Answered {
  p: Progress;
  outcome: DeliveryOutcome;
  /** Send slots it holds (0 when nothing was sent). */
  slots: number;
}

/**
 * One `deliverMany`: its users flow through take -> send -> record, batch by batch.
 *
 * @example
 * ```ts
 * const { reports } = await new DeliveryRun(parts, refs, message, "b1").run();
 * ```
 */
export class DeliveryRun {
  readonly #all: Progress[];
  #ready: Progress[];
  /** Deliveries between their take and their recorded outcome. */
  #active = 0;
  /** Deliveries waiting out a backoff before they go round again. */
  #delayed = 0;
  #sending = 0;
  #buffer: Answered[] = [];
  #linger: ReturnType<typeof setTimeout> | null = null;
  #written: Promise<void>[] = [];
  #failure: { err: unknown } | null = null;
  #quota = false;
  #changed: (() => void) | null = null;

  constructor(
    private readonly parts: Parts,
    refs: DeliveryRef[],
    private readonly message: PushMessage,
    private readonly broadcastId: string | undefined,
  ) {
    this.#all = refs.map(progressOf);
    this.#ready = [...this.#all];
  }

  async run(): Promise<BatchReport> {
    const { slots } = this.parts;
    const filter = filterOf(this.message.templateId, this.message.kind);
    // A full slice when slots are plenty (fewer store calls), less when they are few; more is
    // taken whenever more slots are free.
    const least = Math.min(STORE_SLICE, Math.max(MIN_TAKE, Math.floor(slots.size / 4)));
    for (;;) {
      if (this.#quota || this.#failure) this.#ready = [];
      if (this.#ready.length === 0) {
        if (this.#active === 0 && this.#delayed === 0) break;
        await new Promise<void>((resolve) => this.#changed = resolve);
        continue;
      }
      const want = Math.min(this.#ready.length, MAX_BATCH);
      let n = await slots.acquire(want, Math.min(want, least));
      if (this.#quota || this.#failure) {
        slots.release(n);
        continue;
      }
      // Whole slices, or all that is left: a ragged slice is one more store call (billed) for
      // few deliveries; the slots beyond go straight to the next waiter.
      const whole = n < want && n > STORE_SLICE ? n - (n % STORE_SLICE) : n;
      slots.release(n - whole);
      n = whole;
      const batch = this.#ready.splice(0, n);
      this.#active += batch.length;
      this.#take(batch, filter);
    }
    // A chunk is acknowledged only once its outcomes are in the ledger.
    if (this.broadcastId !== undefined) await Promise.all(this.#written);
    if (this.#failure) throw this.#failure.err;
    return { reports: this.#all.map((p) => p.report), quotaReached: this.#quota };
  }

  /**
   * Takes credits for `batch`, slice by slice (one store call each, sent together), and starts
   * each slice's calls as soon as its answer is in.
   */
  #take(batch: Progress[], filter: CreditFilter): void {
    for (let i = 0; i < batch.length; i += STORE_SLICE) {
      const slice = batch.slice(i, i + STORE_SLICE);
      const deliveries = slice.map((p) => p.ref);
      this.parts.ledger.take(
        this.broadcastId !== undefined
          ? { ...filter, broadcastId: this.broadcastId, deliveries }
          : { ...filter, pushStateMs: this.parts.pushStateMs, deliveries },
      ).then(
        (taken) => this.#send(slice, taken),
        (err) => {
          // The failure first: settling wakes the loop, which must see it. Credits this call
          // may have taken stay taken: the reclaim (or a keyed retry) settles them.
          this.#fail(err);
          this.parts.slots.release(slice.length);
          this.#settle(slice.length);
        },
      );
    }
  }

  /** Starts the calls of a slice's taken credits (synchronously), and settles the others. */
  #send(slice: Progress[], taken: TakeResult[]): void {
    const { client, settings, slots } = this.parts;
    const unsent: Answered[] = [];
    taken.forEach((take, i) => {
      const p = slice[i];
      if (take.status !== "taken") {
        slots.release(1);
        const outcome = this.#notSent(p, take);
        if (outcome) unsent.push({ p, outcome, slots: 0 });
        else this.#settle(1);
        return;
      }
      this.#sending++;
      attempt(client, settings, p, take.credit, this.message, this.broadcastId).then(
        (outcome) => {
          this.#sending--;
          if (p.last?.class === "quota") this.#quota = true;
          this.#answered([{ p, outcome, slots: 1 }]);
        },
        (err) => {
          // The client answers every failure; a throw is a bug: the delivery stays taken (the
          // reclaim calls it unknown) and the run fails.
          this.#sending--;
          this.#fail(err);
          slots.release(1);
          this.#settle(1);
        },
      );
    });
    if (unsent.length > 0) this.#answered(unsent);
  }

  /** The outcome of a delivery that took no credit (`null`: nothing to record). */
  #notSent(p: Progress, take: TakeResult): DeliveryOutcome | null {
    if (take.status === "done") {
      p.report.status = "skipped";
      return null;
    }
    if (take.status === "lost") {
      if (this.message.kind !== "template") this.#noteUnknown(p, take.formId);
      Object.assign(p.report, {
        status: "failed",
        errcode: LOCAL.INTERRUPTED,
        errmsg: INTERRUPTED_MESSAGE,
        class: "unknown",
      });
      return null;
    }
    // After a spent credit (or a fault) the user has nothing left: that failure stands.
    const state: DeliveryState = p.last ? "failed" : "no_credit";
    if (!p.last) p.report.status = "no_credit";
    // Outside a broadcast there is no state to count: nothing to record.
    if (this.broadcastId === undefined) return null;
    return {
      openId: p.ref.openId,
      pushId: p.ref.pushId,
      credit: null,
      release: false,
      events: [],
      state,
      ...(p.last ? { errcode: p.last.errcode } : {}),
    };
  }

  #answered(items: Answered[]): void {
    for (const item of items) this.#buffer.push(item);
    if (this.#buffer.length >= STORE_SLICE || this.#sending === 0) this.#flush();
    else if (this.#linger === null) {
      this.#linger = setTimeout(() => this.#flush(), RECORD_LINGER_MS);
    }
  }

  #flush(): void {
    if (this.#linger !== null) clearTimeout(this.#linger);
    this.#linger = null;
    while (this.#buffer.length > 0) {
      this.#record(this.#buffer.splice(0, STORE_SLICE)).catch((err) => this.#fail(err));
    }
  }

  async #record(items: Answered[]): Promise<void> {
    const { ledger, slots, outbox } = this.parts;
    // Outside a broadcast each push's state is kept, so writing an outcome twice is harmless.
    const outcomes = this.broadcastId !== undefined
      ? items.map((i) => i.outcome)
      : items.map((i) => ({ ...i.outcome, pushStateMs: this.parts.pushStateMs }));
    const held = items.reduce((n, i) => n + i.slots, 0);
    try {
      await ledger.record(this.broadcastId, outcomes);
    } catch {
      // Kept until written; a delivery whose use went back is not tried again meanwhile.
      const finals = outcomes.map((o, k) => final(o, items[k].p.last?.errcode));
      try {
        this.#written.push((await outbox.add(this.broadcastId, finals)).written);
      } finally {
        slots.release(held);
        this.#settle(items.length);
      }
      return;
    }
    slots.release(held);
    for (const { p, outcome } of items) {
      if (p.last?.class === "unknown" && outcome.credit?.kind === "subscribe") {
        this.#noteUnknown(p, outcome.credit.formId);
      }
      if (outcome.state !== "retry" || this.#quota || this.#failure) {
        this.#settle(1);
        continue;
      }
      this.#active--;
      if (p.last?.class !== "transient") {
        this.#ready.push(p);
        continue;
      }
      this.#delayed++;
      setTimeout(() => {
        this.#delayed--;
        this.#ready.push(p);
        this.#wake();
      }, this.#backoffMs(p.faults));
    }
    this.#wake();
  }

  /** Notes an unknown subscribe delivery (best effort: a failure only loses the later match). */
  #noteUnknown(p: Progress, formId: string): void {
    this.parts.unknowns?.noteUnknown({
      openId: p.ref.openId,
      templateId: this.message.templateId,
      pushId: p.ref.pushId,
      formId,
      ...(this.broadcastId !== undefined ? { broadcastId: this.broadcastId } : {}),
    }).catch(() => {});
  }

  /** `n` deliveries are done with (recorded, handed over, or given up). */
  #settle(n: number): void {
    this.#active -= n;
    this.#wake();
  }

  #fail(err: unknown): void {
    this.#failure ??= { err };
    this.#wake();
  }

  #wake(): void {
    const changed = this.#changed;
    this.#changed = null;
    changed?.();
  }

  /** Exponential backoff with equal jitter: half fixed, half random. */
  #backoffMs(faults: number): number {
    const ceiling = this.parts.settings.retryBaseMs * 2 ** (faults - 1);
    return ceiling / 2 + Math.random() * ceiling / 2;
  }
}
