/**
 * The signatures WeChat puts on a push's URL, and the freshness of its timestamp.
 *
 * - URL check and plaintext pushes: `signature = sha1(sort([token, timestamp, nonce]).join(""))`.
 * - Compatible and safe mode: `msg_signature = sha1(sort([token, timestamp, nonce, Encrypt]).join(""))`,
 *   where `Encrypt` is the ciphertext in the body. WeChat's documentation says to check this one,
 *   not `signature`, in those modes: only it covers the body.
 *
 * "Sort" is WeChat's 字典序 (lexicographic). The parts are ASCII (digits, the token's letters and
 * base64), where JavaScript's default sort (UTF-16 code units) and byte order agree.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { PushError } from "./errors.ts";

const encoder = new TextEncoder();

/**
 * WeChat's signature over `parts`: SHA-1 (lowercase hex) of the parts sorted and joined.
 *
 * @example
 * ```ts
 * signPush(["AAAAA", "1714036504", "1514711492"]); // "f464b24fc39322e44b38aa78f5edd27bd1441696"
 * ```
 */
export function signPush(parts: readonly string[]): string {
  return createHash("sha1").update([...parts].sort().join("")).digest("hex");
}

/**
 * Whether `given` (from the URL) equals the signature computed over `parts`, compared in constant
 * time. Case-insensitive, as hex is.
 *
 * @example
 * ```ts
 * if (!signatureMatches(query.signature, [token, timestamp, nonce])) refuse();
 * ```
 */
export function signatureMatches(given: string, parts: readonly string[]): boolean {
  const expected = encoder.encode(signPush(parts));
  const actual = encoder.encode(given.toLowerCase());
  // Lengths are public (always 40 for a real signature); only equal lengths reach the comparison.
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Reads WeChat's `timestamp` (epoch seconds, digits only) and refuses it when it is more than
 * `windowSeconds` before or after `nowMs`.
 *
 * @throws {PushError} `malformed` when it is not a number, `stale_timestamp` when out of window.
 * @example
 * ```ts
 * const seconds = checkTimestamp("1714036504", Date.now(), 300);
 * ```
 */
export function checkTimestamp(timestamp: string, nowMs: number, windowSeconds: number): number {
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new PushError("malformed", "timestamp is not a number of seconds");
  }
  const seconds = Number(timestamp);
  const skew = Math.abs(nowMs / 1000 - seconds);
  if (skew > windowSeconds) {
    throw new PushError(
      "stale_timestamp",
      `timestamp is ${Math.round(skew)} s away from now (window ${windowSeconds} s)`,
    );
  }
  return seconds;
}
