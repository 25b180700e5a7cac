import assert from "node:assert/strict";
import { call, login, startRig, STORES } from "./login_helpers.ts";

/** Every way a body, query or header might try to name a user. */
const USER_FIELDS = ["openId", "openid", "open_id", "touser", "user", "userId", "sub", "unionid"];

for (const store of STORES) {
  Deno.test(`impersonation (${store}): no field of a request adds credits to another openId`, async () => {
    const rig = await startRig(store);
    const url = rig.svc.url;
    try {
      const mallory = await login(rig, "mallory");
      const victim = await login(rig, "victim");
      const tries: { path: string; body: unknown; headers?: Record<string, string> }[] = [];
      for (const field of USER_FIELDS) {
        tries.push({
          path: "/v1/formids",
          body: { formIds: [`top-${field}`], [field]: victim.openId },
        });
        tries.push({
          path: "/v1/formids",
          body: { formIds: [{ formId: `item-${field}`, [field]: victim.openId }] },
        });
        tries.push({
          path: "/v1/subscriptions",
          body: { results: { [`TPL_${field}`]: "accept" }, [field]: victim.openId },
        });
        tries.push({
          path: `/v1/formids?${field}=${victim.openId}`,
          body: { formIds: [`query-${field}`] },
          headers: { [`x-${field}`]: victim.openId },
        });
      }
      // A second Authorization with the victim's token must not win over the first.
      tries.push({
        path: "/v1/formids",
        body: { formIds: ["two-tokens"] },
        headers: { authorization: `Bearer ${mallory.token}, Bearer ${victim.token}` },
      });
      // The admin-only endpoint is not reachable with a session token either.
      const prepay = await call(`${url}/v1/credits`, "POST", {
        openId: victim.openId,
        kind: "prepay",
        id: "wx-by-mallory",
      }, mallory.token);
      assert.equal(prepay.status, 401);

      for (const t of tries) {
        const reply = await call(`${url}${t.path}`, "POST", t.body, mallory.token, t.headers);
        assert.ok(reply.status < 500, `${t.path}: ${reply.status}`);
      }
      assert.equal((await rig.svc.ledger.view(victim.openId)).valid, 0, "the victim got nothing");
      // What did land, landed on mallory: the query/header tries and the item-level ones refused.
      const own = (await rig.svc.ledger.view(mallory.openId)).credits.map((c) => c.formId).sort();
      assert.deepEqual(own, USER_FIELDS.map((f) => `query-${f}`).sort());
      // Every event in the log names mallory, never the victim.
      const events = await rig.svc.store.readEvents(0, 1000);
      assert.ok(events.length > 0);
      for (const e of events) assert.equal((e.data as { openId: string }).openId, mallory.openId);
    } finally {
      await rig.close();
    }
  });
}
