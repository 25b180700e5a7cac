/**
 * Session tokens already verified, so a user's next requests skip the signature check and the
 * reading of the token's header and payload (session_jwt.ts). Entries are keyed by the token's
 * SHA-256, not the token (a lookup's timing says nothing about a secret), hold the openId and the
 * token's expiry (checked on every hit), and the oldest are dropped beyond `capacity`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { tokenDigest } from "./auth.ts";

/** A bounded map from verified session tokens to their openId, until they expire. */
export class VerifiedSessions {
  readonly #entries = new Map<string, { openId: string; exp: number }>();

  constructor(readonly capacity = 10_000) {}

  /**
   * The openId of a token verified before and not expired at `nowSeconds`, else `null`.
   * `digest` is the token's {@link tokenDigest}, when the caller has it already.
   */
  get(token: string, nowSeconds: number, digest = tokenDigest(token)): string | null {
    const key = keyOf(digest);
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (entry.exp <= nowSeconds) {
      this.#entries.delete(key);
      return null;
    }
    return entry.openId;
  }

  /** Remembers a token just verified, valid until `exp` (epoch seconds). */
  set(token: string, openId: string, exp: number, digest = tokenDigest(token)): void {
    const key = keyOf(digest);
    this.#entries.delete(key); // re-inserted as the newest
    this.#entries.set(key, { openId, exp });
    if (this.#entries.size > this.capacity) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /** Tokens remembered. */
  get size(): number {
    return this.#entries.size;
  }
}

/** A digest as a map key (one character per byte). */
function keyOf(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString("latin1");
}
