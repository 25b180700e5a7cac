import assert from "node:assert/strict";
import { ManualClock } from "../../../src/shared/clock.ts";
import { ADMIN, AUDITOR, call, login, startRig, STORES } from "../login_helpers.ts";

const T0 = Date.UTC(2026, 5, 1, 12);
const DAY = 86_400_000;
const LIFE = 7 * DAY - 3_600_000;

for (const store of STORES) {
  Deno.test(`credits (${store}): the admin adds a prepay credit; views sum by kind and template`, async () => {
    const clock = new ManualClock(T0);
    const rig = await startRig(store, {}, clock);
    const url = rig.svc.url;
    try {
      const { token, openId } = await login(rig, "alice");
      const add = await call(`${url}/v1/credits`, "POST", {
        openId,
        kind: "prepay",
        id: "wx201410272009395522657a690389285100",
        collectedAt: T0 - DAY,
      }, ADMIN);
      assert.equal(add.status, 200);
      assert.deepEqual(add.body, { accepted: 1, duplicates: 0, rejected: [] });
      const again = await call(`${url}/v1/credits`, "POST", {
        openId,
        kind: "prepay",
        id: "wx201410272009395522657a690389285100",
      }, ADMIN);
      assert.deepEqual(again.body, { accepted: 0, duplicates: 1, rejected: [] });
      const stale = await call(`${url}/v1/credits`, "POST", {
        openId,
        kind: "prepay",
        id: "wx-stale",
        collectedAt: T0 - 7 * DAY,
      }, ADMIN);
      assert.deepEqual(stale.body.rejected, [{ formId: "wx-stale", reason: "expired" }]);

      await call(`${url}/v1/formids`, "POST", { formIds: ["f1", "f2"] }, token);
      await call(`${url}/v1/subscriptions`, "POST", {
        results: { TPL_A: "accept", TPL_B: "accept", errMsg: "requestSubscribeMessage:ok" },
      }, token);
      await call(`${url}/v1/subscriptions`, "POST", { results: { TPL_A: "accept" } }, token);

      const me = await call(`${url}/v1/me/credits`, "GET", undefined, token);
      assert.equal(me.status, 200);
      assert.deepEqual(me.body, {
        openId,
        valid: 6,
        sends: 8,
        nextExpiry: T0 - DAY + LIFE,
        byKind: {
          form: { credits: 2, sends: 2 },
          prepay: { credits: 1, sends: 3 },
          subscribe: { credits: 3, sends: 3 },
        },
        byTemplate: { TPL_A: { credits: 2, sends: 2 }, TPL_B: { credits: 1, sends: 1 } },
      });
      const admin = await call(`${url}/v1/users/${openId}/credits`, "GET", undefined, ADMIN);
      assert.equal(admin.status, 200);
      const { credits, ...summary } = admin.body;
      assert.deepEqual(summary, me.body);
      assert.equal(credits.length, 6);
      assert.deepEqual(credits[0], {
        formId: "wx201410272009395522657a690389285100",
        kind: "prepay",
        uses: 3,
        expiresAt: T0 - DAY + LIFE,
      });
      // The view moves with the clock: form and prepay credits expire, subscribe ones stay.
      clock.advance(7 * DAY);
      const fresh = (await login(rig, "alice")).token;
      const later = await call(`${url}/v1/me/credits`, "GET", undefined, fresh);
      assert.equal(later.body.valid, 3);
      assert.equal(later.body.nextExpiry, null);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`credits (${store}): roles: session tokens stay out of admin endpoints and back`, async () => {
    const rig = await startRig(store);
    const url = rig.svc.url;
    try {
      const { token, openId } = await login(rig, "alice");
      const head = await rig.svc.store.head();
      const body = { openId, kind: "prepay", id: "wx-prepay-1" };
      for (const [who, status] of [[token, 401], [AUDITOR, 403], [null, 401]] as const) {
        const add = await call(`${url}/v1/credits`, "POST", body, who);
        assert.equal(add.status, status);
        const view = await call(`${url}/v1/users/${openId}/credits`, "GET", undefined, who);
        assert.equal(view.status, status);
      }
      const me = await call(`${url}/v1/me/credits`, "GET", undefined, ADMIN);
      assert.equal(me.status, 403);
      assert.deepEqual(await rig.svc.store.head(), head);
    } finally {
      await rig.close();
    }
  });
}

Deno.test("credits: the admin endpoint validates every field", async () => {
  const rig = await startRig("memory");
  const url = `${rig.svc.url}/v1/credits`;
  try {
    const ok = { openId: "o-user_1", kind: "prepay", id: "wx-1" };
    const cases: [unknown, string][] = [
      [{ ...ok, openId: "bad id" }, "invalid_open_id"],
      [{ ...ok, openId: 5 }, "invalid_open_id"],
      [{ ...ok, kind: "form" }, "invalid_kind"],
      [{ ...ok, kind: "subscribe" }, "invalid_kind"],
      [{ ...ok, id: "" }, "invalid_id"],
      [{ ...ok, id: "the formId is a mock one" }, "invalid_id"],
      [{ ...ok, collectedAt: -1 }, "invalid_collected_at"],
      [{ ...ok, collectedAt: 1.5 }, "invalid_collected_at"],
      [{ ...ok, uses: 99 }, "unknown_field"],
      [{ ...ok, expiresAt: 1 }, "unknown_field"],
    ];
    for (const [body, code] of cases) {
      const reply = await call(url, "POST", body, ADMIN);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.body.error.code, code);
    }
    const badPath = await call(`${rig.svc.url}/v1/users/a%20b/credits`, "GET", undefined, ADMIN);
    assert.equal(badPath.status, 400);
    assert.equal((await rig.svc.store.head()).seq, 0);
  } finally {
    await rig.close();
  }
});

for (const store of STORES) {
  Deno.test(`credits (${store}): templates named constructor, __proto__ and toString are counted like any other`, async () => {
    const rig = await startRig(store);
    const url = rig.svc.url;
    try {
      const { token, openId } = await login(rig, "alice");
      const names = ["constructor", "__proto__", "toString", "hasOwnProperty"];
      // A JSON text, not an object literal: `__proto__` must be an own key of the request.
      const results = `{${names.map((n) => `"${n}":"accept"`).join(",")},"TPL":"accept"}`;
      const report = await fetch(`${url}/v1/subscriptions`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: `{"results":${results}}`,
      });
      assert.equal(report.status, 200);
      assert.equal((await report.json()).accepted, 5);
      for (const path of ["/v1/me/credits", `/v1/users/${openId}/credits`]) {
        const reply = await fetch(`${url}${path}`, {
          headers: { authorization: `Bearer ${path.startsWith("/v1/me") ? token : ADMIN}` },
        });
        assert.equal(reply.status, 200, path);
        const text = await reply.text();
        const byTemplate = JSON.parse(text).byTemplate;
        assert.deepEqual(Object.keys(byTemplate).sort(), [...names, "TPL"].sort(), path);
        for (const name of [...names, "TPL"]) {
          assert.deepEqual(Object.getOwnPropertyDescriptor(byTemplate, name)?.value, {
            credits: 1,
            sends: 1,
          }, `${path} ${name}`);
        }
      }
      // Nothing leaked onto the built-ins.
      assert.equal(typeof ({} as Record<string, unknown>).credits, "undefined");
      assert.equal(Object.prototype.toString.call([]), "[object Array]");
    } finally {
      await rig.close();
    }
  });

  Deno.test(`credits (${store}): views are rate-limited per openId, apart from uploads`, async () => {
    const rig = await startRig(store, {
      RATE_LIMIT_PER_USER: "3",
      RATE_LIMIT_PER_IP: "100",
      RATE_LIMIT_WINDOW_SECONDS: "3600",
    });
    const url = rig.svc.url;
    try {
      const alice = await login(rig, "alice");
      const bob = await login(rig, "bob");
      for (let i = 0; i < 3; i++) {
        const view = await call(`${url}/v1/me/credits`, "GET", undefined, alice.token);
        assert.equal(view.status, 200);
      }
      const refused = await call(`${url}/v1/me/credits`, "GET", undefined, alice.token);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error.code, "rate_limited");
      assert.ok(Number(refused.headers.get("retry-after")) >= 1);
      // Uploads have their own count; another user has theirs.
      const upload = await call(`${url}/v1/formids`, "POST", { formIds: ["f1"] }, alice.token);
      assert.equal(upload.status, 200);
      assert.equal((await call(`${url}/v1/me/credits`, "GET", undefined, bob.token)).status, 200);
    } finally {
      await rig.close();
    }
  });
}
