/**
 * Known answers for the push tests: the worked examples of WeChat's message-push documentation
 * (mini-program 消息推送: Token "AAAAA", EncodingAESKey of 43 "A", appid wxba5fad812f8e6fb9), and a
 * hand-rolled WXBizMsgCrypt written here with node:crypto from the documented recipe, independent
 * of src/wechat/event_push.
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, createHash } from "node:crypto";

export const DOC = {
  token: "AAAAA",
  aesKey: "A".repeat(43),
  appid: "wxba5fad812f8e6fb9",
  verify: {
    signature: "f464b24fc39322e44b38aa78f5edd27bd1441696",
    echostr: "4375120948345356249",
    timestamp: "1714036504",
    nonce: "1514711492",
  },
  plain: {
    signature: "899cf89e464efb63f54ddac96b0a0a235f53aa78",
    timestamp: "1714037059",
    nonce: "486452656",
    body: JSON.stringify({
      ToUserName: "gh_97417a04a28d",
      FromUserName: "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
      CreateTime: 1714037059,
      MsgType: "event",
      Event: "debug_demo",
      debug_str: "hello world",
    }),
  },
  safe: {
    signature: "6c5c811b55cc85e0e1b54100749188c20beb3f5d",
    msgSignature: "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3",
    timestamp: "1714112445",
    nonce: "415670741",
    openid: "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
    encrypt:
      "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPx" +
      "LKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPp" +
      "RSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOc" +
      "fBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=",
    /** The documented plaintext (167 bytes, after the random "a8eedb185eb2fecf"). */
    message: '{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY",' +
      '"CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}',
  },
  reply: {
    random: "707722b803182950",
    message: '{"demo_resp":"good luck"}',
    encrypt:
      "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ==",
    timestamp: "1713424427",
    nonce: "415670741",
    msgSignature: "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1",
  },
} as const;

/** sha1 of the sorted, joined parts, written out here. */
export function handSign(...parts: string[]): string {
  return createHash("sha1").update(parts.sort().join("")).digest("hex");
}

function keyOf(aesKey: string): Buffer {
  return Buffer.from(aesKey + "=", "base64");
}

/**
 * AES-256-CBC of `padded` with WeChat's key and IV, no automatic padding: the caller lays out
 * the plaintext (and may lay it out wrongly on purpose).
 */
export function handSeal(aesKey: string, padded: Uint8Array): string {
  const key = keyOf(aesKey);
  const c = createCipheriv("aes-256-cbc", key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([c.update(padded), c.final()]).toString("base64");
}

/** WeChat's plaintext layout: random(16) + length(4, big-endian) + message + appid. */
export function handLayout(message: string, appid: string, random = new Uint8Array(16)): Buffer {
  const msg = Buffer.from(message);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  return Buffer.concat([random, len, msg, Buffer.from(appid)]);
}

/** PKCS#7 to a multiple of 32 bytes, as WeChat pads. */
export function handPad(plain: Uint8Array): Buffer {
  const pad = 32 - (plain.length % 32);
  return Buffer.concat([plain, Buffer.alloc(pad, pad)]);
}

/** A complete hand-made `Encrypt`. */
export function handEncrypt(aesKey: string, message: string, appid: string): string {
  return handSeal(
    aesKey,
    handPad(handLayout(message, appid, crypto.getRandomValues(new Uint8Array(16)))),
  );
}

/** Decrypts an `Encrypt` by hand: returns the message and appid. */
export function handDecrypt(aesKey: string, encrypt: string): { message: string; appid: string } {
  const key = keyOf(aesKey);
  const d = createDecipheriv("aes-256-cbc", key, key.subarray(0, 16)).setAutoPadding(false);
  const padded = Buffer.concat([d.update(Buffer.from(encrypt, "base64")), d.final()]);
  const plain = padded.subarray(0, padded.length - padded[padded.length - 1]);
  const len = plain.readUInt32BE(16);
  return {
    message: plain.subarray(20, 20 + len).toString(),
    appid: plain.subarray(20 + len).toString(),
  };
}
