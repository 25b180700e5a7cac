/**
 * The error answer in the OpenAPI description: `{ error: { code, message } }`, per status the
 * codes a route can give (the README's error table), each with an example. Routes list their
 * refusals by combining the sets below, so a code shared by many routes is described once. A
 * code with details (`invalid_message_data`'s `problems`) adds them to the error object.
 *
 * @module
 */
import { resolver } from "hono-openapi";
import { z } from "zod";

/** Every error code the service answers with, and an example message for each. */
export const ERROR_EXAMPLES = {
  invalid_json: "the body is not valid JSON",
  invalid_body: "the body must be a JSON object",
  unknown_field: 'unknown field "openid"; allowed: code',
  invalid_code: "code must be the string wx.login returned",
  invalid_form_ids: "formIds must be an array of 1 to 100 formIds",
  invalid_results: "results must be the object WeChat returned",
  invalid_report_id: "reportId must be 1-64 of [A-Za-z0-9_-]",
  invalid_template_id: "a template id is 1-128 printable ASCII",
  invalid_settings: "settings need mainSwitch: true or false",
  malformed: "expected encrypt_type=aes in safe mode",
  invalid_open_id: "openId must be 1-128 of [A-Za-z0-9_-]",
  invalid_kind: 'kind must be "prepay"',
  invalid_id: "id must be a prepay_id: 1-128 printable ASCII",
  invalid_collected_at: "collectedAt must be epoch milliseconds",
  invalid_field: "templateId is required",
  invalid_idempotency_key: "Idempotency-Key: 1-255 visible ASCII",
  aborted: "the request was aborted by the client",
  bad_request: "limit must be an integer from 1 to 1000",
  unauthorized: "a valid bearer token is required",
  code_used: "this code was already used; call wx.login again",
  bad_signature: "msg_signature does not match",
  stale_timestamp: "timestamp is 3600 s away from now (window 300 s)",
  forbidden: "this endpoint is for: admin",
  login_refused: "WeChat refused this user's login",
  wrong_appid: "the message was encrypted for another appid",
  not_found: "no such broadcast",
  request_timeout: "the request body did not arrive within 10000 ms",
  idempotency_in_progress: "a request with this Idempotency-Key is still running",
  push_already_handled:
    "this Idempotency-Key's push already ended; its outcome is in the ledger's log",
  replayed: "this request was already received",
  payload_too_large: "the body may be at most 16384 bytes",
  unsupported_media_type: "send Content-Type: application/json",
  idempotency_key_reused: "this Idempotency-Key was used with another request",
  unknown_template: "template TPL_GONE is not one of the account's subscribe templates",
  invalid_message_data: "thing1: 22 characters, at most 20; time2: missing: the template has it",
  rate_limited: "too many requests; retry in 12 s",
  too_many_concurrent: "at most 4 audits and exports run at once (2 per caller); retry when one " +
    "has finished",
  internal: "internal error",
  wechat_error: "WeChat refused the login",
  template_sync_failed: "WeChat's template list: WeChat answered errcode 40001",
  not_configured: "set WECHAT_APPID and WECHAT_SECRET to push",
  wechat_unavailable: "WeChat login is unavailable; retry later",
  store_unavailable: "the store cannot be reached; retry later",
} as const;

/** An error code of the service. */
export type ErrorCode = keyof typeof ERROR_EXAMPLES;

/** Which codes a route may answer with, by HTTP status. */
export type Refusals = Partial<Record<number, readonly ErrorCode[]>>;

/** Special wording for codes whose example depends on the status (401 `invalid_code`). */
const EXAMPLE_BY_STATUS: Partial<Record<`${number} ${ErrorCode}`, string>> = {
  "401 invalid_code": "the code is invalid or expired; call wx.login again",
  "404 not_found": "no route for GET /v1/nothing",
  "503 not_configured": "set ADMIN_TOKEN to use this endpoint",
};

/** Headers some refusals carry. */
const HEADERS: Partial<Record<number, Record<string, { description: string; schema: object }>>> = {
  401: {
    "WWW-Authenticate": {
      description: 'Bearer realm="formid-ledger"',
      schema: { type: "string" },
    },
  },
  429: {
    "Retry-After": { description: "seconds to wait", schema: { type: "integer", minimum: 1 } },
  },
  503: {
    "Retry-After": {
      description: "seconds to wait (`store_unavailable`, `wechat_unavailable`)",
      schema: { type: "integer", minimum: 1 },
    },
  },
};

const STATUS_TEXT: Record<number, string> = {
  400: "The request is refused; nothing changed",
  401: "No valid token or signature, or WeChat refused the login code",
  403: "A token of the wrong role, a refused login, or a push for another mini-program",
  404: "No such resource",
  408: "The body did not arrive in time (the connection is closed)",
  409: "Conflict, or a push received already",
  413: "The body is too large",
  415: "The body is not `application/json`",
  422: "Well-formed, but refused before anything was spent",
  429: "Too many requests (see `Retry-After`)",
  500: "An unexpected failure; the details stay in the server's log",
  502: "WeChat answered something unusable",
  503: "Not configured, or WeChat or the store unavailable",
};

/** One problem of `invalid_message_data` (src/wechat/keyword_rules.ts). */
const KeywordProblem = z.object({
  key: z.string().describe("The key of `data` (`data` itself when it is not an object)"),
  reason: z.string().describe("Why WeChat would refuse it, in English"),
});

/** Fields some codes add to the error object (`ApiError`'s details), with their examples. */
const DETAILS: Partial<Record<ErrorCode, { shape: z.ZodRawShape; example: object }>> = {
  invalid_message_data: {
    shape: {
      problems: z.array(KeywordProblem).min(1).optional().describe(
        "`invalid_message_data`: every key of `data` its template refuses, and why",
      ),
    },
    example: {
      problems: [
        { key: "thing1", reason: "22 characters, at most 20" },
        { key: "time2", reason: "missing: the template has it" },
      ],
    },
  },
};

/**
 * The `{ error: { code, message } }` schema for the given codes.
 *
 * @example
 * ```ts
 * errorBody(["unauthorized"]).parse({ error: { code: "unauthorized", message: "..." } });
 * ```
 */
export function errorBody(codes: readonly ErrorCode[]) {
  const details = codes.map((code) => DETAILS[code]?.shape ?? {});
  return z.object({
    error: z.object({
      code: z.enum(codes as [ErrorCode, ...ErrorCode[]]).describe("stable, machine-readable"),
      message: z.string().describe("for a human, in English; may change"),
      ...Object.assign({}, ...details),
    }),
  });
}

/**
 * Merges sets of refusals: the codes of each status, in order, without repeats.
 *
 * @example
 * ```ts
 * refusals(JSON_BODY, ADMIN_ONLY, { 400: ["invalid_kind"] })[400]; // [..., "invalid_kind"]
 * ```
 */
export function refusals(...sets: Refusals[]): Refusals {
  const merged: Record<number, ErrorCode[]> = {};
  for (const set of sets) {
    for (const [status, codes] of Object.entries(set)) {
      const list = merged[Number(status)] ??= [];
      for (const code of codes ?? []) if (!list.includes(code)) list.push(code);
    }
  }
  return merged;
}

/**
 * The OpenAPI responses of a route's refusals: per status, the schema naming its codes and one
 * example per code.
 *
 * @example
 * ```ts
 * describe({ responses: { 200: ok, ...errorAnswers(refusals(ADMIN_ONLY)) } });
 * ```
 */
export function errorAnswers(set: Refusals): Record<string, object> {
  const answers: Record<string, object> = {};
  for (const [key, codes] of Object.entries(set)) {
    if (!codes || codes.length === 0) continue;
    const status = Number(key);
    const examples = Object.fromEntries(codes.map((code) => {
      const message = EXAMPLE_BY_STATUS[`${status} ${code}`] ?? ERROR_EXAMPLES[code];
      const details = DETAILS[code]?.example ?? {};
      return [code, { summary: code, value: { error: { code, message, ...details } } }];
    }));
    answers[key] = {
      description: `${STATUS_TEXT[status] ?? "Refused"}: ${
        codes.map((c) => `\`${c}\``).join(", ")
      }`,
      ...(HEADERS[status] ? { headers: HEADERS[status] } : {}),
      content: { "application/json": { schema: resolver(errorBody(codes)), examples } },
    };
  }
  return answers;
}

/** Every route: an unexpected failure. */
export const ANY_ROUTE: Refusals = { 500: ["internal"] };

/** A JSON body (json_body.ts): media type, size, deadline, JSON object, known fields. */
export const JSON_BODY: Refusals = {
  400: ["invalid_json", "invalid_body", "unknown_field", "aborted"],
  408: ["request_timeout"],
  413: ["payload_too_large"],
  415: ["unsupported_media_type"],
};

/** A session token (session_token.ts). */
export const SESSION_TOKEN: Refusals = {
  401: ["unauthorized"],
  403: ["forbidden"],
  503: ["not_configured"],
};

/** A role token (auth.ts): the admin's, or the admin's or auditor's. */
export const ROLE_TOKEN: Refusals = SESSION_TOKEN;

/** A route that reads or writes the store: an outage answers 503 (errors.ts), nothing changed. */
export const STORE: Refusals = { 503: ["store_unavailable"] };

/** The upload limits per openId and client IP (rate_limit.ts). */
export const RATE_LIMITED: Refusals = { 429: ["rate_limited"] };
