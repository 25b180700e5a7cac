/**
 * openPush, the route's entry point: WeChat's documented requests, every event in both formats and
 * all three modes (built by the simulator's pusher), and every refusal.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ManualClock } from "../../../src/shared/clock.ts";
import type { PushMessage } from "../../../src/wechat/event_push/events.ts";
import {
  openPush,
  type PushConfig,
  type PushMode,
  type PushOutcome,
} from "../../../src/wechat/event_push/open.ts";
import type { BodyFormat } from "../../../src/wechat/event_push/parse.ts";
import { MemoryReplayGuard } from "../../../src/wechat/event_push/replay.ts";
import { signPush } from "../../../src/wechat/event_push/signature.ts";
import { signedPush, type SimEvent, type SimPush } from "../../../tools/wechat_sim_events.ts";
import { DOC, handEncrypt, handLayout, handSeal } from "./fixtures.ts";

const TOKEN = "t0kenForTests";
const KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID = "wx_sim_appid";
const NOW = 1_760_000_000;
const MODES: PushMode[] = ["plain", "compatible", "safe"];
const FORMATS: BodyFormat[] = ["xml", "json"];

const config = (mode: PushMode, extra: Partial<PushConfig> = {}): PushConfig => ({
  token: TOKEN,
  appid: APPID,
  mode,
  encodingAESKey: KEY,
  ...extra,
});

function build(event: SimEvent, mode: PushMode, format: BodyFormat, appid = APPID): SimPush {
  return signedPush(event, { openId: "o_user", toUserName: "gh_app", createTime: NOW - 2 }, {
    token: TOKEN,
    appid,
    mode,
    format,
    encodingAESKey: KEY,
  }, { timestamp: NOW });
}

/** A fresh guard and a clock at NOW unless given. */
function post(
  push: SimPush,
  mode: PushMode,
  opts: { guard?: MemoryReplayGuard; clock?: ManualClock; config?: Partial<PushConfig> } = {},
): Promise<PushOutcome> {
  const clock = opts.clock ?? new ManualClock(NOW * 1000);
  return openPush({
    method: "POST",
    query: push.query,
    body: push.body,
    config: config(mode, opts.config),
    guard: opts.guard ?? new MemoryReplayGuard({ clock }),
    clock,
  });
}

function message(outcome: PushOutcome): PushMessage {
  assert.equal(outcome.kind, "message", JSON.stringify(outcome));
  return (outcome as { message: PushMessage }).message;
}

function refusedWith(outcome: PushOutcome, code: string, pattern?: RegExp): void {
  assert.equal(outcome.kind, "refused", JSON.stringify(outcome));
  const { error } = outcome as { error: { code: string; message: string } };
  assert.equal(error.code, code, error.message);
  if (pattern) assert.match(error.message, pattern);
}

const popup = (n: number): SimEvent => ({
  event: "subscribe_msg_popup_event",
  items: Array.from({ length: n }, (_, i) => ({
    templateId: `TPL_${i}`,
    status: i % 2 ? "reject" : "accept",
    popupScene: "0",
  })),
});
const change = (n: number): SimEvent => ({
  event: "subscribe_msg_change_event",
  items: Array.from({ length: n }, (_, i) => ({ templateId: `TPL_${i}`, status: "reject" })),
});
const sent = (n: number): SimEvent => ({
  event: "subscribe_msg_sent_event",
  items: Array.from({ length: n }, (_, i) => ({
    templateId: `TPL_${i}`,
    msgId: `17008271328195543${i}4`,
    errorCode: i === 0 ? 0 : 20001,
    errorStatus: i === 0 ? "success" : "system fail",
  })),
});

Deno.test("the documented safe-mode request decrypts to the documented debug_demo event", async () => {
  const query = new URLSearchParams({
    signature: DOC.safe.signature,
    timestamp: DOC.safe.timestamp,
    nonce: DOC.safe.nonce,
    openid: DOC.safe.openid,
    encrypt_type: "aes",
    msg_signature: DOC.safe.msgSignature,
  });
  const clock = new ManualClock(Number(DOC.safe.timestamp) * 1000 + 1500);
  const outcome = await openPush({
    method: "POST",
    query,
    body: JSON.stringify({ ToUserName: "gh_97417a04a28d", Encrypt: DOC.safe.encrypt }),
    config: { token: DOC.token, appid: DOC.appid, mode: "safe", encodingAESKey: DOC.aesKey },
    guard: new MemoryReplayGuard({ clock }),
    clock,
  });
  assert.deepEqual(message(outcome), {
    event: "other",
    msgType: "event",
    name: "debug_demo",
    fields: JSON.parse(DOC.safe.message),
  });
  assert.equal(
    (outcome as { replayKey: string }).replayKey,
    `${DOC.safe.timestamp}:${DOC.safe.nonce}:${DOC.safe.msgSignature}`,
  );
});

Deno.test("the documented URL check echoes echostr; the plaintext example is accepted", async () => {
  const clock = new ManualClock(Number(DOC.verify.timestamp) * 1000);
  const guard = new MemoryReplayGuard({ clock });
  const check = {
    method: "GET",
    query: { ...DOC.verify },
    config: {
      token: DOC.token,
      appid: DOC.appid,
      mode: "safe" as const,
      encodingAESKey: DOC.aesKey,
    },
    guard,
    clock,
  };
  assert.deepEqual(await openPush(check), { kind: "echo", echostr: DOC.verify.echostr });
  refusedWith(await openPush(check), "replayed");
  refusedWith(
    await openPush({
      ...check,
      clock: new ManualClock((Number(DOC.verify.timestamp) + 301) * 1000),
    }),
    "stale_timestamp",
  );
  refusedWith(
    await openPush({ ...check, query: { ...DOC.verify, echostr: undefined } }),
    "malformed",
  );
  refusedWith(
    await openPush({ ...check, query: { ...DOC.verify, nonce: "1514711493" } }),
    "bad_signature",
  );

  const plain = await openPush({
    method: "POST",
    query: new URLSearchParams(DOC.plain),
    body: DOC.plain.body,
    config: { token: DOC.token, appid: DOC.appid, mode: "plain" },
    guard,
    clock: new ManualClock(Number(DOC.plain.timestamp) * 1000),
  });
  assert.equal(message(plain).event, "other");
});

for (const mode of MODES) {
  for (const format of FORMATS) {
    Deno.test(`${mode} ${format}: popup, change and sent, with one item and with three`, async () => {
      for (const make of [popup, change, sent]) {
        for (const n of [1, 3]) {
          const event = make(n);
          const got = message(await post(build(event, mode, format), mode));
          assert.deepEqual(got, {
            toUserName: "gh_app",
            openId: "o_user",
            createTime: NOW - 2,
            msgType: "event",
            event: event.event,
            items: event.items,
          });
        }
      }
    });
  }
}

Deno.test("bad signatures: tampered, missing, or over a changed body or query", async () => {
  const plainPush = build(popup(1), "plain", "json");
  const tampered = new URLSearchParams(plainPush.query);
  tampered.set("signature", "0".repeat(40));
  refusedWith(await post({ ...plainPush, query: tampered }, "plain"), "bad_signature");
  const noSig = new URLSearchParams(plainPush.query);
  noSig.delete("signature");
  refusedWith(await post({ ...plainPush, query: noSig }, "plain"), "bad_signature", /missing/);
  const otherNonce = new URLSearchParams(plainPush.query);
  otherNonce.set("nonce", "12345");
  refusedWith(await post({ ...plainPush, query: otherNonce }, "plain"), "bad_signature");

  for (const format of FORMATS) {
    const safe = build(popup(2), "safe", format);
    const msgSig = new URLSearchParams(safe.query);
    msgSig.set("msg_signature", signPush([TOKEN, "1", "2"]));
    refusedWith(await post({ ...safe, query: msgSig }, "safe"), "bad_signature");
    // Another valid ciphertext under this request's msg_signature.
    const swapped = safe.body.replace(
      /[A-Za-z0-9+/]{40,}={0,2}/,
      handEncrypt(KEY, "<xml><MsgType>event</MsgType></xml>", APPID),
    );
    refusedWith(await post({ ...safe, body: swapped }, "safe"), "bad_signature");
    const noMsgSig = new URLSearchParams(safe.query);
    noMsgSig.delete("msg_signature");
    refusedWith(await post({ ...safe, query: noMsgSig }, "safe"), "bad_signature");
  }
});

Deno.test("stale and future timestamps are refused; the window is configurable", async () => {
  const push = build(sent(1), "safe", "xml");
  refusedWith(
    await post(push, "safe", { clock: new ManualClock((NOW + 301) * 1000) }),
    "stale_timestamp",
  );
  refusedWith(
    await post(push, "safe", { clock: new ManualClock((NOW - 301) * 1000) }),
    "stale_timestamp",
  );
  assert.equal(
    (await post(push, "safe", { clock: new ManualClock((NOW + 300) * 1000) })).kind,
    "message",
  );
  refusedWith(
    await post(push, "safe", {
      clock: new ManualClock((NOW + 31) * 1000),
      config: { windowSeconds: 30 },
    }),
    "stale_timestamp",
  );
});

Deno.test("a replay is refused; after release (processing failed) the retry is accepted", async () => {
  for (const mode of MODES) {
    const clock = new ManualClock(NOW * 1000);
    const guard = new MemoryReplayGuard({ clock });
    const push = build(popup(1), mode, "xml");
    const first = await post(push, mode, { guard, clock });
    assert.equal(first.kind, "message");
    refusedWith(await post(push, mode, { guard, clock }), "replayed");
    clock.advance(299_000); // still inside the window
    refusedWith(await post(push, mode, { guard, clock }), "replayed");
    await guard.release((first as { replayKey: string }).replayKey);
    assert.equal((await post(push, mode, { guard, clock })).kind, "message");
    // A refused forgery does not use up the genuine request's key.
    const fresh = new MemoryReplayGuard({ clock });
    const forged = new URLSearchParams(push.query);
    forged.set(mode === "plain" ? "signature" : "msg_signature", "f".repeat(40));
    refusedWith(
      await post({ ...push, query: forged }, mode, { guard: fresh, clock }),
      "bad_signature",
    );
    assert.equal((await post(push, mode, { guard: fresh, clock })).kind, "message");
  }
});

Deno.test("wrong appid: a message encrypted for another mini-program", async () => {
  for (const mode of ["compatible", "safe"] as const) {
    for (const format of FORMATS) {
      const push = build(change(1), mode, format, "wx_another_app");
      refusedWith(await post(push, mode), "wrong_appid");
    }
  }
});

/** A safe-mode request whose Encrypt holds `sealed`, correctly signed. */
function safeWith(sealed: string, format: BodyFormat): SimPush {
  const query = new URLSearchParams({
    signature: signPush([TOKEN, String(NOW), "777"]),
    timestamp: String(NOW),
    nonce: "777",
    encrypt_type: "aes",
    msg_signature: signPush([TOKEN, String(NOW), "777", sealed]),
  });
  const body = format === "json"
    ? JSON.stringify({ ToUserName: "gh_app", Encrypt: sealed })
    : `<xml><ToUserName><![CDATA[gh_app]]></ToUserName><Encrypt><![CDATA[${sealed}]]></Encrypt></xml>`;
  return { query, body, contentType: "" };
}

Deno.test("malformed: bad padding, and signed bodies that do not parse, in every mode", async () => {
  // 34 bytes of layout + 30 of padding, one of which is wrong.
  const pad = Buffer.alloc(30, 30);
  pad[3] = 29;
  const padded = Buffer.concat([handLayout("{}", APPID), pad]);
  for (const format of FORMATS) {
    refusedWith(
      await post(safeWith(handSeal(KEY, padded), format), "safe"),
      "malformed",
      /bad padding/,
    );
  }
  const junk = {
    xml: ["<xml><MsgType>event</xml>", "<!DOCTYPE x [<!ENTITY a 'b'>]><xml><a>&a;</a></xml>"],
    json: ['{"MsgType": "event",', "[]"],
  };
  for (const format of FORMATS) {
    for (const body of junk[format]) {
      refusedWith(await post(safeWith(handEncrypt(KEY, body, APPID), format), "safe"), "malformed");
      const plain = build(popup(1), "plain", format);
      refusedWith(await post({ ...plain, body }, "plain"), "malformed");
    }
    const missing = format === "json"
      ? JSON.stringify({ MsgType: "event", Event: "subscribe_msg_popup_event", List: {} })
      : "<xml><MsgType>event</MsgType><Event>subscribe_msg_sent_event</Event></xml>";
    refusedWith(
      await post(safeWith(handEncrypt(KEY, missing, APPID), format), "safe"),
      "malformed",
      /missing|no List/,
    );
  }
  // An envelope without Encrypt, or not parsing at all.
  const env = build(popup(1), "safe", "json");
  refusedWith(await post({ ...env, body: '{"ToUserName":"gh_app"}' }, "safe"), "malformed");
  refusedWith(await post({ ...env, body: "<xml><ToUserName>x</xml>" }, "safe"), "malformed");
});

Deno.test("malformed requests: method, encrypt_type, size; broken config throws", async () => {
  const push = build(popup(1), "safe", "json");
  const noType = new URLSearchParams(push.query);
  noType.delete("encrypt_type");
  refusedWith(await post({ ...push, query: noType }, "safe"), "malformed", /encrypt_type=aes/);
  // A plaintext request to an encrypted endpoint.
  refusedWith(await post(build(popup(1), "plain", "json"), "safe"), "malformed", /encrypt_type/);
  refusedWith(
    await post(push, "safe", { config: { maxBodyChars: 100 } }),
    "malformed",
    /too large/,
  );
  const put = await openPush({
    method: "PUT",
    query: push.query,
    body: push.body,
    config: config("safe"),
    guard: new MemoryReplayGuard(),
  });
  refusedWith(put, "malformed", /PUT/);
  await assert.rejects(
    post(push, "safe", { config: { encodingAESKey: undefined } }),
    /EncodingAESKey/,
  );
});

Deno.test("compatible mode reads only the encrypted copy: edits to the clear copy are ignored", async () => {
  for (const format of FORMATS) {
    const push = build(popup(1), "compatible", format);
    const edited = push.body.replaceAll("o_user", "o_attacker").replaceAll("accept", "reject");
    const got = message(await post({ ...push, body: edited }, "compatible"));
    assert.equal(got.event === "subscribe_msg_popup_event" && got.openId, "o_user");
    assert.equal(got.event === "subscribe_msg_popup_event" && got.items[0].status, "accept");
  }
});

Deno.test("the query may be a plain record, as a router hands it", async () => {
  const push = build(sent(2), "safe", "json");
  const outcome = await openPush({
    method: "post",
    query: Object.fromEntries(push.query),
    body: push.body,
    config: config("safe"),
    guard: new MemoryReplayGuard(),
    clock: new ManualClock(NOW * 1000),
  });
  assert.equal(message(outcome).event, "subscribe_msg_sent_event");
});
