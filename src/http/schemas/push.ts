/**
 * `POST /v1/push` and `POST /v1/broadcasts`: the message fields WeChat takes, who gets it, the
 * answers, refusals and examples. Every refusal of these bodies is `400 invalid_field`, whose
 * message names the field; push_input.ts then builds the message (and refuses what zod skips, a
 * `__proto__` key of `data`).
 *
 * @module
 */
import { z } from "zod";
import { ApiError } from "../middleware/errors.ts";
import { OPEN_ID_RULE } from "../middleware/input_rules.ts";
import type { BodyIssue } from "../middleware/valid_body.ts";
import { EXAMPLE_TEMPLATE_ID, OpenId } from "./common.ts";

/** Most users one broadcast request may name. */
export const MAX_LISTED_USERS = 100_000;

// deno-lint-ignore no-control-regex
const NO_CONTROL = /^[^\u0000-\u001f]*$/;

/** A bounded string without control characters, with push_input.ts's messages. */
function text(name: string, max: number) {
  const size = `${name} must be a string of 1 to ${max} characters`;
  return z.string({
    error: (issue) => issue.input === undefined ? `${name} is required` : size,
  }).min(1, size).max(max, size).regex(NO_CONTROL, `${name} must not contain control characters`);
}

/** One value of a template's data. */
const DataItem = z.looseObject({ value: z.string().max(2000) });

/**
 * The message fields, in the order push_input.ts checks them.
 *
 * @example
 * ```ts
 * z.strictObject(MessageFields).parse({ templateId: "T", data: { thing1: { value: "x" } } });
 * ```
 */
export const MessageFields = {
  templateId: text("templateId", 128).describe("The template (1-128 characters)"),
  data: z.record(z.string().max(64), DataItem, {
    error: 'data must be an object like { "keyword1": { "value": "..." } }',
  }).refine((data) => Object.keys(data).length <= 50, "data may have at most 50 keys").meta({
    description: 'The template\'s fields: at most 50, each `{ "value": string }` (at most 2,000 ' +
      "characters; keys at most 64)",
    maxProperties: 50,
  }),
  kind: z.enum(["auto", "template", "subscribe"], {
    error: "kind must be one of auto, template, subscribe",
  }).nullish().describe(
    "Which credits may pay: `auto` (default: subscribe credits of this template first, then " +
      "formIds and prepay_ids), `template` (formIds and prepay_ids) or `subscribe`",
  ),
  miniprogramState: z.enum(["developer", "trial", "formal"], {
    error: "miniprogramState must be one of developer, trial, formal",
  }).optional(),
  lang: z.enum(["zh_CN", "en_US", "zh_HK", "zh_TW"], {
    error: "lang must be one of zh_CN, en_US, zh_HK, zh_TW",
  }).optional(),
  page: text("page", 1024).optional().describe("The mini-program page the message opens"),
  emphasisKeyword: text("emphasisKeyword", 64).optional(),
};

/**
 * A push body.
 *
 * @example
 * ```ts
 * PushBody.parse({ openId: "oW2x75Hb0ZqkTzYc3PdQe8LmVa1E", templateId: "T", data: {} });
 * ```
 */
// Not strict in zod: the reader refuses unknown fields by push_input.ts's list (`unknown_field`),
// so a message field added there is not refused here before its schema is written.
export const PushBody = z.object({ openId: OpenId, ...MessageFields })
  .meta({ additionalProperties: false });

/**
 * A broadcast body.
 *
 * @example
 * ```ts
 * BroadcastBody.parse({ templateId: "T", data: {}, openIds: ["oW2x75Hb0ZqkTzYc3PdQe8LmVa1E"] });
 * ```
 */
export const BroadcastBody = z.object({
  ...MessageFields,
  openIds: z.array(OpenId).max(MAX_LISTED_USERS).optional().describe(
    `At most ${MAX_LISTED_USERS} users (a repeated one counts once); default: every user who ` +
      "may hold a valid credit",
  ),
}).meta({ additionalProperties: false });

/**
 * `400 invalid_field`, naming the field as push_input.ts does.
 *
 * @example
 * ```ts
 * const readPush = bodyReader(PushBody, invalidField, ["openId", ...MESSAGE_FIELDS]);
 * ```
 */
export function invalidField(issue: BodyIssue): ApiError {
  const [field, key] = issue.path;
  let message = issue.message;
  if (field === "data" && key !== undefined) {
    message = `data.${String(key).slice(0, 64)} must be { "value": string }`;
  } else if (field === "openIds") {
    message = `openIds must be an array of at most ${MAX_LISTED_USERS} openIds, each ` +
      OPEN_ID_RULE;
  }
  return new ApiError(400, "invalid_field", message);
}

/** The example message. */
export const EXAMPLE_MESSAGE = {
  templateId: EXAMPLE_TEMPLATE_ID,
  page: "pages/order/detail?id=1024",
  data: { thing1: { value: "Order shipped" }, time2: { value: "2026-11-26 16:30" } },
};

/** The outcome of one push (200 in every case: a failed send is an outcome, not an error). */
export const PushAnswer = z.object({
  pushId: z.string(),
  status: z.enum(["sent", "failed", "no_credit", "skipped"]),
  attempts: z.int().min(0).describe("WeChat send calls made"),
  msgid: z.string().optional().describe("WeChat's message id, when sent"),
  errcode: z.int().optional().describe("WeChat's errcode of the last failed call"),
  errmsg: z.string().optional(),
  class: z.enum(["ok", "spent", "transient", "token", "request", "quota", "unknown"]).optional()
    .describe("What the errcode means for the credit"),
});
