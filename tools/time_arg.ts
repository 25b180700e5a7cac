/**
 * The `--at <time>` argument of the audit CLIs: epoch milliseconds or an ISO-8601 time.
 *
 * @module
 */

/**
 * The time `text` names, in epoch ms; `NaN` when it names none.
 *
 * @example
 * ```ts
 * timeArg("1764000000000"); // 1764000000000
 * timeArg("2025-11-24T16:00:00Z"); // 1764000000000
 * ```
 */
export function timeArg(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : Date.parse(text);
}
