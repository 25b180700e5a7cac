/**
 * The subscribe-message events WeChat pushes to a mini-program's server, as this service reads
 * them (camelCase; WeChat's own field names in each comment). A push of any other kind (customer
 * service messages, `debug_demo`, ...) is kept as an {@link OtherPush} rather than refused: WeChat
 * sends every kind to the same URL.
 *
 * @module
 */

/** The answers a subscription can carry. WeChat may add more: unknown strings are kept as is. */
export type SubscribeStatus =
  | "accept"
  | "acceptWithAudio"
  | "acceptWithAlert"
  | "reject"
  | "ban"
  | "filter"
  // Keeps editor completion for the known values while admitting new ones.
  | (string & Record<never, never>);

const ACCEPTS: ReadonlySet<string> = new Set(["accept", "acceptWithAudio", "acceptWithAlert"]);

/**
 * Whether a status grants a send: `accept`, or accept with a voice reminder (`acceptWithAudio`)
 * or with a banner reminder (`acceptWithAlert`).
 *
 * @example
 * ```ts
 * isAcceptance("acceptWithAudio"); // true
 * isAcceptance("reject"); // false
 * ```
 */
export function isAcceptance(status: SubscribeStatus): boolean {
  return ACCEPTS.has(status);
}

/** The fields every push has. */
export interface PushHeader {
  /** `ToUserName`: the mini-program's original id (`gh_...`). */
  toUserName: string;
  /** `FromUserName`: the user's openid. */
  openId: string;
  /** `CreateTime`, epoch seconds. */
  createTime: number;
  /** `MsgType` (`event` for the three subscribe events). */
  msgType: string;
}

/** One template's answer in the subscription dialog. */
export interface PopupItem {
  /** `TemplateId`. */
  templateId: string;
  /** `SubscribeStatusString`. */
  status: SubscribeStatus;
  /** `PopupScene` (`0`: inside a mini-program page), when WeChat sends it. */
  popupScene?: string;
}

/** `subscribe_msg_popup_event`: the user answered `wx.requestSubscribeMessage`'s dialog. */
export interface PopupEvent extends PushHeader {
  event: "subscribe_msg_popup_event";
  items: PopupItem[];
}

/** One template the user changed in the settings page (today WeChat only pushes `reject`). */
export interface ChangeItem {
  templateId: string;
  status: SubscribeStatus;
}

/** `subscribe_msg_change_event`: the user changed a subscription in the settings. */
export interface ChangeEvent extends PushHeader {
  event: "subscribe_msg_change_event";
  items: ChangeItem[];
}

/** The outcome of one send. */
export interface SentItem {
  templateId: string;
  /** `MsgID`, as a string: it exceeds 2^53. */
  msgId: string;
  /** `ErrorCode`: 0 = delivered; anything else is an asynchronous failure after `send` answered. */
  errorCode: number;
  /** `ErrorStatus`: the code's meaning (`success`). */
  errorStatus: string;
}

/** `subscribe_msg_sent_event`: the final outcome of a `subscribeMessage.send`. */
export interface SentEvent extends PushHeader {
  event: "subscribe_msg_sent_event";
  items: SentItem[];
}

/** Any other push: its `Event` (or `null` when it has none) and all its fields as WeChat named them. */
export interface OtherPush {
  event: "other";
  /** `MsgType`, or `null`. */
  msgType: string | null;
  /** `Event`, or `null` (a message rather than an event). */
  name: string | null;
  fields: Record<string, unknown>;
}

/** A parsed push. */
export type PushMessage = PopupEvent | ChangeEvent | SentEvent | OtherPush;

/**
 * The three subscribe events, by WeChat's `Event` value.
 *
 * @example
 * ```ts
 * SUBSCRIBE_EVENTS.includes(message.event as never); // a subscribe event, not "other"
 * ```
 */
export const SUBSCRIBE_EVENTS = [
  "subscribe_msg_popup_event",
  "subscribe_msg_change_event",
  "subscribe_msg_sent_event",
] as const;
