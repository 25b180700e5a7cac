/**
 * The one Upstash REST client a process opens: the ledger store, the key-value store and work
 * queue, and the rate limiters all send through it. Its options serve all of them:
 *
 * - `automaticDeserialization: false`: replies come back as Redis sent them. The ledger and the
 *   key-value store hold text that must not be parsed as JSON (an idempotency record would come
 *   back as an object); the rate limit script answers integers, which need no parsing.
 * - `responseEncoding: false`: everything stored is valid UTF-8 and the limits are integers, so
 *   base64 replies would only cost time on both ends.
 * - `enableAutoPipelining: true` (the client's default, spelled out): commands issued in the
 *   same tick share one HTTP request, as a page's XRANGEs and GETRANGEs and an upload's two limit
 *   checks do. Upstash counts every command of a pipeline, so it changes requests, not commands.
 * - No retries and a deadline per request (`upstashRequestOptions`).
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import { upstashRequestOptions } from "./upstash_options.ts";

/** Where an Upstash REST endpoint is. */
export interface UpstashConnection {
  url: string;
  token: string;
}

/**
 * Opens the client described above.
 *
 * @example
 * ```ts
 * const redis = upstashClient({ url, token });
 * const store = createRedisStore({ url, token, prefix: "ledger", segmentEvents: 100_000 }, redis);
 * ```
 */
export function upstashClient(connection: UpstashConnection, timeoutMs?: number): Redis {
  return new Redis({
    url: connection.url,
    token: connection.token,
    automaticDeserialization: false,
    responseEncoding: false,
    enableAutoPipelining: true,
    enableTelemetry: false,
    ...upstashRequestOptions(timeoutMs),
  });
}
