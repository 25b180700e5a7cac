/**
 * The simulated WeChat's event pusher: builds the subscribe-message pushes WeChat posts to a
 * mini-program's server URL (popup, change and sent events, in XML or JSON, in the plain,
 * compatible or safe mode, signed and encrypted as WeChat does) and posts them, with WeChat's
 * retries and duplicates. The simulator pushes through it (`POST /__sim/push-config`); the CLI in
 * tools/wechat_sim_events.ts posts single events by hand.
 *
 * @module
 */
import { PushCipher } from "../../wechat/event_push/cipher.ts";
import type {
  ChangeItem,
  PopupItem,
  SentItem,
  SUBSCRIBE_EVENTS,
} from "../../wechat/event_push/events.ts";
import type { PushMode } from "../../wechat/event_push/open.ts";
import type { BodyFormat } from "../../wechat/event_push/parse.ts";
import { signPush } from "../../wechat/event_push/signature.ts";

/** One subscribe event to push. */
export type SimEvent =
  | { event: "subscribe_msg_popup_event"; items: PopupItem[] }
  | { event: "subscribe_msg_change_event"; items: ChangeItem[] }
  | { event: "subscribe_msg_sent_event"; items: SentItem[] };

/** Who the event is from and to, and when. */
export interface SimEventHeader {
  /** `FromUserName`: the user's openid. */
  openId: string;
  /** `ToUserName`: the mini-program's original id. Default `gh_sim_original`. */
  toUserName?: string;
  /** `CreateTime` in epoch seconds. Default now. */
  createTime?: number;
  /** JSON only: send `CreateTime` as a string, as WeChat's documentation shows it. */
  createTimeAsString?: boolean;
}

/** The admin console's push settings the simulated WeChat signs and encrypts with. */
export interface SimPushSettings {
  token: string;
  appid: string;
  mode: PushMode;
  format: BodyFormat;
  /** Required in the compatible and safe modes. */
  encodingAESKey?: string;
}

/** A built request: what to post where. */
export interface SimPush {
  query: URLSearchParams;
  body: string;
  contentType: string;
}

/** Fixes what is random in a push, for known-answer tests. */
export interface SimPushFixed {
  timestamp?: number;
  nonce?: string;
  /** The 16 random bytes in front of the encrypted message. */
  random?: Uint8Array;
}

type EventName = (typeof SUBSCRIBE_EVENTS)[number];
/** A field: name, value, and whether WeChat writes it bare in XML (numbers) or in CDATA. */
type Entry = [name: string, value: string, bare: boolean];

const WRAPPERS: Record<EventName, string> = {
  subscribe_msg_popup_event: "SubscribeMsgPopupEvent",
  subscribe_msg_change_event: "SubscribeMsgChangeEvent",
  subscribe_msg_sent_event: "SubscribeMsgSentEvent",
};

const text = (name: string, value: string): Entry => [name, value, false];
const number = (name: string, value: string | number): Entry => [name, String(value), true];

/** WeChat's field names and values of one list item. */
function itemEntries(event: SimEvent, index: number): Entry[] {
  if (event.event === "subscribe_msg_sent_event") {
    const item = event.items[index];
    return [
      text("TemplateId", item.templateId),
      number("MsgID", item.msgId),
      number("ErrorCode", item.errorCode),
      text("ErrorStatus", item.errorStatus),
    ];
  }
  const item: PopupItem = event.items[index];
  const entries = [text("TemplateId", item.templateId), text("SubscribeStatusString", item.status)];
  if (item.popupScene !== undefined) entries.push(number("PopupScene", item.popupScene));
  return entries;
}

function headerEntries(event: SimEvent, header: SimEventHeader): Entry[] {
  return [
    text("ToUserName", header.toUserName ?? "gh_sim_original"),
    text("FromUserName", header.openId),
    number("CreateTime", header.createTime ?? Math.floor(Date.now() / 1000)),
    text("MsgType", "event"),
    text("Event", event.event),
  ];
}

/** A CDATA section; a `]]>` inside is split across two sections, as XML requires. */
function cdata(text: string): string {
  return `<![CDATA[${text.replaceAll("]]>", "]]]]><![CDATA[>")}]]>`;
}

function xmlFields(entries: Entry[]): string {
  return entries.map(([name, value, bare]) => `<${name}>${bare ? value : cdata(value)}</${name}>`)
    .join("");
}

/**
 * The plaintext body of an event, exactly as WeChat writes it: XML with strings in CDATA and
 * numbers bare, one `<List>` per template inside the event's wrapper; or JSON with a top-level
 * `List` that is an object for one template and an array for several, the list's numbers as
 * strings (`"PopupScene": "0"`, `"ErrorCode": "0"`, `"MsgID": "..."`).
 *
 * @example
 * ```ts
 * eventBody({ event: "subscribe_msg_change_event", items: [{ templateId: "T", status: "reject" }] },
 *   { openId: "o1" }, "xml");
 * ```
 */
export function eventBody(event: SimEvent, header: SimEventHeader, format: BodyFormat): string {
  const head = headerEntries(event, header);
  const lists = event.items.map((_, i) => itemEntries(event, i));
  if (format === "xml") {
    const inner = lists.map((entries) => `<List>${xmlFields(entries)}</List>`).join("");
    const wrapper = WRAPPERS[event.event];
    return `<xml>${xmlFields(head)}<${wrapper}>${inner}</${wrapper}></xml>`;
  }
  // The header's numbers are JSON numbers (CreateTime, unless asked otherwise); the list's are
  // strings, as in WeChat's JSON examples.
  const top: Record<string, unknown> = Object.fromEntries(
    head.map(([name, value, bare]) => [
      name,
      bare && !header.createTimeAsString ? Number(value) : value,
    ]),
  );
  const items = lists.map((entries) => Object.fromEntries(entries.map(([n, v]) => [n, v])));
  top.List = items.length === 1 ? items[0] : items;
  return JSON.stringify(top);
}

/**
 * A signed push of `event`: in the plain mode the body above with `signature`; in the compatible
 * and safe modes the body encrypted into `Encrypt` (beside the plaintext fields in compatible
 * mode, alone with `ToUserName` in safe mode) with `openid`, `encrypt_type=aes` and
 * `msg_signature` added to the query.
 *
 * @example
 * ```ts
 * const push = signedPush(event, { openId: "o1" }, { token, appid, mode: "safe", format: "json",
 *   encodingAESKey });
 * await postPush(url, push);
 * ```
 */
export function signedPush(
  event: SimEvent,
  header: SimEventHeader,
  settings: SimPushSettings,
  fixed: SimPushFixed = {},
): SimPush {
  const timestamp = String(fixed.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = fixed.nonce ?? randomNonce();
  const plain = eventBody(event, header, settings.format);
  const query = new URLSearchParams({
    signature: signPush([settings.token, timestamp, nonce]),
    timestamp,
    nonce,
  });
  const contentType = settings.format === "xml" ? "text/xml" : "application/json";
  if (settings.mode === "plain") return { query, body: plain, contentType };

  if (!settings.encodingAESKey) throw new Error(`${settings.mode} mode needs an EncodingAESKey`);
  const cipher = new PushCipher(settings.encodingAESKey, settings.appid);
  const encrypt = fixed.random ? cipher.encrypt(plain, fixed.random) : cipher.encrypt(plain);
  query.set("openid", header.openId);
  query.set("encrypt_type", "aes");
  query.set("msg_signature", signPush([settings.token, timestamp, nonce, encrypt]));
  const toUserName = header.toUserName ?? "gh_sim_original";
  let body: string;
  if (settings.format === "xml") {
    const fields = settings.mode === "safe"
      ? xmlFields([text("ToUserName", toUserName)])
      : plain.slice("<xml>".length, -"</xml>".length);
    body = `<xml>${fields}${xmlFields([text("Encrypt", encrypt)])}</xml>`;
  } else {
    const fields = settings.mode === "safe" ? { ToUserName: toUserName } : JSON.parse(plain);
    body = JSON.stringify({ ...fields, Encrypt: encrypt });
  }
  return { query, body, contentType };
}

/**
 * The query of WeChat's URL check (`GET ?signature&timestamp&nonce&echostr`).
 *
 * @example
 * ```ts
 * await fetch(`${url}?${verificationQuery("AAAAA", { echostr: "hello" })}`); // answers "hello"
 * ```
 */
export function verificationQuery(
  token: string,
  fixed: { echostr?: string; timestamp?: number; nonce?: string } = {},
): URLSearchParams {
  const timestamp = String(fixed.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = fixed.nonce ?? randomNonce();
  return new URLSearchParams({
    signature: signPush([token, timestamp, nonce]),
    echostr: fixed.echostr ?? randomNonce() + randomNonce(),
    timestamp,
    nonce,
  });
}

/** WeChat's nonces are decimal digits. */
function randomNonce(): string {
  return String(crypto.getRandomValues(new Uint32Array(1))[0]);
}

/**
 * How to deliver: WeChat retries a push that is not answered `success` (or an empty body) within
 * 5 s, up to 3 times.
 */
export interface PostOptions {
  /**
   * Extra attempts after a failed one (no answer, a timeout, a non-2xx status, or a body other
   * than `success` or empty). Default 0.
   */
  retries?: number;
  /** Extra deliveries of the same request after a successful one. Default 0. */
  duplicates?: number;
  /** Pause before each retry or duplicate, in ms. Default 0. */
  delayMs?: number;
  /** An attempt taking longer counts as failed. Default 5,000 ms, as WeChat's. */
  timeoutMs?: number;
}

/** One delivery attempt. `status` is `null` when no answer came. */
export interface PostAttempt {
  status: number | null;
  body: string;
  error?: string;
}

/**
 * Posts `push` to `url` as WeChat would, with retries and duplicates; every attempt's answer.
 *
 * @example
 * ```ts
 * const attempts = await postPush(url, push, { retries: 3, duplicates: 1 });
 * ```
 */
export async function postPush(
  url: string,
  push: SimPush,
  options: PostOptions = {},
): Promise<PostAttempt[]> {
  const attempts: PostAttempt[] = [];
  let failures = 0;
  let successes = 0;
  while (failures <= (options.retries ?? 0) && successes <= (options.duplicates ?? 0)) {
    if (attempts.length > 0 && options.delayMs) {
      await new Promise((r) => setTimeout(r, options.delayMs));
    }
    const attempt = await postOnce(url, push, options.timeoutMs ?? 5_000);
    attempts.push(attempt);
    if (answeredSuccess(attempt)) successes++;
    else failures++;
  }
  return attempts;
}

/**
 * Whether WeChat takes an attempt as delivered: a 2xx answer whose body is `success` or empty
 * (WeChat's two documented answers to an event).
 *
 * @example
 * ```ts
 * answeredSuccess({ status: 200, body: "success" }); // true
 * answeredSuccess({ status: 200, body: "ok" }); // false: WeChat retries
 * ```
 */
export function answeredSuccess(attempt: PostAttempt): boolean {
  const body = attempt.body.trim();
  return attempt.status !== null && attempt.status >= 200 && attempt.status < 300 &&
    (body === "success" || body === "");
}

async function postOnce(url: string, push: SimPush, timeoutMs: number): Promise<PostAttempt> {
  const target = `${url}${url.includes("?") ? "&" : "?"}${push.query}`;
  try {
    const res = await fetch(target, {
      method: "POST",
      headers: { "content-type": push.contentType },
      body: push.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: null, body: "", error: err instanceof Error ? err.name : "error" };
  }
}
