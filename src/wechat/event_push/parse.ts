/**
 * Turns a push body (JSON or XML, the two formats WeChat offers) into a typed
 * {@link PushMessage}, and reads the `Encrypt` field of an encrypted body's envelope.
 *
 * Where WeChat puts the list of templates:
 * - XML: `<SubscribeMsgPopupEvent><List>...</List><List>...</List></SubscribeMsgPopupEvent>`
 *   (likewise `SubscribeMsgChangeEvent`, `SubscribeMsgSentEvent`), one `<List>` per template;
 * - JSON: a top-level `"List"`, an object for one template and an array for several (the
 *   mini-program documentation, and what developers report receiving). Some integrations report
 *   the XML nesting in JSON too (`"SubscribeMsgChangeEvent": { "List": ... }`), and WeChat's own
 *   official-account example wraps a change event in `SubscribeMsgPopupEvent`: all are accepted.
 *
 * Numbers arrive as JSON numbers or strings (`"CreateTime": "1620973045"` in the documentation,
 * a number in practice); both are read.
 *
 * @module
 */
import { PushError } from "./errors.ts";
import type {
  ChangeItem,
  PopupItem,
  PushHeader,
  PushMessage,
  SentItem,
  SUBSCRIBE_EVENTS,
} from "./events.ts";
import { readXml } from "./xml.ts";

/** The two body formats. */
export type BodyFormat = "json" | "xml";

type Fields = Record<string, unknown>;
type SubscribeEventName = (typeof SUBSCRIBE_EVENTS)[number];

const WRAPPERS: Record<SubscribeEventName, string> = {
  subscribe_msg_popup_event: "SubscribeMsgPopupEvent",
  subscribe_msg_change_event: "SubscribeMsgChangeEvent",
  subscribe_msg_sent_event: "SubscribeMsgSentEvent",
};

/**
 * A body's format, from its first character (`<` or `{`).
 *
 * @throws {PushError} `malformed` when it is neither.
 * @example
 * ```ts
 * formatOf("<xml>...</xml>"); // "xml"
 * ```
 */
export function formatOf(body: string): BodyFormat {
  const first = body.trimStart()[0];
  if (first === "<") return "xml";
  if (first === "{") return "json";
  throw new PushError("malformed", "body is neither JSON nor XML");
}

/**
 * A body's top-level fields, JSON or XML.
 *
 * @throws {PushError} `malformed` when the body does not parse or is not an object.
 * @example
 * ```ts
 * readFields('{"MsgType":"event"}'); // { MsgType: "event" }
 * ```
 */
export function readFields(body: string): Fields {
  if (formatOf(body) === "xml") return readXml(body);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new PushError("malformed", "body is not valid JSON");
  }
  if (!isObject(value)) throw new PushError("malformed", "JSON body must be an object");
  return value;
}

/**
 * The `Encrypt` field of a compatible- or safe-mode body (what `msg_signature` signs).
 *
 * @throws {PushError} `malformed` when the body does not parse or has no `Encrypt` string.
 * @example
 * ```ts
 * readEncrypt('{"ToUserName":"gh_1","Encrypt":"+qdx..."}'); // "+qdx..."
 * ```
 */
export function readEncrypt(body: string): string {
  const encrypt = readFields(body).Encrypt;
  if (typeof encrypt !== "string" || encrypt === "") {
    throw new PushError("malformed", "encrypted body has no Encrypt field");
  }
  return encrypt;
}

/**
 * A plaintext push body (or a decrypted one) as a typed message.
 *
 * @throws {PushError} `malformed` when it does not parse, or a subscribe event lacks a field.
 * @example
 * ```ts
 * const message = parsePush(body);
 * if (message.event === "subscribe_msg_popup_event") message.items[0].status; // "accept"
 * ```
 */
export function parsePush(body: string): PushMessage {
  const fields = readFields(body);
  const event = optionalString(fields.Event);
  if (event !== null && Object.hasOwn(WRAPPERS, event)) {
    const name = event as SubscribeEventName;
    const header = readHeader(fields);
    const list = listOf(fields, name);
    if (name === "subscribe_msg_popup_event") {
      return { ...header, event: name, items: list.map(popupItem) };
    }
    if (name === "subscribe_msg_change_event") {
      return { ...header, event: name, items: list.map(changeItem) };
    }
    return { ...header, event: name, items: list.map(sentItem) };
  }
  return { event: "other", msgType: optionalString(fields.MsgType), name: event, fields };
}

function readHeader(fields: Fields): PushHeader {
  return {
    toUserName: requiredString(fields, "ToUserName"),
    openId: requiredString(fields, "FromUserName"),
    createTime: requiredInteger(fields, "CreateTime"),
    msgType: requiredString(fields, "MsgType"),
  };
}

/** The event's template entries, wherever this body put them, as a non-empty array. */
function listOf(fields: Fields, event: SubscribeEventName): Fields[] {
  const others = Object.values(WRAPPERS).filter((w) => w !== WRAPPERS[event]);
  let list: unknown = fields.List;
  for (const wrapper of [WRAPPERS[event], ...others]) {
    if (list !== undefined) break;
    const held = fields[wrapper];
    list = isObject(held) && "List" in held ? held.List : held;
  }
  const items = Array.isArray(list) ? list : list === undefined ? [] : [list];
  if (items.length === 0) throw new PushError("malformed", `${event} has no List`);
  return items.map((item, i) => {
    if (!isObject(item)) throw new PushError("malformed", `${event} List[${i}] is not an object`);
    return item;
  });
}

function popupItem(item: Fields): PopupItem {
  const scene = item.PopupScene;
  return {
    templateId: requiredString(item, "TemplateId", "List."),
    status: requiredString(item, "SubscribeStatusString", "List."),
    ...(scene === undefined || scene === "" ? {} : { popupScene: String(scene) }),
  };
}

function changeItem(item: Fields): ChangeItem {
  return {
    templateId: requiredString(item, "TemplateId", "List."),
    status: requiredString(item, "SubscribeStatusString", "List."),
  };
}

function sentItem(item: Fields): SentItem {
  return {
    templateId: requiredString(item, "TemplateId", "List."),
    msgId: requiredString(item, "MsgID", "List."),
    errorCode: requiredInteger(item, "ErrorCode", "List."),
    errorStatus: optionalString(item.ErrorStatus) ?? "",
  };
}

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

function requiredString(fields: Fields, name: string, where = ""): string {
  const value = optionalString(fields[name]);
  if (value === null || value.trim() === "") {
    throw new PushError("malformed", `missing or empty field ${where}${name}`);
  }
  return value.trim();
}

function requiredInteger(fields: Fields, name: string, where = ""): number {
  const value = fields[name];
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value : "";
  if (!/^-?\d{1,15}$/.test(text.trim())) {
    throw new PushError("malformed", `field ${where}${name} is not an integer`);
  }
  return Number(text.trim());
}
