import assert from "node:assert/strict";
import { decode } from "hono/jwt";
import { ManualClock } from "../../../src/shared/clock.ts";
import { call, login, simCode, startRig, STORES } from "../login_helpers.ts";

const fault = (url: string, errcode: number, count = 1) =>
  call(`${url}/__sim/login-fault`, "POST", { errcode, count });

for (const store of STORES) {
  Deno.test(`sessions (${store}): a code becomes a token bound to the user's openid`, async () => {
    const rig = await startRig(store);
    try {
      const { code, openid } = await simCode(rig.sim, "alice");
      const reply = await call(`${rig.svc.url}/v1/sessions`, "POST", { code });
      assert.equal(reply.status, 200);
      assert.deepEqual(Object.keys(reply.body).sort(), ["expiresIn", "openId", "token"]);
      assert.equal(reply.body.openId, openid);
      assert.equal(reply.body.expiresIn, 7200);
      const { header, payload } = decode(reply.body.token);
      assert.equal(header.alg, "HS256");
      assert.equal(payload.sub, openid);
      assert.equal((payload.exp as number) - (payload.iat as number), 7200);
      assert.doesNotMatch(JSON.stringify(payload), /session_key|unionid/i);
      // The token works on a session endpoint, and a second login names the same user.
      const me = await call(`${rig.svc.url}/v1/me/credits`, "GET", undefined, reply.body.token);
      assert.equal(me.status, 200);
      assert.equal(me.body.openId, openid);
      assert.equal((await login(rig, "alice")).openId, openid);
      assert.notEqual((await login(rig, "bob")).openId, openid);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`sessions (${store}): WeChat's error codes map to 401, 403 and 503`, async () => {
    const rig = await startRig(store);
    const url = `${rig.svc.url}/v1/sessions`;
    try {
      const invalid = await call(url, "POST", { code: "never-issued-code" });
      assert.equal(invalid.status, 401);
      assert.equal(invalid.body.error.code, "invalid_code");

      const { code } = await simCode(rig.sim, "carol");
      assert.equal((await call(url, "POST", { code })).status, 200);
      const reused = await call(url, "POST", { code });
      assert.equal(reused.status, 401);
      assert.equal(reused.body.error.code, "code_used");

      for (const [errcode, retryAfter] of [[-1, "2"], [45011, "60"]] as const) {
        await fault(rig.sim.url, errcode);
        const busy = await call(url, "POST", { code: (await simCode(rig.sim, "dave")).code });
        assert.equal(busy.status, 503, `errcode ${errcode}`);
        assert.equal(busy.body.error.code, "wechat_unavailable");
        assert.equal(busy.headers.get("retry-after"), retryAfter);
      }
      await fault(rig.sim.url, 40226);
      const risky = await call(url, "POST", { code: (await simCode(rig.sim, "eve")).code });
      assert.equal(risky.status, 403);
      assert.equal(risky.body.error.code, "login_refused");
      // Faults are used up: the next login goes through.
      assert.equal(
        (await call(url, "POST", { code: (await simCode(rig.sim, "eve")).code })).status,
        200,
      );
    } finally {
      await rig.close();
    }
  });
}

Deno.test("sessions: an expired code is refused as invalid", async () => {
  const rig = await startRig("memory");
  try {
    const { code } = await simCode(rig.sim, "alice");
    await call(`${rig.sim.url}/__sim/clock`, "POST", { advanceMs: 5 * 60_000 + 1 });
    const reply = await call(`${rig.svc.url}/v1/sessions`, "POST", { code });
    assert.equal(reply.status, 401);
    assert.equal(reply.body.error.code, "invalid_code");
  } finally {
    await rig.close();
  }
});

Deno.test("sessions: a slow or unreachable WeChat is 503 with Retry-After", async () => {
  const rig = await startRig("memory", { WECHAT_LOGIN_TIMEOUT_MS: "200" });
  const down = await startRig("memory", { WECHAT_API_BASE: "http://127.0.0.1:9" });
  try {
    await call(`${rig.sim.url}/__sim/config`, "POST", { latencyMs: 1000 });
    const started = Date.now();
    const slow = await call(`${rig.svc.url}/v1/sessions`, "POST", {
      code: (await simCode(rig.sim, "alice")).code,
    });
    assert.ok(Date.now() - started < 900, "the call is cut at the timeout");
    assert.equal(slow.status, 503);
    assert.equal(slow.headers.get("retry-after"), "2");
    const unreachable = await call(`${down.svc.url}/v1/sessions`, "POST", { code: "abc" });
    assert.equal(unreachable.status, 503);
    assert.equal(unreachable.body.error.code, "wechat_unavailable");
    assert.doesNotMatch(JSON.stringify(unreachable.body), /sim_secret|127\.0\.0\.1:9/);
  } finally {
    await rig.close();
    await down.close();
  }
});

Deno.test("sessions: bad requests are refused before WeChat is called", async () => {
  const rig = await startRig("memory");
  const url = `${rig.svc.url}/v1/sessions`;
  try {
    const cases: [unknown, Record<string, string>, number, string][] = [
      [{}, {}, 400, "invalid_code"],
      [{ code: 42 }, {}, 400, "invalid_code"],
      [{ code: "" }, {}, 400, "invalid_code"],
      [{ code: "x".repeat(129) }, {}, 400, "invalid_code"],
      [{ code: "abc", openId: "someone" }, {}, 400, "unknown_field"],
      ["{not json", {}, 400, "invalid_json"],
      ["[]", {}, 400, "invalid_body"],
      [{ code: "abc" }, { "content-type": "text/plain" }, 415, "unsupported_media_type"],
      [{ code: "x".repeat(20_000) }, {}, 413, "payload_too_large"],
    ];
    for (const [body, headers, status, code] of cases) {
      const reply = await call(url, "POST", body, null, headers);
      assert.equal(reply.status, status, JSON.stringify(body).slice(0, 60));
      assert.equal(reply.body.error.code, code);
    }
    const stats = await (await fetch(`${rig.sim.url}/__sim/stats?brief=1`)).json();
    assert.equal(stats.logins, 0);
    assert.deepEqual(stats.rejections, {}, "WeChat was never asked");
  } finally {
    await rig.close();
  }
});

Deno.test("sessions: without SESSION_SECRET or WeChat credentials login is 503 not_configured", async () => {
  const rig = await startRig("memory", { WECHAT_SECRET: "" });
  try {
    const reply = await call(`${rig.svc.url}/v1/sessions`, "POST", { code: "abc" });
    assert.equal(reply.status, 503);
    assert.equal(reply.body.error.code, "not_configured");
  } finally {
    await rig.close();
  }
});

Deno.test("sessions: a token dies at its expiry, on the service's clock", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const rig = await startRig("memory", { SESSION_TTL_SECONDS: "600" }, clock);
  try {
    const { token } = await login(rig, "alice");
    const me = () => call(`${rig.svc.url}/v1/me/credits`, "GET", undefined, token);
    clock.advance(599_000);
    assert.equal((await me()).status, 200);
    clock.advance(1_000);
    const expired = await me();
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.code, "unauthorized");
  } finally {
    await rig.close();
  }
});

Deno.test("sessions: no log line carries the session_key, the app secret or a token", async () => {
  const rig = await startRig("memory");
  const lines: string[] = [];
  const originals = { log: console.log, warn: console.warn, error: console.error };
  for (const name of ["log", "warn", "error"] as const) {
    console[name] = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  }
  try {
    const { token } = await login(rig, "alice");
    await call(`${rig.svc.url}/v1/sessions`, "POST", { code: "bad-code" });
    await fault(rig.sim.url, -1);
    await call(`${rig.svc.url}/v1/sessions`, "POST", { code: (await simCode(rig.sim, "a")).code });
    const keys = [...rig.sim.state.codes.keys()];
    assert.ok(lines.length >= 2, "failures are logged");
    for (const line of lines) {
      assert.doesNotMatch(line, /session_key|sim_secret|secret=/);
      assert.ok(!line.includes(token));
      for (const code of keys) assert.ok(!line.includes(code), "no login code in logs");
    }
  } finally {
    Object.assign(console, originals);
    await rig.close();
  }
});

Deno.test("sessions: the login answer, and its refusals, are never cached (Cache-Control: no-store)", async () => {
  const rig = await startRig("memory");
  try {
    const { code } = await simCode(rig.sim, "carol");
    const ok = await call(`${rig.svc.url}/v1/sessions`, "POST", { code });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("cache-control"), "no-store");
    const refused = await call(`${rig.svc.url}/v1/sessions`, "POST", { code: "never-issued" });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get("cache-control"), "no-store");
  } finally {
    await rig.close();
  }
});
