/**
 * `POST /v1/subscriptions`: what `wx.requestSubscribeMessage` returned (and optionally what
 * `wx.getSetting({ withSubscriptions: true })` says), the answer, the refusals and examples.
 *
 * The schema checks the body's shape (`results` an object, else `invalid_results`; `reportId`,
 * else `invalid_report_id`; `settings`, else `invalid_settings`). The rules of the templates
 * inside `results` (1 to 20 of them, each id 1-128 printable ASCII, each answer known) are
 * documented here and checked by the route, in its order; the route also checks `settings` again
 * by hand (`readSettings`): a zod record skips a `__proto__` key, which the route must still
 * refuse.
 *
 * @module
 */
import { z } from "zod";
import { ACCEPTS } from "../../ledger/answer_rules.ts";
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
  STORE,
} from "./errors.ts";

/** The answers WeChat gives per template; the accepts (answer_rules.ts) grant a send. */
const ANSWERS = [...ACCEPTS, "reject", "ban", "filter"];
/** Most templates one report may carry (WeChat asks for at most 3 at a time). */
export const MAX_TEMPLATES = 20;
/** The kept choices `itemSettings` holds ("always keep this choice"). */
export const KEPT_CHOICES = ["accept", "reject", "ban"] as const;
/** Most kept choices a settings report may carry. */
export const MAX_KEPT = 100;

/**
 * `settings`: `wx.getSetting`'s `subscriptionsSetting` (other fields of WeChat's object are
 * ignored).
 *
 * @example
 * ```ts
 * ReportSettings.parse({ mainSwitch: true, itemSettings: { TPL_ORDER: "accept" } });
 * ```
 */
export const ReportSettings = z.looseObject({
  mainSwitch: z.boolean().describe("The user's switch for all subscribe messages"),
  // The count first, then each choice, as readSettings checks them.
  itemSettings: z.record(z.string(), z.unknown())
    .refine((kept) => Object.keys(kept).length <= MAX_KEPT)
    .pipe(z.record(z.string().regex(PRINTABLE_ASCII), z.enum(KEPT_CHOICES)))
    .optional()
    .meta({
      description: `The choices the user keeps, by template id (at most ${MAX_KEPT})`,
      maxProperties: MAX_KEPT,
      propertyNames: { pattern: PRINTABLE_ASCII.source },
      additionalProperties: { enum: KEPT_CHOICES },
    }),
}).describe(
  "`wx.getSetting({ withSubscriptions: true })`'s `subscriptionsSetting`, recorded when it " +
    "changed; other fields are ignored",
);

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
    description: `The object \`wx.requestSubscribeMessage\` resolved with: 1 to ${MAX_TEMPLATES} ` +
      "templates, " +
      "each answered; `errMsg` and `errCode` are skipped",
    properties: { errMsg: { type: "string" }, errCode: { type: "integer" } },
    propertyNames: { pattern: PRINTABLE_ASCII.source },
    additionalProperties: { enum: ANSWERS },
  }),
  reportId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).nullish().describe(
    "Chosen by the client: the same report sent again counts once (one is made up when absent " +
      "or null)",
  ),
  settings: ReportSettings.optional(),
});

/**
 * A report's refusal: each field has its code (`settings`: in `readSettings`'s words).
 *
 * @example
 * ```ts
 * refuseReport(ReportBody.safeParse(body).error!.issues[0]).code; // "invalid_settings"
 * ```
 */
export function refuseReport(issue: BodyIssue): ApiError {
  switch (issue.path[0]) {
    case "reportId":
      return new ApiError(400, "invalid_report_id", "reportId must be 1-64 of [A-Za-z0-9_-]");
    case "settings":
      return new ApiError(400, "invalid_settings", `settings ${settingsProblem(issue)}`);
    default:
      return new ApiError(400, "invalid_results", "results must be the object WeChat returned");
  }
}

/**
 * Reads a report.
 *
 * @example
 * ```ts
 * const { results, reportId, settings } = await readReport(c);
 * ```
 */
export const readReport = bodyReader(ReportBody, refuseReport);

/** What is wrong with `settings`, in the words of the route's `readSettings`. */
function settingsProblem({ path, code }: BodyIssue): string {
  if (path.length === 1) return "must be wx.getSetting's subscriptionsSetting object";
  if (path[1] === "mainSwitch") return "need mainSwitch: true or false";
  if (path.length === 2 && code === "custom") {
    return `itemSettings may hold at most ${MAX_KEPT} templates`;
  }
  if (path.length === 2) {
    return "itemSettings must be an object of template id -> accept, reject or ban";
  }
  return "itemSettings must map template ids (1-128 printable ASCII) to accept, reject or ban";
}

/** The answer. */
export const ReportAnswer = z.object({
  reportId: z.string(),
  accepted: z.int().min(0).describe("New subscribe credits"),
  duplicates: z.int().min(0).describe("Credits this report already gave"),
  ignored: z.object({ reject: z.int().min(0), ban: z.int().min(0), filter: z.int().min(0) }),
  rejected: z.array(z.object({
    templateId: z.string(),
    reason: z.enum(["unknown_template", "user_full", "template_full"]),
  })).optional().describe(
    "Accepted templates that gave no credit (`unknown_template`: not one of the account's " +
      "templates); present when not empty",
  ),
  provisional: z.int().min(1).optional().describe(
    "With WeChat's event push: of `accepted`, credits waiting for WeChat's report of the same " +
      "accept (they expire unconfirmed after `SUBSCRIBE_CONFIRM_WINDOW_SECONDS`); present when " +
      "not 0",
  ),
  confirmed: z.int().min(1).optional().describe(
    "With WeChat's event push: of `accepted`, accepts WeChat had reported first; present when " +
      "not 0",
  ),
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
    "`acceptWithAlert`); a long-term template's accept is the user's one long-term credit; " +
    "`reject`, `ban` and `filter` are counted in `ignored`. An accepted template that is not " +
    "one of the account's (the synced templates, else `SUBSCRIBE_TEMPLATES`) gets no credit and " +
    "is listed in `rejected`. `settings` (what `wx.getSetting({ withSubscriptions: true })` " +
    "says) is recorded when it changed. With WeChat's event push configured every answer is " +
    "recorded and an accept both sides report counts once: `provisional` counts credits " +
    "waiting for WeChat's report, `confirmed` accepts WeChat reported first. Counts against the " +
    "upload limits.",
  security: SECURITY.session,
  requestBody: jsonBody(ReportBody, {
    report: {
      summary: "One template accepted, one rejected",
      value: {
        results: {
          errMsg: "requestSubscribeMessage:ok",
          [EXAMPLE_TEMPLATE_ID]: "accept",
          TPL_NEWSLETTER: "reject",
        },
        reportId: "r-2f9c1a7e",
      },
    },
    withSettings: {
      summary: "An accept with a voice reminder, and the settings the user keeps",
      value: {
        results: { errMsg: "requestSubscribeMessage:ok", [EXAMPLE_TEMPLATE_ID]: "acceptWithAudio" },
        reportId: "r-7b3e0d52",
        settings: { mainSwitch: true, itemSettings: { [EXAMPLE_TEMPLATE_ID]: "accept" } },
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
            ignored: { reject: 1, ban: 0, filter: 0 },
          },
        },
        provisional: {
          summary: "With WeChat's event push: a credit waiting for WeChat's report",
          value: {
            reportId: "r-7b3e0d52",
            accepted: 1,
            duplicates: 0,
            ignored: { reject: 0, ban: 0, filter: 0 },
            provisional: 1,
          },
        },
        rejected: {
          summary: "A template the account does not have",
          value: {
            reportId: "r-0c4d9e11",
            accepted: 0,
            duplicates: 0,
            ignored: { reject: 0, ban: 0, filter: 0 },
            rejected: [{ templateId: "TPL_GONE", reason: "unknown_template" }],
          },
        },
      }),
    },
    ...errorAnswers(refusals(JSON_BODY, SESSION_TOKEN, RATE_LIMITED, ANY_ROUTE, STORE, {
      400: ["invalid_results", "invalid_report_id", "invalid_template_id", "invalid_settings"],
    })),
  },
});
