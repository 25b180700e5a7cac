/**
 * WeChat's message encryption (WXBizMsgCrypt), used by the compatible and safe modes:
 *
 * - key = base64-decode(EncodingAESKey + "="): 32 bytes, AES-256-CBC, IV = the key's first 16 bytes;
 * - plaintext = 16 random bytes + message length (4 bytes, big-endian) + message + appid;
 * - PKCS#7 padding to a multiple of **32** bytes (not AES's 16), then base64.
 *
 * node:crypto, not WebCrypto: WebCrypto's AES-CBC always strips 16-byte PKCS#7 padding itself and
 * fails on WeChat's (the documented example ends in 19 bytes of padding). Here the automatic
 * padding is off and the 32-byte padding is added and checked by hand. Decryption only ever runs on
 * a ciphertext whose `msg_signature` was verified first, so its errors are no padding oracle.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { PushError } from "./errors.ts";

const BLOCK = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The AES key of an EncodingAESKey (43 characters from a-z, A-Z, 0-9).
 *
 * @throws {Error} when the EncodingAESKey is not 43 such characters (a configuration mistake).
 * @example
 * ```ts
 * aesKeyOf("A".repeat(43)); // 32 zero bytes
 * ```
 */
export function aesKeyOf(encodingAESKey: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9]{43}$/.test(encodingAESKey)) {
    throw new Error("EncodingAESKey must be 43 characters from a-z, A-Z and 0-9");
  }
  return new Uint8Array(Buffer.from(encodingAESKey + "=", "base64"));
}

/**
 * Encrypts and decrypts one mini-program's push bodies.
 *
 * @example
 * ```ts
 * const cipher = new PushCipher(encodingAESKey, "wxba5fad812f8e6fb9");
 * const encrypt = cipher.encrypt('{"Event":"debug_demo"}');
 * cipher.decrypt(encrypt); // '{"Event":"debug_demo"}'
 * ```
 */
export class PushCipher {
  readonly #key: Uint8Array;
  readonly #iv: Uint8Array;
  readonly #appid: string;

  constructor(encodingAESKey: string, appid: string) {
    this.#key = aesKeyOf(encodingAESKey);
    this.#iv = this.#key.slice(0, 16);
    this.#appid = appid;
  }

  /**
   * The base64 `Encrypt` of `message`. `random` (16 bytes) is for known-answer tests; by default
   * it is fresh random bytes, as WeChat's are.
   */
  encrypt(message: string, random: Uint8Array = randomBytes(16)): string {
    if (random.length !== 16) throw new Error("random must be 16 bytes");
    const body = Buffer.from(message, "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    const plain = Buffer.concat([random, length, body, Buffer.from(this.#appid, "utf8")]);
    const pad = BLOCK - (plain.length % BLOCK);
    const padded = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
    const cipher = createCipheriv("aes-256-cbc", this.#key, this.#iv).setAutoPadding(false);
    return Buffer.concat([cipher.update(padded), cipher.final()]).toString("base64");
  }

  /**
   * The message inside a base64 `Encrypt`, after checking its padding, its length field and that
   * it was meant for this appid.
   *
   * @throws {PushError} `malformed` (not base64, bad size, bad padding, bad length) or
   * `wrong_appid`.
   */
  decrypt(encrypt: string): string {
    if (encrypt.length % 4 !== 0 || !BASE64.test(encrypt)) {
      throw new PushError("malformed", "Encrypt is not base64");
    }
    const sealed = Buffer.from(encrypt, "base64");
    if (sealed.length < BLOCK || sealed.length % 16 !== 0) {
      throw new PushError("malformed", "Encrypt has an impossible size");
    }
    const decipher = createDecipheriv("aes-256-cbc", this.#key, this.#iv).setAutoPadding(false);
    const padded = Buffer.concat([decipher.update(sealed), decipher.final()]);
    const pad = padded[padded.length - 1];
    if (pad < 1 || pad > BLOCK || padded.subarray(padded.length - pad).some((b) => b !== pad)) {
      throw new PushError("malformed", "Encrypt has bad padding");
    }
    const plain = padded.subarray(0, padded.length - pad);
    if (plain.length < 20) throw new PushError("malformed", "Encrypt is too short");
    const length = plain.readUInt32BE(16);
    if (20 + length > plain.length) {
      throw new PushError("malformed", "Encrypt's length field exceeds its content");
    }
    const appid = plain.subarray(20 + length).toString("utf8");
    if (appid !== this.#appid) {
      // Name neither appid: a wrong key would make this garbage, and the route logs messages.
      throw new PushError("wrong_appid", "the message was encrypted for another appid");
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(plain.subarray(20, 20 + length));
    } catch {
      throw new PushError("malformed", "the decrypted message is not UTF-8");
    }
  }
}
