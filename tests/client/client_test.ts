/**
 * The mini-program client (client/formid-ledger.js) against the real service over HTTP, with a
 * scripted `wx` whose logins go through the WeChat simulator.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../src/shared/clock.ts";
import { ADMIN, call, type Rig, startRig, STORES } from "../http/login_helpers.ts";
import { clientModule, DeviceStorage, eventually, ScriptedWx } from "./scripted_wx.ts";

const DAY = 86_400_000;
const LIFE = 7 * DAY - 3_600_000;
const FAST = { minBackoffMs: 20, maxBackoffMs: 200 };

/** A device (storage + wx) for `user`, and a way to launch the app on it. */
function device(rig: Rig, user: string) {
  const storage = new DeviceStorage();
  const clients: { destroy(): void }[] = [];
  return {
    storage,
    /** Launches the app: a fresh client (and wx) over the device's storage. */
    launch(options: Record<string, unknown> = {}) {
      const wx = new ScriptedWx({ storage, simUrl: rig.sim.url, user });
      const client = clientModule.createClient({ wx, baseUrl: rig.svc.url, ...FAST, ...options });
      clients.push(client);
      return { wx, client };
    },
    /** Stops every client's timers (end of test). */
    shutdown() {
      for (const c of clients) c.destroy();
    },
  };
}

async function serverView(rig: Rig, openId: string) {
  return (await call(`${rig.svc.url}/v1/users/${openId}/credits`, "GET", undefined, ADMIN)).body;
}

const queued = (storage: DeviceStorage) =>
  (storage.get("formid-ledger:queue") || []) as { formId: string; collectedAt: number }[];

for (const store of STORES) {
  Deno.test(`client (${store}): submits are collected, batched by 10, and the next request sends the rest`, async () => {
    const rig = await startRig(store);
    const phone = device(rig, "alice");
    try {
      const { wx, client } = phone.launch();
      for (const placeholder of clientModule.PLACEHOLDERS) {
        assert.equal(client.collect(placeholder), false, "placeholders are skipped");
      }
      assert.equal(client.collect(""), false);
      assert.equal(client.collect("x".repeat(129)), false);
      const page = { data: "page" };
      let handled = 0;
      const onSubmit = client.wrapSubmit(function (this: unknown, e: unknown) {
        assert.equal(this, page, "the page's handler runs as the page");
        assert.ok(e);
        handled++;
      });
      const collectedAt = Date.now() - 2 * DAY;
      assert.equal(client.collect("f0", collectedAt), true);
      assert.equal(client.collect("f0"), false, "a waiting formId is not queued twice");
      for (let i = 1; i < 9; i++) onSubmit.call(page, { detail: { formId: `f${i}`, value: {} } });
      onSubmit.call(page, { detail: { formId: "the formId is a mock one" } });
      assert.equal(handled, 9);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(wx.calls("/v1/formids").length, 0, "nothing goes before 10 wait");
      assert.equal(queued(phone.storage).length, 9);

      onSubmit.call(page, { detail: { formId: "f9" } });
      await eventually(() => queued(phone.storage).length === 0);
      const uploads = wx.calls("/v1/formids");
      assert.equal(uploads.length, 1);
      assert.equal(uploads[0].body.formIds.length, 10);
      assert.equal(uploads[0].status, 200);
      assert.equal(wx.calls("/v1/sessions").length, 1);

      const openId = phone.storage.get("formid-ledger:session") as { openId: string };
      const view = await serverView(rig, (openId as { openId: string }).openId);
      assert.equal(view.valid, 10);
      const f0 = view.credits.find((c: { formId: string }) => c.formId === "f0");
      assert.equal(f0.expiresAt, collectedAt + LIFE, "each formId keeps its own collection time");

      // Below the batch size, the app's next request carries them.
      client.collect("g1");
      client.collect("g2");
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(wx.calls("/v1/formids").length, 1);
      const done = new Promise((resolve) =>
        client.request({ url: `${rig.svc.url}/healthz`, success: resolve })
      );
      await done;
      await eventually(() => queued(phone.storage).length === 0);
      assert.equal(wx.calls("/v1/formids").length, 2);
      const mine = await client.credits();
      assert.equal(mine.valid, 12);
      assert.equal(mine.byKind.form.credits, 12);
    } finally {
      phone.shutdown();
      await rig.close();
    }
  });

  Deno.test(`client (${store}): an app killed between collect and upload loses nothing`, async () => {
    const rig = await startRig(store);
    const phone = device(rig, "bob");
    try {
      // Killed with formIds waiting (fewer than a batch, so none was sent).
      const first = phone.launch();
      for (let i = 0; i < 5; i++) first.client.collect(`k${i}`);
      first.client.destroy();
      assert.equal(first.wx.sent.length, 0);

      // Killed while an upload is in flight: the server gets it, the app never hears back.
      const second = phone.launch({ batchSize: 100 });
      const { openId } = await second.client.login();
      for (let i = 5; i < 15; i++) second.client.collect(`k${i}`);
      second.wx.onSend = (r) => r.path === "/v1/formids" && second.client.destroy();
      second.client.flush();
      await eventually(() => second.wx.calls("/v1/formids").length === 1);
      await second.wx.settle();
      assert.equal(second.wx.calls("/v1/formids")[0].status, 200, "the upload reached the server");
      assert.equal((await serverView(rig, openId)).valid, 15);
      assert.equal(queued(phone.storage).length, 15, "all still stored on the device");

      // Next launch uploads everything; what landed already comes back as duplicates.
      const third = phone.launch();
      const left = await third.client.flush();
      assert.deepEqual(left, { formIds: 0, reports: 0 });
      const uploads = third.wx.calls("/v1/formids");
      assert.equal(uploads.length, 1);
      assert.equal(uploads[0].body.formIds.length, 15);
      const session = phone.storage.get("formid-ledger:session") as { openId: string };
      const view = await serverView(rig, session.openId);
      assert.deepEqual(
        view.credits.map((c: { formId: string }) => c.formId).sort(),
        Array.from({ length: 15 }, (_, i) => `k${i}`).sort(),
      );
      const events = await rig.svc.store.readEvents(0, 100);
      assert.equal(
        events.filter((e) => e.type === "FormIdCollected").length,
        15,
        "no double credit",
      );
    } finally {
      phone.shutdown();
      await rig.close();
    }
  });
}

Deno.test("client: offline, 5xx and 429 are retried with backoff; nothing is dropped", async () => {
  const rig = await startRig("memory", {
    RATE_LIMIT_PER_USER: "1",
    RATE_LIMIT_WINDOW_SECONDS: "2",
  });
  const phone = device(rig, "carol");
  try {
    const { wx, client } = phone.launch();
    await client.login();
    wx.offline = true;
    for (let i = 0; i < 10; i++) client.collect(`o${i}`);
    await eventually(() => wx.sent.filter((r) => r.status === "offline").length >= 3);
    assert.equal(queued(phone.storage).length, 10);
    wx.offline = false;
    wx.gateway = [502, 503];
    await eventually(() => queued(phone.storage).length === 0);
    assert.deepEqual(wx.sent.filter((r) => r.status === "gateway").length, 2);

    // The user's limit is 1 upload per 2 s window: the next batch meets a 429 and waits it out.
    await new Promise((r) => setTimeout(r, 2000 - (Date.now() % 2000) + 20));
    client.collect("p0");
    const firstTry = client.flush();
    await firstTry;
    for (let i = 1; i <= 10; i++) client.collect(`p${i}`);
    await eventually(() => wx.calls("/v1/formids").some((r) => r.status === 429), 3000);
    const refusedAt = Date.now();
    assert.ok(queued(phone.storage).length > 0);
    await eventually(() => queued(phone.storage).length === 0, 5000);
    assert.ok(Date.now() - refusedAt >= 500, "it waited for Retry-After");
    const session = phone.storage.get("formid-ledger:session") as { openId: string };
    assert.equal((await serverView(rig, session.openId)).valid, 21);
  } finally {
    phone.shutdown();
    await rig.close();
  }
});

Deno.test("client: an expired session is renewed with wx.login on 401", async () => {
  const clock = new ManualClock(Date.now());
  const rig = await startRig("memory", { SESSION_TTL_SECONDS: "600" }, clock);
  const phone = device(rig, "dave");
  try {
    const { wx, client } = phone.launch();
    await client.login();
    assert.equal(wx.logins, 1);
    clock.advance(3_600_000); // the server's clock: the token is dead; the phone's is not
    for (let i = 0; i < 10; i++) client.collect(`r${i}`);
    await eventually(() => queued(phone.storage).length === 0);
    assert.equal(wx.logins, 2);
    assert.deepEqual(wx.calls("/v1/formids").map((r) => r.status), [401, 200]);
  } finally {
    phone.shutdown();
    await rig.close();
  }
});

Deno.test("client: only what the server rejected is dropped", async () => {
  const rig = await startRig("memory");
  const phone = device(rig, "erin");
  try {
    const { wx, client } = phone.launch();
    client.collect("stale", Date.now() - 8 * DAY);
    for (let i = 0; i < 9; i++) client.collect(`s${i}`);
    await eventually(() => queued(phone.storage).length === 0);
    const [upload] = wx.calls("/v1/formids");
    assert.equal(upload.status, 200);
    const session = phone.storage.get("formid-ledger:session") as { openId: string };
    const view = await serverView(rig, session.openId);
    assert.equal(view.valid, 9);
    assert.ok(!view.credits.some((c: { formId: string }) => c.formId === "stale"));
  } finally {
    phone.shutdown();
    await rig.close();
  }
});

Deno.test("client: subscribe answers are reported once, even across a kill", async () => {
  const rig = await startRig("memory");
  const phone = device(rig, "fay");
  try {
    await call(`${rig.sim.url}/__sim/templates`, "POST", { ids: ["TPL_A", "TPL_B"] });
    const { wx, client } = phone.launch();
    wx.subscribeAnswers = { TPL_A: "accept", TPL_B: "reject" };
    const answers = await client.requestSubscribe(["TPL_A", "TPL_B"]);
    assert.equal(answers.TPL_A, "accept");
    await eventually(() =>
      ((phone.storage.get("formid-ledger:reports") || []) as unknown[]).length === 0 &&
      wx.calls("/v1/subscriptions").length === 1
    );
    assert.deepEqual(wx.calls("/v1/subscriptions")[0].body.results, {
      TPL_A: "accept",
      TPL_B: "reject",
    });

    // Killed while the next report is in flight: the relaunched app resends it; it counts once.
    wx.subscribeAnswers = { TPL_A: "accept" };
    wx.onSend = (r) => r.path === "/v1/subscriptions" && client.destroy();
    await client.requestSubscribe(["TPL_A"]);
    await eventually(() => wx.calls("/v1/subscriptions").length === 2);
    await wx.settle();
    assert.equal(wx.calls("/v1/subscriptions")[1].status, 200, "the report reached the server");
    assert.equal((phone.storage.get("formid-ledger:reports") as unknown[]).length, 1);
    const next = phone.launch();
    await next.client.flush();
    const resent = next.wx.calls("/v1/subscriptions");
    assert.equal(resent.length, 1);
    assert.equal(resent[0].status, 200);
    const session = phone.storage.get("formid-ledger:session") as { openId: string };
    const view = await serverView(rig, session.openId);
    assert.deepEqual(view.byTemplate, { TPL_A: { credits: 2, sends: 2 } });
    assert.deepEqual(next.client.pending(), { formIds: 0, reports: 0 });
  } finally {
    phone.shutdown();
    await rig.close();
  }
});

Deno.test("client: taps during a backoff wait for it; the app's next request cuts it short", async () => {
  const rig = await startRig("memory");
  const phone = device(rig, "gus");
  try {
    const { wx, client } = phone.launch({ minBackoffMs: 60_000, maxBackoffMs: 60_000 });
    await client.login();
    wx.offline = true;
    for (let i = 0; i < 10; i++) client.collect(`t${i}`);
    await eventually(() => wx.calls("/v1/formids").length === 1);
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 10; i < 30; i++) client.collect(`t${i}`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(wx.calls("/v1/formids").length, 1, "no attempt per tap while backing off");
    wx.offline = false;
    await new Promise((resolve) =>
      client.request({ url: `${rig.svc.url}/healthz`, success: resolve })
    );
    await eventually(() => queued(phone.storage).length === 0);
    assert.equal(wx.calls("/v1/formids").filter((r) => r.status === 200).length, 1);
  } finally {
    phone.shutdown();
    await rig.close();
  }
});

Deno.test("client: offline from launch, the login itself is retried until the network is back", async () => {
  const rig = await startRig("memory");
  const phone = device(rig, "hana");
  try {
    const { wx, client } = phone.launch();
    wx.offline = true;
    for (let i = 0; i < 10; i++) client.collect(`l${i}`);
    await eventually(() => wx.logins >= 3);
    assert.equal(wx.sent.length, 0, "nothing could be sent");
    assert.equal(queued(phone.storage).length, 10);
    wx.offline = false;
    await eventually(() => queued(phone.storage).length === 0);
    const session = phone.storage.get("formid-ledger:session") as { openId: string };
    assert.equal((await serverView(rig, session.openId)).valid, 10);
  } finally {
    phone.shutdown();
    await rig.close();
  }
});
