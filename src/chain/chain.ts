/**
 * The tamper-evident chain: every event's `hash` is `SHA-256(prev || canonical(event))`, shown as
 * 64 lowercase hex characters, where `prev` is the previous event's hash as its 32 raw bytes
 * (`GENESIS`, 32 zero bytes, for the first event) and `canonical(event)` is the UTF-8 JSON of
 * `{ at, data, seq, type }` with keys sorted at every depth, no whitespace, absent optional
 * fields omitted, strings escaped as `JSON.stringify` does.
 *
 * The Redis store computes these links when it seals appended events (`store/sealer.ts`), the
 * memory store as it appends, and verification recomputes them.
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
  // Fast path: an object that is already canonical in shape (as everything parsed back from the
  // log is) serialises to its canonical text with JSON.stringify, several times faster.
  if (isSortedPlain(value, 0)) return JSON.stringify(value);
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/**
 * Whether `value` is a plain object whose own keys enumerate in sorted order at every depth and
 * whose values are strings, finite numbers, booleans, null or such objects: then JSON.stringify
 * gives exactly `canonicalJson`'s text. Anything else (arrays, undefined, other prototypes) takes
 * the general path.
 */
function isSortedPlain(value: unknown, depth: number): boolean {
  if (typeof value !== "object" || value === null || depth > 16) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  let previous: string | null = null;
  for (const key in value) {
    if (previous !== null && !(previous < key)) return false;
    const v = (value as Record<string, unknown>)[key];
    const type = typeof v;
    if (type === "object") {
      if (v !== null && !isSortedPlain(v, depth + 1)) return false;
    } else if (type === "number") {
      if (!Number.isFinite(v)) return false;
    } else if (type !== "string" && type !== "boolean") return false;
    previous = key;
  }
  return true;
}

/** The canonical text of one event, the part of it the chain hashes. */
export function canonicalEvent(
  event: { seq: number; type: string; at: string; data: unknown },
): string {
  const { at, data, seq, type } = event;
  if (
    typeof at === "string" && typeof type === "string" && Number.isFinite(seq) &&
    data !== undefined
  ) {
    // The same text as the general form below, without building and sorting a wrapper object.
    return canonicalEventText(seq, type, at, canonicalJson(data));
  }
  return canonicalJson({ at, data, seq, type });
}

/** `canonicalEvent` for an event whose data is already canonical JSON text. */
export function canonicalEventText(
  seq: number,
  type: string,
  at: string,
  dataJson: string,
): string {
  return `{"at":${JSON.stringify(at)},"data":${dataJson},"seq":${JSON.stringify(seq)},"type":${
    JSON.stringify(type)
  }}`;
}

const encoder = new TextEncoder();
const HEX_VALUE = new Uint8Array(128).fill(255);
for (let i = 0; i < 16; i++) HEX_VALUE["0123456789abcdef".charCodeAt(i)] = i;
/** Scratch buffer for one link's bytes (prev, then canonical), grown as needed. */
let scratch = new Uint8Array(1024);

/** `SHA-256(prev bytes || canonical)` in lowercase hex; `prev` is given in hex. */
export function linkHash(prev: string, canonical: string): string {
  // One buffer and one update instead of a Buffer per link: the verifier calls this per event.
  if (scratch.length < 32 + canonical.length * 3) {
    scratch = new Uint8Array(32 + canonical.length * 3);
  }
  let invalid = prev.length !== 64;
  for (let i = 0; i < 32 && !invalid; i++) {
    const a = prev.charCodeAt(2 * i);
    const b = prev.charCodeAt(2 * i + 1);
    const hi = HEX_VALUE[a & 127] | (a & ~127); // > 15 unless a lowercase hex digit
    const lo = HEX_VALUE[b & 127] | (b & ~127);
    invalid = (hi | lo) > 15;
    scratch[i] = (hi << 4) | lo;
  }
  if (invalid) {
    return createHash("sha256").update(Buffer.from(prev, "hex")).update(canonical, "utf8")
      .digest("hex");
  }
  const { written } = encoder.encodeInto(canonical, scratch.subarray(32));
  return createHash("sha256").update(scratch.subarray(0, 32 + written)).digest("hex");
}

/**
 * `SHA-256(prev || canonical)` as its 32 bytes, with `prev` given as its 32 bytes: for chaining
 * many links in a row (a seal's batch) without hex in between, which `linkHash` spends on each.
 *
 * @example
 * ```ts
 * const first = linkBytes(new Uint8Array(32), canonicalEvent(event1));
 * first.toString("hex") === linkHash(GENESIS, canonicalEvent(event1)); // true
 * ```
 */
export function linkBytes(prev: Uint8Array, canonical: string): Buffer {
  if (prev.length !== 32) throw new RangeError("a chain hash is 32 bytes");
  if (scratch.length < 32 + canonical.length * 3) {
    scratch = new Uint8Array(32 + canonical.length * 3);
  }
  scratch.set(prev, 0);
  const { written } = encoder.encodeInto(canonical, scratch.subarray(32));
  return createHash("sha256").update(scratch.subarray(0, 32 + written)).digest();
}
