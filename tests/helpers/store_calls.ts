/**
 * Single-delivery writes for tests, through the store port's batch operations: take one credit
 * (`takeMany` with one delivery), give a use back and append audit events (`recordMany` outside a
 * broadcast). The port has no single-credit `consume`/`release` or raw `append`: production
 * writes only go through these two operations, so tests do too.
 *
 * @module
 */
import type { Credit, CreditFilter } from "../../src/ledger/credit_rules.ts";
import type { LedgerEvent } from "../../src/ledger/events.ts";
import type { LedgerStore } from "../../src/ledger/store.ts";

/**
 * Takes one use of `openId`'s best credit for push `pushId` and returns it with the uses it has
 * left; `null` when none qualifies.
 *
 * @example
 * ```ts
 * const credit = await consume(store, "alice", { templateId: "TPL", pushId: "p1" }, now);
 * ```
 */
export async function consume(
  store: LedgerStore,
  openId: string,
  request: CreditFilter & { pushId: string },
  now: number,
): Promise<Credit | null> {
  const { pushId, ...filter } = request;
  const [result] = await store.takeMany({ ...filter, deliveries: [{ openId, pushId }] }, now);
  return result.status === "taken" ? result.credit : null;
}

/**
 * Gives back to `openId` the use of `credit` that push `pushId` took (`FormIdReleased`).
 *
 * @example
 * ```ts
 * await release(store, "alice", { credit, pushId: "p1" }, now);
 * ```
 */
export function release(
  store: LedgerStore,
  openId: string,
  { credit, pushId }: { credit: Credit; pushId: string },
  now: number,
): Promise<void> {
  return store.recordMany(undefined, [{ openId, pushId, credit, release: true, events: [] }], now);
}

/**
 * Appends audit events (push events: they leave the projection as it is), in order.
 *
 * @example
 * ```ts
 * await append(store, [pushFailed({ pushId: "p", openId: "o" }, failure)], now);
 * ```
 */
export function append(store: LedgerStore, events: LedgerEvent[], now: number): Promise<void> {
  if (events.length === 0) return Promise.resolve();
  // Outside a broadcast an outcome without a credit only appends its events.
  return store.recordMany(undefined, [{
    openId: "",
    pushId: "",
    credit: null,
    release: false,
    events,
  }], now);
}
