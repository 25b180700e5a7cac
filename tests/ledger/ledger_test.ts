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
