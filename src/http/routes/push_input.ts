/**
 * Validation of push and broadcast bodies: who gets the message (openIds, by the one rule of
 * `isOpenId`) and the message fields WeChat takes, checked before any credit is touched. Every
 * refusal is `400 invalid_field`.
 *
 * @module
 */
import type { PushKind, PushMessage } from "../../push/deliver.ts";
import type { MessageData } from "../../wechat/client.ts";
import { ApiError } from "../middleware/errors.ts";
import { isOpenId, OPEN_ID_RULE } from "../middleware/input_rules.ts";
import { bodyReader } from "../middleware/valid_body.ts";
import { BroadcastBody, invalidField, PushBody } from "../schemas/push.ts";

const KINDS: PushKind[] = ["auto", "template", "subscribe"];
const STATES = ["developer", "trial", "formal"];
const LANGS = ["zh_CN", "en_US", "zh_HK", "zh_TW"];

/** Message fields every push body may carry. */
export const MESSAGE_FIELDS = [
  "templateId",
  "page",
  "data",
  "emphasisKeyword",
  "kind",
  "miniprogramState",
  "lang",
] as const;

function invalid(message: string): never {
  throw new ApiError(400, "invalid_field", message);
}

/** Most users one broadcast request may name. */
export const MAX_LISTED_USERS = 100_000;

/**
 * The `openId` of a push body: required, and an openId by the service's one rule.
 *
 * @example
 * ```ts
 * const openId = readOpenId(await readJsonObject(c, ["openId", ...MESSAGE_FIELDS]));
 * ```
 */
export function readOpenId(body: Record<string, unknown>): string {
  if (body.openId === undefined) invalid("openId is required");
  if (!isOpenId(body.openId)) invalid(`openId must be ${OPEN_ID_RULE}`);
  return body.openId;
}

/**
 * The `openIds` of a broadcast body: `undefined` when absent (every user who may hold a credit),
 * else an array of at most {@link MAX_LISTED_USERS} openIds, each by the service's one rule.
 *
 * @example
 * ```ts
 * const openIds = readOpenIds({ openIds: ["oAbC123", "oDeF456"] }); // ["oAbC123", "oDeF456"]
 * ```
 */
export function readOpenIds(body: Record<string, unknown>): string[] | undefined {
  const list = body.openIds;
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length > MAX_LISTED_USERS || !list.every(isOpenId)) {
    invalid(
      `openIds must be an array of at most ${MAX_LISTED_USERS} openIds, each ${OPEN_ID_RULE}`,
    );
  }
  return list;
}

/**
 * A required or optional bounded string field without control characters.
 *
 * @example
 * ```ts
 * const page = stringField(body, "page", { max: 1024 }); // undefined when absent
 * ```
 */
function stringField(
  body: Record<string, unknown>,
  name: string,
  options: { required?: boolean; max?: number } = {},
): string | undefined {
  const value = body[name];
  if (value === undefined) {
    if (options.required) invalid(`${name} is required`);
    return undefined;
  }
  if (typeof value !== "string" || value.length === 0 || value.length > (options.max ?? 128)) {
    invalid(`${name} must be a string of 1 to ${options.max ?? 128} characters`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f]/.test(value)) invalid(`${name} must not contain control characters`);
  return value;
}

/**
 * The message of a push or broadcast body.
 *
 * @example
 * ```ts
 * const message = readMessage({ templateId: "TPL", data: { thing1: { value: "shipped" } } });
 * ```
 */
export function readMessage(body: Record<string, unknown>): PushMessage {
  const templateId = stringField(body, "templateId", { required: true })!;
  const data = body.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    invalid('data must be an object like { "keyword1": { "value": "..." } }');
  }
  const entries = Object.entries(data as Record<string, unknown>);
  if (entries.length > 50) invalid("data may have at most 50 keys");
  for (const [key, item] of entries) {
    const value = (item as { value?: unknown } | null)?.value;
    if (
      typeof item !== "object" || item === null || typeof value !== "string" ||
      value.length > 2000 ||
      key.length > 64
    ) {
      invalid(`data.${key.slice(0, 64)} must be { "value": string }`);
    }
  }
  const kind = body.kind ?? "auto";
  if (!KINDS.includes(kind as PushKind)) invalid(`kind must be one of ${KINDS.join(", ")}`);
  const state = body.miniprogramState;
  if (state !== undefined && !STATES.includes(state as string)) {
    invalid(`miniprogramState must be one of ${STATES.join(", ")}`);
  }
  if (body.lang !== undefined && !LANGS.includes(body.lang as string)) {
    invalid(`lang must be one of ${LANGS.join(", ")}`);
  }
  const page = stringField(body, "page", { max: 1024 });
  const emphasisKeyword = stringField(body, "emphasisKeyword", { max: 64 });
  return {
    templateId,
    data: data as MessageData,
    kind: kind as PushKind,
    ...(page !== undefined ? { page } : {}),
    ...(emphasisKeyword !== undefined ? { emphasisKeyword } : {}),
    ...(state !== undefined ? { miniprogramState: state as PushMessage["miniprogramState"] } : {}),
    ...(body.lang !== undefined ? { lang: body.lang as PushMessage["lang"] } : {}),
  };
}

/**
 * Reads a push body: its fields checked by the description's schema (`400 invalid_field`), then
 * by {@link readOpenId} and {@link readMessage}.
 *
 * @example
 * ```ts
 * const body = await readPushBody(c);
 * const message = readMessage(body);
 * ```
 */
export const readPushBody = bodyReader(PushBody, invalidField, ["openId", ...MESSAGE_FIELDS]);

/**
 * Reads a broadcast body, as {@link readPushBody} does.
 *
 * @example
 * ```ts
 * const openIds = readOpenIds(await readBroadcastBody(c));
 * ```
 */
export const readBroadcastBody = bodyReader(BroadcastBody, invalidField, [
  "openIds",
  ...MESSAGE_FIELDS,
]);
