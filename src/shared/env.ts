/**
 * Reading typed values from environment variables, collecting every problem instead of stopping
 * at the first, so a bad configuration is reported whole.
 *
 * @module
 */

/** The environment as `Deno.env.toObject()` gives it. */
export type Env = Record<string, string | undefined>;

/**
 * An integer setting from `min` to `max`; `fallback` when unset, and when invalid (with a
 * problem recorded).
 *
 * @example
 * ```ts
 * const problems: string[] = [];
 * envInt({ PORT: "8080" }, problems, "PORT", 8000, 0, 65535); // 8080
 * ```
 */
export function envInt<T extends number | null>(
  env: Env,
  problems: string[],
  name: string,
  fallback: T,
  min: number,
  max: number,
): number | T {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return value;
}
