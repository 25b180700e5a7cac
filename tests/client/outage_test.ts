/**
 * The mini-program client against the real service while its store is away: an upload answered
 * 503 (with `Retry-After`) keeps its formIds on the device, and once the store is back they are
 * sent again, after at least the wait the server asked for, and land once.
 */
import assert from "node:assert/strict";
import { startRig } from "../http/login_helpers.ts";
import { startOutageRig } from "../push/outage_rig.ts";
import { clientModule, DeviceStorage, eventually, ScriptedWx } from "./scripted_wx.ts";

Deno.test("client (redis): formIds answered 503 stay on the device and are sent once the store is back", async () => {
  const outage = await startOutageRig();
  const rig = await startRig("redis", {
    UPSTASH_REDIS_REST_URL: outage.upstash.url,
    UPSTASH_REDIS_REST_TOKEN: outage.upstash.token,
  });
  const storage = new DeviceStorage();
  const wx = new ScriptedWx({ storage, simUrl: rig.sim.url, user: "wen" });
  const errors: { status: number; retryAfterMs: number }[] = [];
  const client = clientModule.createClient({
    wx,
    baseUrl: rig.svc.url,
    minBackoffMs: 20,
    maxBackoffMs: 200,
    onError: (err: { status: number; retryAfterMs: number }) => errors.push(err),
  });
  try {
    await client.login();
    await outage.stopBridge();
    for (let i = 0; i < 10; i++) client.collect(`wen-${i}`);
    await eventually(() => errors.length > 0);
    assert.equal(errors[0].status, 503);
    assert.ok(errors[0].retryAfterMs >= 1000, "the server's Retry-After is heeded");
    assert.equal(client.pending().formIds, 10, "nothing is dropped on a 503");
    const failedAt = Date.now();

    await outage.startBridge();
    await eventually(() => client.pending().formIds === 0, 15_000);
    assert.ok(Date.now() - failedAt >= 900, "not before the Retry-After");
    const uploads = wx.calls("/v1/formids");
    assert.equal(uploads.at(-1)!.status, 200);
    const openId = (storage.get("formid-ledger:session") as { openId: string }).openId;
    const view = await rig.svc.ledger.view(openId);
    assert.equal(view.valid, 10, "each formId landed once");
  } finally {
    client.destroy();
    await wx.settle();
    await rig.close();
    await outage.close();
  }
});
