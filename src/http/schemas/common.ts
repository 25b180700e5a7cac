/**
 * What the resources' schemas share: the openId and template id rules as zod schemas (from
 * input_rules.ts, the rules every route applies), the example values the description uses, the
 * security requirements, and small builders of OpenAPI objects.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { describeRoute, type DescribeRouteOptions, resolver } from "hono-openapi";
import { z } from "zod";
import { OPEN_ID, OPEN_ID_RULE, PRINTABLE_ASCII } from "../middleware/input_rules.ts";

/** The examples' openId (28 characters, as WeChat's are). The contract test swaps in a real one. */
export const EXAMPLE_OPEN_ID = "oW2x75Hb0ZqkTzYc3PdQe8LmVa1E";
/** The examples' `wx.login` code. The contract test swaps in one from the WeChat simulator. */
export const EXAMPLE_LOGIN_CODE = "0e3Kq4Ga1Vwz0K0Wd2Ia1m0bGe3Kq4Gb";
/** The examples' template id. */
export const EXAMPLE_TEMPLATE_ID = "TPL_ORDER";
/** The examples' broadcast id. The contract test swaps in one it created. */
export const EXAMPLE_BROADCAST_ID = "bmf3k2x9a41c7d2e9f0a";
/** An example hash of the log (SHA-256, lowercase hex). */
export const EXAMPLE_HASH = "9f2c4e1a7b3d5f60818293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";
/** An example time of an event. */
export const EXAMPLE_AT = "2026-11-26T08:30:00.000Z";

/**
 * An openId by the service's one rule, with the rule's message for every problem.
 *
 * @example
 * ```ts
 * OpenId.safeParse("o:abc").success; // false
 * ```
 */
export const OpenId = z.string({
  error: (issue) =>
    issue.input === undefined ? "openId is required" : `openId must be ${OPEN_ID_RULE}`,
}).regex(OPEN_ID, `openId must be ${OPEN_ID_RULE}`)
  .meta({ description: `A user's openid: ${OPEN_ID_RULE}`, examples: [EXAMPLE_OPEN_ID] });

/**
 * A subscribe-message template id: 1-128 printable ASCII.
 *
 * @example
 * ```ts
 * TemplateId.safeParse("TPL_ORDER").success; // true
 * ```
 */
export const TemplateId = z.string().regex(PRINTABLE_ASCII)
  .meta({ description: "A template id: 1-128 printable ASCII", examples: [EXAMPLE_TEMPLATE_ID] });

/**
 * Epoch milliseconds, 0 up to the year 9999 (`isEpochMs`).
 *
 * @example
 * ```ts
 * EpochMs.safeParse(Date.now()).success; // true
 * ```
 */
export const EpochMs = z.int().min(0).max(253_402_300_799_999)
  .meta({ description: "epoch milliseconds", examples: [1_795_000_000_000] });

/** Who may call an operation: the security requirement of each kind of token. */
export const SECURITY = {
  session: [{ sessionToken: [] }],
  admin: [{ adminToken: [] }],
  auditor: [{ adminToken: [] }, { auditToken: [] }],
  none: [],
} as const;

/** The security schemes the requirements name (the description's `components`). */
export const SECURITY_SCHEMES = {
  sessionToken: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A session token from `POST /v1/sessions` (the mini-program's)",
  },
  adminToken: {
    type: "http",
    scheme: "bearer",
    description: "`ADMIN_TOKEN` (your backend)",
  },
  auditToken: {
    type: "http",
    scheme: "bearer",
    description: "`AUDIT_TOKEN` (auditors, read-only)",
  },
} as const;

/** A named example: a short summary and the value. */
export interface Example {
  summary: string;
  value: unknown;
}

/**
 * A JSON content object: the schema (resolved when the description is generated) and examples.
 *
 * @example
 * ```ts
 * const ok = { description: "Logged in", content: json(LoginAnswer, { ok: { summary, value } }) };
 * ```
 */
export function json(schema: z.ZodType, examples: Record<string, Example>): object {
  return { "application/json": { schema: resolver(schema), examples } };
}

/**
 * A JSON request body, required, with its examples.
 *
 * @example
 * ```ts
 * describeRoute({ requestBody: jsonBody(LoginBody, { login: { summary, value } }) });
 * ```
 */
export function jsonBody(schema: z.ZodType, examples: Record<string, Example>): object {
  return { required: true, content: json(schema, examples) };
}

/**
 * The JSON Schema of a zod schema, for places the description takes a plain schema (parameters).
 *
 * @example
 * ```ts
 * jsonSchema(OpenId); // { type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$", ... }
 * ```
 */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input" });
  return rest;
}

/**
 * A route's description, as middleware that only marks the route (hono-openapi's
 * `describeRoute`). The spec is a plain object here: the generated document is checked against
 * the OpenAPI 3.1 schema by the contract test (tests/http/openapi_contract_test.ts).
 *
 * @example
 * ```ts
 * export const describeHealth = describe({ operationId: "health", responses: { 200: ok } });
 * ```
 */
export function describe(spec: Record<string, unknown>): MiddlewareHandler {
  return describeRoute(spec as DescribeRouteOptions);
}
