/**
 * `POST /v1/subscriptions`: WeChat's accept variants (`acceptWithAudio`, a voice reminder;
 * `acceptWithAlert`, a banner reminder) are accepts, each one credit, on both stores; a report
 * mixing them with the other answers is taken whole instead of refused.
 */
import assert from "node:assert/strict";
import { call, login, startRig, STORES } from "../login_helpers.ts";

for (const store of STORES) {
  Deno.test(`subscriptions (${store}): acceptWithAudio and acceptWithAlert are accepts`, async () => {
    const rig = await startRig(store);
    try {
      const { token, openId } = await login(rig, "alice");
      const results = {
        errMsg: "requestSubscribeMessage:ok",
        TPL_A: "acceptWithAudio",
        TPL_B: "acceptWithAlert",
        TPL_C: "accept",
        TPL_D: "reject",
      };
      const reply = await call(
        `${rig.svc.url}/v1/subscriptions`,
        "POST",
        { results, reportId: "r-variants" },
        token,
      );
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.body, {
        reportId: "r-variants",
        accepted: 3,
        duplicates: 0,
        ignored: { reject: 1, ban: 0, filter: 0 },
      });
      const view = await rig.svc.ledger.view(openId);
      assert.deepEqual(view.credits.map((c) => `${c.kind}:${c.templateId}`).sort(), [
        "subscribe:TPL_A",
        "subscribe:TPL_B",
        "subscribe:TPL_C",
      ]);
      // An answer WeChat never gives is still refused, and changes nothing.
      const head = await rig.svc.store.head();
      const bad = await call(`${rig.svc.url}/v1/subscriptions`, "POST", {
        results: { TPL_A: "acceptWithNothing" },
      }, token);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, "invalid_results");
      assert.deepEqual(await rig.svc.store.head(), head);
    } finally {
      await rig.close();
    }
  });
}
