/**
 * How a credit is stored in a user's projection hash (field: the formId, value:
 * `<expiresAt ms, 0 = never>|<uses left>|<kind letter>|<templateId>`), and its users index
 * score. The Lua scripts receive these constants from here (see scripts.ts); lib.lua's
 * `parse_credit` and `credit_value` are the twins of {@link parseCredit} and {@link creditValue}.
 *
 * @module
 */
import { type Credit, type CreditFilter, kindsOf } from "../../ledger/credit_rules.ts";
import type { CreditKind } from "../../ledger/events.ts";

/**
 * Users index score of a credit that never expires: 9999-12-31T23:59:59.999Z.
 *
 * @example
 * ```ts
 * new Date(NO_EXPIRY_SCORE).toISOString(); // "9999-12-31T23:59:59.999Z"
 * ```
 */
export const NO_EXPIRY_SCORE = 253402300799999;

/**
 * The letter each kind is stored as.
 *
 * @example
 * ```ts
 * KIND_LETTER.subscribe; // "s"
 * ```
 */
export const KIND_LETTER: Readonly<Record<CreditKind, string>> = {
  form: "f",
  prepay: "p",
  subscribe: "s",
};

const LETTER_KIND: Readonly<Record<string, CreditKind>> = {
  f: "form",
  p: "prepay",
  s: "subscribe",
};

/**
 * Separates the parts of a stored credit value.
 *
 * @example
 * ```ts
 * "1000|3|p|".split(CREDIT_SEPARATOR); // ["1000", "3", "p", ""]
 * ```
 */
export const CREDIT_SEPARATOR = "|";

const S = CREDIT_SEPARATOR;

/**
 * The stored value of a credit.
 *
 * @example
 * ```ts
 * creditValue({ formId: "f1", kind: "prepay", uses: 3, expiresAt: 1000 }); // "1000|3|p|"
 * ```
 */
export function creditValue(credit: Credit): string {
  return `${credit.expiresAt ?? 0}${S}${credit.uses}${S}${KIND_LETTER[credit.kind]}${S}${
    credit.templateId ?? ""
  }`;
}

/**
 * A credit's score in the users index: its expiry, or {@link NO_EXPIRY_SCORE}.
 *
 * @example
 * ```ts
 * usersScore({ formId: "f1", kind: "form", uses: 1, expiresAt: null }); // "253402300799999"
 * ```
 */
export function usersScore(credit: Credit): string {
  return String(credit.expiresAt ?? NO_EXPIRY_SCORE);
}

/**
 * The credit a stored value describes, with `spent` uses taken off (a take script returns the
 * value before its use).
 *
 * @example
 * ```ts
 * parseCredit("f1", "1000|3|p|", 1); // { formId: "f1", kind: "prepay", uses: 2, expiresAt: 1000 }
 * ```
 */
export function parseCredit(formId: string, value: string, spent = 0): Credit {
  const [expires, uses, letter, ...template] = value.split(S);
  const templateId = template.length === 1 ? template[0] : template.join(S);
  const expiresAt = Number(expires);
  return {
    formId,
    kind: LETTER_KIND[letter],
    ...(templateId ? { templateId } : {}),
    uses: Number(uses) - spent,
    expiresAt: expiresAt === 0 ? null : expiresAt,
  };
}

/**
 * The credits of a flat formId/value list (HGETALL of a user's hash).
 *
 * @example
 * ```ts
 * parseCredits(["f1", "0|1|f|"]); // [{ formId: "f1", kind: "form", uses: 1, expiresAt: null }]
 * ```
 */
export function parseCredits(flat: string[]): Credit[] {
  const credits: Credit[] = [];
  for (let i = 0; i < flat.length; i += 2) credits.push(parseCredit(flat[i], flat[i + 1]));
  return credits;
}

/**
 * The kind letters a filter allows (the ledger's `kindsOf`), as the scripts receive them.
 *
 * @example
 * ```ts
 * kindLetters({ templateId: "t1" }); // "fps"
 * ```
 */
export function kindLetters(filter: CreditFilter): string {
  let letters = "";
  for (const kind of kindsOf(filter)) letters += KIND_LETTER[kind];
  return letters;
}
