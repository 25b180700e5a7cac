/**
 * The send window of one instance (src/push/delivery_run.ts, send_slots.ts): the deliveries it
 * has taken and not recorded never exceed `WECHAT_CONCURRENCY`, and every credit taken has its
 * WeChat call started as soon as the take answers, so a kill can only leave as `unknown` a
 * delivery whose call started (or whose take's answer was on its way). The real service on the
 * memory store and the WeChat simulator; the store's take and record calls and the sends to
 * WeChat are counted on their way through.
 */
import assert from "node:assert/strict";
import { ORDER, startPushRig } from "./rig.ts";
import type { TakeRequest, TakeResult } from "../../src/ledger/delivery.ts";

const CONCURRENCY = 4;
const USERS = 40;

Deno.test("delivery: taken never exceeds the send slots, and each take's calls start at once", async () => {
  const rig = await startPushRig("memory", { WECHAT_CONCURRENCY: String(CONCURRENCY) }, 15);
  try {
    const users = Array.from({ length: USERS }, (_, i) => `w-${i}`);
    await rig.giveMany(users.map((openId) => ({ openId, formId: `f-${openId}` })));
    const push = rig.service.push!;
    await push.tokens.get(); // a token in hand: a send needs nothing else before its call

    let taken = 0;
    let recorded = 0;
    let calls = 0;
    let peak = 0;
    const notStarted: number[] = [];
    // A call starts when the client is asked (it holds a token and a free connection slot).
    const sendTemplate = push.client.sendTemplate.bind(push.client);
    push.client.sendTemplate = (message, formId) => {
      calls++;
      return sendTemplate(message, formId);
    };
    const store = rig.service.store;
    const takeMany = store.takeMany.bind(store);
    const recordMany = store.recordMany.bind(store);
    store.takeMany = async (request: TakeRequest, now: number): Promise<TakeResult[]> => {
      // Slots are acquired before the take: what is held now plus this request fits them.
      peak = Math.max(peak, taken - recorded + request.deliveries.length);
      const results = await takeMany(request, now);
      taken += results.filter((r) => r.status === "taken").length;
      // By the next turn of the event loop, every credit taken so far has its call started.
      setTimeout(() => notStarted.push(taken - calls), 0);
      return results;
    };
    store.recordMany = async (broadcastId, outcomes, now) => {
      await recordMany(broadcastId, outcomes, now);
      recorded += outcomes.filter((o) => o.credit !== null).length;
    };

    const refs = users.map((openId, i) => ({ openId, pushId: `p-${i}` }));
    const { reports } = await push.deliverer.deliverMany(refs, ORDER);
    await new Promise((r) => setTimeout(r, 10));

    assert.equal(reports.filter((r) => r.status === "sent").length, USERS);
    assert.equal(taken, USERS);
    assert.equal(calls, USERS, "one call per credit taken");
    assert.equal(peak, CONCURRENCY, "the window is used, never exceeded");
    assert.ok(notStarted.length >= USERS / CONCURRENCY, `${notStarted.length} takes`);
    assert.deepEqual(
      notStarted.filter((n) => n !== 0),
      [],
      "a credit taken waited for its call to start",
    );
  } finally {
    await rig.close();
  }
});
