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

for (const store of ["memory", "redis"] as const) {
  Deno.test(`push (${store}): concurrent notes and sent events: none lost, none matched twice`, async () => {
    const rig = await startPushRig(store);
    try {
      const { reconciler, kv } = rig.service.push!;
      const N = 20;
      // Twenty sends to one user and template time out at once: every one is noted.
      await Promise.all(
        Array.from({ length: N }, (_, i) =>
          reconciler.noteUnknown({
            openId: "vic",
            templateId: "TPL_SUB",
            pushId: `p-${i}`,
            formId: `s-vic-${i}`,
          })),
      );
      // A note repeated (a retried record) adds nothing.
      await reconciler.noteUnknown({ openId: "vic", templateId: "TPL_SUB", pushId: "p-3" });
      assert.equal(JSON.parse((await kv.get("unk:vic:TPL_SUB"))!).length, N);

      // WeChat's sent events for them arrive together, each with its own msgid, one repeated.
      const sent = (i: number) => ({
        openId: "vic",
        templateId: "TPL_SUB",
        msgid: String(7000 + i),
        errcode: 0,
      });
      const results = await Promise.all([
        ...Array.from({ length: N }, (_, i) => reconciler.confirmSent(sent(i))),
        reconciler.confirmSent(sent(5)),
      ]);
      assert.equal(results.filter((r) => r === "confirmed").length, N, JSON.stringify(results));
      assert.equal(results.filter((r) => r === "duplicate").length, 1);
      assert.equal(await reconciler.confirmSent(sent(N)), "unmatched", "none waits any more");
      assert.equal(await kv.get("unk:vic:TPL_SUB"), null, "the emptied list is gone");

      const confirmed = (await readLog(rig.service.store))
        .filter((e) => e.type === "PushConfirmed").map((e) => e.data as Json);
      assert.equal(confirmed.length, N);
      assert.deepEqual(
        confirmed.map((d) => d.pushId).sort(),
        Array.from({ length: N }, (_, i) => `p-${i}`).sort(),
        "each unknown delivery confirmed exactly once",
      );
      assert.equal(new Set(confirmed.map((d) => d.msgid)).size, N, "each msgid once");
    } finally {
      await rig.close();
    }
  });
}
