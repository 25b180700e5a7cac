/**
 * The log entry encoding (src/store/redis/entry.ts): compact positional fields where the data fits its
 * type's layout, the JSON object where it does not, and both read back to the same event. The
 * last test goes through the real Lua scripts, whose FormIdConsumed encoding must agree.
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { canonicalJson } from "../../../src/chain/chain.ts";
import type { LedgerEvent } from "../../../src/ledger/events.ts";
import {
  decodeEntry,
  encodeEntry,
  entryParts,
  entryValue,
  readEntry,
} from "../../../src/store/redis/entry.ts";
import { ledgerKeys } from "../../../src/store/redis/keys.ts";
import { createRedisStore } from "../../../src/store/redis/redis.ts";
import { uniquePrefix, upstashFromEnv } from "../../helpers/rig.ts";
import { consume } from "../../helpers/store_calls.ts";

const EVENTS: LedgerEvent[] = [
  {
    type: "FormIdCollected",
    data: { openId: "o1", formId: "f|1", kind: "form", uses: 1, expiresAt: 1764000000000 },
  },
  {
    type: "FormIdCollected",
    data: {
      openId: "o1",
      formId: "s1",
      kind: "subscribe",
      templateId: "T",
      uses: 1,
      expiresAt: null,
    },
  },
  { type: "FormIdConsumed", data: { openId: "o1", formId: "f1", pushId: "p1" } },
  {
    type: "FormIdReleased",
    data: { openId: "o1", formId: "f1", pushId: "p1", kind: "prepay", expiresAt: 5 },
  },
  {
    type: "PushSucceeded",
    data: { pushId: "p1", openId: "o1", formId: "f1", templateId: "T", msgid: "42" },
  },
  {
    type: "PushFailed",
    data: { pushId: "p", broadcastId: "b", openId: "o", errcode: -1, errmsg: "x y", class: "c" },
  },
];

Deno.test("entry: every event type is stored positionally and reads back to its canonical data", () => {
  for (const event of EVENTS) {
    const { t, d } = encodeEntry(event.type, event.data);
    assert.equal(t.length, 1, `${event.type} has a one-letter code`);
    assert.ok(!d.startsWith("{"), `${event.type} is positional`);
    const back = decodeEntry(t, d);
    assert.equal(back.type, event.type);
    // Same canonical text, and keys already in sorted order (JSON.stringify gives it too).
    assert.equal(canonicalJson(back.data), canonicalJson(event.data));
    assert.equal(JSON.stringify(back.data), canonicalJson(event.data));
  }
});

Deno.test("entry: data that does not fit its layout is stored as JSON under the type's name", () => {
  const misfits: [string, unknown][] = [
    ["FormIdConsumed", { openId: "o", formId: "a\x7fb", pushId: "p" }], // holds the separator
    ["FormIdConsumed", { openId: "o", formId: "f", pushId: "p", extra: 1 }], // unknown field
    ["FormIdConsumed", { openId: "o", formId: "f" }], // a required field missing
    ["PushSucceeded", { pushId: "p", openId: "o", formId: "f", templateId: "T", msgid: "" }],
    ["PushSucceeded", { pushId: "p", openId: "o", formId: "f", templateId: "T", msgid: null }],
    ["PushFailed", { pushId: "p", openId: "o", errcode: "1", errmsg: "m", class: "c" }],
    ["SomethingNew", { a: 1 }],
  ];
  for (const [type, data] of misfits) {
    const { t, d } = encodeEntry(type, data);
    assert.equal(t, type);
    assert.equal(d, canonicalJson(data));
    assert.deepEqual(decodeEntry(t, d), { type, data });
  }
});

Deno.test("entry: one field holds type, time and data; anything else is not an entry", () => {
  const parts = { t: "U", a: "1764000000000", d: "f\x7fo\x7fp" };
  assert.deepEqual(entryParts(["e", entryValue(parts)]), parts);
  // The data may hold the separator (positional fields do): only the first two split.
  assert.deepEqual(entryParts(["e", "U\x7f5\x7f\x7f\x7f"]), { t: "U", a: "5", d: "\x7f\x7f" });
  assert.equal(entryParts(["e", "U\x7f5"]), null);
  assert.equal(entryParts(["t", "U", "a", "5", "d", "x"]), null);
  assert.equal(entryParts(["e", entryValue(parts), "x", "y"]), null);
});

Deno.test("entry: readEntry decodes in one pass, JSON data holding the separator included", () => {
  for (const event of EVENTS) {
    const value = entryValue({ ...encodeEntry(event.type, event.data), a: "7" });
    assert.deepEqual(readEntry(["e", value]), { type: event.type, a: "7", data: event.data });
  }
  const odd = { openId: "o", formId: "a\x7fb", pushId: "p" };
  const value = entryValue({ ...encodeEntry("FormIdConsumed", odd), a: "7" });
  assert.deepEqual(readEntry(["e", value]), { type: "FormIdConsumed", a: "7", data: odd });
  // Types not wanted are not decoded (a rebuild skips push events).
  const skipped = readEntry(["e", value], new Set(["FormIdCollected"]));
  assert.deepEqual(skipped, { type: "FormIdConsumed", a: "7", data: undefined });
  assert.equal(readEntry(["e", "U\x7f7"]), null);
  assert.throws(() => readEntry(["e", "U\x7f7\x7ff\x7fo"]), SyntaxError);
});

Deno.test("entry: positional data with the wrong shape does not decode", () => {
  assert.throws(() => decodeEntry("U", "f\x7fo"), SyntaxError);
  assert.throws(() => decodeEntry("U", "f\x7fo\x7fp\x7fq"), SyntaxError);
  // A number has one stored form, as in JSON: no padding, hex or empty text.
  for (const bad of ["", "0x10", " 5", "05", "abc"]) {
    assert.throws(() => decodeEntry("C", `5\x7ff\x7fform\x7fo\x7f\x7f${bad}`), SyntaxError);
  }
  assert.throws(() => decodeEntry("C", "{not json"), SyntaxError);
  assert.throws(() => decodeEntry("FormIdCollected", "{not json"), SyntaxError);
});

Deno.test("entry: Lua and TypeScript agree, positional and JSON alike, through the Redis store", async () => {
  const prefix = uniquePrefix("entry");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 100 });
  const raw = new Redis({ ...upstashFromEnv(), automaticDeserialization: false });
  const now = Date.UTC(2026, 10, 25);
  const expiresAt = now + 86_400_000;
  await store.collect("o1", [
    { formId: "plain", kind: "form", uses: 1, expiresAt },
    { formId: "sep\x7farated", kind: "form", uses: 1, expiresAt: expiresAt + 1 },
  ], now);
  await consume(store, "o1", { pushId: "p1" }, now); // plain: Lua writes it positionally
  await consume(store, "o1", { pushId: "p2" }, now); // the separator: Lua writes JSON
  const stored = await raw.xrange(ledgerKeys(prefix).segment(0), "-", "+") as unknown as [
    string,
    string[],
  ][];
  assert.deepEqual(stored.map(([, fields]) => entryParts(fields)?.t), [
    "C",
    "FormIdCollected",
    "U",
    "FormIdConsumed",
  ]);
  const events = await store.readEvents(0, 10);
  assert.deepEqual(events.map((e) => [e.type, e.data]), [
    ["FormIdCollected", { expiresAt, formId: "plain", kind: "form", openId: "o1", uses: 1 }],
    ["FormIdCollected", {
      expiresAt: expiresAt + 1,
      formId: "sep\x7farated",
      kind: "form",
      openId: "o1",
      uses: 1,
    }],
    ["FormIdConsumed", { formId: "plain", openId: "o1", pushId: "p1" }],
    ["FormIdConsumed", { formId: "sep\x7farated", openId: "o1", pushId: "p2" }],
  ]);
  const head = await store.head();
  assert.equal(head.hash, events[3].hash, "all four are sealed into one chain");
});
