/**
 * The one entry point the route calls for WeChat's message push (消息推送): it checks the request's
 * signature, the freshness of its timestamp and that it is not a replay, decrypts it in the
 * compatible and safe modes, and parses it. No I/O besides the replay guard.
 *
 * Order, so that nothing unauthenticated is decrypted or parsed and nothing unauthenticated can
 * fill the replay store: signature -> timestamp window -> decrypt -> parse -> replay claim.
 *
 * About the modes (the mini-program admin console's 消息加解密方式):
 * - `plain`: `signature` covers only (token, timestamp, nonce), not the body. Anyone who saw one
 *   signed URL can post another body under it while the timestamp is fresh, unless the original
 *   was accepted first (the replay guard). Prefer `safe`.
 * - `compatible`: the body carries the message twice, in clear and as `Encrypt`. Only `Encrypt` is
 *   covered by `msg_signature`, so only the decrypted copy is used.
 * - `safe`: the body carries only `Encrypt`; `msg_signature` covers it.
 *
 * @module
 */
import { type Clock, systemClock } from "../../shared/clock.ts";
import { PushCipher } from "./cipher.ts";
import { PushError } from "./errors.ts";
import type { PushMessage } from "./events.ts";
import { parsePush, readEncrypt } from "./parse.ts";
import type { ReplayGuard } from "./replay.ts";
import { checkTimestamp, signatureMatches } from "./signature.ts";

/** How WeChat encrypts pushes (the admin console's choice). */
export type PushMode = "plain" | "compatible" | "safe";

/** The admin console's push settings for one mini-program. */
export interface PushConfig {
  /** `Token` (令牌). */
  token: string;
  /** The mini-program's appid: encrypted messages must name it. */
  appid: string;
  mode: PushMode;
  /** `EncodingAESKey` (43 characters); required in the `compatible` and `safe` modes. */
  encodingAESKey?: string;
  /** A timestamp more than this many seconds from now is refused. Default 300. */
  windowSeconds?: number;
  /** A longer body is refused as `malformed`. Default 65,536 characters. */
  maxBodyChars?: number;
}

/** One request as the route received it. */
export interface PushRequest {
  method: string;
  /** The URL's query parameters. */
  query: URLSearchParams | Record<string, string | undefined>;
  /** The raw body text (empty for the URL check). */
  body?: string;
  config: PushConfig;
  guard: ReplayGuard;
  clock?: Clock;
}

/**
 * What to do with the request:
 * - `echo`: WeChat's URL check; answer `echostr` as the body;
 * - `message`: a verified push; process it, answer `success`, and on a processing failure call
 *   `guard.release(replayKey)` so that WeChat's retry is accepted;
 * - `refused`: answer an error built from `error.code`.
 */
export type PushOutcome =
  | { kind: "echo"; echostr: string }
  | { kind: "message"; message: PushMessage; replayKey: string }
  | { kind: "refused"; error: PushError };

const DEFAULT_WINDOW_SECONDS = 300;
const DEFAULT_MAX_BODY_CHARS = 65_536;

/**
 * Verifies, decrypts and parses one request to the push URL.
 *
 * @throws {Error} only for a broken configuration (e.g. a missing EncodingAESKey in safe mode);
 * every problem with the request itself is a `refused` outcome.
 * @example
 * ```ts
 * const outcome = await openPush({ method: "POST", query: url.searchParams, body, config, guard });
 * if (outcome.kind === "message" && outcome.message.event === "subscribe_msg_popup_event") {
 *   // credit outcome.message.openId for each accepted template
 * }
 * ```
 */
export async function openPush(request: PushRequest): Promise<PushOutcome> {
  const { config } = request;
  const cipher = config.mode === "plain" ? null : cipherOf(config);
  try {
    return await open(request, cipher);
  } catch (err) {
    if (err instanceof PushError) return { kind: "refused", error: err };
    throw err;
  }
}

async function open(request: PushRequest, cipher: PushCipher | null): Promise<PushOutcome> {
  const { config } = request;
  const param = paramReader(request.query);
  const windowSeconds = config.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const now = (request.clock ?? systemClock).now();
  const method = request.method.toUpperCase();

  if (method === "GET") {
    const echostr = param("echostr");
    if (echostr === null) throw new PushError("malformed", "URL check without echostr");
    const signed = verify(config.token, param, "signature");
    const seconds = checkTimestamp(signed.timestamp, now, windowSeconds);
    await claim(request.guard, signed.replayKey, seconds, windowSeconds);
    return { kind: "echo", echostr };
  }
  if (method !== "POST") {
    throw new PushError("malformed", `method ${method.slice(0, 10)} is not a push`);
  }

  const body = request.body ?? "";
  if (body.length > (config.maxBodyChars ?? DEFAULT_MAX_BODY_CHARS)) {
    throw new PushError("malformed", "body is too large");
  }
  let signed: Signed;
  let encrypt: string | null = null;
  if (cipher === null) {
    signed = verify(config.token, param, "signature");
  } else {
    if (param("encrypt_type") !== "aes") {
      throw new PushError("malformed", `expected encrypt_type=aes in ${config.mode} mode`);
    }
    // What msg_signature signs is in the body: read the envelope's Encrypt, nothing more, first.
    encrypt = readEncrypt(body);
    signed = verify(config.token, param, "msg_signature", encrypt);
  }
  const seconds = checkTimestamp(signed.timestamp, now, windowSeconds);
  const message = parsePush(cipher === null || encrypt === null ? body : cipher.decrypt(encrypt));
  await claim(request.guard, signed.replayKey, seconds, windowSeconds);
  return { kind: "message", message, replayKey: signed.replayKey };
}

/** A request whose signature checked out. */
interface Signed {
  timestamp: string;
  /** timestamp:nonce:signature, what the replay guard remembers. */
  replayKey: string;
}

/**
 * Checks `signature` (over token, timestamp, nonce) or `msg_signature` (the same and `Encrypt`).
 *
 * @throws {PushError} `bad_signature` when a part is missing or the signature does not match.
 */
function verify(
  token: string,
  param: (name: string) => string | null,
  which: "signature" | "msg_signature",
  encrypt?: string,
): Signed {
  const signature = param(which);
  const timestamp = param("timestamp");
  const nonce = param("nonce");
  if (signature === null || timestamp === null || nonce === null) {
    throw new PushError("bad_signature", `${which}, timestamp or nonce is missing`);
  }
  const parts = [token, timestamp, nonce, ...(encrypt === undefined ? [] : [encrypt])];
  if (!signatureMatches(signature, parts)) {
    throw new PushError("bad_signature", `${which} does not match`);
  }
  return { timestamp, replayKey: `${timestamp}:${nonce}:${signature.toLowerCase()}` };
}

function cipherOf(config: PushConfig): PushCipher {
  if (!config.encodingAESKey) {
    throw new Error(`push mode ${config.mode} needs an EncodingAESKey`);
  }
  return new PushCipher(config.encodingAESKey, config.appid);
}

/** Records a verified, fresh request's key; refuses a replay. */
async function claim(
  guard: ReplayGuard,
  key: string,
  seconds: number,
  windowSeconds: number,
): Promise<void> {
  // Past this moment the timestamp check refuses the request anyway: the key may be forgotten.
  const expiresAt = (seconds + windowSeconds) * 1000 + 1000;
  if (!(await guard.claim(key, expiresAt))) {
    throw new PushError("replayed", "this request was already received");
  }
}

function paramReader(query: PushRequest["query"]): (name: string) => string | null {
  if (query instanceof URLSearchParams) return (name) => query.get(name);
  return (name) => {
    const value = Object.hasOwn(query, name) ? query[name] : undefined;
    return typeof value === "string" ? value : null;
  };
}
