/**
 * The error answer in the OpenAPI description: `{ error: { code, message } }`, per status the
 * codes a route can give (the README's error table), each with an example. Routes list their
 * refusals by combining the sets below, so a code shared by many routes is described once.
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
  forbidden: "this endpoint is for: admin",
  login_refused: "WeChat refused this user's login",
  not_found: "no such broadcast",
  request_timeout: "the request body did not arrive within 10000 ms",
  idempotency_in_progress: "a request with this Idempotency-Key is still running",
  payload_too_large: "the body may be at most 16384 bytes",
  unsupported_media_type: "send Content-Type: application/json",
  idempotency_key_reused: "this Idempotency-Key was used with another request",
  rate_limited: "too many requests; retry in 12 s",
  too_many_concurrent: "at most 4 audits and exports run at once (2 per caller); retry when one " +
    "has finished",
  internal: "internal error",
  wechat_error: "WeChat refused the login",
  not_configured: "set WECHAT_APPID and WECHAT_SECRET to push",
  wechat_unavailable: "WeChat login is unavailable; retry later",
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
};

const STATUS_TEXT: Record<number, string> = {
  400: "The request is refused; nothing changed",
  401: "No valid token, or WeChat refused the login code",
  403: "A token of the wrong role, or a refused login",
  404: "No such resource",
  408: "The body did not arrive in time (the connection is closed)",
  409: "Conflict",
  413: "The body is too large",
  415: "The body is not `application/json`",
  422: "The Idempotency-Key came with another body",
  429: "Too many requests (see `Retry-After`)",
  500: "An unexpected failure; the details stay in the server's log",
  502: "WeChat answered something unusable",
  503: "Not configured, or WeChat unavailable",
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
  return z.object({
    error: z.object({
      code: z.enum(codes as [ErrorCode, ...ErrorCode[]]).describe("stable, machine-readable"),
      message: z.string().describe("for a human, in English; may change"),
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
      return [code, { summary: code, value: { error: { code, message } } }];
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

/** The upload limits per openId and client IP (rate_limit.ts). */
export const RATE_LIMITED: Refusals = { 429: ["rate_limited"] };
