/**
 * Session tokens already verified, so a user's next requests skip the signature check and the
 * reading of the token's header and payload (session_jwt.ts). Entries are keyed by the token's
 * SHA-256, not the token (a lookup's timing says nothing about a secret), hold the openId and the
 * token's expiry (checked on every hit), and the oldest are dropped beyond `capacity`.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** A bounded map from verified session tokens to their openId, until they expire. */
export class VerifiedSessions {
  readonly #entries = new Map<string, { openId: string; exp: number }>();

  constructor(readonly capacity = 10_000) {}

  /** The openId of a token verified before and not expired at `nowSeconds`, else `null`. */
  get(token: string, nowSeconds: number): string | null {
    const key = digest(token);
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (entry.exp <= nowSeconds) {
      this.#entries.delete(key);
      return null;
    }
    return entry.openId;
  }

  /** Remembers a token just verified, valid until `exp` (epoch seconds). */
  set(token: string, openId: string, exp: number): void {
    const key = digest(token);
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

function digest(token: string): string {
  return createHash("sha256").update(token).digest("base64");
}
