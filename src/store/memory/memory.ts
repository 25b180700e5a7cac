/**
 * The embedded store: the log and projection in this process's memory. It is the default when
 * no Redis is configured, and nothing in it survives a restart.
 *
 * Every method does its reads and writes without awaiting in between, so each one is atomic
 * with respect to every other call, as a Lua script is in Redis.
 *
 * @module
 */
import { canonicalEvent, GENESIS, linkHash } from "../../chain/chain.ts";
import {
  bySpendOrder,
  type Credit,
  isValid,
  matchesFilter,
  viewOf,
} from "../../ledger/credit_rules.ts";
import type { CreditFilter, CreditInput, CreditView } from "../../ledger/credit_rules.ts";
import type { LedgerEvent, LogHead, StoredEvent } from "../../ledger/events.ts";
import { applyEvent, type ProjectionState } from "../../ledger/projection.ts";
import {
  type BroadcastTally,
  type DeliveryOutcome,
  LOST_DELIVERY,
  parseTally,
  STATE_LETTER,
  type TakeRequest,
  type TakeResult,
  tallyField,
} from "../../ledger/delivery.ts";
import type {
  CollectRequest,
  CollectResult,
  ConsumeRequest,
  LedgerStore,
  ProjectionPage,
  RebuildResult,
  ReleaseRequest,
  UserPage,
} from "../../ledger/store.ts";

/** Events copied between two turns of the event loop while reading the log. */
const READ_SLICE = 250;

/** The in-memory ledger store. */
export class MemoryStore implements LedgerStore {
  readonly kind = "memory" as const;
  #log: StoredEvent[] = [];
  #projection: ProjectionState = new Map();
  #broadcasts = new Map<string, { states: Map<string, string>; tally: Record<string, number> }>();

  collect(openId: string, credits: CreditInput[], now: number): Promise<CollectResult> {
    return this.collectMany([{ openId, credits }], now).then(([result]) => result);
  }

  collectMany(uploads: CollectRequest[], now: number): Promise<CollectResult[]> {
    // No await in between: the whole batch is one atomic step.
    const results = uploads.map(({ openId, credits }) => {
      const events: LedgerEvent[] = [];
      const known = this.#projection.get(openId);
      const result: CollectResult = { accepted: [], duplicates: [] };
      const fresh = new Set<string>();
      for (const credit of credits) {
        if (known?.has(credit.formId) || fresh.has(credit.formId)) {
          result.duplicates.push(credit.formId);
          continue;
        }
        fresh.add(credit.formId);
        result.accepted.push(credit.formId);
        events.push({ type: "FormIdCollected", data: { openId, ...credit } });
      }
      this.#commit(events, now);
      return result;
    });
    return Promise.resolve(results);
  }

  consume(openId: string, request: ConsumeRequest, now: number): Promise<Credit | null> {
    return Promise.resolve(this.#take(openId, request, request.pushId, now));
  }

  takeMany(request: TakeRequest, now: number): Promise<TakeResult[]> {
    const id = request.broadcastId;
    const states = id === undefined ? undefined : this.#broadcast(id).states;
    const results = request.deliveries.map(({ openId, pushId }): TakeResult => {
      const state = states?.get(openId);
      if (state === undefined || state === "r") {
        const credit = this.#take(openId, request, pushId, now);
        if (!credit) return { status: "none" };
        states?.set(openId, `t|${credit.formId}`);
        return { status: "taken", credit };
      }
      if (state.startsWith("t|")) {
        const formId = state.slice(2);
        states!.set(openId, "u");
        const tally = this.#broadcast(id!).tally;
        tally.failed = (tally.failed ?? 0) + 1;
        tally[`e:${LOST_DELIVERY.errcode}`] = (tally[`e:${LOST_DELIVERY.errcode}`] ?? 0) + 1;
        this.#commit([{
          type: "PushFailed",
          data: {
            pushId,
            broadcastId: id,
            openId,
            formId,
            errcode: LOST_DELIVERY.errcode,
            errmsg: LOST_DELIVERY.errmsg,
            class: "unknown",
          },
        }], now);
        return { status: "lost", formId };
      }
      return { status: "done" };
    });
    return Promise.resolve(results);
  }

  recordMany(
    broadcastId: string | undefined,
    outcomes: DeliveryOutcome[],
    now: number,
  ): Promise<void> {
    const bc = broadcastId === undefined ? undefined : this.#broadcast(broadcastId);
    for (const o of outcomes) {
      const c = o.credit;
      const tracked = bc !== undefined && o.state !== undefined;
      if (tracked) {
        // Applies only while the user's state is the expected one: idempotent, never counted twice.
        const state = bc.states.get(o.openId);
        if (!(c ? state === `t|${c.formId}` : state === undefined || state === "r")) continue;
      }
      this.#commit(o.events, now);
      if (o.release && c) {
        const { formId, kind, templateId, expiresAt } = c;
        this.#commit([{
          type: "FormIdReleased",
          data: {
            openId: o.openId,
            formId,
            pushId: o.pushId,
            kind,
            ...(templateId !== undefined ? { templateId } : {}),
            expiresAt,
          },
        }], now);
      }
      if (!tracked) continue;
      bc.states.set(o.openId, STATE_LETTER[o.state!]);
      const field = tallyField(o.state);
      if (field) bc.tally[field] = (bc.tally[field] ?? 0) + 1;
      if (o.state === "failed" && o.errcode !== undefined) {
        bc.tally[`e:${o.errcode}`] = (bc.tally[`e:${o.errcode}`] ?? 0) + 1;
      }
    }
    return Promise.resolve();
  }

  tally(broadcastId: string): Promise<BroadcastTally> {
    return Promise.resolve(parseTally(this.#broadcasts.get(broadcastId)?.tally ?? {}));
  }

  /** Takes one use of the user's best qualifying credit, appending `FormIdConsumed`. */
  #take(openId: string, filter: CreditFilter, pushId: string, now: number): Credit | null {
    const credits = this.#projection.get(openId);
    if (!credits) return null;
    let best: Credit | null = null;
    for (const credit of [...credits.values()]) {
      if (credit.expiresAt !== null && credit.expiresAt <= now) {
        credits.delete(credit.formId); // expired: no longer needed, not even for dedupe
        continue;
      }
      if (!isValid(credit, now) || !matchesFilter(credit, filter)) continue;
      if (best === null || bySpendOrder(credit, best) < 0) best = credit;
    }
    if (best === null) return null;
    const taken = { ...best, uses: best.uses - 1 };
    this.#commit([{
      type: "FormIdConsumed",
      data: { openId, formId: best.formId, pushId },
    }], now);
    return taken;
  }

  #broadcast(id: string) {
    let bc = this.#broadcasts.get(id);
    if (!bc) this.#broadcasts.set(id, bc = { states: new Map(), tally: {} });
    return bc;
  }

  release(openId: string, { credit, pushId }: ReleaseRequest, now: number): Promise<void> {
    const { formId, kind, templateId, expiresAt } = credit;
    this.#commit([{
      type: "FormIdReleased",
      data: { openId, formId, pushId, kind, templateId, expiresAt },
    }], now);
    return Promise.resolve();
  }

  append(events: LedgerEvent[], now: number): Promise<number[]> {
    return Promise.resolve(this.#commit(events, now));
  }

  view(openId: string, now: number): Promise<CreditView> {
    return Promise.resolve(viewOf(this.#projection.get(openId)?.values() ?? [], now));
  }

  users(cursor: string, count: number, now: number): Promise<UserPage> {
    const all = [...this.#projection.entries()]
      .filter(([, credits]) => [...credits.values()].some((c) => isValid(c, now)))
      .map(([openId]) => openId)
      .sort();
    const start = Number(cursor);
    const openIds = all.slice(start, start + count);
    const next = start + count >= all.length ? "0" : String(start + count);
    return Promise.resolve({ cursor: next, openIds });
  }

  projectionPage(cursor: string, count: number, now: number): Promise<ProjectionPage> {
    const all = [...this.#projection.entries()]
      .filter(([, credits]) => [...credits.values()].some((c) => isValid(c, now)))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const start = Number(cursor);
    const users = all.slice(start, start + count).map(([openId, credits]) => ({
      openId,
      credits: [...credits.values()].map((c) => ({ ...c })),
    }));
    const next = start + count >= all.length ? "0" : String(start + count);
    return Promise.resolve({ cursor: next, users });
  }

  async readEvents(after: number, limit: number): Promise<StoredEvent[]> {
    // Nothing here waits for I/O, so a reader of the whole log (an audit, an export) would
    // never let the event loop turn: the events are copied a slice at a time, each after a
    // timer, so other requests are served in between.
    const end = Math.min(this.#log.length, after + limit);
    const events: StoredEvent[] = [];
    for (let from = after; from < end; from += READ_SLICE) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      const to = Math.min(end, from + READ_SLICE);
      for (let i = from; i < to; i++) events.push(structuredClone(this.#log[i]));
    }
    return events;
  }

  head(): Promise<LogHead> {
    const last = this.#log.at(-1);
    return Promise.resolve(
      last ? { seq: last.seq, hash: last.hash, at: last.at } : { seq: 0, hash: GENESIS, at: null },
    );
  }

  rebuild(_now: number): Promise<RebuildResult> {
    const fresh: ProjectionState = new Map();
    for (const event of this.#log) applyEvent(fresh, event);
    this.#projection = fresh;
    return Promise.resolve({ events: this.#log.length, users: fresh.size });
  }

  /** Always 0: this store chains each event as it appends it. */
  unsealed(): Promise<number> {
    return Promise.resolve(0);
  }

  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #commit(events: LedgerEvent[], now: number): number[] {
    const at = new Date(now).toISOString();
    return events.map((event) => {
      const seq = this.#log.length + 1;
      const prev = this.#log.at(-1)?.hash ?? GENESIS;
      const hash = linkHash(prev, canonicalEvent({ seq, type: event.type, at, data: event.data }));
      const stored = { ...structuredClone(event), id: `${seq}-0`, seq, at, prev, hash };
      this.#log.push(stored as StoredEvent);
      applyEvent(this.#projection, event);
      return seq;
    });
  }
}
