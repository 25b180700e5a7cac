import assert from "node:assert/strict";
import { deriveOpenid, startWeChatSim } from "../../tools/wechat_sim.ts";

const APPID = "wx_sim_appid";
const SECRET = "sim_secret";
type Json = Record<string, unknown>;
type Sim = Awaited<ReturnType<typeof startWeChatSim>>;

async function call(url: string, body?: unknown, signal?: AbortSignal): Promise<Json> {
  const res = await fetch(url, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  return await res.json();
}

/** Runs `fn` against a fresh in-process sim and always closes it. */
function withSim(fn: (sim: Sim) => Promise<void>, opts = {}): () => Promise<void> {
  return async () => {
    const sim = await startWeChatSim(opts);
    try {
      await fn(sim);
    } finally {
      await sim.close();
    }
  };
}

const login = (sim: Sim, code: string, appid = APPID, secret = SECRET) =>
  call(
    `${sim.url}/sns/jscode2session?appid=${appid}&secret=${secret}&js_code=${code}` +
      "&grant_type=authorization_code",
  );
const classicToken = async (sim: Sim) =>
  (await call(
    `${sim.url}/cgi-bin/token?grant_type=client_credential&appid=${APPID}&secret=${SECRET}`,
  )).access_token as string;
const stableToken = (sim: Sim, force_refresh = false) =>
  call(`${sim.url}/cgi-bin/stable_token`, {
    grant_type: "client_credential",
    appid: APPID,
    secret: SECRET,
    force_refresh,
  });
const sendTemplate = (sim: Sim, token: string, msg: Json) =>
  call(`${sim.url}/cgi-bin/message/wxopen/template/send?access_token=${token}`, {
    template_id: "TPL_ORDER",
    data: { keyword1: { value: "hello" } },
    ...msg,
  });
const sendSubscribe = (sim: Sim, token: string, msg: Json, signal?: AbortSignal) =>
  call(`${sim.url}/cgi-bin/message/subscribe/send?access_token=${token}`, {
    template_id: "TPL_SUB",
    data: { thing1: { value: "order shipped" } },
    ...msg,
  }, signal);
const stats = (sim: Sim) => call(`${sim.url}/__sim/stats`);
const user = async (sim: Sim, name: string) =>
  (await call(`${sim.url}/__sim/users`, { user: name })).openid as string;

Deno.test(
  "login: happy path, stable openid per user, unionid when configured",
  withSim(async (sim) => {
    const a1 = await call(`${sim.url}/__sim/codes`, { user: "alice" });
    const a2 = await call(`${sim.url}/__sim/codes`, { user: "alice" });
    const b = await call(`${sim.url}/__sim/codes`, { user: "bob", unionid: true });
    assert.notEqual(a1.code, a2.code);
    assert.equal(a1.openid, a2.openid);
    assert.equal(a1.openid, await deriveOpenid("alice", APPID));
    assert.equal((a1.openid as string).length, 28);
    assert.notEqual(a1.openid, b.openid);

    const r1 = await login(sim, a1.code as string);
    assert.equal(r1.openid, a1.openid);
    assert.equal(typeof r1.session_key, "string");
    assert.equal(r1.unionid, undefined);
    const r2 = await login(sim, a2.code as string);
    assert.equal(r2.openid, a1.openid);
    const rb = await login(sim, b.code as string);
    assert.equal(rb.openid, b.openid);
    assert.equal(rb.unionid, b.unionid);
    assert.equal((await stats(sim)).logins, 3);
  }),
);

Deno.test(
  "login: code reuse 40163, unknown/expired 40029, bad appid/secret, knobs",
  withSim(async (sim) => {
    const { code } = await call(`${sim.url}/__sim/codes`, { user: "alice" });
    assert.equal((await login(sim, code as string, "wx_other")).errcode, 40013);
    assert.equal((await login(sim, code as string, APPID, "nope")).errcode, 40125);
    assert.equal((await login(sim, code as string)).errcode, undefined);
    assert.equal((await login(sim, code as string)).errcode, 40163);
    assert.equal((await login(sim, "never-issued")).errcode, 40029);

    const late = await call(`${sim.url}/__sim/codes`, { user: "alice" });
    await call(`${sim.url}/__sim/clock`, { advanceMs: 5 * 60_000 + 1 });
    assert.equal((await login(sim, late.code as string)).errcode, 40029);

    const fresh = await call(`${sim.url}/__sim/codes`, { user: "carol" });
    await call(`${sim.url}/__sim/login-fault`, { errcode: -1, count: 1 });
    assert.equal((await login(sim, fresh.code as string)).errcode, -1);
    await call(`${sim.url}/__sim/login-fault`, { errcode: 45011, count: 1 });
    assert.equal((await login(sim, fresh.code as string)).errcode, 45011);
    // Neither knob consumed the code.
    assert.equal((await login(sim, fresh.code as string)).openid, fresh.openid);
    const s = await stats(sim);
    assert.deepEqual(
      s.rejections,
      { "40013": 1, "40125": 1, "40163": 1, "40029": 2, "-1": 1, "45011": 1 },
    );
  }),
);

Deno.test(
  "classic token: a new one invalidates the previous; expiry gives 42001",
  withSim(async (sim) => {
    const openid = await user(sim, "alice");
    await call(`${sim.url}/__sim/grants`, { openid, templateId: "TPL_SUB", count: 5 });
    const t1 = await classicToken(sim);
    assert.equal((await sendSubscribe(sim, t1, { touser: openid })).errcode, 0);
    const t2 = await classicToken(sim);
    assert.notEqual(t1, t2);
    assert.equal((await sendSubscribe(sim, t1, { touser: openid })).errcode, 40001);
    assert.equal((await sendSubscribe(sim, t2, { touser: openid })).errcode, 0);
    assert.equal((await sendSubscribe(sim, "garbage", { touser: openid })).errcode, 40001);

    await call(`${sim.url}/__sim/expire-token`, {});
    assert.equal((await sendSubscribe(sim, t2, { touser: openid })).errcode, 42001);

    // With a grace period the previous token keeps working until the grace runs out.
    await call(`${sim.url}/__sim/config`, { classicGraceMs: 60_000 });
    const t3 = await classicToken(sim);
    await classicToken(sim);
    assert.equal((await sendSubscribe(sim, t3, { touser: openid })).errcode, 0);
    await call(`${sim.url}/__sim/clock`, { advanceMs: 60_000 });
    assert.equal((await sendSubscribe(sim, t3, { touser: openid })).errcode, 40001);
    assert.deepEqual((await stats(sim)).tokens, { classic: 4, stable: 0 });
  }),
);

Deno.test(
  "stable token: same while valid, force_refresh invalidates the previous",
  withSim(async (sim) => {
    const openid = await user(sim, "alice");
    await call(`${sim.url}/__sim/grants`, { openid, templateId: "TPL_SUB", count: 5 });
    const a = await stableToken(sim);
    const b = await stableToken(sim);
    assert.equal(a.access_token, b.access_token);
    assert.equal(a.expires_in, 7200);
    // The classic token is independent.
    await classicToken(sim);
    assert.equal(
      (await sendSubscribe(sim, a.access_token as string, { touser: openid })).errcode,
      0,
    );

    const c = await stableToken(sim, true);
    assert.notEqual(c.access_token, a.access_token);
    assert.equal(
      (await sendSubscribe(sim, a.access_token as string, { touser: openid })).errcode,
      40001,
    );
    assert.equal(
      (await sendSubscribe(sim, c.access_token as string, { touser: openid })).errcode,
      0,
    );
    assert.equal((await stableToken(sim, true)).errcode, 45011); // 30 s apart

    // Near expiry the normal mode renews (5 minutes early).
    await call(`${sim.url}/__sim/clock`, { advanceMs: (7200 - 299) * 1000 });
    const d = await stableToken(sim);
    assert.notEqual(d.access_token, c.access_token);
    assert.deepEqual((await stats(sim)).tokens, { classic: 1, stable: 3 });
  }),
);

Deno.test(
  "template send: formId gives 1 send, prepay id 3; 41028 wrong user/expired; 41029 used",
  withSim(async (sim) => {
    const alice = await user(sim, "alice");
    const bob = await user(sim, "bob");
    await call(`${sim.url}/__sim/credits`, [
      { openid: alice, kind: "form", id: "form-1" },
      { openid: alice, kind: "prepay", id: "prepay-1" },
      { openid: alice, kind: "form", id: "form-old" },
    ]);
    const token = await classicToken(sim);
    const ok = await sendTemplate(sim, token, { touser: alice, form_id: "form-1" });
    assert.equal(ok.errcode, 0);
    assert.equal(ok.errmsg, "ok");
    assert.equal(typeof ok.msgid, "number");
    assert.equal(
      (await sendTemplate(sim, token, { touser: alice, form_id: "form-1" })).errcode,
      41029,
    );
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await sendTemplate(sim, token, { touser: alice, form_id: "prepay-1" })).errcode,
        0,
      );
    }
    assert.equal(
      (await sendTemplate(sim, token, { touser: alice, form_id: "prepay-1" })).errcode,
      41029,
    );
    assert.equal(
      (await sendTemplate(sim, token, { touser: bob, form_id: "form-old" })).errcode,
      41028,
    );
    assert.equal(
      (await sendTemplate(sim, token, { touser: alice, form_id: "nope" })).errcode,
      41028,
    );
    assert.equal(
      (await sendTemplate(sim, token, { touser: alice, form_id: "the formId is a mock one" }))
        .errcode,
      41028,
    );
    await call(`${sim.url}/__sim/clock`, { advanceMs: 7 * 86_400_000 });
    assert.equal(
      (await sendTemplate(sim, token, { touser: alice, form_id: "form-old" })).errcode,
      42001,
    );
    assert.equal(
      (await sendTemplate(sim, await classicToken(sim), { touser: alice, form_id: "form-old" }))
        .errcode,
      41028,
    );

    const s = await stats(sim);
    assert.equal(s.sendsAccepted, 4);
    assert.deepEqual(s.sends, { [alice]: { "form-1": 1, "prepay-1": 3 } });
    assert.deepEqual(s.rejections, { "41029": 2, "41028": 4, "42001": 1 });
    assert.equal((s.delivered as Json[]).length, 4);
    assert.equal((s.delivered as Json[])[0].creditId, "form-1");
  }),
);

Deno.test(
  "subscribe send spends one grant per send; none left gives 43101",
  withSim(async (sim) => {
    const alice = await user(sim, "alice");
    await call(`${sim.url}/__sim/grants`, { openid: alice, templateId: "TPL_SUB", count: 2 });
    const token = await classicToken(sim);
    assert.equal((await sendSubscribe(sim, token, { touser: alice })).errcode, 0);
    assert.equal(
      (await sendSubscribe(sim, token, {
        touser: alice,
        miniprogram_state: "formal",
        lang: "en_US",
      }))
        .errcode,
      0,
    );
    assert.equal((await sendSubscribe(sim, token, { touser: alice })).errcode, 43101);
    // A grant is per template.
    assert.equal(
      (await sendSubscribe(sim, token, { touser: alice, template_id: "TPL_REMIND" })).errcode,
      43101,
    );
    const s = await stats(sim);
    assert.deepEqual(s.sends, { [alice]: { "grant:TPL_SUB": 2 } });
    assert.deepEqual(s.grants, { [alice]: { TPL_SUB: 0 } });
  }),
);

Deno.test(
  "request errors: 40037, 47003, 41030, 40003 spend nothing",
  withSim(async (sim) => {
    const alice = await user(sim, "alice");
    await call(`${sim.url}/__sim/grants`, { openid: alice, templateId: "TPL_SUB", count: 1 });
    await call(`${sim.url}/__sim/credits`, { openid: alice, kind: "form", id: "f1" });
    await call(`${sim.url}/__sim/config`, { pages: ["pages/index/index"] });
    const token = await classicToken(sim);
    const sub = (msg: Json) => sendSubscribe(sim, token, { touser: alice, ...msg });
    assert.equal((await sub({ template_id: "TPL_NOPE" })).errcode, 40037);
    assert.equal((await sub({ data: { thing1: "not an object" } })).errcode, 47003);
    assert.equal((await sub({ data: undefined })).errcode, 47003);
    const long = await sub({ data: { thing1: { value: "x".repeat(21) } } });
    assert.equal(long.errcode, 47003);
    assert.match(long.errmsg as string, /thing1/);
    assert.equal((await sub({ page: "pages/missing" })).errcode, 41030);
    assert.equal((await sub({ touser: "o_never_registered_0000000000" })).errcode, 40003);
    assert.equal(
      (await sendTemplate(sim, token, { touser: alice, form_id: "f1", data: 1 })).errcode,
      47003,
    );
    assert.equal(
      (await sendTemplate(sim, token, { touser: alice, form_id: "f1", template_id: "X" })).errcode,
      40037,
    );
    await call(`${sim.url}/__sim/templates`, { ids: ["X"] });
    assert.equal(
      (await sendTemplate(sim, token, { touser: alice, form_id: "f1", template_id: "X" })).errcode,
      0,
    );
    assert.equal((await sub({ page: "pages/index/index?id=7" })).errcode, 0);
    const s = await stats(sim);
    assert.deepEqual(s.sends, { [alice]: { "f1": 1, "grant:TPL_SUB": 1 } });
    assert.deepEqual(s.rejections, { "40037": 2, "47003": 4, "41030": 1, "40003": 1 });
  }),
);

Deno.test(
  "faults: busy/reset/http500 spend nothing; a timeout fault delivers the message",
  withSim(async (sim) => {
    const alice = await user(sim, "alice");
    await call(`${sim.url}/__sim/credits`, { openid: alice, kind: "form", id: "f1" });
    await call(`${sim.url}/__sim/grants`, { openid: alice, templateId: "TPL_SUB", count: 1 });
    const token = await classicToken(sim);
    for (const kind of ["busy", "freq", "quota", "token_expired"]) {
      await call(`${sim.url}/__sim/faults`, { rate: 1, kinds: [kind] });
      const r = await sendTemplate(sim, token, { touser: alice, form_id: "f1" });
      assert.equal(r.errcode, { busy: -1, freq: 45011, quota: 45009, token_expired: 42001 }[kind]);
    }
    for (const [kind, status] of [["http500", 500], ["reset", 502]] as const) {
      await call(`${sim.url}/__sim/faults`, { rate: 1, kinds: [kind] });
      const res = await fetch(
        `${sim.url}/cgi-bin/message/wxopen/template/send?access_token=${token}`,
        {
          method: "POST",
          body: JSON.stringify({ touser: alice, template_id: "TPL_ORDER", form_id: "f1" }),
        },
      );
      await res.body?.cancel();
      assert.equal(res.status, status);
    }
    let s = await stats(sim);
    assert.equal(s.sendsAccepted, 0);
    assert.deepEqual(s.sends, {});

    // The credit survived every fault above.
    await call(`${sim.url}/__sim/faults`, { rate: 0 });
    assert.equal((await sendTemplate(sim, token, { touser: alice, form_id: "f1" })).errcode, 0);

    // Timeout: the sim accepts and counts, then answers too late for the client.
    await call(`${sim.url}/__sim/faults`, { rate: 1, kinds: ["timeout"], timeoutMs: 60_000 });
    const abort = new AbortController();
    const pending = sendSubscribe(sim, token, { touser: alice }, abort.signal);
    while ((await stats(sim)).sendsAccepted !== 2) await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    await assert.rejects(pending);
    s = await stats(sim);
    assert.deepEqual(s.sends, { [alice]: { f1: 1, "grant:TPL_SUB": 1 } });
    assert.deepEqual(s.faults, {
      busy: 1,
      freq: 1,
      quota: 1,
      token_expired: 1,
      http500: 1,
      reset: 1,
      timeout: 1,
    });
    // The grant was spent by the timed-out send.
    await call(`${sim.url}/__sim/faults`, { rate: 0 });
    assert.equal((await sendSubscribe(sim, token, { touser: alice })).errcode, 43101);
  }),
);

Deno.test(
  "faults: a seeded rate is reproducible",
  async () => {
    const pattern = async () => {
      const sim = await startWeChatSim({ seed: 42 });
      try {
        const alice = await user(sim, "alice");
        await call(`${sim.url}/__sim/grants`, { openid: alice, templateId: "TPL_SUB", count: 40 });
        await call(`${sim.url}/__sim/faults`, { rate: 0.5, kinds: ["busy"] });
        const token = await classicToken(sim);
        const codes = [];
        for (let i = 0; i < 40; i++) {
          codes.push((await sendSubscribe(sim, token, { touser: alice })).errcode);
        }
        return codes;
      } finally {
        await sim.close();
      }
    };
    const a = await pattern();
    assert.deepEqual(a, await pattern());
    assert.ok(a.includes(0) && a.includes(-1));
  },
);

Deno.test(
  "latency: concurrent calls overlap, and a slow call does not hold up a later fast one",
  withSim(async (sim) => {
    const alice = await user(sim, "alice");
    await call(`${sim.url}/__sim/grants`, { openid: alice, templateId: "TPL_SUB", count: 100 });
    const token = await classicToken(sim);
    await call(`${sim.url}/__sim/config`, { latencyMs: 300 });
    const order: string[] = [];
    const slow = sendSubscribe(sim, token, { touser: alice }).then((r) => {
      order.push("slow");
      return r;
    });
    while ((await stats(sim)).inFlight !== 1) await new Promise((r) => setTimeout(r, 5));
    await call(`${sim.url}/__sim/faults`, { latencyMs: 0 });
    const fast = await sendSubscribe(sim, token, { touser: alice });
    order.push("fast");
    assert.equal(fast.errcode, 0);
    assert.equal((await slow).errcode, 0);
    assert.deepEqual(order, ["fast", "slow"]);

    await call(`${sim.url}/__sim/config`, { latencyMs: 50 });
    const all = await Promise.all(
      Array.from({ length: 50 }, () => sendSubscribe(sim, token, { touser: alice })),
    );
    assert.ok(all.every((r) => r.errcode === 0));
    const s = await stats(sim);
    assert.ok((s.peakInFlight as number) > 1);
    assert.equal(s.sendsAccepted, 52);
    assert.equal(new Set((s.delivered as Json[]).map((d) => d.msgid)).size, 52);
  }),
);

Deno.test(
  "reset clears state and the in-process state object stays live",
  withSim(async (sim) => {
    const alice = await user(sim, "alice");
    await call(`${sim.url}/__sim/credits`, { openid: alice, kind: "form", id: "f1" });
    assert.equal(
      (await call(`${sim.url}/__sim/credits`, { openid: alice, kind: "form", id: "f1" })).error,
      "credit f1 already registered",
    );
    await classicToken(sim);
    assert.equal(sim.state.stats.tokens.classic, 1);
    await call(`${sim.url}/__sim/reset`, {});
    assert.equal(sim.state.stats.tokens.classic, 0);
    assert.equal(sim.state.credits.size, 0);
    assert.deepEqual((await stats(sim)).tokens, { classic: 0, stable: 0 });
  }),
);

Deno.test(
  "gettemplate lists the subscribe templates set up, with type and enum values",
  withSim(async (sim) => {
    const token = await classicToken(sim);
    const list = (t = token) => call(`${sim.url}/wxaapi/newtmpl/gettemplate?access_token=${t}`);
    // Templates known by id only (the defaults) are not listed.
    assert.deepEqual(await list(), { errcode: 0, errmsg: "ok", data: [] });
    const made = await call(`${sim.url}/__sim/templates`, {
      templates: [
        {
          id: "TPL_PICKUP",
          title: "取件提醒",
          keywords: [{ key: "thing1", label: "物品名称" }, { key: "time2", label: "取件时间" }],
        },
        {
          id: "TPL_WASHER",
          title: "洗衣机故障提醒",
          type: 3,
          keywords: [
            { key: "time1", label: "完成时间" },
            { key: "enum_string2", label: "所在位置", enumValues: ["客厅", "厨房"] },
          ],
        },
      ],
    });
    assert.equal(made.ok, true);
    assert.ok((made.templates as string[]).includes("TPL_WASHER"));
    assert.deepEqual((await list()).data, [
      {
        priTmplId: "TPL_PICKUP",
        title: "取件提醒",
        content: "物品名称:{{thing1.DATA}}\n取件时间:{{time2.DATA}}\n",
        example: "物品名称:示例内容\n取件时间:15:01\n",
        type: 2,
      },
      {
        priTmplId: "TPL_WASHER",
        title: "洗衣机故障提醒",
        content: "完成时间:{{time1.DATA}}\n所在位置:{{enum_string2.DATA}}\n",
        example: "完成时间:15:01\n所在位置:客厅\n",
        type: 3,
        keywordEnumValueList: [{
          keywordCode: "enum_string2.DATA",
          enumValueList: ["客厅", "厨房"],
        }],
      },
    ]);
    assert.equal((await list("garbage")).errcode, 40001);
    assert.equal((await call(`${sim.url}/wxaapi/newtmpl/gettemplate`)).errcode, 41001);

    // Setup errors change nothing.
    for (
      const bad of [
        { templates: [{ id: "X", keywords: [] }] },
        { templates: [{ id: "X", type: 4, keywords: [{ key: "thing1" }] }] },
        { templates: [{ id: "X", keywords: [{ key: "Thing" }] }] },
        { templates: [{ id: "X", keywords: [{ key: "phrase1", enumValues: [1] }] }] },
        { templates: [{ id: "X", keywords: [{ key: "thing1" }, { key: "thing1" }] }] },
        { templates: "X" },
        {},
      ]
    ) {
      const res = await fetch(`${sim.url}/__sim/templates`, {
        method: "POST",
        body: JSON.stringify(bad),
      });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(typeof (await res.json()).error, "string");
    }
    assert.equal(((await list()).data as Json[]).length, 2);
    // replace drops typed templates too.
    await call(`${sim.url}/__sim/templates`, { ids: ["TPL_SUB"], replace: true });
    assert.deepEqual((await list()).data, []);
  }),
);

Deno.test(
  "subscribe send to a template with keywords checks every keyword: 47003 names the key",
  withSim(async (sim) => {
    const alice = await user(sim, "alice");
    await call(`${sim.url}/__sim/templates`, {
      templates: [{
        id: "TPL_PICKUP",
        keywords: [
          { key: "thing1" },
          { key: "time2" },
          { key: "phrase3", enumValues: ["待取件", "已取件"] },
        ],
      }],
    });
    await call(`${sim.url}/__sim/grants`, { openid: alice, templateId: "TPL_PICKUP", count: 1 });
    const token = await classicToken(sim);
    const good = {
      thing1: { value: "顺丰快递" },
      time2: { value: "2019年10月1日 15:01" },
      phrase3: { value: "待取件" },
    };
    const send = (data: unknown, template_id = "TPL_PICKUP") =>
      sendSubscribe(sim, token, { touser: alice, template_id, data });
    const refused = async (data: unknown, errmsg: RegExp) => {
      const r = await send(data);
      assert.equal(r.errcode, 47003);
      assert.match(r.errmsg as string, errmsg);
    };
    await refused(
      { ...good, thing1: { value: "一".repeat(21) } },
      /^argument invalid! data\.thing1\.value invalid rid: /,
    );
    await refused({ thing1: good.thing1, phrase3: good.phrase3 }, /data\.time2\.value is empty/);
    await refused({ ...good, time2: { value: "25:00" } }, /data\.time2\.value invalid/);
    await refused({ ...good, phrase3: { value: "配送中" } }, /data\.phrase3\.value invalid/);
    await refused({ ...good, thing4: { value: "x" } }, /data\.thing4 invalid/);
    await refused("text", /argument invalid! data invalid/);
    assert.equal((await send(good, "TPL_NOPE")).errcode, 40037);
    assert.equal((await send(good)).errcode, 0);
    // Nothing refused spent the one grant; the accepted send did.
    assert.equal((await send(good)).errcode, 43101);
    const s = await stats(sim);
    assert.deepEqual(s.sends, { [alice]: { "grant:TPL_PICKUP": 1 } });
    assert.deepEqual(s.rejections, { "47003": 6, "40037": 1, "43101": 1 });
    // A template known by id only keeps the length-only check.
    await call(`${sim.url}/__sim/grants`, { openid: alice, templateId: "TPL_SUB", count: 1 });
    assert.equal(
      (await sendSubscribe(sim, token, { touser: alice, data: { keyword1: { value: "any" } } }))
        .errcode,
      0,
    );
  }),
);

Deno.test("latency: close() cuts every waiting call short, however many wait", async () => {
  const sim = await startWeChatSim({ latencyMs: 60_000 });
  const started = performance.now();
  // Calls that would wait a minute each; their answers do not matter, only that they end.
  const calls = Array.from(
    { length: 50 },
    () =>
      fetch(`${sim.url}/cgi-bin/token?grant_type=client_credential`).then(
        (res) => res.body?.cancel(),
        () => {},
      ),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  await sim.close();
  await Promise.all(calls);
  assert.ok(performance.now() - started < 10_000, "the waits ended at close, not after a minute");
});
