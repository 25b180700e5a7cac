/**
 * How many credits one user may hold: a cap over the user's live credits (unspent and not
 * expired) and one per subscribe template. Checked in the same atomic step that collects (the
 * memory store calls {@link capRefusal}; collect.lua is its twin): an upload over a cap
 * collects exactly up to it, in order, and each refused credit is reported with its reason.
 *
 * @module
 */
import type { Credit } from "./credit_rules.ts";

/** The caps: live credits per user, and live subscribe credits per template per user. */
export interface CreditCaps {
  perUser: number;
  perTemplate: number;
}

/**
 * The default caps (`MAX_CREDITS_PER_USER`, `MAX_CREDITS_PER_TEMPLATE`). A user spends a form
 * credit within 7 days and WeChat allows a few messages per user per week, so a few dozen
 * credits cover any real use; 500 leaves room for prepay credits and many templates while one
 * user's index stays small (its reads and its memory bounded), and 100 per template covers a
 * subscribe prompt accepted several times a day for weeks.
 *
 * @example
 * ```ts
 * DEFAULT_CREDIT_CAPS.perUser; // 500
 * ```
 */
export const DEFAULT_CREDIT_CAPS: Readonly<CreditCaps> = { perUser: 500, perTemplate: 100 };

/** Why a credit was refused: the user holds `perUser` live credits, or its template `perTemplate`. */
export type CapReason = "user_full" | "template_full";

/**
 * Whether one more credit goes over a cap, given the live credits the user holds now (`user`)
 * and, for a subscribe credit, those of its template (`template`). The user's cap is checked
 * first.
 *
 * @example
 * ```ts
 * capRefusal({ formId: "f", kind: "form", uses: 1, expiresAt: null }, { user: 500, template: 0 },
 *   DEFAULT_CREDIT_CAPS); // "user_full"
 * ```
 */
export function capRefusal(
  credit: Pick<Credit, "kind">,
  live: { user: number; template: number },
  caps: CreditCaps,
): CapReason | null {
  if (live.user >= caps.perUser) return "user_full";
  if (credit.kind === "subscribe" && live.template >= caps.perTemplate) return "template_full";
  return null;
}
