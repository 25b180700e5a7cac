/**
 * `POST /v1/subscriptions`: what `wx.requestSubscribeMessage` returned, the answer, the refusals
 * and examples.
 *
 * The schema checks the body's shape (`results` an object, else `invalid_results`; `reportId`,
 * else `invalid_report_id`). The rules of the templates inside `results` (1 to 20 of them, each
 * id 1-128 printable ASCII, each answer known) are documented here and checked by the route, in
 * its order: a zod record skips a `__proto__` key, which the route must still refuse.
 *
 * @module
 */
import { z } from "zod";
import { ApiError } from "../middleware/errors.ts";
import { type BodyIssue, bodyReader } from "../middleware/valid_body.ts";
import { PRINTABLE_ASCII } from "../middleware/input_rules.ts";
import { describe, EXAMPLE_TEMPLATE_ID, json, jsonBody, SECURITY } from "./common.ts";
import {
  ANY_ROUTE,
  errorAnswers,
  JSON_BODY,
  RATE_LIMITED,
  refusals,
  SESSION_TOKEN,
} from "./errors.ts";

/** The answers WeChat gives per template; the first three grant a send. */
const ANSWERS = ["accept", "acceptWithAudio", "acceptWithAlert", "reject", "ban", "filter"];

/**
 * The report body.
 *
 * @example
 * ```ts
 * ReportBody.parse({ results: { errMsg: "requestSubscribeMessage:ok", TPL_A: "accept" } });
 * ```
 */
export const ReportBody = z.strictObject({
  results: z.record(z.string(), z.unknown()).meta({
    description: "The object `wx.requestSubscribeMessage` resolved with: 1 to 20 templates, " +
      "each answered; `errMsg` and `errCode` are skipped",
    properties: { errMsg: { type: "string" }, errCode: { type: "integer" } },
    propertyNames: { pattern: PRINTABLE_ASCII.source },
    additionalProperties: { enum: ANSWERS },
  }),
  reportId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).nullish().describe(
    "Chosen by the client: the same report sent again counts once (one is made up when absent " +
      "or null)",
  ),
});

/**
 * Reads a report.
 *
 * @example
 * ```ts
 * const { results, reportId } = await readReport(c);
 * ```
 */
export const readReport = bodyReader(
  ReportBody,
  (issue: BodyIssue) =>
    issue.path[0] === "reportId"
      ? new ApiError(400, "invalid_report_id", "reportId must be 1-64 of [A-Za-z0-9_-]")
      : new ApiError(400, "invalid_results", "results must be the object WeChat returned"),
);

/** The answer. */
export const ReportAnswer = z.object({
  reportId: z.string(),
  accepted: z.int().min(0).describe("New subscribe credits"),
  duplicates: z.int().min(0).describe("Credits this report already gave"),
  ignored: z.object({ reject: z.int().min(0), ban: z.int().min(0), filter: z.int().min(0) }),
  rejected: z.array(z.object({
    templateId: z.string(),
    reason: z.enum(["unknown_template", "user_full", "template_full"]),
  })).optional().describe("Accepted templates that gave no credit; present when not empty"),
});

/**
 * The route's description.
 *
 * @example
 * ```ts
 * app.post("/v1/subscriptions", describeReport, session, limits, jsonBodyLimit(), handler);
 * ```
 */
export const describeReport = describe({
  operationId: "reportSubscriptions",
  tags: ["Credits in"],
  summary: "Report subscribe-message answers (mini-program)",
  description: "One `subscribe` credit per template answered `accept` (or `acceptWithAudio`, " +
    "`acceptWithAlert`); `reject`, `ban` and `filter` are counted. Counts against the upload " +
    "limits.",
  security: SECURITY.session,
  requestBody: jsonBody(ReportBody, {
    report: {
      summary: "One template accepted, one rejected",
      value: {
        results: { errMsg: "requestSubscribeMessage:ok", [EXAMPLE_TEMPLATE_ID]: "accept" },
        reportId: "r-2f9c1a7e",
      },
    },
  }),
  responses: {
    200: {
      description: "Counted",
      content: json(ReportAnswer, {
        counted: {
          summary: "One credit",
          value: {
            reportId: "r-2f9c1a7e",
            accepted: 1,
            duplicates: 0,
            ignored: { reject: 0, ban: 0, filter: 0 },
          },
        },
      }),
    },
    ...errorAnswers(refusals(JSON_BODY, SESSION_TOKEN, RATE_LIMITED, ANY_ROUTE, {
      400: ["invalid_results", "invalid_report_id", "invalid_template_id"],
    })),
  },
});
