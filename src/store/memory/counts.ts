/**
 * Counting helpers of the memory store: whether a user holds anything valid, the live credits
 * the caps count, and a broadcast's tally.
 *
 * @module
 */
import { type Credit, isValid } from "../../ledger/credit_rules.ts";

/**
 * Whether any of `credits` is valid at `now`.
 *
 * @example
 * ```ts
 * holdsValid(userCredits, Date.now()); // false: the user is left out of "every user"
 * ```
 */
export function holdsValid(credits: Map<string, Credit>, now: number): boolean {
  for (const credit of credits.values()) if (isValid(credit, now)) return true;
  return false;
}

/**
 * The user's live credits at `now`, in all and by subscribe template, for the caps. The memory
 * store holds no index: it counts the user's credits, which the caps keep to a few hundred.
 *
 * @example
 * ```ts
 * liveCounts(userCredits, Date.now()).templates.get("TPL"); // live credits of TPL
 * ```
 */
export function liveCounts(
  credits: Map<string, Credit> | undefined,
  now: number,
): { user: number; templates: Map<string, number> } {
  const live = { user: 0, templates: new Map<string, number>() };
  for (const credit of credits?.values() ?? []) {
    if (!isValid(credit, now)) continue;
    live.user++;
    if (credit.kind !== "subscribe") continue;
    const template = credit.templateId ?? "";
    live.templates.set(template, (live.templates.get(template) ?? 0) + 1);
  }
  return live;
}

/**
 * Adds one to each of `fields` in a tally.
 *
 * @example
 * ```ts
 * count(tally, ["failed", "e:43101"]);
 * ```
 */
export function count(tally: Record<string, number>, fields: string[]): void {
  for (const field of fields) tally[field] = (tally[field] ?? 0) + 1;
}
