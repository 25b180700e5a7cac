/**
 * Silent collection in the mini-program client: taps wrapped with `ledger.wrapTap` ask
 * `wx.requestSubscribeMessage` only for templates the user keeps as "always accept" (WeChat then
 * answers with no dialog), never for kept reject or ban, never with the main switch off, never
 * more than the cap per tap nor more often than the interval. A scripted `wx` backed by the WeChat
 * simulator answers; the credits go to the real service, and the simulator's grants agree.
 */
import assert from "node:assert/strict";
import { ADMIN, call, type Rig, startRig, STORES } from "../http/login_helpers.ts";
import { clientModule, DeviceStorage, eventually, ScriptedWx } from "./scripted_wx.ts";

const KW = [{ key: "thing1" }];
const TEMPLATES = ["T1", "T2", "T3", "T4"].map((id) => ({
  id,
  title: `title ${id}`,
  keywords: KW,
}));

/** A rig with four one-time templates, and a device for `user` on it. */
async function setup(
  store: "memory" | "redis",
  user: string,
  options: Record<string, unknown> = {},
) {
  const rig = await startRig(store);
  await call(`${rig.sim.url}/__sim/templates`, "POST", { templates: TEMPLATES });
  const storage = new DeviceStorage();
  const clients: { destroy(): void }[] = [];
  const launch = (more: Record<string, unknown> = {}) => {
    const wx = new ScriptedWx({ storage, simUrl: rig.sim.url, user });
    const client = clientModule.createClient({
      wx,
      baseUrl: rig.svc.url,
      minBackoffMs: 20,
      maxBackoffMs: 200,
      minTapIntervalMs: 0,
      ...options,
      ...more,
    });
    clients.push(client);
    return { wx, client };
  };
  return {
    rig,
    storage,
    launch,
    /** Sets the user's kept choices and main switch in the simulated WeChat. */
    keep: (body: Record<string, unknown>) =>
      call(`${rig.sim.url}/__sim/settings`, "POST", { user, ...body }),
    async close() {
      for (const c of clients) c.destroy();
      await rig.close();
    },
  };
}

/** The service's per-template credits and the simulator's grants for the device's user. */
async function counts(rig: Rig, openId: string) {
  const view = (await call(`${rig.svc.url}/v1/users/${openId}/credits`, "GET", undefined, ADMIN))
    .body;
  const stats = (await call(`${rig.sim.url}/__sim/stats`, "GET")).body;
  const service: Record<string, number> = {};
  for (const [id, t] of Object.entries(view.byTemplate ?? {})) {
    service[id] = (t as { credits: number }).credits;
  }
  return { service, sim: (stats.grants[openId] ?? {}) as Record<string, number> };
}

const reportsLeft = (storage: DeviceStorage) =>
  ((storage.get("formid-ledger:reports") || []) as unknown[]).length;

for (const store of STORES) {
  Deno.test(`silent collection (${store}): after "always keep" is ticked, each tap yields a credit with no dialog; service and simulator agree`, async () => {
    const t = await setup(store, "alice");
    try {
      const { wx, client } = t.launch();
      const { openId } = await client.login();
      // The one dialog: the user accepts T1, declines T2, and ticks "always keep".
      wx.subscribeAnswers = { T1: "accept" };
      wx.keepChoice = true;
      await client.requestSubscribe(["T1", "T2"]);
      assert.deepEqual(wx.dialogs, [["T1", "T2"]]);
      await eventually(() => client.keptSettings()?.itemSettings.T1 === "accept");
      assert.deepEqual(client.keptSettings().itemSettings, { T1: "accept", T2: "reject" });

      const page = { name: "order" };
      let handled = 0;
      const onBuy = client.wrapTap(function (this: unknown, e: { id: number }) {
        assert.equal(this, page, "the page's handler runs as the page");
        handled += e.id;
        return "handled";
      }, { tmplIds: ["T1", "T2"] });
      for (let i = 0; i < 5; i++) assert.equal(onBuy.call(page, { id: 1 }), "handled");
      assert.equal(handled, 5);
      assert.deepEqual(wx.subscribeCalls.slice(1), [["T1"], ["T1"], ["T1"], ["T1"], ["T1"]]);
      await eventually(() =>
        reportsLeft(t.storage) === 0 && wx.calls("/v1/subscriptions").length === 6
      );
      await wx.settle();
      assert.deepEqual(wx.dialogs, [["T1", "T2"]], "no dialog after the first");
      assert.deepEqual(await counts(t.rig, openId), {
        service: { T1: 6 },
        sim: { T1: 6 },
      });
    } finally {
      await t.close();
    }
  });
}

Deno.test("silent collection: templates kept as reject or ban are never asked; main switch off asks nothing", async () => {
  const t = await setup("memory", "bob");
  try {
    await t.keep({ items: { T1: "reject", T2: "ban", T3: "accept" } });
    const { wx, client } = t.launch();
    await client.loadSettings();
    const tap = client.wrapTap(() => {}, { tmplIds: ["T1", "T2"] });
    assert.deepEqual(client.collectSilently(["T1", "T2"]), []);
    tap();
    assert.deepEqual(wx.subscribeCalls, [], "reject and ban are never asked");
    // Without tmplIds every kept accept is collected, and only those.
    assert.deepEqual(client.collectSilently(), ["T3"]);
    await eventually(() => wx.calls("/v1/subscriptions").length === 1);
    await wx.settle();
    assert.deepEqual(wx.calls("/v1/subscriptions")[0].body.results, { T3: "accept" });

    // The user turns subscription messages off; once read, nothing is asked.
    await t.keep({ mainSwitch: false });
    await client.loadSettings();
    assert.deepEqual(client.collectSilently(), []);
    assert.equal(wx.subscribeCalls.length, 1);

    // Settings read before the switch went off: WeChat refuses (20004) and the client stops.
    await t.keep({ mainSwitch: true });
    await client.loadSettings();
    await t.keep({ mainSwitch: false });
    const errors: Error[] = [];
    const { wx: wx2, client: stale } = t.launch({ onError: (e: Error) => errors.push(e) });
    assert.deepEqual(stale.collectSilently(), ["T3"], "the stored settings say on");
    await eventually(() => errors.length === 1);
    assert.equal(stale.keptSettings().mainSwitch, false);
    assert.deepEqual(stale.collectSilently(), []);
    assert.equal(wx2.subscribeCalls.length, 1);
    assert.deepEqual(wx2.dialogs, []);
    await wx2.settle();
    assert.equal(wx2.calls("/v1/subscriptions").length, 0);
  } finally {
    await t.close();
  }
});

Deno.test("silent collection: at most the cap of templates per tap (never over WeChat's 3), and not within the interval", async () => {
  const t = await setup("memory", "carol");
  try {
    await t.keep({ items: { T1: "accept", T2: "accept", T3: "accept", T4: "accept" } });
    let now = 1_000_000;
    const { wx, client } = t.launch({
      maxTemplatesPerTap: 2,
      minTapIntervalMs: 1000,
      now: () => now,
    });
    await client.loadSettings();
    const tap = client.wrapTap(undefined, { tmplIds: ["T1", "T2", "T3", "T4"] });
    tap();
    now += 500;
    tap(); // within the interval: nothing
    now += 500;
    tap();
    assert.deepEqual(wx.subscribeCalls, [["T1", "T2"], ["T1", "T2"]]);

    const { wx: wide, client: greedy } = t.launch({ maxTemplatesPerTap: 10 });
    await greedy.loadSettings();
    assert.deepEqual(greedy.collectSilently(["T1", "T2", "T3", "T4"]), ["T1", "T2", "T3"]);
    assert.deepEqual(wide.subscribeCalls, [["T1", "T2", "T3"]]);
    await eventually(() => reportsLeft(t.storage) === 0);
    await wx.settle();
    await wide.settle();
    const { openId } = await client.session();
    assert.deepEqual(await counts(t.rig, openId), {
      service: { T1: 3, T2: 3, T3: 1 },
      sim: { T1: 3, T2: 3, T3: 1 },
    });
  } finally {
    await t.close();
  }
});

Deno.test("silent collection: acceptWithAudio counts, in a dialog and kept; newer accept variants are reported as accepts", async () => {
  const t = await setup("memory", "dora");
  try {
    const { wx, client } = t.launch();
    wx.subscribeAnswers = { T1: "acceptWithAudio" };
    wx.keepChoice = true;
    const answer = await client.requestSubscribe(["T1"]);
    assert.equal(answer.T1, "acceptWithAudio");
    await eventually(() => client.keptSettings()?.itemSettings.T1 === "acceptWithAudio");
    assert.deepEqual(client.collectSilently(["T1"]), ["T1"], "a kept accept variant is an accept");
    await eventually(() =>
      reportsLeft(t.storage) === 0 && wx.calls("/v1/subscriptions").length === 2
    );
    await wx.settle();
    const reports = wx.calls("/v1/subscriptions");
    assert.deepEqual(reports.map((r) => [r.body.results, r.status]), [
      [{ T1: "acceptWithAudio" }, 200],
      [{ T1: "acceptWithAudio" }, 200],
    ]);
    const { openId } = await client.session();
    assert.deepEqual(await counts(t.rig, openId), { service: { T1: 2 }, sim: { T1: 2 } });
    assert.equal(clientModule.reportedAnswer("acceptWithForcePush"), "accept");
    assert.equal(clientModule.reportedAnswer("acceptWithAlert"), "acceptWithAlert");
    assert.equal(clientModule.reportedAnswer("maybe"), null);
  } finally {
    await t.close();
  }
});

Deno.test("silent collection: the first tap before any settings asks nothing but reads them; a relaunch uses the stored ones", async () => {
  const t = await setup("memory", "erin");
  try {
    await t.keep({ items: { T2: "accept" } });
    const { wx, client } = t.launch();
    assert.deepEqual(client.collectSilently(["T2"]), []);
    await eventually(() => client.keptSettings() !== null);
    assert.equal(wx.settingReads, 1);
    assert.deepEqual(wx.subscribeCalls, []);
    client.destroy();
    await wx.settle();

    const next = t.launch();
    assert.deepEqual(next.client.collectSilently(["T2"]), ["T2"], "stored settings, no read first");
    await eventually(() =>
      reportsLeft(t.storage) === 0 && next.wx.calls("/v1/subscriptions").length === 1
    );
    await next.wx.settle();
    assert.deepEqual(next.wx.dialogs, []);
  } finally {
    await t.close();
  }
});
