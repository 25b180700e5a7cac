/**
 * The contract of bounded credits and the credit index, for every store: caps checked in the
 * collecting step, take order through the spend groups with expired heads pruned, duplicates
 * only while unexpired, and a view of 200,000 credits. Registered by each store's test file
 * beside `storeContract`.
 */
import assert from "node:assert/strict";
import { DEFAULT_CREDIT_CAPS } from "../../src/ledger/credit_caps.ts";
import { type Credit, pickCredit } from "../../src/ledger/credit_rules.ts";
import type { LedgerStore } from "../../src/ledger/store.ts";
import { consume, release } from "../helpers/store_calls.ts";
import { readAll, type StoreFactory } from "./store_contract.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const caps = { perUser: 5, perTemplate: 2 };

const form = (formId: string, expiresAt: number | null = T0 + DAY): Credit => ({
  formId,
  kind: "form",
  uses: 1,
  expiresAt,
});
const sub = (formId: string, templateId: string): Credit => ({
  formId,
  kind: "subscribe",
  templateId,
  uses: 1,
  expiresAt: null,
});

async function collected(store: LedgerStore): Promise<number> {
  return (await readAll(store)).filter((e) => e.type === "FormIdCollected").length;
}

/** Registers the credit index and caps contract for one store implementation. */
export function creditIndexContract(name: string, factory: StoreFactory): void {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test({ name: `${name} store: ${title}`, fn });

  test("an upload partly over the user's cap collects exactly up to it, in order", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("alice", [form("a"), form("b")], T0);
    const [result] = await store.collectMany([{
      openId: "alice",
      caps,
      credits: [form("c"), form("a"), form("d"), form("e"), form("f"), form("g")],
    }], T0);
    assert.deepEqual(result, {
      accepted: ["c", "d", "e"],
      duplicates: ["a"],
      refused: [{ formId: "f", reason: "user_full" }, { formId: "g", reason: "user_full" }],
    });
    assert.equal(await collected(store), 5, "a refused credit appends nothing");
    assert.deepEqual((await store.view("alice", T0)).credits.map((c) => c.formId), [
      "a",
      "b",
      "c",
      "d",
      "e",
    ]);
    // Full: every new credit is refused, a duplicate is still a duplicate, other users are free.
    const [again, bob] = await store.collectMany([
      { openId: "alice", caps, credits: [form("h"), form("b")] },
      { openId: "bob", caps, credits: [form("h")] },
    ], T0);
    assert.deepEqual(again, {
      accepted: [],
      duplicates: ["b"],
      refused: [{ formId: "h", reason: "user_full" }],
    });
    assert.deepEqual(bob, { accepted: ["h"], duplicates: [] }, "no refused field when none");
    await store.close();
  });

  test("the caps count live credits only: spent and expired ones make room", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("alice", [form("old", T0 + HOUR), form("a"), form("b")], T0);
    await store.collect("alice", [form("c"), form("d")], T0);
    assert.ok(await consume(store, "alice", { pushId: "p1" }, T0)); // takes "old"
    const [one] = await store.collectMany([{ openId: "alice", caps, credits: [form("e")] }], T0);
    assert.deepEqual(one.accepted, ["e"], "the spent credit no longer counts");
    const later = T0 + 2 * HOUR; // nothing expired among the five live ones
    const [full] = await store.collectMany(
      [{ openId: "alice", caps, credits: [form("f")] }],
      later,
    );
    assert.deepEqual(full.refused, [{ formId: "f", reason: "user_full" }]);
    // Two of the five expire: room for two more.
    const short = [form("s1", later + HOUR), form("s2", later + HOUR)];
    const [bob] = await store.collectMany([{
      openId: "bob",
      caps,
      credits: [...short, form("b1"), form("b2"), form("b3"), form("b4")],
    }], later);
    assert.deepEqual(bob.accepted, ["s1", "s2", "b1", "b2", "b3"]);
    const [after] = await store.collectMany([{
      openId: "bob",
      caps,
      credits: [form("b4"), form("b5"), form("b6")],
    }], later + HOUR);
    assert.deepEqual(after.accepted, ["b4", "b5"], "s1 and s2 expired: two places");
    assert.deepEqual(after.refused, [{ formId: "b6", reason: "user_full" }]);
    await store.close();
  });

  test("a template's cap refuses its subscribe credits only, atomically with the upload", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const results = await store.collectMany([
      { openId: "alice", caps, credits: [sub("s1", "A"), sub("s2", "A"), sub("s3", "A")] },
      { openId: "alice", caps, credits: [sub("s4", "B"), form("f1"), sub("s5", "A")] },
    ], T0);
    assert.deepEqual(results, [
      {
        accepted: ["s1", "s2"],
        duplicates: [],
        refused: [{ formId: "s3", reason: "template_full" }],
      },
      {
        accepted: ["s4", "f1"],
        duplicates: [],
        refused: [{ formId: "s5", reason: "template_full" }],
      },
    ]);
    // Spending one of A's makes room for one; the user's cap is checked first.
    assert.ok(
      await consume(store, "alice", { templateId: "A", kinds: ["subscribe"], pushId: "p" }, T0),
    );
    const [next] = await store.collectMany([{
      openId: "alice",
      caps,
      credits: [sub("s6", "A"), sub("s7", "A"), form("f2"), form("f3")],
    }], T0);
    assert.deepEqual(next, {
      accepted: ["s6", "f2"],
      duplicates: [],
      refused: [
        { formId: "s7", reason: "template_full" },
        { formId: "f3", reason: "user_full" },
      ],
    });
    assert.equal((await store.view("alice", T0)).valid, 5);
    await store.close();
  });

  test("a formId is a duplicate until it expires, spent or not; then it is new again", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect("alice", [form("f", T0 + HOUR), form("g", T0 + HOUR)], T0);
    assert.ok(await consume(store, "alice", { pushId: "p" }, T0)); // "f" spent
    const dup = await store.collect("alice", [form("f"), form("g")], T0 + HOUR - 1);
    assert.deepEqual(dup, { accepted: [], duplicates: ["f", "g"] });
    // Expired (no take has pruned them): a new upload of the same formIds is accepted.
    const again = await store.collect("alice", [form("f"), form("g")], T0 + HOUR);
    assert.deepEqual(again, { accepted: ["f", "g"], duplicates: [] });
    assert.deepEqual(
      (await store.view("alice", T0 + HOUR)).credits.map((c) => [c.formId, c.uses]),
      [["f", 1], ["g", 1]],
    );
    await store.rebuild(T0 + HOUR);
    assert.equal((await store.view("alice", T0 + HOUR)).valid, 2);
    await store.close();
  });

  test("takes follow spend order across groups, past many expired heads", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    // 300 expired legacy credits ahead of the valid ones (more than a prune's batch).
    const expired = Array.from({ length: 300 }, (_, i) => form(`x${i}`, T0 + 1 + i));
    await store.collect("alice", [
      ...expired,
      form("late", T0 + 3 * DAY),
      { formId: "pay", kind: "prepay", uses: 2, expiresAt: T0 + 2 * DAY },
      { ...sub("s-a", "A"), expiresAt: T0 + 2 * DAY - 1 },
      sub("s-b", "B"),
      form("never", null),
    ], T0);
    const now = T0 + HOUR;
    const take = async (filter: object, pushId: string) =>
      (await consume(store, "alice", { ...filter, pushId }, now))?.formId;
    assert.equal(await take({ templateId: "A" }, "p1"), "s-a", "the template's group first");
    assert.equal(await take({ templateId: "A" }, "p2"), "pay");
    assert.equal(await take({ kinds: ["form"] }, "p3"), "late", "a kind alone walks the group");
    assert.equal(await take({ kinds: ["prepay"] }, "p4"), "pay");
    assert.equal(await take({ kinds: ["prepay"] }, "p5"), undefined);
    assert.equal(await take({ templateId: "B", kinds: ["subscribe"] }, "p6"), "s-b");
    assert.equal(await take({}, "p7"), "never");
    assert.equal(await take({ templateId: "B" }, "p8"), undefined);
    const view = await store.view("alice", now);
    assert.deepEqual(view, { valid: 0, sends: 0, nextExpiry: null, credits: [] });
    await store.close();
  });

  test("each take chooses what pickCredit chooses over the user's credits", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const kinds = ["form", "prepay", "subscribe"] as const;
    const credits: Credit[] = [];
    for (let i = 0; i < 60; i++) {
      const kind = kinds[i % 3];
      credits.push({
        formId: `c${(i * 37) % 60}`,
        kind,
        ...(kind === "subscribe" ? { templateId: `T${i % 2}` } : {}),
        uses: kind === "prepay" ? 3 : 1,
        // Few distinct expiries, some never, some already expired: ties and pruning.
        expiresAt: i % 7 === 0 ? null : T0 + ((i * 13) % 5) * HOUR,
      });
    }
    await store.collect("alice", credits, T0);
    const model = new Map(credits.map((c) => [c.formId, { ...c }]));
    const filters = [{}, { templateId: "T0" }, { templateId: "T1", kinds: ["subscribe" as const] }];
    const now = T0 + HOUR; // credits expiring at T0 and T0 + HOUR are gone
    for (let i = 0; i < 80; i++) {
      const filter = filters[i % 3];
      const expected = pickCredit(model.values(), filter, now).credit;
      const taken = await consume(store, "alice", { ...filter, pushId: `p${i}` }, now);
      assert.equal(taken?.formId, expected?.formId, `take ${i}`);
      if (expected) model.get(expected.formId)!.uses--;
      if (taken && i % 5 === 0) {
        await release(store, "alice", { credit: taken, pushId: `p${i}` }, now);
        model.get(taken.formId)!.uses++;
      }
    }
    await store.close();
  });

  test("a view of 200,000 credits of one user answers", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const total = 200_000;
    for (let from = 0; from < total; from += 5_000) {
      const batch = Array.from(
        { length: 5_000 },
        (_, i) => form(`f${from + i}`, T0 + DAY + from + i),
      );
      await store.collect("whale", batch, T0);
    }
    const view = await store.view("whale", T0);
    assert.equal(view.valid, total);
    assert.equal(view.sends, total);
    assert.equal(view.nextExpiry, T0 + DAY);
    assert.equal(view.credits[0].formId, "f0");
    assert.equal(view.credits.at(-1)!.formId, `f${total - 1}`);
    assert.equal((await consume(store, "whale", { pushId: "p" }, T0))?.formId, "f0");
    await store.close();
  });

  test("the default caps are a few hundred", () => {
    assert.deepEqual(DEFAULT_CREDIT_CAPS, { perUser: 500, perTemplate: 100 });
    return Promise.resolve();
  });
}
