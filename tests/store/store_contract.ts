/**
 * The one contract every ledger store passes. A store is defined by this suite, not by its first
 * implementation: the memory store must behave exactly like Redis, atomicity included.
 */
import assert from "node:assert/strict";
import { canonicalEvent, GENESIS, linkHash } from "../../src/chain/chain.ts";
import { type Credit, viewOf } from "../../src/ledger/credit_rules.ts";
import type { StoredEvent } from "../../src/ledger/events.ts";
import type { LedgerStore } from "../../src/ledger/store.ts";
import { append, consume, release } from "../helpers/store_calls.ts";

/** Builds a fresh, empty store; calling it twice with the same `shareWith` gives two instances
 * (two clients) over the same ledger, as two service instances would be. */
export type StoreFactory = (
  options: { segmentEvents: number; shareWith?: LedgerStore },
) => Promise<LedgerStore>;

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function form(formId: string, expiresAt = T0 + 7 * DAY): Credit {
  return { formId, kind: "form", uses: 1, expiresAt };
}

/** Reads the whole log in pages of `pageSize`. */
export async function readAll(store: LedgerStore, pageSize = 1000): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (;;) {
    const page = await store.readEvents(all.length, pageSize);
    if (page.length === 0) return all;
    all.push(...page);
  }
}

/** Every user's view at `now`, keyed by openId, for projection comparisons. */
async function snapshot(store: LedgerStore, openIds: string[], now: number) {
  const views: Record<string, unknown> = {};
  for (const openId of [...openIds].sort()) views[openId] = await store.view(openId, now);
  return views;
}

/** Registers the contract tests for one store implementation. */
export function storeContract(name: string, factory: StoreFactory): void {
  const test = (title: string, fn: (t: Deno.TestContext) => Promise<void>) =>
    Deno.test({ name: `${name} store: ${title}`, fn });

  test("collect accepts new credits and reports duplicates", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const first = await store.collect("alice", [form("f1"), form("f2"), form("f1")], T0);
    assert.deepEqual(first, { accepted: ["f1", "f2"], duplicates: ["f1"] });
    const again = await store.collect("alice", [form("f2"), form("f3")], T0);
    assert.deepEqual(again, { accepted: ["f3"], duplicates: ["f2"] });
    const view = await store.view("alice", T0);
    assert.equal(view.valid, 3);
    assert.deepEqual(view.credits.map((c) => c.formId), ["f1", "f2", "f3"]);
    assert.equal((await store.head()).seq, 3);
    const other = await store.collect("bob", [form("f1")], T0);
    assert.deepEqual(other.accepted, ["f1"], "dedupe is per user");
    assert.equal(await store.unsealed(), 0, "a write is chained before it answers");
    await store.close();
  });

  test("collectMany answers each upload as if collected one after another, atomically", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("carol", [form("c1")], T0);
    const results = await store.collectMany([
      { openId: "alice", credits: [form("f1"), form("f2")] },
      { openId: "carol", credits: [form("c1")] }, // every formId a duplicate
      { openId: "bob", credits: [form("f1")] }, // dedupe is per user
      { openId: "alice", credits: [form("f2"), form("f3"), form("f3")] }, // after the first
      { openId: "dave", credits: [] },
    ], T0);
    assert.deepEqual(results, [
      { accepted: ["f1", "f2"], duplicates: [] },
      { accepted: [], duplicates: ["c1"] },
      { accepted: ["f1"], duplicates: [] },
      { accepted: ["f3"], duplicates: ["f2", "f3"] },
      { accepted: [], duplicates: [] },
    ]);
    const events = await readAll(store);
    assert.deepEqual(
      events.map((e) => [e.seq, (e.data as { openId: string }).openId, e.at]),
      [
        [1, "carol", new Date(T0).toISOString()],
        [2, "alice", new Date(T0).toISOString()],
        [3, "alice", new Date(T0).toISOString()],
        [4, "bob", new Date(T0).toISOString()],
        [5, "alice", new Date(T0).toISOString()],
      ],
    );
    assert.deepEqual((await store.view("alice", T0)).credits.map((c) => c.formId), [
      "f1",
      "f2",
      "f3",
    ]);
    assert.equal((await store.users("0", 100, T0)).openIds.sort().join(","), "alice,bob,carol");
    assert.deepEqual(await store.collectMany([], T0), []);
    await store.close();
  });

  test("a consumed credit stays a duplicate until it expires", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("alice", [form("f1")], T0);
    assert.ok(await consume(store, "alice", { pushId: "p1" }, T0));
    const retry = await store.collect("alice", [form("f1")], T0 + HOUR);
    assert.deepEqual(retry.duplicates, ["f1"]);
    assert.equal((await store.view("alice", T0 + HOUR)).valid, 0);
    await store.close();
  });

  test("consume takes the credit that expires soonest and never an expired one", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("alice", [
      form("late", T0 + 5 * DAY),
      form("soon", T0 + 2 * HOUR),
      form("gone", T0 + HOUR),
    ], T0);
    const now = T0 + HOUR; // "gone" expires exactly now: no longer valid
    const first = await consume(store, "alice", { pushId: "p1" }, now);
    assert.equal(first?.formId, "soon");
    assert.equal(first?.uses, 0);
    const second = await consume(store, "alice", { pushId: "p2" }, now);
    assert.equal(second?.formId, "late");
    assert.equal(await consume(store, "alice", { pushId: "p3" }, now), null);
    assert.equal(await consume(store, "nobody", { pushId: "p4" }, now), null);
    assert.equal((await store.view("alice", now)).valid, 0);
    const consumed = (await readAll(store)).filter((e) => e.type === "FormIdConsumed");
    assert.deepEqual(consumed.map((e) => e.data), [
      { openId: "alice", formId: "soon", pushId: "p1" },
      { openId: "alice", formId: "late", pushId: "p2" },
    ]);
    await store.close();
  });

  test("view reports valid credits, sends and the next expiry", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("alice", [
      form("a", T0 + 3 * HOUR),
      { formId: "pay", kind: "prepay", uses: 3, expiresAt: T0 + 2 * HOUR },
      { formId: "s1", kind: "subscribe", templateId: "TPL", uses: 1, expiresAt: null },
    ], T0);
    const view = await store.view("alice", T0);
    assert.equal(view.valid, 3);
    assert.equal(view.sends, 5);
    assert.equal(view.nextExpiry, T0 + 2 * HOUR);
    assert.deepEqual(view.credits.map((c) => c.formId), ["pay", "a", "s1"]);
    assert.equal(view.credits[2].templateId, "TPL");
    const later = await store.view("alice", T0 + 4 * HOUR);
    assert.deepEqual(later.credits.map((c) => c.formId), ["s1"]);
    assert.equal(later.nextExpiry, null);
    await store.close();
  });

  test("a prepay credit gives exactly three sends", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("alice", [{
      formId: "wx_prepay",
      kind: "prepay",
      uses: 3,
      expiresAt: T0 + DAY,
    }], T0);
    const uses = [];
    for (let i = 0; i < 4; i++) uses.push(await consume(store, "alice", { pushId: `p${i}` }, T0));
    assert.deepEqual(uses.map((c) => c?.uses ?? null), [2, 1, 0, null]);
    assert.ok(uses.slice(0, 3).every((c) => c?.formId === "wx_prepay"));
    await store.close();
  });

  test("a subscribe credit is spent only for its own template", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("alice", [
      { formId: "s-a", kind: "subscribe", templateId: "TPL_A", uses: 1, expiresAt: null },
      { formId: "s-b", kind: "subscribe", templateId: "TPL_B", uses: 1, expiresAt: null },
    ], T0);
    assert.equal(await consume(store, "alice", { pushId: "p0" }, T0), null, "no template: none");
    const subscribeOnly = { templateId: "TPL_C", kinds: ["subscribe" as const] };
    assert.equal(await consume(store, "alice", { ...subscribeOnly, pushId: "p1" }, T0), null);
    const b = await consume(store, "alice", { templateId: "TPL_B", pushId: "p2" }, T0 + 30 * DAY);
    assert.equal(b?.formId, "s-b", "subscribe credits do not expire");
    assert.equal(await consume(store, "alice", { templateId: "TPL_B", pushId: "p3" }, T0), null);
    const view = await store.view("alice", T0);
    assert.deepEqual(view.credits.map((c) => c.formId), ["s-a"]);
    await store.close();
  });

  test("equal expiries go to the formId first in UTF-8 byte order (pickCredit's rule)", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const ids = ["b", "\u{1F600}", "\uFF01", "a", "B"];
    await store.collect("alice", [...ids.map((id) => form(id, T0 + DAY)), {
      ...form("never"),
      expiresAt: null,
    }], T0);
    const taken: (string | undefined)[] = [];
    for (let i = 0; i < 7; i++) {
      taken.push((await consume(store, "alice", { pushId: `p${i}` }, T0))?.formId);
    }
    // U+FF01 is EF BC 81 in UTF-8 and U+1F600 F0 9F 98 80 (UTF-16 order would swap them).
    assert.deepEqual(taken, ["B", "a", "b", "\uFF01", "\u{1F600}", "never", undefined]);
    await store.close();
  });

  test("a never-expiring credit comes after one expiring at 9999-12-31T23:59:59.999Z", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const lastMs = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    // "a" comes first in byte order: only a strictly later rank for "never" puts it second.
    await store.collect("alice", [{ ...form("a"), expiresAt: null }, form("b", lastMs)], T0);
    const taken = [];
    for (let i = 0; i < 3; i++) {
      taken.push((await consume(store, "alice", { pushId: `p${i}` }, T0))?.formId);
    }
    assert.deepEqual(taken, ["b", "a", undefined]);
    await store.close();
  });

  test("kinds filter: a template push may use form and prepay credits, not subscribe", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("alice", [
      { formId: "s", kind: "subscribe", templateId: "T", uses: 1, expiresAt: T0 + HOUR },
      form("f", T0 + DAY),
    ], T0);
    const c = await consume(store, "alice", {
      templateId: "T",
      kinds: ["form", "prepay"],
      pushId: "p",
    }, T0);
    assert.equal(c?.formId, "f");
    await store.close();
  });

  test("release gives a use back, even after the last use was taken", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("alice", [
      form("f"),
      { formId: "s", kind: "subscribe", templateId: "T", uses: 1, expiresAt: null },
    ], T0);
    const f = await consume(store, "alice", { pushId: "p1" }, T0);
    const s = await consume(
      store,
      "alice",
      { templateId: "T", kinds: ["subscribe"], pushId: "p2" },
      T0,
    );
    assert.ok(f && s);
    assert.equal((await store.view("alice", T0)).valid, 0);
    await release(store, "alice", { credit: f, pushId: "p1" }, T0);
    await release(store, "alice", { credit: s, pushId: "p2" }, T0);
    const view = await store.view("alice", T0);
    assert.deepEqual(view.credits.map((c) => [c.formId, c.uses]), [["f", 1], ["s", 1]]);
    const released = (await readAll(store)).filter((e) => e.type === "FormIdReleased");
    assert.equal(released.length, 2);
    await store.close();
  });

  test("200 concurrent consumers on 50 credits, two instances: exactly 50 succeed", async () => {
    const one = await factory({ segmentEvents: 100_000 });
    const two = await factory({ segmentEvents: 100_000, shareWith: one });
    const credits = Array.from({ length: 50 }, (_, i) => form(`f${i}`, T0 + DAY + i));
    await one.collect("alice", credits, T0);
    const results = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) => consume(i % 2 ? one : two, "alice", { pushId: `p${i}` }, T0 + 1),
      ),
    );
    const taken = results.filter((c) => c !== null).map((c) => c!.formId);
    assert.equal(taken.length, 50);
    assert.equal(new Set(taken).size, 50, "no credit taken twice");
    const consumed = (await readAll(one)).filter((e) => e.type === "FormIdConsumed");
    assert.equal(consumed.length, 50);
    assert.equal((await two.view("alice", T0)).valid, 0);
    await one.close();
    await two.close();
  });

  test("concurrent consumers never take a prepay credit more than three times", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const prepay = (id: string): Credit => ({
      formId: id,
      kind: "prepay",
      uses: 3,
      expiresAt: T0 + DAY,
    });
    await store.collect("alice", [prepay("a"), prepay("b")], T0);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => consume(store, "alice", { pushId: `p${i}` }, T0)),
    );
    const counts: Record<string, number> = {};
    for (const c of results) if (c) counts[c.formId] = (counts[c.formId] ?? 0) + 1;
    assert.deepEqual(counts, { a: 3, b: 3 });
    await store.close();
  });

  test("events are dense, paged, and chained across segment rollover", async () => {
    const store = await factory({ segmentEvents: 10 });
    for (let i = 0; i < 7; i++) {
      await store.collect(`u${i}`, [form(`a${i}`), form(`b${i}`), form(`c${i}`)], T0 + i);
    }
    await consume(store, "u1", { pushId: "px" }, T0 + 10);
    const head = await store.head();
    assert.equal(head.seq, 22);
    const all = await readAll(store, 7);
    assert.deepEqual(all.map((e) => e.seq), Array.from({ length: 22 }, (_, i) => i + 1));
    let prev = GENESIS;
    for (const event of all) {
      assert.equal(event.prev, prev, `prev of ${event.seq}`);
      assert.equal(event.hash, linkHash(prev, canonicalEvent(event)), `hash of ${event.seq}`);
      assert.equal(event.id, `${event.seq}-0`);
      prev = event.hash;
    }
    assert.equal(head.hash, prev);
    assert.equal(all[0].at, new Date(T0).toISOString());
    const page = await store.readEvents(9, 3);
    assert.deepEqual(page.map((e) => e.seq), [10, 11, 12], "a page spans two segments");
    assert.equal(page[0].prev, all[8].hash);
    assert.deepEqual(await store.readEvents(22, 5), []);
    await store.close();
  });

  test("two instances appending at once keep one dense, verifiable chain", async () => {
    const store = await factory({ segmentEvents: 30 });
    const other = await factory({ segmentEvents: 30, shareWith: store });
    // Rounds of concurrent writes on both instances, each round landing after the last one's
    // events in the same segments, so a link stored twice or out of place would show.
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => {
        const credits = [form(`x${round}.${i}`), form(`y${round}.${i}`)];
        return (i % 2 === 0 ? store : other).collect(`c${i % 5}`, credits, T0);
      }));
    }
    const [head, otherHead] = [await store.head(), await other.head()];
    assert.equal(head.seq, 80);
    assert.deepEqual(otherHead, head, "both instances see one head");
    let prev = GENESIS;
    const all = await readAll(other, 9);
    assert.deepEqual(all.map((e) => e.seq), Array.from({ length: 80 }, (_, i) => i + 1));
    for (const event of all) {
      assert.equal(event.prev, prev, `prev of ${event.seq}`);
      assert.equal(event.hash, linkHash(prev, canonicalEvent(event)), `hash of ${event.seq}`);
      prev = event.hash;
    }
    assert.equal(head.hash, prev);
    await store.close();
  });

  test("strings needing JSON escapes hash the same in every store", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const odd = ['quo"te', "back\\slash", "sla/sh", "tab\tnew\nline", "ünï©ødé 表", "\u0001"];
    await store.collect('o/"x', odd.map((id) => form(id)), T0);
    for (let i = 0; i < odd.length; i++) {
      assert.ok(await consume(store, 'o/"x', { pushId: `p"${i}` }, T0));
    }
    let prev = GENESIS;
    for (const event of await readAll(store)) {
      assert.equal(event.hash, linkHash(prev, canonicalEvent(event)), `hash of ${event.seq}`);
      prev = event.hash;
    }
    await store.close();
  });

  test("projectionPage lists every user's live credits, in pages", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("a", [form("x", T0 + HOUR)], T0); // expired by `now`
    await store.collect("b", [form("y", T0 + DAY), form("y2", T0 + 2 * DAY)], T0);
    await store.collect("c", [{ formId: "p", kind: "prepay", uses: 3, expiresAt: T0 + DAY }], T0);
    await store.collect("d", [form("z", T0 + DAY)], T0);
    const now = T0 + 2 * HOUR;
    assert.ok(await consume(store, "c", { pushId: "c1" }, now));
    assert.ok(await consume(store, "d", { pushId: "d1" }, now)); // d has nothing left
    const listed = new Map<string, unknown>();
    let cursor = "0";
    let pages = 0;
    do {
      const page = await store.projectionPage(cursor, 1, now);
      for (const user of page.users) listed.set(user.openId, viewOf(user.credits, now));
      cursor = page.cursor;
      pages++;
    } while (cursor !== "0" && pages < 100);
    // Every holder is listed; a listed user may hold nothing valid any more (d), never wrongly.
    const holders = [...listed].filter(([, v]) => (v as { valid: number }).valid > 0);
    assert.deepEqual(holders.map(([openId]) => openId).sort(), ["b", "c"]);
    assert.ok(!listed.has("a"), "a user whose credits all expired is not listed");
    for (const openId of listed.keys()) {
      assert.deepEqual(listed.get(openId), await store.view(openId, now), openId);
    }
    assert.equal((listed.get("c") as { sends: number }).sends, 2);
    await store.close();
  });

  test("users lists who may hold valid credits", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("a", [form("x", T0 + HOUR)], T0);
    await store.collect("b", [form("y", T0 + DAY)], T0);
    const seen: string[] = [];
    let cursor = "0";
    do {
      const page = await store.users(cursor, 1, T0 + 2 * HOUR);
      seen.push(...page.openIds);
      cursor = page.cursor;
    } while (cursor !== "0");
    assert.deepEqual(seen, ["b"]);
    await store.close();
  });

  test("rebuild replays the log into a projection equal to the live one", async () => {
    const store = await factory({ segmentEvents: 50 });
    const openIds = Array.from({ length: 12 }, (_, i) => `user${i}`);
    let n = 0;
    for (const [i, openId] of openIds.entries()) {
      await store.collect(openId, [
        form(`f${n++}`, T0 + (i + 1) * HOUR),
        form(`f${n++}`, T0 + DAY),
        { formId: `p${n++}`, kind: "prepay", uses: 3, expiresAt: T0 + 2 * DAY },
        { formId: `s${n++}`, kind: "subscribe", templateId: `T${i % 3}`, uses: 1, expiresAt: null },
      ], T0);
    }
    const now = T0 + 5 * HOUR; // some credits have expired by now
    for (const [i, openId] of openIds.entries()) {
      for (let k = 0; k < i % 4; k++) {
        const c = await consume(store, openId, { templateId: `T${k}`, pushId: `c${i}.${k}` }, now);
        if (c && k === 1) await release(store, openId, { credit: c, pushId: `c${i}.${k}` }, now);
      }
    }
    await append(store, [{
      type: "PushFailed",
      data: { pushId: "x", openId: "user0", errcode: -1, errmsg: "busy", class: "transient" },
    }], now);
    const before = await snapshot(store, openIds, now);
    const headBefore = await store.head();
    const result = await store.rebuild(now);
    assert.equal(result.events, headBefore.seq);
    assert.deepEqual(await snapshot(store, openIds, now), before);
    assert.deepEqual(await store.head(), headBefore, "rebuild appends nothing");
    // The rebuilt projection is live: writes keep working on it.
    assert.ok(await consume(store, "user3", { pushId: "after" }, now));
    await store.close();
  });

  test("writes made while a rebuild runs are all in the projection it swaps in", async () => {
    const store = await factory({ segmentEvents: 100 });
    const other = await factory({ segmentEvents: 100, shareWith: store });
    const openIds = Array.from({ length: 20 }, (_, i) => `w${i}`);
    for (const openId of openIds) {
      await store.collect(openId, [form(`${openId}-a`), form(`${openId}-b`)], T0);
    }
    const writes = (async () => {
      for (const [i, openId] of openIds.entries()) {
        await other.collect(openId, [form(`${openId}-c`)], T0);
        if (i % 2 === 0) await consume(other, openId, { pushId: `p${i}` }, T0);
      }
    })();
    await Promise.all([store.rebuild(T0), writes]);
    const live = await snapshot(store, openIds, T0);
    for (const [i, openId] of openIds.entries()) {
      assert.equal((live[openId] as { valid: number }).valid, i % 2 === 0 ? 2 : 3, openId);
    }
    await store.rebuild(T0);
    assert.deepEqual(await snapshot(store, openIds, T0), live);
    await store.close();
  });

  test("a formId collected again after its expired credit was pruned survives a rebuild", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("eve", [form("f", T0 + HOUR)], T0);
    const later = T0 + 2 * HOUR;
    // Consuming prunes the expired credit, so the same formId is new again.
    assert.equal(await consume(store, "eve", { pushId: "p1" }, later), null);
    assert.deepEqual((await store.collect("eve", [form("f", later + DAY)], later)).accepted, ["f"]);
    const live = await store.view("eve", later);
    assert.equal(live.valid, 1);
    await store.rebuild(later);
    assert.deepEqual(await store.view("eve", later), live);
    await store.close();
  });

  test("takeMany takes one credit per delivery, soonest expiry first, in one step", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("a", [form("a-late", T0 + DAY), form("a-soon", T0 + HOUR)], T0);
    await store.collect("b", [
      { formId: "b-sub", kind: "subscribe", templateId: "T", uses: 1, expiresAt: null },
    ], T0);
    const results = await store.takeMany({
      templateId: "T",
      deliveries: [
        { openId: "a", pushId: "p-a" },
        { openId: "b", pushId: "p-b" },
        { openId: "c", pushId: "p-c" },
        { openId: "a", pushId: "p-a2" },
      ],
    }, T0);
    assert.deepEqual(results.map((r) => r.status), ["taken", "taken", "none", "taken"]);
    const ids = results.map((r) => r.status === "taken" ? r.credit.formId : null);
    assert.deepEqual(ids, ["a-soon", "b-sub", null, "a-late"]);
    assert.equal(results[1].status === "taken" && results[1].credit.templateId, "T");
    const consumed = (await readAll(store)).filter((e) => e.type === "FormIdConsumed");
    assert.deepEqual(consumed.map((e) => e.data), [
      { openId: "a", formId: "a-soon", pushId: "p-a" },
      { openId: "b", formId: "b-sub", pushId: "p-b" },
      { openId: "a", formId: "a-late", pushId: "p-a2" },
    ]);
    assert.equal((await store.view("a", T0)).valid, 0);
    await store.close();
  });

  test("recordMany appends outcomes and releases, restoring the credit", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("a", [form("fa")], T0);
    await store.collect("b", [{ formId: "pb", kind: "prepay", uses: 3, expiresAt: T0 + DAY }], T0);
    const [ta, tb] = await store.takeMany({
      deliveries: [{ openId: "a", pushId: "p1" }, { openId: "b", pushId: "p2" }],
    }, T0);
    assert.ok(ta.status === "taken" && tb.status === "taken");
    assert.equal(tb.credit.uses, 2);
    await store.recordMany(undefined, [
      {
        openId: "a",
        pushId: "p1",
        credit: ta.credit,
        release: true,
        events: [{
          type: "PushFailed",
          data: {
            pushId: "p1",
            openId: "a",
            formId: "fa",
            errcode: -1,
            errmsg: "busy",
            class: "transient",
          },
        }],
      },
      {
        openId: "b",
        pushId: "p2",
        credit: tb.credit,
        release: false,
        events: [{
          type: "PushSucceeded",
          data: { pushId: "p2", openId: "b", formId: "pb", templateId: "T", msgid: "42" },
        }],
      },
    ], T0 + 1);
    const log = await readAll(store);
    assert.deepEqual(log.slice(-3).map((e) => e.type), [
      "PushFailed",
      "FormIdReleased",
      "PushSucceeded",
    ]);
    assert.deepEqual(log.at(-2)!.data, {
      openId: "a",
      formId: "fa",
      pushId: "p1",
      kind: "form",
      expiresAt: T0 + 7 * DAY,
    });
    assert.deepEqual((await store.view("a", T0)).credits.map((c) => [c.formId, c.uses]), [[
      "fa",
      1,
    ]]);
    assert.equal((await store.view("b", T0)).sends, 2);
    let prev = GENESIS;
    for (const event of log) {
      assert.equal(event.hash, linkHash(prev, canonicalEvent(event)), `hash of ${event.seq}`);
      prev = event.hash;
    }
    await store.close();
  });

  test("a broadcast handles each user at most once; a lost delivery is failed, not retried", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    for (const u of ["u1", "u2", "u3", "u4"]) {
      await store.collect(u, [form(`${u}-1`), form(`${u}-2`)], T0);
    }
    const deliveries = ["u1", "u2", "u3", "u4"].map((openId) => ({
      openId,
      pushId: `B.${openId}`,
    }));
    const first = await store.takeMany({ broadcastId: "B", deliveries }, T0);
    assert.ok(first.every((r) => r.status === "taken"));
    const credit = (i: number) => (first[i] as { credit: Credit }).credit;
    const sent = (i: number) => ({
      openId: deliveries[i].openId,
      pushId: deliveries[i].pushId,
      credit: credit(i),
      release: false,
      events: [],
      state: "sent" as const,
    });
    // u1 sent; u2 transient (released, will retry); u3 no outcome yet (its worker dies).
    await store.recordMany("B", [
      sent(0),
      { ...sent(1), release: true, state: "retry" },
      { ...sent(3), state: "failed", errcode: 41028 },
    ], T0);
    // Recording an outcome again (a retried call) changes nothing: no event, no release, no count.
    const seq = (await store.head()).seq;
    await store.recordMany("B", [{
      ...sent(1),
      release: true,
      state: "retry",
      events: [{
        type: "PushFailed",
        data: { pushId: "B.u2", openId: "u2", errcode: -1, errmsg: "busy", class: "transient" },
      }],
    }, sent(0)], T0);
    assert.equal((await store.head()).seq, seq);
    assert.equal((await store.view("u2", T0)).sends, 2, "released once, not twice");
    const second = await store.takeMany({ broadcastId: "B", deliveries }, T0 + 1);
    assert.deepEqual(second.map((r) => r.status), ["done", "taken", "lost", "done"]);
    assert.equal((second[2] as { formId: string }).formId, "u3-1");
    assert.equal(
      (second[1] as { credit: Credit }).credit.formId,
      "u2-1",
      "the released credit again",
    );
    const third = await store.takeMany({ broadcastId: "B", deliveries }, T0 + 2);
    assert.deepEqual(third.map((r) => r.status), ["done", "lost", "done", "done"]);
    assert.deepEqual(await store.tally("B"), {
      sent: 1,
      failed: 3,
      noCredit: 0,
      errors: { "41028": 1, "-1004": 2 },
    });
    const lost = (await readAll(store)).filter((e) => e.type === "PushFailed").map((e) => e.data);
    assert.deepEqual(lost[0], {
      pushId: "B.u3",
      broadcastId: "B",
      openId: "u3",
      formId: "u3-1",
      errcode: -1004,
      errmsg: lost[0].errmsg,
      class: "unknown",
    });
    assert.equal(lost.length, 2);
    assert.deepEqual(await store.tally("other"), { sent: 0, failed: 0, noCredit: 0, errors: {} });
    // No-credit outcomes count without a credit.
    await store.collect("u5", [], T0);
    const none = await store.takeMany({
      broadcastId: "B",
      deliveries: [{ openId: "u5", pushId: "B.u5" }],
    }, T0);
    assert.deepEqual(none, [{ status: "none" }]);
    await store.recordMany("B", [{
      openId: "u5",
      pushId: "B.u5",
      credit: null,
      release: false,
      events: [],
      state: "no_credit",
    }], T0);
    assert.equal((await store.tally("B")).noCredit, 1);
    await store.close();
  });

  test("two instances taking the same broadcast's users concurrently take each once", async () => {
    const one = await factory({ segmentEvents: 100_000 });
    const two = await factory({ segmentEvents: 100_000, shareWith: one });
    const users = Array.from({ length: 120 }, (_, i) => `u${i}`);
    for (const u of users) await one.collect(u, [form(`${u}-a`), form(`${u}-b`)], T0);
    const deliveries = users.map((openId) => ({ openId, pushId: `B.${openId}` }));
    const chunks = [0, 40, 80].map((s) => deliveries.slice(s, s + 40));
    const results = await Promise.all(
      [...chunks, ...chunks].map((chunk, i) =>
        (i < 3 ? one : two).takeMany({ broadcastId: "B", deliveries: chunk }, T0)
      ),
    );
    const taken = results.flat().filter((r) => r.status === "taken");
    assert.equal(taken.length, 120, "each user's credit taken by exactly one instance");
    const consumed = (await readAll(one)).filter((e) => e.type === "FormIdConsumed");
    assert.equal(consumed.length, 120);
    assert.equal(new Set(consumed.map((e) => (e.data as { openId: string }).openId)).size, 120);
    await one.close();
    await two.close();
  });
}
