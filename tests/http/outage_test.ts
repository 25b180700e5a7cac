/**
 * A store outage is answered 503 with `Retry-After` in the error shape, never 500: uploads
 * (formIds, subscriptions) while the Upstash REST endpoint is down, and pushes, which are
 * refused before they take a credit.
 */
import assert from "node:assert/strict";
import { issueSession } from "../../src/http/middleware/session_token.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { TEST_ENV } from "../helpers/service.ts";
import { ORDER, startPushRig } from "../push/rig.ts";
import { startOutageRig } from "../push/outage_rig.ts";

Deno.test("outage (redis): uploads and pushes answer 503 with Retry-After; a push takes nothing", async () => {
  const outage = await startOutageRig();
  const rig = await startPushRig("redis", {
    UPSTASH_REDIS_REST_URL: outage.upstash.url,
    UPSTASH_REDIS_REST_TOKEN: outage.upstash.token,
  });
  try {
    await rig.give("vic", "f-vic-1");
    await rig.service.push!.tokens.get();
    const { token } = await issueSession("vic", TEST_ENV.SESSION_SECRET, 600, systemClock);
    const session = { "content-type": "application/json", authorization: `Bearer ${token}` };
    await outage.stopBridge();

    const uploads = [
      ["/v1/formids", { formIds: ["f-vic-2"] }],
      ["/v1/subscriptions", { results: { TPL_SUB: "accept" }, reportId: "r1" }],
    ] as const;
    for (const [path, body] of uploads) {
      const res = await fetch(`${rig.service.url}${path}`, {
        method: "POST",
        headers: session,
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 503, path);
      assert.ok(Number(res.headers.get("retry-after")) >= 1, path);
      assert.equal((await res.json()).error.code, "store_unavailable");
    }
    for (let i = 0; i < 2; i++) { // the first finds the store gone, the second is refused at once
      const res = await rig.call("/v1/push", { openId: "vic", ...ORDER });
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get("retry-after")) >= 1);
      assert.equal((await res.json()).error.code, "store_unavailable");
    }

    await outage.startBridge();
    assert.equal((await rig.stats()).sendsAccepted, 0, "nothing was sent");
    assert.equal((await rig.service.ledger.view("vic")).valid, 1, "the credit is still there");
    const res = await rig.call("/v1/push", { openId: "vic", ...ORDER });
    assert.equal((await res.json()).status, "sent", "pushes work again once the store is back");
  } finally {
    await rig.close();
    await outage.close();
  }
});
