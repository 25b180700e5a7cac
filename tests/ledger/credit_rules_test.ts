/**
 * Which credit a consumption takes, and a user's view: pure rules, no store.
 */
import assert from "node:assert/strict";
import {
  compareFormIds,
  type Credit,
  kindsOf,
  pickCredit,
  viewOf,
} from "../../src/ledger/credit_rules.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const HOUR = 3_600_000;

const form = (formId: string, expiresAt: number | null, uses = 1): Credit => ({
  formId,
  kind: "form",
  uses,
  expiresAt,
});
const subscribe = (formId: string, templateId: string): Credit => ({
  formId,
  kind: "subscribe",
  templateId,
  uses: 1,
  expiresAt: null,
});
const picked = (credits: Credit[], filter = {}) => pickCredit(credits, filter, NOW).credit?.formId;

Deno.test("pickCredit: given credits expiring at different times, it takes the soonest", () => {
  const credits = [form("late", NOW + 5 * HOUR), form("soon", NOW + HOUR), form("never", null)];
  assert.equal(picked(credits), "soon");
});

Deno.test("pickCredit: given only a never-expiring credit and a valid one, never-expiring is last", () => {
  assert.equal(picked([form("never", null), form("week", NOW + 168 * HOUR)]), "week");
  assert.equal(picked([form("never", null)]), "never");
});

Deno.test("pickCredit: given equal expiries, the formId first in byte order wins", () => {
  assert.equal(picked([form("b", NOW + HOUR), form("a", NOW + HOUR)]), "a");
  assert.equal(picked([form("b", null), form("B", null)]), "B");
  // UTF-8 byte order (lib.lua's byte_less), not UTF-16: U+FF01 (EF BC 81) before U+1F600 (F0 ...).
  assert.equal(picked([form("\u{1F600}", NOW + HOUR), form("\uFF01", NOW + HOUR)]), "\uFF01");
});

Deno.test("pickCredit: given expired credits, it never takes one and reports each it met", () => {
  const gone = form("gone", NOW); // expires exactly now: expired
  const older = form("older", NOW - HOUR);
  const { credit, expired } = pickCredit([gone, form("ok", NOW + 1), older], {}, NOW);
  assert.equal(credit?.formId, "ok");
  assert.deepEqual(expired.map((c) => c.formId), ["gone", "older"]);
});

Deno.test("pickCredit: given only spent or expired credits, it takes none", () => {
  const { credit, expired } = pickCredit(
    [form("spent", NOW + HOUR, 0), form("gone", NOW - 1)],
    {},
    NOW,
  );
  assert.equal(credit, null);
  assert.deepEqual(expired.map((c) => c.formId), ["gone"]);
  assert.deepEqual(pickCredit([], {}, NOW), { credit: null, expired: [] });
});

Deno.test("pickCredit: a subscribe credit is taken only for its own template", () => {
  const credits = [subscribe("s-a", "A"), subscribe("s-b", "B")];
  assert.equal(picked(credits), undefined, "no template: subscribe credits do not qualify");
  assert.equal(picked(credits, { templateId: "B" }), "s-b");
  assert.equal(picked(credits, { templateId: "C", kinds: ["subscribe"] }), undefined);
});

Deno.test("pickCredit: the kinds filter excludes the kinds it does not name", () => {
  const credits = [
    { ...subscribe("s", "T"), expiresAt: NOW + 1 },
    form("f", NOW + HOUR),
    { formId: "p", kind: "prepay" as const, uses: 3, expiresAt: NOW + 2 * HOUR },
  ];
  assert.equal(picked(credits, { templateId: "T" }), "s", "soonest of any allowed kind");
  assert.equal(picked(credits, { templateId: "T", kinds: ["form", "prepay"] }), "f");
  assert.equal(picked(credits, { templateId: "T", kinds: ["prepay"] }), "p");
});

Deno.test("kindsOf: without kinds, subscribe only when a template is named", () => {
  assert.deepEqual(kindsOf({}), ["form", "prepay"]);
  assert.deepEqual(kindsOf({ templateId: "T" }), ["form", "prepay", "subscribe"]);
  assert.deepEqual(kindsOf({ templateId: "T", kinds: ["subscribe"] }), ["subscribe"]);
});

Deno.test("compareFormIds: byte order of the UTF-8 form", () => {
  const ids = ["b", "\u{1F600}", "\uFF01", "ab", "a", "\u00e9", "Z"];
  const utf8 = (s: string) => [...new TextEncoder().encode(s)];
  const byBytes = [...ids].sort((x, y) => {
    const [a, b] = [utf8(x), utf8(y)];
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
  assert.deepEqual([...ids].sort(compareFormIds), byBytes);
  assert.equal(compareFormIds("same", "same"), 0);
});

Deno.test("viewOf: only valid credits, soonest expiry first, with sends and the next expiry", () => {
  const view = viewOf([
    form("never", null),
    { formId: "p", kind: "prepay", uses: 2, expiresAt: NOW + 2 * HOUR },
    form("spent", NOW + HOUR, 0),
    form("gone", NOW),
    form("a", NOW + 3 * HOUR),
  ], NOW);
  assert.deepEqual(view.credits.map((c) => c.formId), ["p", "a", "never"]);
  assert.equal(view.valid, 3);
  assert.equal(view.sends, 4);
  assert.equal(view.nextExpiry, NOW + 2 * HOUR);
  assert.equal(viewOf([form("never", null)], NOW).nextExpiry, null);
});

Deno.test("viewOf: the view's credits are copies", () => {
  const credit = form("f", null);
  viewOf([credit], NOW).credits[0].uses = 0;
  assert.equal(credit.uses, 1);
});

Deno.test("viewOf: given 200,000 credits, it answers (no argument spread to overflow the stack)", () => {
  const credits: Credit[] = [form("never", null)];
  for (let i = 0; i < 199_998; i++) credits.push(form(`f${i}`, NOW + HOUR + i));
  credits.push(form("soonest", NOW + 1)); // last in, first out
  const view = viewOf(credits, NOW);
  assert.equal(view.valid, 200_000);
  assert.equal(view.sends, 200_000);
  assert.equal(view.nextExpiry, NOW + 1);
  assert.equal(view.credits[0].formId, "soonest");
  assert.equal(view.credits.at(-1)!.formId, "never");
});
