/**
 * The contract of `answerMany`, for every store: many users' reports (WeChat's event pushes, as
 * the ledger coalesces them) in one atomic step, applied in order as if `answer` ran for each,
 * each with its own reply; a duplicate is recorded once, in one call or across calls; a report
 * over its rate limits records nothing and the others go on; the events are chained before the
 * call answers (also when a revocation's void is among them), and a rebuild folds the log into
 * the same state. Registered by each store's test file beside `storeContract`.
 */
import assert from "node:assert/strict";
import type { AnswerItem, AnswerRequest } from "../../src/ledger/answer_rules.ts";
import type { LimitCheck } from "../../src/ledger/limits.ts";
import type { LedgerStore } from "../../src/ledger/store.ts";
import { ChainVerifier } from "../../src/audit/verify.ts";
import { readAll, type StoreFactory } from "./store_contract.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const WINDOW = 600_000;

const item = (templateId: string, answer: string, key: string, revoke = false): AnswerItem => ({
  templateId,
  answer,
  key,
  longTerm: false,
  revoke,
});

/** WeChat's popup event for `openId`: one item per template. */
const pushed = (openId: string, items: AnswerItem[], extra: Partial<AnswerRequest> = {}) => ({
  openId,
  source: "wechat" as const,
  items,
  expiresAt: null,
  windowMs: WINDOW,
  ...extra,
});

/** The log's chain checked from genesis: `null` when every stored hash is the recomputed one. */
async function chainBreak(store: LedgerStore) {
  const verifier = new ChainVerifier();
  for (const event of await readAll(store)) verifier.check(event);
  return verifier.finish(await store.head());
}

/** Each user's view and subscriptions, for comparing states. */
async function state(store: LedgerStore, openIds: string[], now: number) {
  const out: Record<string, unknown> = {};
  for (const openId of openIds) {
    out[openId] = {
      view: await store.view(openId, now),
      subscriptions: await store.subscriptions(openId, now),
    };
  }
  return out;
}

/** Registers the answerMany contract for one store implementation. */
export function answerManyContract(name: string, factory: StoreFactory): void {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test({ name: `${name} store: ${title}`, fn });

  test("answerMany: many users' pushes in one step, each its own reply, as answer one by one", async () => {
    const many = await factory({ segmentEvents: 100_000 });
    const one = await factory({ segmentEvents: 100_000 });
    const reports = [
      pushed("o1", [item("T", "accept", "sub:wx@1:T")]),
      pushed("o2", [item("T", "accept", "sub:wx@2:T"), item("U", "reject", "sub:wx@2:U")]),
      // o1's same push again (WeChat's retry inside the batch): recorded once.
      pushed("o1", [item("T", "accept", "sub:wx@1:T")]),
      pushed("o3", []),
      pushed("o1", [item("U", "accept", "sub:wx@3:U")]),
    ];
    const replies = await many.answerMany(reports, T0);
    const alone = [];
    for (const report of reports) alone.push(await one.answer(report, T0));
    assert.deepEqual(replies, alone);
    assert.deepEqual(replies, [
      { results: [{ templateId: "T", outcome: "credited", formId: "sub:wx@1:T" }] },
      {
        results: [
          { templateId: "T", outcome: "credited", formId: "sub:wx@2:T" },
          { templateId: "U", outcome: "answered" },
        ],
      },
      { results: [{ templateId: "T", outcome: "duplicate" }] },
      { results: [] },
      { results: [{ templateId: "U", outcome: "credited", formId: "sub:wx@3:U" }] },
    ]);
    const strip = (events: { type: string; data: unknown }[]) =>
      events.map(({ type, data }) => `${type} ${JSON.stringify(data)}`);
    assert.deepEqual(strip(await readAll(many)), strip(await readAll(one)));
    assert.equal((await readAll(many)).filter((e) => e.type === "FormIdCollected").length, 3);
    assert.equal(await many.unsealed(), 0, "the call's events are chained before it answers");
    assert.equal(await chainBreak(many), null);
    assert.equal((await many.head()).hash, (await one.head()).hash);
    // The same push in a later call is a duplicate too.
    const [again] = await many.answerMany([reports[0]], T0 + 1);
    assert.deepEqual(again, { results: [{ templateId: "T", outcome: "duplicate" }] });
    await many.close();
    await one.close();
  });

  test("answerMany: a report over its limits records nothing; the others of the call go on", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const limit: LimitCheck = { limit: "user", id: "alice", tokens: 1, windowMs: 60_000 };
    const client = (key: string): AnswerRequest => ({
      openId: "alice",
      source: "client",
      items: [item("T", "accept", key)],
      expiresAt: null,
      windowMs: null,
      limits: [limit],
    });
    const [first, over, other] = await store.answerMany([
      client("sub:r1:T"),
      client("sub:r2:T"),
      pushed("bob", [item("T", "accept", "sub:wx@1:T")]),
    ], T0);
    assert.deepEqual(first.results, [{ templateId: "T", outcome: "credited", formId: "sub:r1:T" }]);
    assert.equal(first.limits?.[0].success, true);
    assert.deepEqual(over.results, []);
    assert.equal(over.limits?.[0].success, false);
    assert.deepEqual(other, {
      results: [{ templateId: "T", outcome: "credited", formId: "sub:wx@1:T" }],
    });
    assert.equal((await store.view("alice", T0)).valid, 1);
    assert.equal((await store.view("bob", T0)).valid, 1);
    assert.equal(await chainBreak(store), null);
    await store.close();
  });

  test("answerMany: a revocation's void among the answers is chained too, and a rebuild agrees", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.answerMany([
      pushed("o1", [item("T", "accept", "sub:wx@1:T")]),
      pushed("o2", [item("T", "accept", "sub:wx@2:T")]),
    ], T0);
    const replies = await store.answerMany([
      pushed("o1", [item("T", "reject", "sub:wx@5:T", true)]),
      pushed("o2", [item("U", "accept", "sub:wx@6:U")]),
      pushed("o3", [item("T", "accept", "sub:wx@7:T")]),
    ], T0 + 1);
    assert.deepEqual(replies.map((r) => r.results.map((x) => x.outcome)), [
      ["voided"],
      ["credited"],
      ["credited"],
    ]);
    assert.equal(await store.unsealed(), 0);
    assert.equal(await chainBreak(store), null);
    const users = ["o1", "o2", "o3"];
    const before = await state(store, users, T0 + 2);
    assert.equal((before.o1 as { view: { valid: number } }).view.valid, 0);
    await store.rebuild(T0 + 2);
    assert.deepEqual(await state(store, users, T0 + 2), before);
    await store.close();
  });

  test("answerMany: overlapping calls each apply whole, and their events end up chained", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const replies = await Promise.all(Array.from({ length: 6 }, (_, c) =>
      store.answerMany(
        Array.from({ length: 3 }, (_, u) =>
          pushed(`o${c}-${u}`, [item("T", "accept", `sub:wx@${c}:T`)])),
        T0 + c,
      )));
    assert.ok(replies.flat().every((r) => r.results[0].outcome === "credited"));
    assert.equal(await store.unsealed(), 0, "every call's seal landed before it answered");
    assert.equal((await readAll(store)).filter((e) => e.type === "FormIdCollected").length, 18);
    assert.equal(await chainBreak(store), null);
    await store.close();
  });
}
