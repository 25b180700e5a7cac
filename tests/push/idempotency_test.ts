/** Idempotency-Key on POST /v1/push: a replay returns the first outcome and sends nothing. */
import assert from "node:assert/strict";
import { type Json, ORDER, startPushRig } from "./rig.ts";

for (const store of ["redis", "memory"] as const) {
  Deno.test(`push (${store}): Idempotency-Key replay returns the first outcome`, async () => {
    const rig = await startPushRig(store, {}, 30);
    try {
      await rig.give("amy", "f-amy-1");
      await rig.give("amy", "f-amy-2");
      const body = { openId: "amy", ...ORDER };
      const headers = { "idempotency-key": "order-42-shipped" };
      // Two at once: one sends, the other is told the first is in progress.
      const [x, y] = await Promise.all([
        rig.call("/v1/push", body, headers),
        rig.call("/v1/push", body, headers),
      ]);
      const statuses = [x.status, y.status].sort();
      assert.deepEqual(statuses, [200, 409]);
      const first = (x.status === 200 ? await x.json() : await y.json()) as Json;
      await (x.status === 200 ? y : x).body?.cancel();
      assert.equal(first.status, "sent");

      const replay = await rig.call("/v1/push", body, headers);
      assert.equal(replay.status, 200);
      assert.equal(replay.headers.get("idempotent-replayed"), "true");
      assert.deepEqual(await replay.json(), first);
      assert.equal((await rig.stats()).sendsAccepted, 1, "the replay sent nothing");
      assert.equal((await rig.service.ledger.view("amy")).valid, 1);

      const other = await rig.call("/v1/push", { ...body, page: "pages/x" }, headers);
      assert.equal(other.status, 422);
      assert.equal((await other.json()).error.code, "idempotency_key_reused");

      const fresh = await rig.call("/v1/push", body, { "idempotency-key": "order-43" });
      assert.equal((await fresh.json()).status, "sent");
      assert.equal((await rig.stats()).sendsAccepted, 2);
      const badKey = await rig.call("/v1/push", body, { "idempotency-key": "has space" });
      assert.equal(badKey.status, 400);
      await badKey.body?.cancel();
    } finally {
      await rig.close();
    }
  });
}
