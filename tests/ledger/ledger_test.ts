/**
 * The ledger's delivery commands stamp each store call with the ledger's clock.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../src/shared/clock.ts";
import { expiryRulesOf, Ledger } from "../../src/ledger/ledger.ts";
import { pushSucceeded } from "../../src/ledger/events.ts";
import { MemoryStore } from "../../src/store/memory/memory.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const rules = expiryRulesOf({
  formIdTtlSeconds: 604_800,
  formIdSafetySeconds: 3_600,
  subscribeTtlSeconds: null,
});

Deno.test("expiryRulesOf: the settings under the ledger's names", () => {
  assert.deepEqual(rules, {
    formIdTtlSeconds: 604_800,
    safetySeconds: 3_600,
    subscribeTtlSeconds: null,
  });
});

Deno.test("Ledger.take and record: one store call each, stamped with the clock's time", async () => {
  const clock = new ManualClock(T0);
  const store = new MemoryStore();
  const ledger = new Ledger(store, rules, clock);
  await ledger.collect("o1", [{ formId: "f1", kind: "form" }]);
  clock.advance(1_000);
  const [taken] = await ledger.take({
    templateId: "T",
    deliveries: [{ openId: "o1", pushId: "p1" }],
  });
  assert.equal(taken.status, "taken");
  const credit = taken.status === "taken" ? taken.credit : null;
  assert.equal(credit?.formId, "f1");
  clock.advance(1_000);
  const sent = pushSucceeded({ pushId: "p1", openId: "o1" }, { formId: "f1", templateId: "T" });
  await ledger.record(undefined, [{
    openId: "o1",
    pushId: "p1",
    credit,
    release: false,
    events: [sent],
  }]);
  const log = await store.readEvents(0, 10);
  assert.deepEqual(
    log.map((e) => [e.type, e.at]),
    [
      ["FormIdCollected", new Date(T0).toISOString()],
      ["FormIdConsumed", new Date(T0 + 1_000).toISOString()],
      ["PushSucceeded", new Date(T0 + 2_000).toISOString()],
    ],
  );
  assert.equal((await ledger.view("o1")).valid, 0);
});

Deno.test("Ledger.answer: concurrent reports share one answerMany call, each with its own reply", async () => {
  const clock = new ManualClock(T0);
  const store = new MemoryStore();
  const ledger = new Ledger(store, { ...rules, subscribeTtlSeconds: 86_400 }, clock);
  const batches: number[] = [];
  const answerMany = store.answerMany.bind(store);
  store.answerMany = (requests, now) => {
    batches.push(requests.length);
    assert.ok(requests.every((r) => r.expiresAt === now + 86_400_000), "stamped when sent");
    return answerMany(requests, now);
  };
  const report = (openId: string, key: string) =>
    ledger.answer({
      openId,
      source: "wechat",
      items: [{ templateId: "T", answer: "accept", key, longTerm: false, revoke: false }],
      windowMs: 600_000,
    });
  const results = await Promise.all([
    report("o1", "sub:wx@1:T"),
    report("o2", "sub:wx@2:T"),
    report("o1", "sub:wx@1:T"),
    report("o3", "sub:wx@3:T"),
  ]);
  assert.deepEqual(batches, [4], "four concurrent reports, one store call");
  assert.deepEqual(results.map(([r]) => r.outcome), [
    "credited",
    "credited",
    "duplicate",
    "credited",
  ]);
  // A lone report goes at once, in a call of its own.
  await report("o4", "sub:wx@4:T");
  assert.deepEqual(batches, [4, 1]);
  assert.equal((await ledger.view("o1")).valid, 1);
});
