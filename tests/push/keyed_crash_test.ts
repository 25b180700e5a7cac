/**
 * A keyed `POST /v1/push` whose instance is killed mid-call (WeChat has the request, no answer
 * came back): the client retries with the same Idempotency-Key on another instance, which finds
 * the push's state in the ledger (its id comes from the key) and answers `unknown` instead of
 * spending a second credit: no second message. A keyed push whose first instance died before it
 * took a credit is simply delivered by the retry.
 */
import assert from "node:assert/strict";
import { ORDER, readLog, startPushRig } from "./rig.ts";
import { startInstance, until } from "./instances.ts";
import { TEST_ENV } from "../helpers/service.ts";
import { readMessage } from "../../src/http/routes/push_input.ts";

async function simState(url: string): Promise<{ inFlight: number }> {
  return await (await fetch(`${url}/__sim/stats?brief=1`)).json();
}

const ENV = {
  WORKER_ENABLED: "off",
  WECHAT_TIMEOUT_MS: "3000",
  PUSH_MAX_ATTEMPTS: "1",
  PUSH_MAX_CREDITS: "1",
};

async function push(url: string, openId: string, key: string): Promise<Response> {
  return await fetch(`${url}/v1/push`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}`,
      "content-type": "application/json",
      "idempotency-key": key,
    },
    body: JSON.stringify({ openId, ...ORDER }),
  });
}

/** Retries like a client would: while the first run is "in progress", wait and try again. */
async function retry(url: string, openId: string, key: string): Promise<Response> {
  for (const end = Date.now() + 30_000;;) {
    const res = await push(url, openId, key);
    if (res.status !== 409 || Date.now() > end) return res;
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 250));
  }
}

Deno.test("push (redis): keyed push, instance killed mid-call, retried elsewhere: no second message", async () => {
  const rig = await startPushRig("redis", ENV, 1500);
  const a = await startInstance(rig, ENV);
  const b = await startInstance(rig, ENV);
  try {
    await rig.give("kim", "f-kim-1");
    await rig.give("kim", "f-kim-2");
    // The first instance holds an access token already: its next call is the send itself.
    await rig.give("zed", "f-zed-1");
    assert.equal((await (await push(a.url, "zed", "warm-up")).json()).status, "sent");
    const first = push(a.url, "kim", "order-7-shipped").catch(() => null);
    // The request is at WeChat (the simulator holds it for its latency): kill the instance.
    await until(async () => (await simState(rig.sim.url)).inFlight > 0, 5_000, "the send");
    await a.kill();
    await first;

    const res = await retry(b.url, "kim", "order-7-shipped");
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, "failed");
    assert.equal(body.class, "unknown");
    assert.equal(body.errcode, -1004);
    // Wait past the first call's latency: WeChat got at most that one message.
    await new Promise((r) => setTimeout(r, 1200));
    const sends = Object.values((await rig.stats()).sends.kim ?? {}).reduce((x, y) => x + y, 0);
    assert.ok(sends <= 1, `kim got ${sends} messages`);
    assert.equal((await rig.service.ledger.view("kim")).valid, 1, "one credit spent, not two");
    const again = await push(b.url, "kim", "order-7-shipped");
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.deepEqual(await again.json(), body);
  } finally {
    await a.kill();
    await b.kill();
    await rig.close();
  }
});

Deno.test("push (redis): keyed push whose instance died before taking a credit is delivered by the retry", async () => {
  const rig = await startPushRig("redis", ENV, 10);
  const b = await startInstance(rig, ENV);
  try {
    await rig.give("lou", "f-lou-1");
    // A lost first run: its pending record is there, its push took nothing.
    const body = JSON.stringify({ openId: "lou", message: readMessage({ ...ORDER }) });
    void rig.service.push!.idempotency.run("push", "order-8", body, () => new Promise(() => {}));
    const res = await retry(b.url, "lou", "order-8");
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "sent");
    const sends = Object.values((await rig.stats()).sends.lou ?? {}).reduce((x, y) => x + y, 0);
    assert.equal(sends, 1);
    const log = await readLog(rig.service.store);
    assert.equal(log.filter((e) => e.type === "PushSucceeded").length, 1);
  } finally {
    await b.kill();
    await rig.close();
  }
});
