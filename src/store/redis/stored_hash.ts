/**
 * How chain hashes are stored in chain strings: as 43 characters of unpadded base64url (the 32
 * bytes of the SHA-256), a third less memory than 64 hex characters. Everything outside the
 * chain strings (events, the head, checkpoints, exports) shows hashes as 64 lowercase hex.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** Characters one stored hash takes in a chain string. */
export const STORED_HASH_LENGTH = 43;

/**
 * The stored form of a 64-hex-character hash.
 *
 * @example
 * ```ts
 * toStoredHash("00".repeat(32)); // "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
 * ```
 */
export function toStoredHash(hex: string): string {
  return Buffer.from(hex, "hex").toString("base64url");
}

/**
 * The hex form of a stored hash; `""` for a missing one. Text that is not a whole stored hash
 * (a string cut or rewritten by hand) decodes to hex that matches no computed hash.
 */
export function fromStoredHash(stored: string): string {
  return stored === "" ? "" : Buffer.from(stored, "base64url").toString("hex");
}
