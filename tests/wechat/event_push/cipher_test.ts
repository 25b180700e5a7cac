/**
 * WXBizMsgCrypt: WeChat's documented ciphertexts, fixtures encrypted by hand with node:crypto,
 * and every way a ciphertext can be wrong.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { aesKeyOf, PushCipher } from "../../../src/wechat/event_push/cipher.ts";
import { PushError } from "../../../src/wechat/event_push/errors.ts";
import { DOC, handDecrypt, handEncrypt, handLayout, handPad, handSeal } from "./fixtures.ts";

const KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID = "wx_sim_appid";

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof PushError, String(err));
    return `${err.code}: ${err.message}`;
  }
  return "accepted";
}

Deno.test("decrypt: the documented safe-mode ciphertext gives the documented message", () => {
  const cipher = new PushCipher(DOC.aesKey, DOC.appid);
  const message = cipher.decrypt(DOC.safe.encrypt);
  assert.equal(message, DOC.safe.message);
  assert.equal(new TextEncoder().encode(message).length, 167);
});

Deno.test("encrypt: the documented reply ciphertext, byte for byte, given its random prefix", () => {
  const cipher = new PushCipher(DOC.aesKey, DOC.appid);
  const random = new TextEncoder().encode(DOC.reply.random);
  assert.equal(cipher.encrypt(DOC.reply.message, random), DOC.reply.encrypt);
});

Deno.test("WebCrypto's AES-CBC refuses WeChat's 32-byte padding (why node:crypto is used)", async () => {
  const key = aesKeyOf(DOC.aesKey);
  const k = await crypto.subtle.importKey("raw", key, "AES-CBC", false, ["decrypt"]);
  const sealed = new Uint8Array(Buffer.from(DOC.safe.encrypt, "base64"));
  await assert.rejects(crypto.subtle.decrypt({ name: "AES-CBC", iv: key.slice(0, 16) }, k, sealed));
});

Deno.test("decrypt: a fixture encrypted by hand, short, long and multi-byte", () => {
  const cipher = new PushCipher(KEY, APPID);
  for (const message of ["", "x", "订阅消息 ✓", "<xml>" + "a".repeat(5000) + "</xml>"]) {
    assert.equal(cipher.decrypt(handEncrypt(KEY, message, APPID)), message);
  }
  // Exactly one whole block of padding when the layout already fills 32-byte blocks.
  const fill = "m".repeat(64 - 20 - APPID.length);
  assert.equal(handLayout(fill, APPID).length % 32, 0);
  assert.equal(cipher.decrypt(handEncrypt(KEY, fill, APPID)), fill);
});

Deno.test("encrypt: hand decryption reads the message and appid, and it pads to 32", () => {
  const cipher = new PushCipher(KEY, APPID);
  for (const message of ["", "hello", "y".repeat(44 - APPID.length), "订阅"]) {
    const encrypt = cipher.encrypt(message);
    assert.deepEqual(handDecrypt(KEY, encrypt), { message, appid: APPID });
    assert.equal(Buffer.from(encrypt, "base64").length % 32, 0);
  }
  // Fresh random bytes: the same message encrypts differently each time.
  assert.notEqual(cipher.encrypt("same"), cipher.encrypt("same"));
});

Deno.test("decrypt: wrong appid is its own refusal", () => {
  const other = handEncrypt(KEY, "hi", "wx_other_app");
  assert.match(refusal(() => new PushCipher(KEY, APPID).decrypt(other)), /^wrong_appid:/);
  // The documented ciphertext is for wxba5fad812f8e6fb9.
  assert.match(
    refusal(() => new PushCipher(DOC.aesKey, APPID).decrypt(DOC.safe.encrypt)),
    /^wrong_appid:/,
  );
});

Deno.test("decrypt: bad padding, bad length field and bad sizes are malformed", () => {
  const cipher = new PushCipher(KEY, APPID);
  const layout = handLayout("hello", APPID);
  const padded = handPad(layout);
  const cases: Record<string, Uint8Array> = {
    "pad byte 0": Buffer.concat([padded.subarray(0, -1), Buffer.from([0])]),
    "pad byte 33": Buffer.concat([padded.subarray(0, 31), Buffer.alloc(padded.length - 31, 33)]),
    "inconsistent pad": (() => {
      const b = Buffer.from(padded);
      b[b.length - 2] ^= 1;
      return b;
    })(),
    "length field too large": (() => {
      const b = Buffer.from(padded);
      b.writeUInt32BE(10_000, 16);
      return b;
    })(),
  };
  for (const [name, bytes] of Object.entries(cases)) {
    assert.match(refusal(() => cipher.decrypt(handSeal(KEY, bytes))), /^malformed:/, name);
  }
  assert.match(refusal(() => cipher.decrypt(handSeal(KEY, Buffer.alloc(32, 32)))), /too short/);
  for (const junk of ["", "not base64!", "QUJD", "QUJDRA=", Buffer.alloc(48).toString("base64")]) {
    assert.match(refusal(() => cipher.decrypt(junk)), /^malformed:/, junk);
  }
});

Deno.test("decrypt: with another key, the result is refused, never returned", () => {
  const sealed = handEncrypt("B".repeat(43), "secret", APPID);
  assert.match(
    refusal(() => new PushCipher(KEY, APPID).decrypt(sealed)),
    /^(malformed|wrong_appid):/,
  );
});

Deno.test("aesKeyOf: 43 alphanumerics only", () => {
  assert.deepEqual(aesKeyOf("A".repeat(43)), new Uint8Array(32));
  for (const bad of ["A".repeat(42), "A".repeat(44), "A".repeat(42) + "+", ""]) {
    assert.throws(() => aesKeyOf(bad), /EncodingAESKey/);
  }
});
