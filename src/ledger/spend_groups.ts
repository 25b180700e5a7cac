/**
 * Spend groups: the sets a credit index keeps a user's live credits in, so that choosing a
 * credit reads the head of at most two small sorted sets instead of all the user's credits.
 *
 * Form and prepay credits serve the same messages (legacy template messages), so they share one
 * group, {@link LEGACY_GROUP}; subscribe credits serve only their own template, one group per
 * template (`t:<templateId>`). Inside a group credits are in spend order (`spendRank`, then the
 * formId's bytes): the group's first valid credit is the one `pickCredit` would choose among
 * them. The Redis store's index (src/store/redis) and its Lua are the twin of these rules.
 *
 * @module
 */
import {
  type Credit,
  type CreditFilter,
  type CreditKind,
  isExpired,
  kindsOf,
} from "./credit_rules.ts";

/**
 * The group of form and prepay credits.
 *
 * @example
 * ```ts
 * spendGroupOf({ formId: "f", kind: "prepay", uses: 3, expiresAt: 1 }); // LEGACY_GROUP ("fp")
 * ```
 */
export const LEGACY_GROUP = "fp";

/**
 * The prefix of a template's group: `t:<templateId>`.
 *
 * @example
 * ```ts
 * TEMPLATE_GROUP_PREFIX + "TPL"; // "t:TPL"
 * ```
 */
export const TEMPLATE_GROUP_PREFIX = "t:";

/**
 * The group a credit is spent from.
 *
 * @example
 * ```ts
 * spendGroupOf({ formId: "s", kind: "subscribe", templateId: "A", uses: 1, expiresAt: null });
 * // "t:A"
 * ```
 */
export function spendGroupOf(credit: Pick<Credit, "kind" | "templateId">): string {
  return credit.kind === "subscribe"
    ? TEMPLATE_GROUP_PREFIX + (credit.templateId ?? "")
    : LEGACY_GROUP;
}

/**
 * One group a take looks in, and the kinds it may take there: `null` when every credit of the
 * group qualifies (the usual case), else the kinds to keep (a filter naming only one of form
 * and prepay: the take then walks the group past the other kind).
 */
export interface GroupChoice {
  group: string;
  kinds: CreditKind[] | null;
}

/**
 * The groups a take for `filter` looks in: the legacy group when it allows form or prepay, the
 * template's group when it allows subscribe (`matchesFilter` in groups).
 *
 * @example
 * ```ts
 * spendGroupsOf({ templateId: "T" });
 * // [{ group: "fp", kinds: null }, { group: "t:T", kinds: null }]
 * ```
 */
export function spendGroupsOf(filter: CreditFilter): GroupChoice[] {
  const kinds = kindsOf(filter);
  const choices: GroupChoice[] = [];
  const legacy = kinds.filter((kind) => kind !== "subscribe");
  if (legacy.length > 0) {
    const both = legacy.includes("form") && legacy.includes("prepay");
    choices.push({ group: LEGACY_GROUP, kinds: both ? null : legacy });
  }
  if (kinds.includes("subscribe")) {
    choices.push({ group: TEMPLATE_GROUP_PREFIX + (filter.templateId ?? ""), kinds: null });
  }
  return choices;
}

/**
 * Whether a credit a user already holds makes an upload of the same formId a duplicate: it
 * does until it expires (spent or not); an expired one is replaced by the new upload.
 *
 * @example
 * ```ts
 * isDuplicate({ formId: "f", kind: "form", uses: 0, expiresAt: now + 1 }, now); // true: spent
 * isDuplicate(undefined, now); // false
 * ```
 */
export function isDuplicate(held: Credit | undefined, now: number): boolean {
  return held !== undefined && !isExpired(held, now);
}
