/** 200 concurrent POST /v1/push for one user with 20 credits send exactly 20 messages. */
import assert from "node:assert/strict";
import { auditCredits, type Json, ORDER, readLog, startPushRig } from "./rig.ts";

for (const store of ["redis", "memory"] as const) {
  Deno.test(`push (${store}): 200 concurrent pushes, 20 credits: exactly 20 sent`, async () => {
    const rig = await startPushRig(store, {}, 5);
    try {
      for (let i = 0; i < 20; i++) await rig.give("zoe", `f-zoe-${i}`);
      const results = await Promise.all(
        Array.from({ length: 200 }, async () => {
          const res = await rig.call("/v1/push", { openId: "zoe", ...ORDER });
          return await res.json() as Json;
        }),
      );
      const count = (status: string) => results.filter((r) => r.status === status).length;
      assert.equal(count("sent"), 20);
      assert.equal(count("no_credit"), 180);
      const stats = await rig.stats();
      assert.equal(stats.sendsAccepted, 20);
      assert.equal(Object.keys(stats.sends.zoe).length, 20);
      assert.ok(Object.values(stats.sends.zoe).every((n) => n === 1), "no credit sent twice");
      assert.equal((await rig.service.ledger.view("zoe")).valid, 0);
      const { unsettled, fates } = auditCredits(await readLog(rig.service.store));
      assert.deepEqual(unsettled, []);
      assert.deepEqual(fates, { sent: 20 });
    } finally {
      await rig.close();
    }
  });
}
