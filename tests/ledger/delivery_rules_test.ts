/**
 * The broadcast delivery state machine: what a take does given the user's state, whether an
 * outcome applies, and the state and tally after it. Pure rules, no store.
 */
import assert from "node:assert/strict";
import type { Credit } from "../../src/ledger/credit_rules.ts";
import { type DeliveryOutcome, LOST_DELIVERY, STATE_LETTER } from "../../src/ledger/delivery.ts";
import {
  afterOutcome,
  LOST_STATE,
  outcomeApplies,
  outcomeEvents,
  takenState,
  takeStep,
} from "../../src/ledger/delivery_rules.ts";
import { formIdReleased, pushFailed, pushSucceeded } from "../../src/ledger/events.ts";

const delivery = { openId: "o1", pushId: "B.o1" };
const credit: Credit = { formId: "f1", kind: "form", uses: 0, expiresAt: 1_000 };

Deno.test("takeStep: given a new user or one released for a retry, the take goes ahead", () => {
  assert.deepEqual(takeStep(undefined, "B", delivery), { action: "take" });
  assert.deepEqual(takeStep(STATE_LETTER.retry, "B", delivery), { action: "take" });
});

Deno.test("takeStep: given a credit still taken, the delivery is lost: failed, never retried", () => {
  const step = takeStep(takenState("f1"), "B", delivery);
  assert.deepEqual(step, {
    action: "lost",
    formId: "f1",
    state: LOST_STATE,
    counts: ["failed", `e:${LOST_DELIVERY.errcode}`],
    event: pushFailed({ ...delivery, broadcastId: "B" }, {
      formId: "f1",
      errcode: LOST_DELIVERY.errcode,
      errmsg: LOST_DELIVERY.errmsg,
      class: "unknown",
    }),
  });
  assert.equal(LOST_STATE, "u");
  assert.equal(step.action === "lost" && step.event.data.errcode, -1004);
  const odd = takeStep(takenState("with|bar"), "B", delivery);
  assert.equal(odd.action === "lost" && odd.formId, "with|bar", "a formId may hold the separator");
});

Deno.test("takeStep: given a user already handled, the take does nothing", () => {
  for (const state of ["s", "f", "n", "u"]) {
    assert.deepEqual(takeStep(state, "B", delivery), { action: "done" }, state);
  }
});

Deno.test("takenState: t| and the formId", () => {
  assert.equal(takenState("f1"), "t|f1");
});

Deno.test("outcomeApplies: an outcome with a credit applies only while that credit is taken", () => {
  assert.equal(outcomeApplies("t|f1", credit), true);
  assert.equal(outcomeApplies("t|f2", credit), false, "another take's credit");
  assert.equal(outcomeApplies(undefined, credit), false);
  assert.equal(outcomeApplies("r", credit), false, "already recorded as a retry");
  assert.equal(outcomeApplies("u", credit), false, "declared lost by another worker");
  assert.equal(outcomeApplies("s", credit), false, "recorded twice");
});

Deno.test("outcomeApplies: an outcome without a credit applies only to a user not yet handled", () => {
  assert.equal(outcomeApplies(undefined, null), true);
  assert.equal(outcomeApplies("r", null), true);
  for (const state of ["n", "s", "f", "u", "t|f1"]) {
    assert.equal(outcomeApplies(state, null), false, state);
  }
});

Deno.test("afterOutcome: the state letter and the tally fields it counts", () => {
  assert.deepEqual(afterOutcome("sent"), { state: "s", counts: ["sent"] });
  assert.deepEqual(afterOutcome("failed", 41028), { state: "f", counts: ["failed", "e:41028"] });
  assert.deepEqual(afterOutcome("failed"), { state: "f", counts: ["failed"] });
  assert.deepEqual(afterOutcome("no_credit"), { state: "n", counts: ["noCredit"] });
  assert.deepEqual(afterOutcome("retry", 45009), { state: "r", counts: [] }, "a retry counts none");
  assert.deepEqual(
    afterOutcome("sent", 0),
    { state: "s", counts: ["sent"] },
    "errcode only on failure",
  );
});

Deno.test("outcomeEvents: audit events first, then the release when the use goes back", () => {
  const failed = pushFailed(delivery, {
    formId: "f1",
    errcode: -1,
    errmsg: "x",
    class: "transient",
  });
  const outcome: DeliveryOutcome = { ...delivery, credit, release: true, events: [failed] };
  assert.deepEqual(outcomeEvents(outcome), [failed, formIdReleased("o1", "B.o1", credit)]);
  const sent = pushSucceeded(delivery, { formId: "f1", templateId: "T" });
  assert.deepEqual(outcomeEvents({ ...outcome, release: false, events: [sent] }), [sent]);
  assert.deepEqual(
    outcomeEvents({ ...outcome, credit: null, events: [] }),
    [],
    "no credit: nothing to give back",
  );
});
