/**
 * The chain's canonical form and link hash, against a plain reference implementation of their
 * documented definition (the fast paths must never change a single byte of what is hashed).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import {
  canonicalEvent,
  canonicalJson,
  GENESIS,
  linkBytes,
  linkHash,
} from "../../src/chain/chain.ts";

/** The definition, written the obvious way: sorted keys, no whitespace, undefined omitted. */
function reference(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(reference).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(",")}}`;
}

const referenceLink = (prev: string, canonical: string) =>
  createHash("sha256").update(Buffer.from(prev, "hex")).update(canonical, "utf8").digest("hex");

const CASES: unknown[] = [
  { openId: "o1", formId: "f", kind: "form", uses: 1, expiresAt: 1764072000000 },
  { uses: 1, openId: "o1", kind: "form", formId: "f", expiresAt: null }, // unsorted
  { a: { d: null, c: "x" }, b: 1 }, // nested unsorted
  { a: { c: "x", d: null }, b: [3, { z: 1, y: 2 }, undefined] }, // arrays
  { b: undefined, a: 1 }, // undefined omitted
  { "10": "x", "9": "y", a: 1 }, // integer-like keys enumerate numerically
  { "1": "x", "2": "y" },
  { "é": 1, e: 2, "Z": 3, "表": 4, "\u0001": 5 }, // non-ASCII and control keys
  { s: 'quo"te back\\slash tab\t nl\n \u2028 \ud800 lone surrogate ünï©ødé 表' },
  { n: -0, f: 1.5e-7, big: 1e21, nan: NaN, inf: Infinity },
  { t: true, f: false },
  { nested: { deeper: { deepest: { k: "v" } } } },
  Object.assign(Object.create(null), { b: 2, a: 1 }),
  { d: new Date(0) },
  [],
  "text",
  42,
  null,
];

Deno.test("canonicalJson equals the reference definition on tricky values", () => {
  for (const value of CASES) {
    assert.equal(canonicalJson(value), reference(value), JSON.stringify(value));
  }
  assert.equal(canonicalJson({ b: 1, a: { d: null, c: "x" } }), '{"a":{"c":"x","d":null},"b":1}');
});

Deno.test("canonicalEvent equals the reference form of { at, data, seq, type }", () => {
  const at = "2026-11-25T12:00:00.000Z";
  for (const data of CASES) {
    for (const event of [{ seq: 7, type: "FormIdCollected", at, data }]) {
      assert.equal(canonicalEvent(event), reference({ at, data, seq: 7, type: event.type }));
    }
  }
  const odd = { seq: "7", type: 3, at: null, data: undefined } as unknown as Parameters<
    typeof canonicalEvent
  >[0];
  assert.equal(canonicalEvent(odd), reference({ at: null, seq: "7", type: 3 }));
});

Deno.test("linkHash is SHA-256 over prev's 32 bytes then the canonical UTF-8", () => {
  let prev = GENESIS;
  for (const value of CASES) {
    const canonical = canonicalEvent({ seq: 1, type: "T", at: "x", data: value });
    const hash = linkHash(prev, canonical);
    assert.equal(hash, referenceLink(prev, canonical));
    prev = hash;
  }
  const long = "x".repeat(5000) + "表".repeat(2000);
  assert.equal(linkHash(prev, long), referenceLink(prev, long), "longer than the scratch buffer");
  for (const bad of ["ABC", "0".repeat(63) + "g", "g" + "0".repeat(63), "0".repeat(62) + "é0"]) {
    assert.equal(linkHash(bad, "y"), referenceLink(bad, "y"), `malformed prev ${bad}`);
  }
  const upper = "AB".repeat(32);
  assert.equal(linkHash(upper, "y"), referenceLink(upper, "y"), "uppercase hex is still hex");
});

Deno.test("linkBytes: the same link as linkHash, as bytes; a prev of another length is refused", () => {
  let hex = GENESIS;
  let bytes: Uint8Array = new Uint8Array(32);
  for (const canonical of ['{"a":1}', "", "事件😀".repeat(400)]) {
    hex = linkHash(hex, canonical);
    bytes = linkBytes(bytes, canonical);
    assert.equal(Buffer.from(bytes).toString("hex"), hex);
  }
  assert.throws(() => linkBytes(new Uint8Array(31), "x"), RangeError);
});
