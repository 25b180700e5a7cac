/**
 * Telling a store outage (Redis or its REST endpoint unreachable, or not answering in time)
 * from a fault in a request: an outage is worth waiting out and retrying; anything else is a bug
 * or bad data. The HTTP layer answers an outage with 503 and `Retry-After` (never 500); push
 * delivery keeps outcomes it could not write in its outbox and refuses new pushes while the
 * store is down.
 *
 * @module
 */

/** Seconds a caller is asked to wait after a store outage (`Retry-After`). */
export const OUTAGE_RETRY_AFTER_SECONDS = 2;

/** The store could not be reached: nothing was done (or, for a write, it may not have been). */
export class StoreUnavailable extends Error {
  constructor(message = "the ledger's store cannot be reached; try again shortly") {
    super(message);
    this.name = "StoreUnavailable";
  }
}

/** Connection-level failures as fetch, the Upstash client and the REST endpoint word them. */
const CONNECTION_TEXT =
  /^fetch failed$|error sending request|connection (?:refused|reset|closed|is closed)|econnrefused|econnreset|etimedout|socket hang up|stream isn't writeable|broken pipe|tcp connect|network/i;

/**
 * Whether `err` is a store outage: a refused or broken connection, a request past its deadline,
 * or the REST endpoint saying it lost Redis (`StoreUnavailable` itself too). A script error or a
 * malformed reply is not: retrying it would fail the same way.
 *
 * @example
 * ```ts
 * isStoreOutage(new TypeError("fetch failed")); // true
 * isStoreOutage(new DOMException("late", "TimeoutError")); // true
 * isStoreOutage(new Error("ERR Error running script")); // false
 * isStoreOutage(new TypeError("Fetch failed: Requests to port 9 are blocked")); // false: a setup error
 * ```
 */
export function isStoreOutage(err: unknown): boolean {
  if (err instanceof StoreUnavailable) return true;
  if (err instanceof DOMException) return err.name === "TimeoutError" || err.name === "AbortError";
  if (
    err instanceof Deno.errors.ConnectionRefused || err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.ConnectionAborted || err instanceof Deno.errors.TimedOut ||
    err instanceof Deno.errors.BrokenPipe || err instanceof Deno.errors.NotConnected
  ) return true;
  if (!(err instanceof Error)) return false;
  // fetch's TypeError, or the Upstash client's error carrying the endpoint's message.
  if (err instanceof TypeError || err.name === "UpstashError") {
    // Only the error's own words: the Upstash client appends the command, which holds user data.
    const own = err.message.split(", command was:")[0];
    return CONNECTION_TEXT.test(own) || isStoreOutage(err.cause);
  }
  return false;
}
