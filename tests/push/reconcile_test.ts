/**
 * Reconciliation from WeChat's side: a subscribe message whose send timed out is recorded as
 * unknown; WeChat's `subscribe_msg_sent_event` for it (the command the event route calls,
 * `Reconciler.confirmSent`) records `PushConfirmed` naming that delivery, once, so the log says
 * the unknown was in fact sent. A sent event matching no unknown delivery records nothing.
 */
import assert from "node:assert/strict";
import { type Json, readLog, startPushRig } from "./rig.ts";
import { until } from "./instances.ts";

const SUB = { templateId: "TPL_SUB", kind: "subscribe", data: { thing1: { value: "ready" } } };

for (const store of ["memory", "redis"] as const) {
  Deno.test(`push (${store}): WeChat's sent event turns an unknown subscribe delivery into PushConfirmed`, async () => {
    const rig = await startPushRig(store, { WECHAT_TIMEOUT_MS: "300" });
    try {
      await rig.give("una", "s-una-1", "subscribe", "TPL_SUB");
      await rig.give("una", "s-una-2", "subscribe", "TPL_SUB");
      await rig.service.push!.tokens.get();
      await rig.simControl("/__sim/faults", { rate: 1, kinds: ["timeout"], timeoutMs: 1000 });
      const res = await rig.call("/v1/push", { openId: "una", ...SUB });
      const report = await res.json();
      assert.deepEqual([report.status, report.class], ["failed", "unknown"]);
      await rig.simControl("/__sim/faults", { rate: 0, kinds: [] });

      const { reconciler } = rig.service.push!;
      const stats = await (await fetch(`${rig.sim.url}/__sim/stats`)).json();
      const msgid = String((stats.delivered as Json[]).find((d) => d.touser === "una")!.msgid);
      const sent = { openId: "una", templateId: "TPL_SUB", msgid, errcode: 0 };
      // The unknown is noted in the background as it is recorded.
      let result = "";
      await until(
        async () => {
          result = await reconciler.confirmSent(sent);
          if (result === "unmatched") await rig.service.push!.kv.del(`pc:${msgid}`);
          return result !== "unmatched";
        },
        5_000,
        "the unknown to be noted",
      );
      assert.equal(result, "confirmed");
      assert.equal(
        await reconciler.confirmSent(sent),
        "duplicate",
        "WeChat's retry: nothing twice",
      );
      assert.equal(
        await reconciler.confirmSent({ ...sent, msgid: "999999" }),
        "unmatched",
        "no unknown delivery waits for it",
      );
      assert.equal(
        await reconciler.confirmSent({ ...sent, msgid: "1000000", errcode: 20003 }),
        "not_delivered",
      );

      const log = await readLog(rig.service.store);
      const failed = log.find((e) => e.type === "PushFailed")!.data as Json;
      const confirmed = log.filter((e) => e.type === "PushConfirmed");
      assert.equal(confirmed.length, 1);
      assert.deepEqual(confirmed[0].data, {
        errcode: 0,
        formId: failed.formId,
        msgid,
        openId: "una",
        pushId: report.pushId,
        templateId: "TPL_SUB",
      });
    } finally {
      await rig.close();
    }
  });
}
