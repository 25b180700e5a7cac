/**
 * The rules of push credits: how many sends each kind gives and when it expires.
 *
 * @module
 */
import type { CreditKind } from "./events.ts";

/** Sends one credit of each kind allows (WeChat: formId 1, prepay_id 3, subscribe accept 1). */
export const USES_BY_KIND: Readonly<Record<CreditKind, number>> = {
  form: 1,
  prepay: 3,
  subscribe: 1,
};

/** One credit as the projection holds it. `expiresAt` is epoch ms or `null` (never expires). */
export interface Credit {
  formId: string;
  kind: CreditKind;
  templateId?: string;
  uses: number;
  expiresAt: number | null;
}

/** A credit about to be collected, its uses and expiry already decided by the ledger. */
export type CreditInput = Credit;

/** A user's valid credits, soonest expiry first; `sends` counts the messages they allow. */
export interface CreditView {
  valid: number;
  sends: number;
  nextExpiry: number | null;
  credits: Credit[];
}

/** Whether `credit` can still be sent at `now`. */
export function isValid(credit: Credit, now: number): boolean {
  return credit.uses > 0 && (credit.expiresAt === null || credit.expiresAt > now);
}

/**
 * Orders credits the way consumption picks them: soonest expiry first, never-expiring last,
 * ties by formId so every store picks the same one.
 */
export function bySpendOrder(a: Credit, b: Credit): number {
  const ea = a.expiresAt ?? Number.MAX_SAFE_INTEGER;
  const eb = b.expiresAt ?? Number.MAX_SAFE_INTEGER;
  if (ea !== eb) return ea - eb;
  return a.formId < b.formId ? -1 : a.formId > b.formId ? 1 : 0;
}

/** What a consumption may take: subscribe credits only for `templateId`, others by kind. */
export interface CreditFilter {
  templateId?: string;
  kinds?: CreditKind[];
}

/** Whether `credit` may be spent for a message described by `filter`. */
export function matchesFilter(credit: Credit, filter: CreditFilter): boolean {
  const kinds = filter.kinds ?? defaultKinds(filter.templateId);
  if (!kinds.includes(credit.kind)) return false;
  if (credit.kind === "subscribe") return credit.templateId === filter.templateId;
  return true;
}

function defaultKinds(templateId: string | undefined): CreditKind[] {
  return templateId === undefined ? ["form", "prepay"] : ["form", "prepay", "subscribe"];
}

/** Builds the view of `credits` at `now`: only valid ones, soonest expiry first. */
export function viewOf(credits: Iterable<Credit>, now: number): CreditView {
  const valid = [...credits].filter((c) => isValid(c, now)).sort(bySpendOrder);
  const expiries = valid.map((c) => c.expiresAt).filter((e): e is number => e !== null);
  return {
    valid: valid.length,
    sends: valid.reduce((n, c) => n + c.uses, 0),
    nextExpiry: expiries.length > 0 ? Math.min(...expiries) : null,
    credits: valid.map((c) => ({ ...c })),
  };
}
