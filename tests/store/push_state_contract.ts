/**
 * The push-state half of the store contract: outside a broadcast, a take with `pushStateMs` keeps
 * the push's delivery state under its pushId (memory's map, Redis's `<prefix>:ps:<pushId>`), so a
 * pushId taken again is lost or done (never a second credit) and an outcome applies once, voids
 * (43101) included. Each test states the exact events appended, so the memory store and
 * take.lua / record.lua are proven to decide alike.
 */
import assert from "node:assert/strict";
import type { Credit } from "../../src/ledger/credit_rules.ts";
import type { DeliveryOutcome } from "../../src/ledger/delivery.ts";
import { pushFailed, pushSucceeded } from "../../src/ledger/events.ts";
import { readAll, type StoreFactory } from "./store_contract.ts";

const T0 = Date.UTC(2026, 10, 25, 12, 0, 0);
const DAY = 86_400_000;
/** Kept far longer than any test runs (Redis keeps it by wall time, memory by `now`). */
const KEEP = 3_600_000;

/** Registers the push-state contract tests for one store implementation. */
export function pushStateContract(name: string, factory: StoreFactory): void {
  const test = (title: string, fn: () => Promise<void>) =>
    Deno.test({ name: `${name} store: ${title}`, fn });

  test("a kept push is taken once: taken again it is lost (without broadcastId), then done", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    const credits: Credit[] = ["f1", "f2", "f3"].map((formId) => ({
      formId,
      kind: "form",
      uses: 1,
      expiresAt: T0 + DAY,
    }));
    await store.collect("u1", credits, T0);
    const take = (pushId: string, now: number) =>
      store.takeMany({ pushStateMs: KEEP, deliveries: [{ openId: "u1", pushId }] }, now);
    const [first] = await take("k1", T0);
    assert.equal(first.status, "taken");
    const credit = (first as { credit: Credit }).credit;
    const head = (await store.head()).seq;
    // Its instance died before recording: taken again, the delivery is lost, never resent.
    assert.deepEqual(await take("k1", T0 + 1), [{ status: "lost", formId: credit.formId }]);
    assert.deepEqual(await take("k1", T0 + 2), [{ status: "done" }]);
    const lost = (await readAll(store)).slice(head).map((e) => ({ type: e.type, data: e.data }));
    assert.deepEqual(lost, [{
      type: "PushFailed",
      data: {
        class: "unknown",
        errcode: -1004,
        errmsg: (lost[0].data as { errmsg: string }).errmsg,
        formId: credit.formId,
        openId: "u1",
        pushId: "k1",
      },
    }]);
    // The dead instance's outcome arriving late changes nothing.
    const seq = (await store.head()).seq;
    const late: DeliveryOutcome = {
      openId: "u1",
      pushId: "k1",
      credit,
      release: false,
      events: [pushSucceeded({ pushId: "k1", openId: "u1" }, {
        formId: credit.formId,
        templateId: "TPL",
        msgid: "1",
      })],
      state: "sent",
      pushStateMs: KEEP,
    };
    await store.recordMany(undefined, [late], T0 + 3);
    assert.equal((await store.head()).seq, seq);
    assert.equal((await store.view("u1", T0 + 3)).valid, 2, "one credit spent, no more");

    // Another push: its outcome applies once (the outbox may write it twice), then it is done.
    const [second] = await take("k2", T0 + 4);
    const c2 = (second as { credit: Credit }).credit;
    const released: DeliveryOutcome = {
      openId: "u1",
      pushId: "k2",
      credit: c2,
      release: true,
      events: [pushFailed({ pushId: "k2", openId: "u1" }, {
        formId: c2.formId,
        errcode: 40037,
        errmsg: "invalid template_id",
        class: "request",
      })],
      state: "failed",
      errcode: 40037,
      pushStateMs: KEEP,
    };
    const before = (await store.head()).seq;
    await store.recordMany(undefined, [released], T0 + 5);
    await store.recordMany(undefined, [released], T0 + 6);
    const types = (await readAll(store)).slice(before).map((e) => e.type);
    assert.deepEqual(types, ["PushFailed", "FormIdReleased"], "recorded and released once");
    assert.equal((await store.view("u1", T0 + 6)).valid, 2);
    assert.deepEqual(await take("k2", T0 + 7), [{ status: "done" }]);
    await store.close();
  });

  test("a kept push's outcome that voids (43101) applies once", async () => {
    const store = await factory({ segmentEvents: 100_000 });
    await store.collect(
      "u1",
      ["s1", "s2", "s3"].map((formId) => ({
        formId,
        kind: "subscribe" as const,
        templateId: "T",
        uses: 1,
        expiresAt: null,
      })),
      T0,
    );
    const [taken] = await store.takeMany({
      templateId: "T",
      kinds: ["subscribe"],
      pushStateMs: KEEP,
      deliveries: [{ openId: "u1", pushId: "k1" }],
    }, T0);
    const credit = (taken as { credit: Credit }).credit;
    const outcome: DeliveryOutcome = {
      openId: "u1",
      pushId: "k1",
      credit,
      release: false,
      events: [pushFailed({ pushId: "k1", openId: "u1" }, {
        formId: credit.formId,
        errcode: 43101,
        errmsg: "user refuse to accept the msg",
        class: "spent",
      })],
      state: "failed",
      errcode: 43101,
      voids: { templateId: "T", reason: "errcode_43101" },
      pushStateMs: KEEP,
    };
    const head = (await store.head()).seq;
    await store.recordMany(undefined, [outcome], T0 + 1);
    await store.recordMany(undefined, [outcome], T0 + 2);
    const after = (await readAll(store)).slice(head).map((e) => ({ type: e.type, data: e.data }));
    assert.deepEqual(after.map((e) => e.type), ["PushFailed", "CreditsVoided"]);
    assert.deepEqual(after[1].data, {
      formIds: ["s2", "s3"],
      openId: "u1",
      reason: "errcode_43101",
      templateId: "T",
    });
    assert.equal((await store.view("u1", T0 + 2)).valid, 0);
    await store.close();
  });
}
