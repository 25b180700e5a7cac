/**
 * WeChat's popup events arriving together (signed, encrypted, over HTTP) are coalesced into
 * shared store calls, and each is still its own: every push answered `success` and credited
 * once, WeChat's retry of an event (same CreateTime, a new signature) recorded once, an exact
 * replay refused (409), and the log verifies and replays into the live projection.
 */
import assert from "node:assert/strict";
import { auditStore } from "../../src/audit/audit.ts";
import type { AnswerRequest } from "../../src/ledger/answer_rules.ts";
import { postPush, signedPush } from "../../tools/wechat_sim_events.ts";
import { popup, PUSH, startSubRig } from "./rig.ts";

for (const store of ["memory", "redis"] as const) {
  Deno.test(`subscribe (${store}): concurrent popup events, coalesced, each credited once`, async () => {
    const rig = await startSubRig(store);
    try {
      const calls: AnswerRequest[][] = [];
      const answerMany = rig.svc.store.answerMany.bind(rig.svc.store);
      rig.svc.store.answerMany = (requests, now) => {
        calls.push(requests);
        return answerMany(requests, now);
      };
      const t0 = Math.floor(Date.now() / 1000);
      const users = Array.from(
        { length: 40 },
        (_, i) => `oConcurrent${String(i).padStart(17, "0")}`,
      );
      const settings = { ...PUSH, appid: rig.sim.state.appid };
      const push = (i: number) =>
        signedPush(
          popup(["TPL_ONE", "accept"]),
          { openId: users[i], createTime: t0 - i },
          settings,
        );
      const pushes = users.map((_, i) => push(i));
      // WeChat's retries of ten events (new nonce and signature), and five exact replays.
      const retries = users.slice(0, 10).map((_, i) => push(i));
      const replays = pushes.slice(10, 15);
      const url = `${rig.svc.url}/v1/wechat/events`;
      const answers = await Promise.all(
        [...pushes, ...retries, ...replays].map(async (p) => (await postPush(url, p))[0]),
      );
      const fresh = answers.slice(0, 50);
      assert.ok(fresh.every((a) => a.body === "success"), JSON.stringify(fresh));
      // Each exact replay: one of the two posts got in, the other is refused as a replay.
      for (let k = 0; k < 5; k++) {
        const pair = [answers[10 + k], answers[50 + k]].map((a) => a.status).sort();
        assert.deepEqual(pair, [200, 409]);
      }
      for (const openId of users) {
        const view = await rig.svc.ledger.view(openId);
        assert.equal(view.valid, 1, `${openId} holds one credit`);
      }
      const log = await rig.log();
      assert.equal(log.filter((e) => e.type === "FormIdCollected").length, 40);
      assert.equal(log.filter((e) => e.type === "SubscriptionAnswered").length, 40);
      const reports = calls.reduce((n, c) => n + c.length, 0);
      assert.equal(reports, 50, "every push that got past the replay guard was answered");
      if (store === "redis") {
        assert.ok(calls.length < reports, `coalesced: ${calls.map((c) => c.length)}`);
      }
      assert.equal(await rig.svc.store.unsealed(), 0);
      const { verify, comparison } = await auditStore(rig.svc.store, {
        replay: true,
        now: Date.now(),
      });
      assert.equal(verify.ok, true, verify.break?.message);
      assert.equal(comparison?.mismatches, 0);
      assert.ok((comparison?.users ?? 0) >= 40);
    } finally {
      await rig.close();
    }
  });
}
