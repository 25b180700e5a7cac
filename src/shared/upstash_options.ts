/**
 * How every Upstash REST client of the service behaves on a failing network.
 *
 * - No automatic retries: `@upstash/redis` resends a request whose response was lost up to five
 *   times, and a resent script runs again (a consume would take a second use). A failed call
 *   fails once; callers decide (an upload retried by the client comes back as duplicates).
 * - A deadline on every request: coalesced uploads share two calls at a time per instance, so a
 *   request that never answers would stall every upload behind it.
 *
 * @module
 */

/** Default deadline of one request to Upstash. */
export const UPSTASH_TIMEOUT_MS = 10_000;

/**
 * The client options above, for `new Redis({ url, token, ...upstashRequestOptions() })`.
 *
 * @example
 * ```ts
 * const redis = new Redis({ url, token, ...upstashRequestOptions(2_000) });
 * ```
 */
export function upstashRequestOptions(timeoutMs = UPSTASH_TIMEOUT_MS) {
  return {
    // `retry: false` still allows one resend (the client tries `attempts + 1` times).
    retry: { retries: 0 },
    // A fresh signal per request (a single one would expire once for all).
    signal: () => AbortSignal.timeout(timeoutMs),
  };
}
