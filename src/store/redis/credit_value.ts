/**
 * How a credit is stored in a user's projection hash (field: the formId, value:
 * `<expiresAt ms, 0 = never>|<uses left>|<kind letter>|<templateId>`), its users index score
 * and its place in the credit index. The Lua scripts receive these constants from here (see
 * scripts.ts); credit_value.lua's `parse_credit`, `credit_value`, `rank_of` and `group_of` are
 * the twins of {@link parseCredit}, {@link creditValue} and {@link indexEntry}.
 *
 * @module
 */
import { type Credit, NEVER_RANK, spendRank } from "../../ledger/credit_rules.ts";
import { LEGACY_GROUP, spendGroupOf, TEMPLATE_GROUP_PREFIX } from "../../ledger/spend_groups.ts";
import type { LuaConstants } from "./scripts.ts";
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
 * A credit index score of a credit that never expires: `NEVER_RANK` as Redis and Lua read it.
 *
 * @example
 * ```ts
 * NEVER_SCORE; // "9007199254740991"
 * ```
 */
export const NEVER_SCORE = String(NEVER_RANK);

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
 * Where a credit goes in the credit index (credits.lua): a live one (uses left) in its spend
 * group, scored by its spend rank; a spent one that expires in the spent index, scored by its
 * expiry (`group` ""); a spent one that never expires nowhere (`score` "").
 *
 * @example
 * ```ts
 * indexEntry({ formId: "f", kind: "form", uses: 1, expiresAt: 5 }); // { group: "fp", score: "5" }
 * ```
 */
export function indexEntry(credit: Credit): { group: string; score: string } {
  if (credit.uses > 0) return { group: spendGroupOf(credit), score: String(spendRank(credit)) };
  return { group: "", score: credit.expiresAt === null ? "" : String(credit.expiresAt) };
}

/**
 * What credit_value.lua receives.
 *
 * @example
 * ```ts
 * scriptSource(["credit_value", "write_users"], CREDIT_VALUE_CONSTANTS);
 * ```
 */
export const CREDIT_VALUE_CONSTANTS: LuaConstants = {
  KIND_LETTER,
  CREDIT_SEPARATOR,
  NEVER_SCORE,
  NO_EXPIRY_SCORE,
  LEGACY_GROUP,
  TEMPLATE_GROUP_PREFIX,
};
