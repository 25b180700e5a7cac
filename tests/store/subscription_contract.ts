/**
 * The subscription half of the store contract: answers (client and WeChat), confirmations,
 * provisional credits, long-term subscriptions, voids, the template registry, and their rebuild.
 * Each test states the exact events appended, so the memory store and answer.lua are proven to
 * decide alike.
 */
import assert from "node:assert/strict";
import type { AnswerItem, AnswerRequest } from "../../src/ledger/answer_rules.ts";
import type { RegisteredTemplate } from "../../src/ledger/registry.ts";
import type { LedgerStore } from "../../src/ledger/store.ts";
import { consume } from "../helpers/store_calls.ts";
import { readAll, type StoreFactory } from "./store_contract.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const WINDOW = 600_000;

function item(templateId: string, answer: string, key: string, extra: Partial<AnswerItem> = {}) {
  return { templateId, answer, key, longTerm: false, revoke: false, ...extra };
}

function request(
  openId: string,
  source: "client" | "wechat",
  items: AnswerItem[],
  extra: Partial<AnswerRequest> = {},
): AnswerRequest {
  return { openId, source, items, expiresAt: null, windowMs: WINDOW, ...extra };
}

/** The events appended since `from`, as `type data` lines. */
async function eventsSince(store: LedgerStore, from: number): Promise<string[]> {
  return (await readAll(store)).slice(from).map((e) => `${e.type} ${JSON.stringify(e.data)}`);
}

const TEMPLATES: RegisteredTemplate[] = [
  {
    id: "T_ONE",
    title: "到货提醒",
    kind: "one-time",
    keywords: [{ key: "thing1", type: "thing", label: "物品" }],
  },
  {
    id: "T_LONG",
    title: "航班",
    kind: "long-term",
    keywords: [{ key: "phrase2", type: "phrase", label: "状态", enumValues: ["延误", "准点"] }],
  },
];

/** Registers the subscription contract tests for one store implementation. */
export function subscriptionContract(name: string, factory: StoreFactory): void {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test({ name: `${name} store: ${title}`, fn });

  test("answers without the event push: an accept is a credit, as before; nothing else is appended", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const items = [item("T", "accept", "sub:r1:T"), item("U", "ban", "sub:r1:U")];
    const { results } = await store.answer(request("o1", "client", items, { windowMs: null }), T0);
    assert.deepEqual(results, [
      { templateId: "T", outcome: "credited", formId: "sub:r1:T" },
      { templateId: "U", outcome: "answered" },
    ]);
    assert.deepEqual(await eventsSince(store, 0), [
      'FormIdCollected {"expiresAt":null,"formId":"sub:r1:T","kind":"subscribe","openId":"o1","templateId":"T","uses":1}',
    ]);
    // The same report again: its credit is a duplicate; nothing appended.
    const { results: again } = await store.answer(
      request("o1", "client", items, { windowMs: null }),
      T0 + 1,
    );
    assert.deepEqual(again.map((r) => r.outcome), ["duplicate", "answered"]);
    assert.equal((await readAll(store)).length, 1);
    assert.deepEqual(await store.subscriptions("o1", T0), { settings: null, templates: [] });
    // With the event push, every answer is recorded with its source.
    await store.answer(request("o1", "client", [item("U", "ban", "sub:r2:U")]), T0 + 2);
    assert.deepEqual(await eventsSince(store, 1), [
      'SubscriptionAnswered {"answer":"ban","key":"sub:r2:U","openId":"o1","source":"client","templateId":"U"}',
    ]);
    assert.deepEqual((await store.subscriptions("o1", T0)).templates, [
      { templateId: "U", answer: "ban", source: "client", awaitingWechat: 0 },
    ]);
    await store.close();
  });

  test("with the event push, an accept both sources report is one credit, in either order", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    // Client first: provisional until WeChat confirms it.
    const { results: [first] } = await store.answer(
      request("o1", "client", [item("T", "acceptWithAudio", "sub:r1:T")]),
      T0,
    );
    assert.deepEqual(first, { templateId: "T", outcome: "provisional", formId: "sub:r1:T" });
    assert.equal((await store.view("o1", T0)).credits[0].expiresAt, T0 + WINDOW);
    assert.equal((await store.subscriptions("o1", T0)).templates[0].awaitingWechat, 1);
    const { results: [confirmed] } = await store.answer(
      request("o1", "wechat", [item("T", "accept", "sub:wx@1764072000:T")]),
      T0 + 2_000,
    );
    assert.deepEqual(confirmed, { templateId: "T", outcome: "confirmed", formId: "sub:r1:T" });
    const view = await store.view("o1", T0 + 2 * WINDOW);
    assert.deepEqual(view.credits.map((c) => [c.formId, c.expiresAt]), [["sub:r1:T", null]]);
    // WeChat first: a credit at once; the client's later report matches it.
    await store.answer(request("o2", "wechat", [item("T", "accept", "sub:wx@1764072001:T")]), T0);
    const { results: [matched] } = await store.answer(
      request("o2", "client", [item("T", "accept", "sub:r9:T")]),
      T0 + 3_000,
    );
    assert.deepEqual(matched, {
      templateId: "T",
      outcome: "confirmed",
      formId: "sub:wx@1764072001:T",
    });
    assert.equal((await store.view("o2", T0 + 2 * WINDOW)).valid, 1);
    assert.deepEqual((await eventsSince(store, 0)).filter((e) => !e.startsWith("Subscription")), [
      `FormIdCollected {"expiresAt":${
        T0 + WINDOW
      },"formId":"sub:r1:T","kind":"subscribe","openId":"o1","templateId":"T","uses":1}`,
      'CreditConfirmed {"by":"wechat","expiresAt":null,"formId":"sub:r1:T","openId":"o1","templateId":"T"}',
      'FormIdCollected {"expiresAt":null,"formId":"sub:wx@1764072001:T","kind":"subscribe","openId":"o2","templateId":"T","uses":1}',
      'CreditConfirmed {"by":"client","formId":"sub:wx@1764072001:T","openId":"o2","templateId":"T"}',
    ]);
    const log = await eventsSince(store, 0);
    assert.ok(log.includes(
      `SubscriptionAnswered {"answer":"acceptWithAudio","formId":"sub:r1:T","key":"sub:r1:T","openId":"o1","source":"client","templateId":"T","until":${
        T0 + WINDOW
      }}`,
    ));
    await store.close();
  });

  test("a client-only accept expires unconfirmed; a kept accept stands", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.answer(request("o1", "client", [item("T", "accept", "sub:r1:T")]), T0);
    assert.equal((await store.view("o1", T0 + WINDOW - 1)).valid, 1);
    assert.equal((await store.view("o1", T0 + WINDOW)).valid, 0, "voided by its own expiry");
    assert.equal((await store.subscriptions("o1", T0 + WINDOW)).templates[0].awaitingWechat, 0);
    // A late WeChat event finds nothing waiting: it mints the (real) credit.
    const { results: [late] } = await store.answer(
      request("o1", "wechat", [item("T", "accept", "sub:wx@1:T")]),
      T0 + WINDOW + 1,
    );
    assert.equal(late.outcome, "credited");
    // "Always keep": the client's settings keep T as accept, its silent accepts stand.
    const settings = { mainSwitch: true, itemSettings: { K: "accept", T: "reject" } };
    const { results: kept } = await store.answer(
      request("o3", "client", [item("K", "accept", "sub:r2:K")], { settings }),
      T0,
    );
    assert.deepEqual(kept, [{ templateId: "K", outcome: "credited", formId: "sub:r2:K" }]);
    assert.equal((await store.view("o3", T0 + 10 * WINDOW)).valid, 1);
    assert.deepEqual((await store.subscriptions("o3", T0)).settings, settings);
    // Its WeChat event, if one comes, confirms it (still one credit); same settings: no event.
    const before = (await readAll(store)).length;
    await store.answer(request("o3", "client", [], { settings }), T0 + 1);
    assert.equal((await readAll(store)).length, before, "unchanged settings append nothing");
    const { results: [confirm] } = await store.answer(
      request("o3", "wechat", [item("K", "accept", "sub:wx@2:K")]),
      T0 + 2,
    );
    assert.equal(confirm.outcome, "confirmed");
    assert.equal((await store.view("o3", T0 + 10 * WINDOW)).valid, 1);
    await store.close();
  });

  test("a long-term subscription is one credit never consumed, voided by a revocation", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const lt = { longTerm: true };
    const { results: [on] } = await store.answer(
      request("o1", "client", [item("L", "accept", "sub:r1:L", lt)]),
      T0,
    );
    assert.deepEqual(on, { templateId: "L", outcome: "credited", formId: "sub:lt@L" });
    const { results: [again] } = await store.answer(
      request("o1", "wechat", [item("L", "accept", "sub:wx@5:L", lt)]),
      T0 + 1,
    );
    assert.deepEqual(again, { templateId: "L", outcome: "active", formId: "sub:lt@L" });
    const head = (await store.head()).seq;
    for (let i = 0; i < 3; i++) {
      const taken = await consume(store, "o1", {
        templateId: "L",
        kinds: ["subscribe"],
        pushId: `p${i}`,
      }, T0 + 2);
      assert.equal(taken?.formId, "sub:lt@L");
      assert.equal(taken?.uses, 1, "a long-term credit is never used up");
    }
    assert.equal((await store.head()).seq, head, "no FormIdConsumed");
    const { results: [revoked] } = await store.answer(
      request("o1", "wechat", [item("L", "reject", "sub:wx@9:L", { revoke: true })]),
      T0 + 3,
    );
    assert.equal(revoked.outcome, "voided");
    assert.deepEqual((await eventsSince(store, head)).slice(-1), [
      'CreditsVoided {"formIds":["sub:lt@L"],"openId":"o1","reason":"revoked","templateId":"L"}',
    ]);
    assert.equal((await store.view("o1", T0 + 4)).valid, 0);
    await store.close();
  });

  test("an outcome that voids takes the template's live credits in one event", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.answer(
      request("o1", "client", [item("T", "accept", "sub:r1:T"), item("U", "accept", "sub:r1:U")], {
        windowMs: null,
      }),
      T0,
    );
    await store.answer(
      request("o1", "client", [item("T", "accept", "sub:r2:T")], { windowMs: null }),
      T0,
    );
    const taken = await consume(store, "o1", {
      templateId: "T",
      kinds: ["subscribe"],
      pushId: "p1",
    }, T0);
    assert.equal(taken?.formId, "sub:r1:T");
    const head = (await store.head()).seq;
    await store.recordMany(undefined, [{
      openId: "o1",
      pushId: "p1",
      credit: taken,
      release: false,
      events: [],
      voids: { templateId: "T", reason: "errcode_43101" },
    }], T0 + 1);
    assert.deepEqual(await eventsSince(store, head), [
      'CreditsVoided {"formIds":["sub:r2:T"],"openId":"o1","reason":"errcode_43101","templateId":"T"}',
    ]);
    assert.deepEqual((await store.view("o1", T0 + 1)).credits.map((c) => c.formId), ["sub:r1:U"]);
    // A long-term credit's use is never released.
    await store.answer(
      request("o1", "client", [item("L", "accept", "sub:r3:L", { longTerm: true })]),
      T0,
    );
    const lt = await consume(
      store,
      "o1",
      { templateId: "L", kinds: ["subscribe"], pushId: "p2" },
      T0,
    );
    const at = (await store.head()).seq;
    await store.recordMany(undefined, [{
      openId: "o1",
      pushId: "p2",
      credit: lt,
      release: true,
      events: [],
    }], T0);
    assert.equal((await store.head()).seq, at);
    assert.equal(
      (await store.view("o1", T0)).credits.find((c) => c.formId === "sub:lt@L")?.uses,
      1,
    );
    await store.close();
  });

  test("caps refuse a subscribe credit but keep its answer", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const caps = { perUser: 10, perTemplate: 1 };
    const { results } = await store.answer(
      request("o1", "wechat", [
        item("T", "accept", "sub:wx@1:T"),
        item("T", "accept", "sub:wx@2:T"),
      ], {
        caps,
      }),
      T0,
    );
    assert.deepEqual(results.map((r) => r.outcome), ["credited", "template_full"]);
    assert.equal((await store.view("o1", T0)).valid, 1);
    await store.close();
  });

  test("the template registry syncs only on change, and a rebuild keeps all the state", async () => {
    const store = await factory({ segmentEvents: 7 });
    assert.equal(await store.templates(), null);
    assert.equal(await store.syncTemplates(TEMPLATES, T0), true);
    assert.equal(await store.syncTemplates([...TEMPLATES].reverse(), T0), false, "same set");
    const registry = await store.templates();
    assert.deepEqual(registry?.map((t) => t.id), ["T_LONG", "T_ONE"]);
    assert.deepEqual(registry?.[0].keywords[0].enumValues, ["延误", "准点"]);
    const settings = { mainSwitch: true, itemSettings: { T_ONE: "accept" } };
    await store.answer(
      request("o1", "client", [item("T_ONE", "accept", "sub:r1:T_ONE")], { settings }),
      T0,
    );
    await store.answer(request("o2", "client", [item("T_ONE", "accept", "sub:r2:T_ONE")]), T0);
    await store.answer(request("o3", "client", [item("T_ONE", "reject", "sub:r3:T_ONE")]), T0);
    await store.answer(
      request("o4", "wechat", [item("T_LONG", "accept", "sub:wx@1:T_LONG", { longTerm: true })]),
      T0,
    );
    const users = ["o1", "o2", "o3", "o4"];
    const snapshot = async (at: number) =>
      await Promise.all(
        users.map(async (u) => [await store.view(u, at), await store.subscriptions(u, at)]),
      );
    const before = await snapshot(T0 + 1);
    await store.rebuild(T0 + 1);
    assert.deepEqual(await snapshot(T0 + 1), before);
    assert.deepEqual(await store.templates(), registry);
    // Waiting accepts and seen keys survive too: a retried report is still a duplicate, and
    // WeChat's report of o2's accept confirms the waiting one.
    const { results: [dup] } = await store.answer(
      request("o2", "client", [item("T_ONE", "accept", "sub:r2:T_ONE")]),
      T0 + 2,
    );
    assert.equal(dup.outcome, "duplicate");
    const { results: [ok] } = await store.answer(
      request("o2", "wechat", [item("T_ONE", "accept", "sub:wx@3:T_ONE")]),
      T0 + 3,
    );
    assert.equal(ok.outcome, "confirmed");
    assert.equal(await store.syncTemplates(TEMPLATES.slice(0, 1), T0 + 4), true);
    assert.deepEqual((await store.templates())?.map((t) => t.id), ["T_ONE"]);
    await store.close();
  });
}
