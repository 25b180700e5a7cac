/**
 * The contract of rate limits counted by the store, for every store: an upload counts against
 * its limits in its collect's atomic step, before its credits, and over one collects nothing
 * while the other uploads of the batch go on; requests counted alone (`countLimits`) share the
 * counts, and so does a subscription report, counted in its answer's step (over a limit it records
 * nothing); windows are `floor(now / window)` and reset at their end; two instances share the
 * counts. Registered by each store's test file beside `storeContract`.
 */
import assert from "node:assert/strict";
import type { AnswerRequest } from "../../src/ledger/answer_rules.ts";
import type { Credit } from "../../src/ledger/credit_rules.ts";
import type { LimitCheck } from "../../src/ledger/limits.ts";
import type { StoreFactory } from "./store_contract.ts";
import { readAll } from "./store_contract.ts";

const WINDOW = 60_000;
/** Inside a window (T0 is 1,234 ms after one starts). */
const T0 = Date.UTC(2026, 10, 25, 12, 0, 0) + 1_234;
const RESET = Date.UTC(2026, 10, 25, 12, 1, 0);

const form = (formId: string): Credit => ({
  formId,
  kind: "form",
  uses: 1,
  expiresAt: T0 + 86_400_000,
});
const user = (id: string): LimitCheck => ({ limit: "user", id, tokens: 2, windowMs: WINDOW });
const ip = (id: string): LimitCheck => ({ limit: "ip", id, tokens: 3, windowMs: WINDOW });
const decision = (success: boolean, limit: number, remaining: number, reset = RESET) => ({
  success,
  limit,
  remaining,
  reset,
});

/** Registers the rate-limit contract for one store implementation. */
export function limitsContract(name: string, factory: StoreFactory): void {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test({ name: `${name} store: ${title}`, fn });

  test("limits: an upload over a limit collects nothing; the rest of its batch goes on", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const results = await store.collectMany([
      { openId: "alice", credits: [form("a1")], limits: [user("alice"), ip("x")] },
      { openId: "alice", credits: [form("a2")], limits: [user("alice"), ip("x")] },
      // alice's third request: over her limit (counted all the same, on the IP too)
      { openId: "alice", credits: [form("a3"), form("a1")], limits: [user("alice"), ip("x")] },
      // the fourth from IP x: over the IP's limit
      { openId: "bob", credits: [form("b1")], limits: [user("bob"), ip("x")] },
      { openId: "carol", credits: [form("c1")] },
      { openId: "dave", credits: [form("d1")], limits: [user("dave"), ip("y")] },
    ], T0);
    assert.deepEqual(results, [
      { accepted: ["a1"], duplicates: [], limits: [decision(true, 2, 1), decision(true, 3, 2)] },
      { accepted: ["a2"], duplicates: [], limits: [decision(true, 2, 0), decision(true, 3, 1)] },
      { accepted: [], duplicates: [], limits: [decision(false, 2, 0), decision(true, 3, 0)] },
      { accepted: [], duplicates: [], limits: [decision(true, 2, 1), decision(false, 3, 0)] },
      { accepted: ["c1"], duplicates: [] },
      { accepted: ["d1"], duplicates: [], limits: [decision(true, 2, 1), decision(true, 3, 2)] },
    ]);
    const collected = (await readAll(store)).map((e) => (e.data as { formId: string }).formId);
    assert.deepEqual(collected, ["a1", "a2", "c1", "d1"]);
    assert.equal((await store.view("bob", T0)).valid, 0);
    assert.equal(await store.unsealed(), 0);
    await store.close();
  });

  test("limits: requests counted alone share the counts; a window starts over at its end", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    assert.deepEqual(await store.countLimits([user("alice"), ip("x")], T0), [
      decision(true, 2, 1),
      decision(true, 3, 2),
    ]);
    // An upload with nothing to collect only counts.
    const [only] = await store.collectMany([{
      openId: "alice",
      credits: [],
      limits: [user("alice")],
    }], T0 + 1);
    assert.deepEqual(only, { accepted: [], duplicates: [], limits: [decision(true, 2, 0)] });
    const [over] = await store.collectMany([
      { openId: "alice", credits: [form("a1")], limits: [user("alice")] },
    ], RESET - 1);
    assert.deepEqual(over.limits, [decision(false, 2, 0)]);
    assert.deepEqual(over.accepted, []);
    // The next window, from its first millisecond.
    const next = RESET + WINDOW;
    assert.deepEqual(await store.countLimits([user("alice")], RESET), [
      decision(true, 2, 1, next),
    ]);
    const [again] = await store.collectMany([
      { openId: "alice", credits: [form("a1")], limits: [user("alice")] },
    ], RESET + 5);
    assert.deepEqual(again, {
      accepted: ["a1"],
      duplicates: [],
      limits: [decision(true, 2, 0, next)],
    });
    // Another limit's count of the same id is its own.
    assert.deepEqual(await store.countLimits([{ ...user("alice"), limit: "view" }], RESET), [
      decision(true, 2, 1, next),
    ]);
    await store.close();
  });

  test("limits: a subscription report counts in its answer's step; over a limit it records nothing", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const report = (key: string, extra: Partial<AnswerRequest> = {}): AnswerRequest => ({
      openId: "alice",
      source: "client",
      items: [{ templateId: "T", answer: "accept", key, longTerm: false, revoke: false }],
      expiresAt: null,
      windowMs: null,
      limits: [user("alice"), ip("x")],
      ...extra,
    });
    // An upload and a report share alice's counts.
    await store.collectMany([
      { openId: "alice", credits: [form("a1")], limits: [user("alice"), ip("x")] },
    ], T0);
    assert.deepEqual(await store.answer(report("sub:r1:T"), T0), {
      results: [{ templateId: "T", outcome: "credited", formId: "sub:r1:T" }],
      limits: [decision(true, 2, 0), decision(true, 3, 1)],
    });
    const before = (await readAll(store)).length;
    // Over alice's limit: nothing is recorded, not even the settings (with the event push on).
    const settings = { mainSwitch: true, itemSettings: { T: "accept" } };
    assert.deepEqual(
      await store.answer(report("sub:r2:T", { settings, windowMs: WINDOW }), T0 + 1),
      { results: [], limits: [decision(false, 2, 0), decision(true, 3, 0)] },
    );
    assert.equal((await readAll(store)).length, before);
    assert.deepEqual(await store.subscriptions("alice", T0 + 1), { settings: null, templates: [] });
    assert.equal((await store.view("alice", T0 + 1)).valid, 2);
    // The refused report was counted all the same: the IP is now over its limit.
    assert.deepEqual(await store.countLimits([ip("x")], T0 + 2), [decision(false, 3, 0)]);
    // A report without limits (WeChat's event push) counts nothing and is recorded.
    const { limits: _, ...unlimited } = report("sub:wx@1:T", { source: "wechat" });
    assert.deepEqual(await store.answer(unlimited, T0 + 3), {
      results: [{ templateId: "T", outcome: "credited", formId: "sub:wx@1:T" }],
    });
    assert.equal(await store.unsealed(), 0);
    await store.close();
  });

  test("limits: two instances count together", async () => {
    const one = await factory({ segmentEvents: 100_000 });
    const two = await factory({ segmentEvents: 100_000, shareWith: one });
    await one.countLimits([user("alice")], T0);
    await two.collectMany(
      [{ openId: "alice", credits: [form("a1")], limits: [user("alice")] }],
      T0,
    );
    const [third] = await one.collectMany([
      { openId: "alice", credits: [form("a2")], limits: [user("alice")] },
    ], T0);
    assert.deepEqual(third.limits, [decision(false, 2, 0)]);
    assert.deepEqual((await two.countLimits([user("alice")], T0)).map((d) => d.success), [false]);
    await Promise.all([one.close(), two.close()]);
  });
}
