/**
 * The rules of push credits: the kinds, how many sends each gives, which credit a consumption
 * takes, and what a user's view of them is. Pure functions: every store calls these (the Redis
 * store's Lua is their twin, and the store contract suite proves the two agree).
 *
 * @module
 */

/** The kinds of push credit a mini-program produces. */
export type CreditKind = "form" | "prepay" | "subscribe";

/**
 * Sends one credit of each kind allows (WeChat: formId 1, prepay_id 3, subscribe accept 1).
 *
 * @example
 * ```ts
 * USES_BY_KIND.prepay; // 3
 * ```
 */
export const USES_BY_KIND: Readonly<Record<CreditKind, number>> = {
  form: 1,
  prepay: 3,
  subscribe: 1,
};

/**
 * One credit as the projection holds it. `expiresAt` is epoch ms or `null` (never expires).
 *
 * @example
 * ```ts
 * const credit: Credit = { formId: "f1", kind: "form", uses: 1, expiresAt: Date.now() + 60_000 };
 * ```
 */
export interface Credit {
  formId: string;
  kind: CreditKind;
  templateId?: string;
  uses: number;
  expiresAt: number | null;
}

/**
 * A user's valid credits, soonest expiry first; `sends` counts the messages they allow.
 *
 * @example
 * ```ts
 * const empty: CreditView = { valid: 0, sends: 0, nextExpiry: null, credits: [] };
 * ```
 */
export interface CreditView {
  valid: number;
  sends: number;
  nextExpiry: number | null;
  credits: Credit[];
}

/**
 * Whether `credit` has expired at `now` (a credit expiring exactly at `now` has).
 *
 * @example
 * ```ts
 * isExpired({ formId: "f", kind: "form", uses: 1, expiresAt: 10 }, 10); // true
 * ```
 */
export function isExpired(credit: Credit, now: number): boolean {
  return credit.expiresAt !== null && credit.expiresAt <= now;
}

/**
 * Whether `credit` can still be sent at `now`.
 *
 * @example
 * ```ts
 * isValid({ formId: "f", kind: "form", uses: 0, expiresAt: null }, Date.now()); // false: spent
 * ```
 */
export function isValid(credit: Credit, now: number): boolean {
  return credit.uses > 0 && !isExpired(credit, now);
}

/**
 * Orders two formIds by the bytes of their UTF-8 form, as Redis and lib.lua's `byte_less` do.
 * JavaScript's `<` compares UTF-16 units, which puts a character above U+FFFF (a surrogate pair)
 * before one in U+E000..U+FFFF; UTF-8 puts it after.
 *
 * @example
 * ```ts
 * compareFormIds("a", "b"); // -1
 * compareFormIds("\u{1F600}", "\uFF01"); // 1 (UTF-16 order would say -1)
 * ```
 */
export function compareFormIds(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Move the surrogates (U+D800..U+DFFF) above every other UTF-16 unit: code point order.
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * The spend rank of a credit that never expires: above every time a `Date` can hold (8.64e15
 * ms), so such a credit comes strictly after every expiring one, even one expiring at
 * 9999-12-31T23:59:59.999Z. A safe integer, exact as a double (a Lua number, a Redis score).
 *
 * @example
 * ```ts
 * NEVER_RANK > 8.64e15; // true
 * ```
 */
export const NEVER_RANK = Number.MAX_SAFE_INTEGER;

/**
 * A credit's place in spend order: its expiry, or {@link NEVER_RANK}.
 *
 * @example
 * ```ts
 * spendRank({ formId: "f", kind: "form", uses: 1, expiresAt: null }); // NEVER_RANK
 * ```
 */
export function spendRank(credit: Pick<Credit, "expiresAt">): number {
  return credit.expiresAt ?? NEVER_RANK;
}

/**
 * Orders credits the way consumption picks them: soonest expiry first, never-expiring last,
 * ties by formId in byte order so every store picks the same one.
 *
 * @example
 * ```ts
 * credits.sort(bySpendOrder);
 * ```
 */
export function bySpendOrder(a: Credit, b: Credit): number {
  const ea = spendRank(a);
  const eb = spendRank(b);
  if (ea !== eb) return ea - eb;
  return compareFormIds(a.formId, b.formId);
}

/**
 * What a consumption may take: subscribe credits only for `templateId`, others by kind.
 *
 * @example
 * ```ts
 * const templatePush: CreditFilter = { templateId: "TPL", kinds: ["form", "prepay"] };
 * ```
 */
export interface CreditFilter {
  templateId?: string;
  kinds?: CreditKind[];
}

/**
 * The kinds a filter allows: its own `kinds`, else form and prepay, plus subscribe when it names
 * a template.
 *
 * @example
 * ```ts
 * kindsOf({}); // ["form", "prepay"]
 * kindsOf({ templateId: "T" }); // ["form", "prepay", "subscribe"]
 * ```
 */
export function kindsOf(filter: CreditFilter): CreditKind[] {
  if (filter.kinds !== undefined) return filter.kinds;
  return filter.templateId === undefined ? ["form", "prepay"] : ["form", "prepay", "subscribe"];
}

/**
 * Whether `credit` may be spent for a message described by `filter`.
 *
 * @example
 * ```ts
 * matchesFilter({ formId: "s", kind: "subscribe", templateId: "A", uses: 1, expiresAt: null },
 *   { templateId: "B" }); // false: a subscribe credit serves its own template only
 * ```
 */
export function matchesFilter(credit: Credit, filter: CreditFilter): boolean {
  if (!kindsOf(filter).includes(credit.kind)) return false;
  if (credit.kind === "subscribe") return credit.templateId === filter.templateId;
  return true;
}

/** What `pickCredit` chose, and the expired credits it met (a store may prune them). */
export interface CreditPick {
  /** The credit to take one use of, as it is before the use; `null` when none qualifies. */
  credit: Credit | null;
  expired: Credit[];
}

/**
 * Chooses the credit a consumption takes among one user's credits at `now`: a valid one that
 * `filter` allows, soonest expiry first (`bySpendOrder`). lib.lua's `take_credit` is its twin.
 *
 * @example
 * ```ts
 * const { credit, expired } = pickCredit(userCredits, { templateId: "TPL" }, Date.now());
 * ```
 */
export function pickCredit(
  credits: Iterable<Credit>,
  filter: CreditFilter,
  now: number,
): CreditPick {
  let best: Credit | null = null;
  const expired: Credit[] = [];
  for (const credit of credits) {
    if (isExpired(credit, now)) expired.push(credit);
    else if (credit.uses > 0 && matchesFilter(credit, filter)) {
      if (best === null || bySpendOrder(credit, best) < 0) best = credit;
    }
  }
  return { credit: best, expired };
}

/**
 * Builds the view of `credits` at `now`: only valid ones, soonest expiry first.
 *
 * @example
 * ```ts
 * viewOf([{ formId: "f", kind: "prepay", uses: 3, expiresAt: null }], Date.now()).sends; // 3
 * ```
 */
export function viewOf(credits: Iterable<Credit>, now: number): CreditView {
  const valid: Credit[] = [];
  for (const credit of credits) if (isValid(credit, now)) valid.push({ ...credit });
  valid.sort(bySpendOrder);
  let sends = 0;
  let nextExpiry: number | null = null;
  // A loop, not Math.min(...): spreading a user's credits as arguments overflows the stack.
  for (const credit of valid) {
    sends += credit.uses;
    const at = credit.expiresAt;
    if (at !== null && (nextExpiry === null || at < nextExpiry)) nextExpiry = at;
  }
  return { valid: valid.length, sends, nextExpiry, credits: valid };
}

/**
 * The formId prefix of a long-term subscription's credit: one per user and template,
 * `sub:lt@<templateId>`. Subscribe credit ids are minted by the server under `sub:` (an upload
 * may not use it), and a report's id (`sub:<reportId>:<templateId>`) never holds `@`.
 *
 * @example
 * ```ts
 * LONG_TERM_PREFIX + "TPL"; // "sub:lt@TPL"
 * ```
 */
export const LONG_TERM_PREFIX = "sub:lt@";

/**
 * The formId prefix of a credit minted from WeChat's popup event: `sub:wx@<CreateTime>:<templateId>`.
 *
 * @example
 * ```ts
 * `${WECHAT_CREDIT_PREFIX}1700000000:TPL`; // "sub:wx@1700000000:TPL"
 * ```
 */
export const WECHAT_CREDIT_PREFIX = "sub:wx@";

/**
 * The credit of a long-term subscription (template type 3): never consumed by a send, gone only
 * when voided (the user revoked it, or WeChat answered 43101).
 *
 * @example
 * ```ts
 * isLongTerm({ formId: "sub:lt@T", kind: "subscribe", templateId: "T", uses: 1, expiresAt: null });
 * // true
 * ```
 */
export function isLongTerm(credit: Pick<Credit, "formId" | "kind">): boolean {
  return credit.kind === "subscribe" && credit.formId.startsWith(LONG_TERM_PREFIX);
}
