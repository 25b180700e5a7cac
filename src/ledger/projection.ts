/**
 * The per-user projection as a pure fold over the log: each user's credits by formId (voids and
 * confirmations included; the rest of a subscription's state is subscription_state.ts's fold).
 *
 * The memory store keeps its live projection in one of these; rebuilds of every store fold the
 * log into a fresh one. A credit whose last use is taken stays as a tombstone (uses 0) until it
 * expires, so a retried upload of a spent formId is still a duplicate; a never-expiring credit
 * is dropped at once instead (its id is minted by the server, so nothing re-uploads it).
 *
 * @module
 */
import type { Credit } from "./credit_rules.ts";
import type { LedgerEvent } from "./events.ts";

/** Each user's credits, keyed by openId then formId. */
export type ProjectionState = Map<string, Map<string, Credit>>;

/**
 * Applies one event to `state` in place. Events that do not touch credits are ignored.
 *
 * @example
 * ```ts
 * const state: ProjectionState = new Map();
 * for (const event of log) applyEvent(state, event);
 * ```
 */
export function applyEvent(state: ProjectionState, event: LedgerEvent): void {
  switch (event.type) {
    case "FormIdCollected": {
      const { openId, formId, kind, templateId, uses, expiresAt } = event.data;
      // The log holds a FormIdCollected only when the store took the formId as new, which it
      // does again once an expired credit of the same id was pruned: the event always wins.
      userCredits(state, openId).set(formId, { formId, kind, templateId, uses, expiresAt });
      return;
    }
    case "FormIdConsumed": {
      const credits = state.get(event.data.openId);
      const credit = credits?.get(event.data.formId);
      if (!credits || !credit) return;
      credit.uses = Math.max(0, credit.uses - 1);
      if (credit.uses === 0 && credit.expiresAt === null) credits.delete(credit.formId);
      return;
    }
    case "FormIdReleased": {
      const { openId, formId, kind, templateId, expiresAt } = event.data;
      const credits = userCredits(state, openId);
      const credit = credits.get(formId);
      if (credit) credit.uses += 1;
      else credits.set(formId, { formId, kind, templateId, uses: 1, expiresAt });
      return;
    }
    case "CreditsVoided": {
      // Voided like a take of every use left: a tombstone until expiry, or gone.
      const credits = state.get(event.data.openId);
      for (const formId of event.data.formIds) {
        const credit = credits?.get(formId);
        if (!credits || !credit) continue;
        credit.uses = 0;
        if (credit.expiresAt === null) credits.delete(formId);
      }
      return;
    }
    case "CreditConfirmed": {
      const { openId, formId, expiresAt } = event.data;
      const credits = state.get(openId);
      const credit = credits?.get(formId);
      if (!credits || !credit || expiresAt === undefined) return;
      credit.expiresAt = expiresAt;
      if (credit.uses === 0 && expiresAt === null) credits.delete(formId);
      return;
    }
  }
}

function userCredits(state: ProjectionState, openId: string): Map<string, Credit> {
  let credits = state.get(openId);
  if (!credits) state.set(openId, credits = new Map());
  return credits;
}
