/**
 * The tamper-evident chain: every event's `hash` is `SHA-256(prev || canonical(event))`, shown as
 * 64 lowercase hex characters, where `prev` is the previous event's hash as its 32 raw bytes
 * (`GENESIS`, 32 zero bytes, for the first event) and `canonical(event)` is the UTF-8 JSON of
 * `{ at, data, seq, type }` with keys sorted at every depth, no whitespace, absent optional
 * fields omitted, strings escaped as `JSON.stringify` does. (Hashing the raw 32 bytes rather
 * than 64 hex characters saves one SHA-256 block per typical event in the Lua append.)
 *
 * The Redis store computes the same link inside its Lua append (see `store/lua/lib.lua`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";

/** The `prev` of event 1 (32 zero bytes, in hex). */
export const GENESIS = "0".repeat(64);

/**
 * JSON with keys sorted at every depth and no whitespace; `undefined` fields are omitted.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: { d: null, c: "x" } }); // '{"a":{"c":"x","d":null},"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The canonical text of one event, the part of it the chain hashes. */
export function canonicalEvent(
  event: { seq: number; type: string; at: string; data: unknown },
): string {
  return canonicalJson({ at: event.at, data: event.data, seq: event.seq, type: event.type });
}

/** `SHA-256(prev bytes || canonical)` in lowercase hex; `prev` is given in hex. */
export function linkHash(prev: string, canonical: string): string {
  return createHash("sha256").update(Buffer.from(prev, "hex")).update(canonical, "utf8").digest(
    "hex",
  );
}
