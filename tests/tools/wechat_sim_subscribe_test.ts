/**
 * The simulator's subscriptions over real HTTP: accepts counted as grants in the same call that
 * pushes the popup event, long-term templates and revocation, sent events, the pusher's retries
 * and duplicates, and "always keep" choices with the main switch. A small receiver stands in for
 * the service; every push it keeps passed the real openPush (signature, decryption, appid).
 */
import assert from "node:assert/strict";
import type { PushMessage } from "../../src/wechat/event_push/events.ts";
import type { PushMode } from "../../src/wechat/event_push/open.ts";
import { startWeChatSim } from "../../tools/wechat_sim.ts";
import { type PushReceiver, startPushReceiver } from "./push_receiver.ts";

const TOKEN = "simToken42";
const KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
const APPID = "wx_sim_appid";
type Json = Record<string, unknown>;
type Sim = Awaited<ReturnType<typeof startWeChatSim>>;

async function call(url: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** A sim with a one-time, a long-term and a same-titled template, pushing to a receiver. */
async function withRig(
  fn: (sim: Sim, rx: PushReceiver) => Promise<void>,
  push: { mode?: PushMode; format?: "json" | "xml"; extra?: Json } = {},
) {
  const mode = push.mode ?? "safe";
  const sim = await startWeChatSim();
  const rx = await startPushReceiver({ token: TOKEN, appid: APPID, mode, encodingAESKey: KEY });
  try {
    const kw = [{ key: "thing1" }];
    await call(`${sim.url}/__sim/templates`, {
      templates: [
        { id: "T_ONCE", title: "Order shipped", type: 2, keywords: kw },
        { id: "T_ONCE2", title: "Refund", type: 2, keywords: kw },
        { id: "T_SAME", title: "Order shipped", type: 2, keywords: kw },
        { id: "T_LONG", title: "Flight delayed", type: 3, keywords: kw },
      ],
    });
    const config = await call(`${sim.url}/__sim/push-config`, {
      url: rx.url,
      token: TOKEN,
      encodingAESKey: KEY,
      mode,
      format: push.format ?? "json",
      ...push.extra,
    });
    assert.equal(config.status, 200, JSON.stringify(config.body));
    await fn(sim, rx);
  } finally {
    await sim.close();
    await rx.close();
  }
}

const token = async (sim: Sim) =>
  (await call(
    `${sim.url}/cgi-bin/token?grant_type=client_credential&appid=${APPID}&secret=sim_secret`,
  )).body.access_token as string;
const send = async (sim: Sim, openid: string, templateId: string) =>
  (await call(`${sim.url}/cgi-bin/message/subscribe/send?access_token=${await token(sim)}`, {
    touser: openid,
    template_id: templateId,
    data: { thing1: { value: "on its way" } },
  })).body;
const subscribe = (sim: Sim, body: Json) => call(`${sim.url}/__sim/subscribe`, body);
const stats = async (sim: Sim) => (await call(`${sim.url}/__sim/stats`)).body;
const pushes = async (sim: Sim) => (await call(`${sim.url}/__sim/pushes?wait=1`)).body;
const itemsOf = (m: PushMessage): unknown[] => m.event === "other" ? [] : m.items;

for (const [mode, format] of [["safe", "json"], ["plain", "xml"], ["compatible", "xml"]] as const) {
  Deno.test(`sim subscribe (${mode}, ${format}): accepts are grants and popup events of the same call; sends spend them and push sent events`, () =>
    withRig(async (sim, rx) => {
      const first = await subscribe(sim, {
        user: "alice",
        tmplIds: ["T_ONCE", "T_ONCE2"],
        answers: { T_ONCE: "accept", T_ONCE2: "reject" },
      });
      assert.equal(first.status, 200);
      const openid = first.body.openid as string;
      assert.deepEqual(first.body.result, {
        errMsg: "requestSubscribeMessage:ok",
        T_ONCE: "accept",
        T_ONCE2: "reject",
      });
      assert.deepEqual(first.body.dialog, ["T_ONCE", "T_ONCE2"]);
      // acceptWithAudio (one template asked) is an accept too.
      await subscribe(sim, {
        user: "alice",
        tmplIds: ["T_ONCE"],
        answers: { T_ONCE: "acceptWithAudio" },
      });
      assert.deepEqual((await stats(sim)).grants, { [openid]: { T_ONCE: 2 } });

      // The receiver got both popup events, verified, from the same accepts.
      assert.deepEqual(rx.received.map((m) => [m.event, m.event !== "other" && m.openId]), [
        ["subscribe_msg_popup_event", openid],
        ["subscribe_msg_popup_event", openid],
      ]);
      assert.deepEqual(rx.received.flatMap(itemsOf), [
        { templateId: "T_ONCE", status: "accept", popupScene: "0" },
        { templateId: "T_ONCE2", status: "reject", popupScene: "0" },
        { templateId: "T_ONCE", status: "acceptWithAudio", popupScene: "0" },
      ]);

      const a = await send(sim, openid, "T_ONCE");
      const b = await send(sim, openid, "T_ONCE");
      assert.equal(a.errcode, 0);
      assert.equal(b.errcode, 0);
      assert.equal((await send(sim, openid, "T_ONCE")).errcode, 43101);
      assert.equal((await send(sim, openid, "T_ONCE2")).errcode, 43101, "a reject grants nothing");
      await pushes(sim);
      const sent = rx.received.filter((m) => m.event === "subscribe_msg_sent_event");
      assert.deepEqual(sent.flatMap(itemsOf), [
        { templateId: "T_ONCE", msgId: String(a.msgid), errorCode: 0, errorStatus: "success" },
        { templateId: "T_ONCE", msgId: String(b.msgid), errorCode: 0, errorStatus: "success" },
      ]);
    }, { mode, format }));
}

Deno.test("sim subscribe: a long-term template is on until revoked; a revocation pushes a change event and sends answer 43101", () =>
  withRig(async (sim, rx) => {
    const { body } = await subscribe(sim, {
      user: "bob",
      tmplIds: ["T_LONG"],
      answers: { T_LONG: "accept" },
    });
    const openid = body.openid as string;
    for (let i = 0; i < 5; i++) assert.equal((await send(sim, openid, "T_LONG")).errcode, 0);
    const s = await stats(sim);
    assert.deepEqual(s.longTerm, { [openid]: ["T_LONG"] });
    assert.deepEqual(s.grants, {}, "a long-term accept is no countable grant");

    // One-time grants are dropped by a revocation as well.
    await subscribe(sim, { user: "bob", tmplIds: ["T_ONCE"], answers: { T_ONCE: "accept" } });
    await subscribe(sim, { user: "bob", tmplIds: ["T_ONCE"], answers: { T_ONCE: "accept" } });
    const revoked = await call(`${sim.url}/__sim/revoke`, {
      user: "bob",
      templateIds: ["T_LONG", "T_ONCE"],
    });
    assert.deepEqual(revoked.body.dropped, { T_LONG: 0, T_ONCE: 2 });
    assert.equal((await send(sim, openid, "T_LONG")).errcode, 43101);
    assert.equal((await send(sim, openid, "T_ONCE")).errcode, 43101);
    const change = rx.received.filter((m) => m.event === "subscribe_msg_change_event");
    assert.equal(change.length, 1);
    assert.deepEqual(itemsOf(change[0]), [
      { templateId: "T_LONG", status: "reject" },
      { templateId: "T_ONCE", status: "reject" },
    ]);
    const settings = await call(`${sim.url}/__sim/settings?user=bob`);
    assert.deepEqual(settings.body.itemSettings, { T_LONG: "reject", T_ONCE: "reject" });
    // A new accept brings the long-term template back.
    await subscribe(sim, { user: "bob", tmplIds: ["T_LONG"], answers: { T_LONG: "accept" } });
    assert.equal(
      (await send(sim, openid, "T_LONG")).errcode,
      43101,
      "kept reject: no dialog, no grant",
    );
    await call(`${sim.url}/__sim/settings`, { user: "bob", items: { T_LONG: null } });
    await subscribe(sim, { user: "bob", tmplIds: ["T_LONG"], answers: { T_LONG: "accept" } });
    assert.equal((await send(sim, openid, "T_LONG")).errcode, 0);
  }));

Deno.test("sim pusher: retried up to 3 times when the service does not answer success; duplicates on demand", () =>
  withRig(async (sim, rx) => {
    rx.failNext(2, "body"); // HTTP 200 but not "success": WeChat retries
    const one = await subscribe(sim, {
      user: "carol",
      tmplIds: ["T_ONCE"],
      answers: { T_ONCE: "accept" },
    });
    const push = one.body.push as {
      attempts: { status: number; body: string }[];
      delivered: boolean;
    };
    assert.deepEqual(push.attempts.map((a) => a.body), ["busy", "busy", "success"]);
    assert.equal(push.delivered, true);

    rx.failNext(10);
    const hopeless = await subscribe(sim, {
      user: "carol",
      tmplIds: ["T_ONCE"],
      answers: { T_ONCE: "accept" },
    });
    const lost = hopeless.body.push as { attempts: unknown[]; delivered: boolean };
    assert.equal(lost.attempts.length, 4, "the first attempt and 3 retries, as WeChat");
    assert.equal(lost.delivered, false);
    rx.failNext(0);
    // The grant stands even though the event never arrived: WeChat counted the accept.
    assert.deepEqual((await stats(sim)).grants, { [one.body.openid as string]: { T_ONCE: 2 } });

    await call(`${sim.url}/__sim/push-config`, {
      url: rx.url,
      token: TOKEN,
      encodingAESKey: KEY,
      duplicates: 2,
    });
    const before = rx.received.length;
    const dup = await subscribe(sim, {
      user: "carol",
      tmplIds: ["T_ONCE"],
      answers: { T_ONCE: "accept" },
    });
    assert.equal((dup.body.push as { attempts: unknown[] }).attempts.length, 3);
    assert.equal(rx.received.length, before + 1, "the receiver's replay guard keeps one");
    assert.deepEqual(rx.outcomes.slice(-3), ["message", "replayed", "replayed"]);
    const listed = (await pushes(sim)).pushes as unknown[];
    assert.equal(listed.length, 3);
  }));

Deno.test("sim always keep: a kept accept answers at once with no dialog and counts a grant; kept reject and ban never grant", () =>
  withRig(async (sim, rx) => {
    const none = await call(`${sim.url}/__sim/settings?user=dora`);
    assert.deepEqual(none.body, { mainSwitch: true }, "no itemSettings until something is kept");
    // The user ticks "always keep" while accepting T_ONCE and rejecting T_ONCE2.
    const ticked = await subscribe(sim, {
      user: "dora",
      tmplIds: ["T_ONCE", "T_ONCE2"],
      answers: { T_ONCE: "accept" },
      keep: true,
    });
    const openid = ticked.body.openid as string;
    assert.deepEqual(ticked.body.dialog, ["T_ONCE", "T_ONCE2"]);
    const kept = await call(`${sim.url}/__sim/settings?openid=${openid}`);
    assert.deepEqual(kept.body, {
      mainSwitch: true,
      itemSettings: { T_ONCE: "accept", T_ONCE2: "reject" },
    });
    const popups = rx.received.length;

    for (let i = 0; i < 3; i++) {
      const silent = await subscribe(sim, {
        user: "dora",
        tmplIds: ["T_ONCE", "T_ONCE2"],
        answers: { T_ONCE: "reject", T_ONCE2: "accept" }, // never shown: the kept choices answer
      });
      assert.deepEqual(silent.body.dialog, []);
      assert.deepEqual(silent.body.result, {
        errMsg: "requestSubscribeMessage:ok",
        T_ONCE: "accept",
        T_ONCE2: "reject",
      });
      assert.equal(silent.body.push, null, "no popup event for a silent answer by default");
    }
    assert.deepEqual((await stats(sim)).grants, { [openid]: { T_ONCE: 4 } });
    assert.equal(rx.received.length, popups);

    // Configurable: WeChat's behaviour for silent answers is not documented either way.
    await call(`${sim.url}/__sim/push-config`, {
      url: rx.url,
      token: TOKEN,
      encodingAESKey: KEY,
      silentEvents: true,
    });
    await subscribe(sim, { user: "dora", tmplIds: ["T_ONCE"] });
    assert.deepEqual(itemsOf(rx.received.at(-1)!), [
      { templateId: "T_ONCE", status: "accept", popupScene: "0" },
    ]);

    // Kept ban (set through the control API): answered ban, nothing counted, nothing pushed.
    await call(`${sim.url}/__sim/settings`, { user: "dora", items: { T_ONCE2: "ban" } });
    const banned = await subscribe(sim, { user: "dora", tmplIds: ["T_ONCE2"] });
    assert.equal((banned.body.result as Json).T_ONCE2, "ban");
    assert.equal(banned.body.push, null);
    assert.deepEqual((await stats(sim)).grants, { [openid]: { T_ONCE: 5 } });

    // Main switch off: the call fails (20004), and sends are refused though grants remain.
    await call(`${sim.url}/__sim/settings`, { user: "dora", mainSwitch: false });
    const off = await subscribe(sim, { user: "dora", tmplIds: ["T_ONCE"] });
    assert.equal(off.body.ok, false);
    assert.equal((off.body.result as Json).errCode, 20004);
    assert.equal((await send(sim, openid, "T_ONCE")).errcode, 43101);
    await call(`${sim.url}/__sim/settings`, { user: "dora", mainSwitch: true });
    assert.equal((await send(sim, openid, "T_ONCE")).errcode, 0);
  }));

Deno.test("sim subscribe: WeChat's failures and filter; bad control input is refused and changes nothing", () =>
  withRig(async (sim, rx) => {
    const fails = async (body: Json) =>
      ((await subscribe(sim, { user: "eve", ...body })).body.result as Json).errCode;
    assert.equal(await fails({ tmplIds: [] }), 10001);
    assert.equal(await fails({ tmplIds: ["NOPE"] }), 20001);
    assert.equal(await fails({ tmplIds: ["T_ONCE", "T_LONG"] }), 20002);
    assert.equal(
      await fails({
        tmplIds: ["T_ONCE", "T_ONCE2", "T_SAME", "TPL_SUB", "TPL_ORDER", "TPL_REMIND"],
      }),
      20003,
    );
    const same = await subscribe(sim, {
      user: "eve",
      tmplIds: ["T_ONCE", "T_SAME"],
      answers: { T_ONCE: "accept", T_SAME: "accept" },
    });
    assert.equal((same.body.result as Json).T_SAME, "filter", "same title: filtered");

    const before = await stats(sim);
    const bad = [
      { tmplIds: ["T_ONCE"] }, // no user
      { user: "eve", tmplIds: "T_ONCE" },
      { user: "eve", tmplIds: ["T_ONCE"], answers: { T_ONCE: "yes" } },
      { user: "eve", tmplIds: ["T_ONCE", "T_ONCE2"], answers: { T_ONCE: "acceptWithAudio" } },
    ];
    for (const body of bad) {
      assert.equal((await subscribe(sim, body)).status, 400, JSON.stringify(body));
    }
    assert.equal((await call(`${sim.url}/__sim/revoke`, { user: "eve" })).status, 400);
    assert.equal(
      (await call(`${sim.url}/__sim/settings`, { user: "eve", mainSwitch: "no" })).status,
      400,
    );
    const badPush = [
      { url: "ftp://x", token: TOKEN },
      { url: rx.url, token: "a b" },
      { url: rx.url, token: TOKEN, mode: "safe" }, // no key
      { url: rx.url, token: TOKEN, mode: "plain", retries: -1 },
    ];
    for (const body of badPush) {
      assert.equal(
        (await call(`${sim.url}/__sim/push-config`, body)).status,
        400,
        JSON.stringify(body),
      );
    }
    const after = await stats(sim);
    assert.deepEqual(after, { ...before, nowMs: after.nowMs });

    const shown = await call(`${sim.url}/__sim/push-config`, {
      url: rx.url,
      token: TOKEN,
      encodingAESKey: KEY,
    });
    const text = JSON.stringify(shown.body);
    assert.ok(!text.includes(TOKEN) && !text.includes(KEY), "secrets are never answered");
    assert.equal((await call(`${sim.url}/__sim/push-config`, { url: null })).body.push, null);
    const quiet = await subscribe(sim, {
      user: "eve",
      tmplIds: ["T_ONCE"],
      answers: { T_ONCE: "accept" },
    });
    assert.equal(quiet.body.push, null, "no push URL: grants only");
  }));
