/**
 * Subscribe messages end to end, over real HTTP on both stores with the WeChat simulator and its
 * signed, encrypted event pushes: WeChat's events changing the ledger, an accept both sources
 * report counted once, a client-only accept expiring unconfirmed, 43101 voiding, long-term
 * subscriptions never consumed, `acceptWithAudio`, the template registry, and a 422 that spends
 * nothing (the log and the simulator's stats prove it).
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../src/shared/clock.ts";
import { AUDITOR, call, startRig, STORES } from "../http/login_helpers.ts";
import { popup, startSubRig } from "./rig.ts";

const GOOD = { thing1: { value: "包裹已到" }, time2: { value: "15:01" } };
const types = (log: { type: string }[]) => log.map((e) => e.type);

for (const store of STORES) {
  Deno.test(`subscribe (${store}): popup, change and sent events change the ledger`, async () => {
    const rig = await startSubRig(store);
    try {
      const { token, openId } = await rig.login("alice");
      const t0 = Math.floor(Date.now() / 1000);
      const first = await rig.wechat(
        openId,
        popup(["TPL_ONE", "accept"], ["TPL_LONG", "reject"]),
        t0,
      );
      assert.equal(first.body, "success");
      await rig.wechat(openId, popup(["TPL_LONG", "acceptWithAlert"]), t0 + 1);
      let view = await rig.svc.ledger.view(openId);
      assert.deepEqual(view.credits.map((c) => c.formId).sort(), [
        `sub:lt@TPL_LONG`,
        `sub:wx@${t0}:TPL_ONE`,
      ]);
      const me = await rig.user(token, "/v1/me/credits?include=subscriptions");
      assert.deepEqual(me.body.subscriptions.templates, [
        {
          templateId: "TPL_LONG",
          credits: 0,
          awaitingWechat: 0,
          longTerm: true,
          lastAnswer: { answer: "acceptWithAlert", source: "wechat" },
          alwaysKeep: null,
        },
        {
          templateId: "TPL_ONE",
          credits: 1,
          awaitingWechat: 0,
          longTerm: false,
          lastAnswer: { answer: "accept", source: "wechat" },
          alwaysKeep: null,
        },
      ]);
      // The user turns both off in WeChat's settings: their credits are void.
      const change = {
        event: "subscribe_msg_change_event" as const,
        items: [{ templateId: "TPL_ONE", status: "reject" }, {
          templateId: "TPL_LONG",
          status: "reject",
        }],
      };
      await rig.wechat(openId, change, t0 + 2);
      view = await rig.svc.ledger.view(openId);
      assert.equal(view.valid, 0);
      const voided = (await rig.log()).filter((e) => e.type === "CreditsVoided").map((e) => e.data);
      assert.deepEqual(voided, [
        { formIds: [`sub:wx@${t0}:TPL_ONE`], openId, reason: "revoked", templateId: "TPL_ONE" },
        { formIds: ["sub:lt@TPL_LONG"], openId, reason: "revoked", templateId: "TPL_LONG" },
      ]);
      // A sent event is recorded once, WeChat's retries included.
      const sent = {
        event: "subscribe_msg_sent_event" as const,
        items: [{
          templateId: "TPL_ONE",
          msgId: "1700000000000000001",
          errorCode: 0,
          errorStatus: "success",
        }],
      };
      await rig.wechat(openId, sent, t0 + 3);
      await rig.wechat(openId, sent, t0 + 3);
      const recorded = (await rig.log()).filter((e) => e.type === "SubscribeMessageSent");
      assert.deepEqual(recorded.map((e) => e.data), [{
        errorCode: 0,
        errorStatus: "success",
        msgId: "1700000000000000001",
        openId,
        templateId: "TPL_ONE",
      }]);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`subscribe (${store}): an accept both report is one credit; a client-only one expires unconfirmed`, async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
    const rig = await startSubRig(store, {
      clock,
      env: { SUBSCRIBE_CONFIRM_WINDOW_SECONDS: "600" },
    });
    try {
      const t0 = Math.floor(clock.now() / 1000);
      // Client first, then WeChat.
      const alice = await rig.login("alice");
      const report = await rig.user(alice.token, "/v1/subscriptions", {
        results: { TPL_ONE: "accept" },
        reportId: "r1",
      });
      assert.deepEqual(report.body, {
        reportId: "r1",
        accepted: 1,
        duplicates: 0,
        ignored: { reject: 0, ban: 0, filter: 0 },
        provisional: 1,
      });
      await rig.wechat(alice.openId, popup(["TPL_ONE", "accept"]), t0);
      // WeChat first, then the client.
      const bob = await rig.login("bob");
      await rig.wechat(bob.openId, popup(["TPL_ONE", "accept"]), t0);
      const late = await rig.user(bob.token, "/v1/subscriptions", {
        results: { TPL_ONE: "accept" },
      });
      assert.equal(late.body.confirmed, 1);
      // Client only: provisional; and a silent accept under "always keep": it stands.
      const carol = await rig.login("carol");
      await rig.user(carol.token, "/v1/subscriptions", { results: { TPL_ONE: "accept" } });
      const dave = await rig.login("dave");
      const kept = await rig.user(dave.token, "/v1/subscriptions", {
        results: { TPL_ONE: "accept" },
        settings: { mainSwitch: true, itemSettings: { TPL_ONE: "accept" } },
      });
      assert.equal(kept.body.provisional, undefined);
      const carolView = await rig.user(carol.token, "/v1/me/credits?include=subscriptions");
      assert.equal(carolView.body.subscriptions.templates[0].awaitingWechat, 1);
      clock.advance(601_000);
      const valid = async (openId: string) => (await rig.svc.ledger.view(openId)).valid;
      assert.deepEqual(
        [
          await valid(alice.openId),
          await valid(bob.openId),
          await valid(carol.openId),
          await valid(dave.openId),
        ],
        [1, 1, 0, 1],
      );
      const daveView = await rig.admin(`/v1/users/${dave.openId}/credits?include=subscriptions`);
      assert.equal(daveView.body.subscriptions.mainSwitch, true);
      assert.equal(daveView.body.subscriptions.templates[0].alwaysKeep, "accept");
      const log = await rig.log();
      assert.equal(types(log).filter((t) => t === "CreditConfirmed").length, 2);
      assert.equal(types(log).filter((t) => t === "FormIdCollected").length, 4);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`subscribe (${store}): 43101 voids the template's other credits; long-term is never consumed`, async () => {
    const rig = await startSubRig(store);
    try {
      const { openId } = await rig.login("erin");
      const t0 = Math.floor(Date.now() / 1000);
      for (let i = 0; i < 3; i++) await rig.wechat(openId, popup(["TPL_ONE", "accept"]), t0 + i);
      assert.equal((await rig.svc.ledger.view(openId)).valid, 3);
      // WeChat holds none (the simulator has no grant): one send, then the rest voided.
      const push = await rig.admin("/v1/push", {
        openId,
        templateId: "TPL_ONE",
        kind: "subscribe",
        data: GOOD,
      });
      assert.equal(push.body.status, "failed");
      assert.equal(push.body.errcode, 43101);
      assert.equal(push.body.attempts, 1, "not tried credit by credit");
      const stats = await (await fetch(`${rig.sim.url}/__sim/stats?brief=1`)).json();
      assert.equal(stats.rejections["43101"], 1);
      const voided = (await rig.log()).filter((e) => e.type === "CreditsVoided");
      assert.equal(voided.length, 1);
      assert.equal((voided[0].data as { formIds: string[] }).formIds.length, 2);
      assert.equal((await rig.svc.ledger.view(openId)).valid, 0);

      // Long-term: one accept, three sends, the credit still there.
      await rig.wechat(openId, popup(["TPL_LONG", "accept"]), t0 + 10);
      await rig.simControl("/__sim/grants", { openid: openId, templateId: "TPL_LONG", count: 3 });
      const head = (await rig.svc.store.head()).seq;
      for (let i = 0; i < 3; i++) {
        const sent = await rig.admin("/v1/push", {
          openId,
          templateId: "TPL_LONG",
          kind: "subscribe",
          data: { phrase1: { value: "延误" } },
        });
        assert.equal(sent.body.status, "sent");
      }
      const after = (await rig.log()).slice(head);
      assert.deepEqual(types(after), ["PushSucceeded", "PushSucceeded", "PushSucceeded"]);
      assert.ok(after.every((e) => (e.data as { formId: string }).formId === "sub:lt@TPL_LONG"));
      assert.equal((await rig.svc.ledger.view(openId)).valid, 1);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`subscribe (${store}): a push or broadcast whose data its template refuses spends nothing`, async () => {
    const rig = await startSubRig(store);
    try {
      const { openId } = await rig.login("frank");
      await rig.wechat(openId, popup(["TPL_ONE", "accept"]));
      await rig.simControl("/__sim/grants", { openid: openId, templateId: "TPL_ONE", count: 1 });
      const head = await rig.svc.store.head();
      const bad = await rig.admin("/v1/push", {
        openId,
        templateId: "TPL_ONE",
        kind: "subscribe",
        data: {
          thing1: { value: "一二三四五六七八九十一二三四五六七八九十一二三" },
          extra9: { value: "x" },
        },
      });
      assert.equal(bad.status, 422);
      assert.deepEqual(bad.body.error, {
        code: "invalid_message_data",
        message: "thing1: 23 characters, at most 20; time2: missing: the template has it; " +
          "extra9: not a keyword of this template",
        problems: [
          { key: "thing1", reason: "23 characters, at most 20" },
          { key: "time2", reason: "missing: the template has it" },
          { key: "extra9", reason: "not a keyword of this template" },
        ],
      });
      const unknown = await rig.admin("/v1/push", {
        openId,
        templateId: "TPL_NOPE",
        kind: "subscribe",
        data: GOOD,
      });
      assert.equal(unknown.status, 422);
      assert.equal(unknown.body.error.code, "unknown_template");
      const broadcast = await rig.admin("/v1/broadcasts", {
        templateId: "TPL_ONE",
        kind: "subscribe",
        data: { thing1: { value: "ok" }, time2: { value: "25:00" } },
      });
      assert.equal(broadcast.status, 422);
      assert.deepEqual(broadcast.body.error.problems.map((p: { key: string }) => p.key), ["time2"]);
      assert.deepEqual(await rig.svc.store.head(), head, "no credit taken, nothing appended");
      const stats = await (await fetch(`${rig.sim.url}/__sim/stats?brief=1`)).json();
      assert.equal(stats.sendsAccepted, 0);
      assert.deepEqual(stats.rejections, {}, "no call reached WeChat's send");
      const good = await rig.admin("/v1/push", {
        openId,
        templateId: "TPL_ONE",
        kind: "subscribe",
        data: GOOD,
      });
      assert.equal(good.body.status, "sent");
    } finally {
      await rig.close();
    }
  });

  Deno.test(`subscribe (${store}): the template registry, listed and synced; accepts of other templates refused`, async () => {
    const rig = await startSubRig(store);
    try {
      const listed = await call(`${rig.svc.url}/v1/templates`, "GET", undefined, AUDITOR);
      assert.equal(listed.status, 200);
      assert.equal(listed.body.synced, true);
      assert.deepEqual(
        listed.body.templates.map((t: { id: string; kind: string }) => [t.id, t.kind]),
        [["TPL_LONG", "long-term"], ["TPL_ONE", "one-time"]],
      );
      assert.deepEqual(listed.body.templates[0].keywords, [
        { enumValues: ["延误", "准点"], key: "phrase1", label: "状态", type: "phrase" },
      ]);
      assert.equal((await rig.admin("/v1/templates/sync", {})).body.changed, false);
      await rig.simControl("/__sim/templates", {
        templates: [{ id: "TPL_NEW", type: 2, keywords: [{ key: "thing1" }] }],
      });
      assert.equal((await rig.admin("/v1/templates/sync", {})).body.changed, true);
      const log = await rig.log();
      assert.equal(types(log).filter((t) => t === "TemplatesSynced").length, 2);
      const forbidden = await call(`${rig.svc.url}/v1/templates/sync`, "POST", {}, AUDITOR);
      assert.equal(forbidden.status, 403);
      // A client's accept: the registry decides (acceptWithAudio is an accept).
      const { token } = await rig.login("gina");
      const report = await rig.user(token, "/v1/subscriptions", {
        results: { TPL_NEW: "acceptWithAudio", TPL_ELSE: "accept", TPL_ONE: "reject" },
      });
      assert.equal(report.body.accepted, 1);
      assert.deepEqual(report.body.rejected, [{
        templateId: "TPL_ELSE",
        reason: "unknown_template",
      }]);
      assert.deepEqual(report.body.ignored, { reject: 1, ban: 0, filter: 0 });
    } finally {
      await rig.close();
    }
  });
}

Deno.test("subscribe: without the event push, acceptWithAudio is a standing credit and settings are checked", async () => {
  const rig = await startRig("memory");
  try {
    const { code } = await (await fetch(`${rig.sim.url}/__sim/codes`, {
      method: "POST",
      body: JSON.stringify({ user: "hana" }),
    })).json();
    const session = await call(`${rig.svc.url}/v1/sessions`, "POST", { code });
    const token = session.body.token;
    const url = `${rig.svc.url}/v1/subscriptions`;
    const report = await call(url, "POST", {
      results: { TPL_A: "acceptWithAudio", TPL_B: "accept" },
    }, token);
    assert.deepEqual([report.body.accepted, report.body.provisional], [2, undefined]);
    const log = await (async () => {
      const events = await rig.svc.store.readEvents(0, 100);
      return events.map((e) => e.type);
    })();
    assert.deepEqual(log, ["FormIdCollected", "FormIdCollected"], "as before: credits only");
    for (
      const settings of [
        "on",
        { itemSettings: {} },
        { mainSwitch: true, itemSettings: { TPL_A: "maybe" } },
        { mainSwitch: true, itemSettings: [] },
      ]
    ) {
      const refused = await call(url, "POST", { results: { TPL_A: "accept" }, settings }, token);
      assert.equal(refused.status, 400, JSON.stringify(settings));
      assert.equal(refused.body.error.code, "invalid_settings");
    }
    assert.equal((await rig.svc.store.head()).seq, 2, "a refused report changes nothing");
  } finally {
    await rig.close();
  }
});
