/**
 * WeChat's `subscribe_msg_sent_event` over real HTTP (signed, encrypted, posted to
 * `/v1/wechat/events`) on both stores, with push configured: an item that settles a delivery the
 * log has as `unknown` (its send timed out after WeChat took it) is recorded as `PushConfirmed`
 * naming that delivery, and nothing else; an item for a message the log has as sent, or one
 * reporting a failure, is recorded as `SubscribeMessageSent`; WeChat's retries record nothing
 * twice.
 */
import assert from "node:assert/strict";
import type { StoredEvent } from "../../src/ledger/events.ts";
import { popup, startSubRig } from "./rig.ts";

const GOOD = { thing1: { value: "包裹已到" }, time2: { value: "15:01" } };
type Json = Record<string, unknown>;

const sentEvent = (msgId: string, errorCode = 0) => ({
  event: "subscribe_msg_sent_event" as const,
  items: [{
    templateId: "TPL_ONE",
    msgId,
    errorCode,
    errorStatus: errorCode === 0 ? "success" : "fail",
  }],
});

const ofType = (log: StoredEvent[], type: string) =>
  log.filter((e) => e.type === type).map((e) => e.data as Json);

for (const store of ["memory", "redis"] as const) {
  Deno.test(`subscribe (${store}): a sent event settles an unknown delivery (PushConfirmed), else is SubscribeMessageSent`, async () => {
    const rig = await startSubRig(store, { env: { WECHAT_TIMEOUT_MS: "300" } });
    try {
      const { openId } = await rig.login("gina");
      const t0 = Math.floor(Date.now() / 1000);
      await rig.wechat(openId, popup(["TPL_ONE", "accept"]), t0);
      await rig.wechat(openId, popup(["TPL_ONE", "accept"]), t0 + 1);
      await rig.simControl("/__sim/grants", { openid: openId, templateId: "TPL_ONE", count: 2 });
      const push = { openId, templateId: "TPL_ONE", kind: "subscribe", data: GOOD };

      // WeChat takes the message but answers after the service gave up: unknown.
      await rig.simControl("/__sim/faults", { rate: 1, kinds: ["timeout"], timeoutMs: 1000 });
      const lost = await rig.admin("/v1/push", push);
      assert.deepEqual([lost.body.status, lost.body.class], ["failed", "unknown"]);
      await rig.simControl("/__sim/faults", { rate: 0, kinds: [] });
      const stats = await (await fetch(`${rig.sim.url}/__sim/stats`)).json();
      const lostMsgid = String((stats.delivered as Json[])[0].msgid);
      // The unknown is noted in the background as its outcome is recorded.
      const kv = rig.svc.push!.kv;
      const deadline = Date.now() + 5_000;
      while ((await kv.get(`unk:${openId}:TPL_ONE`)) === null) {
        assert.ok(Date.now() < deadline, "the unknown delivery was never noted");
        await new Promise((r) => setTimeout(r, 20));
      }

      for (let i = 0; i < 2; i++) { // WeChat's retry of the same item records nothing twice
        const answer = await rig.wechat(openId, sentEvent(lostMsgid), t0 + 2);
        assert.equal(answer.body, "success");
      }
      let log = await rig.log();
      const failed = ofType(log, "PushFailed")[0];
      assert.deepEqual(ofType(log, "PushConfirmed"), [{
        errcode: 0,
        formId: failed.formId,
        msgid: lostMsgid,
        openId,
        pushId: lost.body.pushId,
        templateId: "TPL_ONE",
      }]);
      assert.deepEqual(ofType(log, "SubscribeMessageSent"), [], "settled: no second record");

      // A message the log has as sent, and a failure WeChat reports later: SubscribeMessageSent.
      const sent = await rig.admin("/v1/push", push);
      assert.equal(sent.body.status, "sent");
      for (let i = 0; i < 2; i++) {
        await rig.wechat(openId, sentEvent(sent.body.msgid), t0 + 3);
        await rig.wechat(openId, sentEvent("1700000000000000009", 20003), t0 + 4);
      }
      log = await rig.log();
      assert.equal(ofType(log, "PushConfirmed").length, 1);
      assert.deepEqual(ofType(log, "SubscribeMessageSent"), [
        {
          errorCode: 0,
          errorStatus: "success",
          msgId: sent.body.msgid,
          openId,
          templateId: "TPL_ONE",
        },
        {
          errorCode: 20003,
          errorStatus: "fail",
          msgId: "1700000000000000009",
          openId,
          templateId: "TPL_ONE",
        },
      ]);
    } finally {
      await rig.close();
    }
  });
}
