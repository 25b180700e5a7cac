/**
 * `GET|POST /v1/wechat/events` over real HTTP on both stores: WeChat's URL check, a verified and
 * decrypted push applied once, and every refusal (bad signature, wrong appid, replay, stale
 * timestamp, malformed XML and JSON, the other format) answered with its code and changing
 * nothing.
 */
import assert from "node:assert/strict";
import { PushCipher } from "../../../src/wechat/event_push/cipher.ts";
import { signPush } from "../../../src/wechat/event_push/signature.ts";
import { postPush, signedPush, verificationQuery } from "../../../tools/wechat_sim_events.ts";
import { popup, PUSH, startSubRig } from "../../subscribe/rig.ts";
import { startRig, STORES } from "../login_helpers.ts";
import { loadConfig } from "../../../src/config/config.ts";

for (const store of STORES) {
  Deno.test(`wechat events (${store}): URL check, a good push applied once, each refusal changes nothing`, async () => {
    const rig = await startSubRig(store, { sync: false });
    const url = `${rig.svc.url}/v1/wechat/events`;
    try {
      // WeChat's URL check.
      const echo = await fetch(`${url}?${verificationQuery(PUSH.token, { echostr: "hello-42" })}`);
      assert.equal(echo.status, 200);
      assert.equal(await echo.text(), "hello-42");
      const forged = await fetch(`${url}?${verificationQuery("wrongToken1", { echostr: "x" })}`);
      assert.equal(forged.status, 401);
      assert.equal((await forged.json()).error.code, "bad_signature");

      const { openId } = await rig.login("alice");
      const settings = { ...PUSH, appid: rig.sim.state.appid };
      const now = Math.floor(Date.now() / 1000);
      const good = signedPush(popup(["TPL_ONE", "accept"]), { openId, createTime: now }, settings);
      const [first] = await postPush(url, good);
      assert.deepEqual([first.status, first.body], [200, "success"]);
      const head = (await rig.svc.store.head()).seq;
      const credits = (await rig.svc.ledger.view(openId)).credits;
      assert.deepEqual(credits.map((c) => c.formId), [`sub:wx@${now}:TPL_ONE`]);

      const refusals: [string, Promise<Response> | Response, number, string][] = [];
      const post = (query: URLSearchParams | string, body: string, type = "application/json") =>
        fetch(`${url}?${query}`, { method: "POST", headers: { "content-type": type }, body });
      // The very same request again: a replay.
      refusals.push(["replay", post(good.query, good.body), 409, "replayed"]);
      // A wrong signature over a real body.
      const tampered = new URLSearchParams(good.query);
      tampered.set("msg_signature", "0".repeat(40));
      tampered.set("nonce", "7");
      refusals.push(["bad signature", post(tampered, good.body), 401, "bad_signature"]);
      // Encrypted for another mini-program, signed with the right token.
      const foreign = signedPush(popup(["TPL_ONE", "accept"]), { openId, createTime: now + 1 }, {
        ...settings,
        appid: "wx_someone_else",
      });
      refusals.push(["wrong appid", post(foreign.query, foreign.body), 403, "wrong_appid"]);
      // A timestamp from an hour ago, correctly signed.
      const stale = signedPush(popup(["TPL_ONE", "accept"]), { openId }, settings, {
        timestamp: now - 3600,
      });
      refusals.push(["stale", post(stale.query, stale.body), 401, "stale_timestamp"]);
      // Malformed JSON inside a correctly signed and encrypted envelope.
      const cipher = new PushCipher(PUSH.encodingAESKey, rig.sim.state.appid);
      for (const [name, plain] of [["json", '{"ToUserName": "gh", '], ["xml", "<xml><Event>"]]) {
        const encrypt = cipher.encrypt(plain);
        const nonce = String(Math.floor(Math.random() * 1e9));
        const q = new URLSearchParams({
          timestamp: String(now),
          nonce,
          encrypt_type: "aes",
          signature: signPush([PUSH.token, String(now), nonce]),
          msg_signature: signPush([PUSH.token, String(now), nonce, encrypt]),
        });
        refusals.push([
          `malformed ${name}`,
          post(q, JSON.stringify({ Encrypt: encrypt })),
          400,
          "malformed",
        ]);
      }
      // The envelope itself not JSON, and XML when the console says JSON.
      refusals.push(["broken envelope", post(good.query, "{not json"), 400, "malformed"]);
      refusals.push([
        "other format",
        post(good.query, `<xml><Encrypt><![CDATA[x]]></Encrypt></xml>`, "text/xml"),
        400,
        "malformed",
      ]);
      for (const [name, pending, status, code] of refusals) {
        const res = await pending;
        const body = await res.json();
        assert.equal(res.status, status, `${name}: ${JSON.stringify(body)}`);
        assert.equal(body.error.code, code, name);
        assert.equal(typeof body.error.message, "string");
      }
      assert.equal((await rig.svc.store.head()).seq, head, "no refusal changed the log");
      assert.equal((await rig.svc.ledger.view(openId)).valid, 1);

      // WeChat's retry of the same event (new nonce and signature, same CreateTime): once.
      const retry = signedPush(popup(["TPL_ONE", "accept"]), { openId, createTime: now }, settings);
      const [again] = await postPush(url, retry);
      assert.deepEqual([again.status, again.body], [200, "success"]);
      assert.equal((await rig.svc.ledger.view(openId)).valid, 1, "a duplicate is recorded once");
    } finally {
      await rig.close();
    }
  });
}

Deno.test("wechat events: plain XML and compatible JSON modes; 503 when not configured", async () => {
  for (const [mode, format] of [["plain", "xml"], ["compatible", "json"]] as const) {
    const rig = await startSubRig("memory", {
      sync: false,
      env: { WECHAT_PUSH_MODE: mode, WECHAT_PUSH_FORMAT: format },
    });
    try {
      const { openId } = await rig.login("bob");
      const push = signedPush(popup(["TPL_ONE", "acceptWithAudio"]), { openId }, {
        ...PUSH,
        mode,
        format,
        appid: rig.sim.state.appid,
      });
      const [attempt] = await postPush(`${rig.svc.url}/v1/wechat/events`, push);
      assert.deepEqual([attempt.status, attempt.body], [200, "success"], `${mode} ${format}`);
      assert.equal((await rig.svc.ledger.view(openId)).valid, 1);
      // A signed plain-mode body that is not XML.
      if (mode === "plain") {
        const bad = await fetch(`${rig.svc.url}/v1/wechat/events?${push.query}`, {
          method: "POST",
          body: "<xml><FromUserName>",
        });
        assert.equal(bad.status, 400);
        assert.equal((await bad.json()).error.code, "malformed");
      }
    } finally {
      await rig.close();
    }
  }
  const plain = await startRig("memory");
  try {
    const res = await fetch(`${plain.svc.url}/v1/wechat/events?${verificationQuery(PUSH.token)}`);
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.code, "not_configured");
  } finally {
    await plain.close();
  }
  assert.throws(
    () => loadConfig({ WECHAT_PUSH_AES_KEY: PUSH.encodingAESKey }),
    /WECHAT_PUSH_TOKEN is required/,
  );
  assert.throws(
    () => loadConfig({ WECHAT_PUSH_TOKEN: PUSH.token, WECHAT_PUSH_MODE: "safe" }),
    /needs WECHAT_PUSH_AES_KEY[\s\S]*needs WECHAT_APPID/,
  );
});
