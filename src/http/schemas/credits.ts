/**
 * The credit views and the admin's prepay credits: `GET /v1/me/credits`,
 * `POST /v1/credits`, `GET /v1/users/{openId}/credits`. Both views take
 * `?include=subscriptions`, which adds each template's subscription state.
 *
 * @module
 */
import { z } from "zod";
import { ApiError } from "../middleware/errors.ts";
import { formIdProblem, OPEN_ID_RULE, PRINTABLE_ASCII } from "../middleware/input_rules.ts";
import { type BodyIssue, bodyReader } from "../middleware/valid_body.ts";
import {
  describe,
  EpochMs,
  EXAMPLE_OPEN_ID,
  EXAMPLE_TEMPLATE_ID,
  json,
  jsonBody,
  jsonSchema,
  OpenId,
  SECURITY,
} from "./common.ts";
import {
  ANY_ROUTE,
  errorAnswers,
  JSON_BODY,
  RATE_LIMITED,
  refusals,
  ROLE_TOKEN,
  SESSION_TOKEN,
  STORE,
} from "./errors.ts";

/**
 * A prepay credit added by the admin.
 *
 * @example
 * ```ts
 * PrepayBody.parse({ openId: "oW2x75Hb0ZqkTzYc3PdQe8LmVa1E", kind: "prepay", id: "wx2017..." });
 * ```
 */
export const PrepayBody = z.strictObject({
  openId: OpenId,
  kind: z.literal("prepay"),
  id: z.string().regex(PRINTABLE_ASCII).refine((id) => formIdProblem(id) === null).meta({
    description: "The payment's prepay_id: 1-128 printable ASCII, not a DevTools placeholder, " +
      "not starting with `sub:`",
  }),
  collectedAt: EpochMs.optional().describe("When it was obtained (default: now)"),
});

/**
 * Reads a prepay credit; each field has its code.
 *
 * @example
 * ```ts
 * const { openId, id } = await readPrepay(c);
 * ```
 */
export const readPrepay = bodyReader(PrepayBody, (issue: BodyIssue) => {
  switch (issue.path[0]) {
    case "openId":
      return new ApiError(400, "invalid_open_id", `openId must be ${OPEN_ID_RULE}`);
    case "kind":
      return new ApiError(400, "invalid_kind", 'kind must be "prepay"');
    case "id":
      return new ApiError(400, "invalid_id", "id must be a prepay_id: 1-128 printable ASCII");
    default:
      return new ApiError(400, "invalid_collected_at", "collectedAt must be epoch milliseconds");
  }
});

/** The answer to a prepay credit. */
export const PrepayAnswer = z.object({
  accepted: z.int().min(0),
  duplicates: z.int().min(0),
  rejected: z.array(z.object({ formId: z.string(), reason: z.enum(["expired", "user_full"]) })),
});

const Tally = z.object({ credits: z.int().min(0), sends: z.int().min(0) });

/** One template's subscription state (`subscriptionSummary` in routes/credits.ts). */
export const TemplateState = z.object({
  templateId: z.string(),
  credits: z.int().min(0).describe("Live one-time credits (sends left)"),
  awaitingWechat: z.int().min(0).describe(
    "Of those, credits the client reported that WeChat has not confirmed yet",
  ),
  longTerm: z.boolean().describe("A long-term subscription is on"),
  lastAnswer: z.object({
    answer: z.string().describe("`accept`, `acceptWithAudio`, `reject`, `ban`, ..."),
    source: z.enum(["client", "wechat"]),
  }).nullable().describe("The last answer recorded (with WeChat's event push), and who said it"),
  alwaysKeep: z.enum(["accept", "reject", "ban"]).nullable().describe(
    'The choice the user keeps ("always keep this choice"), from the client\'s `settings`',
  ),
});

/** `?include=subscriptions`: the user's switch and each template's state, by template id. */
export const SubscriptionsState = z.object({
  mainSwitch: z.boolean().nullable().describe("From the client's `settings`; `null` if never sent"),
  templates: z.array(TemplateState),
});

/** A user's valid credits summed (`summarize`). */
export const CreditSummary = z.object({
  openId: OpenId,
  valid: z.int().min(0).describe("Valid credits"),
  sends: z.int().min(0).describe("Messages they allow"),
  nextExpiry: z.int().nullable().describe("The soonest expiry (epoch ms), `null` if none expires"),
  byKind: z.object({ form: Tally, prepay: Tally, subscribe: Tally }),
  byTemplate: z.record(z.string(), Tally).describe("Subscribe credits by template id"),
  subscriptions: SubscriptionsState.optional().describe("Only with `?include=subscriptions`"),
});

/** The views' `include` query parameter. */
const INCLUDE = {
  in: "query",
  name: "include",
  required: false,
  description: "`subscriptions` adds `subscriptions`, each template's state (other values are " +
    "ignored; without it the view keeps its shape)",
  schema: { type: "string", enum: ["subscriptions"] },
  example: "subscriptions",
};

/** One credit, as the admin's view lists it. */
export const Credit = z.object({
  formId: z.string(),
  kind: z.enum(["form", "prepay", "subscribe"]),
  templateId: z.string().optional(),
  uses: z.int().min(0).describe("Sends left"),
  expiresAt: z.int().nullable(),
});

/** The admin's view of a user: the summary and each credit, soonest expiry first. */
export const UserCredits = CreditSummary.extend({ credits: z.array(Credit) });

const summaryExample = {
  openId: EXAMPLE_OPEN_ID,
  valid: 2,
  sends: 4,
  nextExpiry: 1_795_604_000_000,
  byKind: {
    form: { credits: 1, sends: 1 },
    prepay: { credits: 1, sends: 3 },
    subscribe: { credits: 0, sends: 0 },
  },
  byTemplate: {},
};

const subscriptionsExample = {
  mainSwitch: true,
  templates: [{
    templateId: EXAMPLE_TEMPLATE_ID,
    credits: 1,
    awaitingWechat: 1,
    longTerm: false,
    lastAnswer: { answer: "accept", source: "client" },
    alwaysKeep: "accept",
  }],
};

/**
 * `GET /v1/me/credits`.
 *
 * @example
 * ```ts
 * app.get("/v1/me/credits", describeMyCredits, session, limits, handler);
 * ```
 */
export const describeMyCredits = describe({
  operationId: "getMyCredits",
  tags: ["Credits in"],
  summary: "The caller's credits (mini-program)",
  description: "The session user's valid credits, summed by kind and template. Counts against " +
    "its own per-openId limit and the per-IP limit.",
  security: SECURITY.session,
  parameters: [INCLUDE],
  responses: {
    200: {
      description: "The view",
      content: json(CreditSummary, {
        view: { summary: "Two credits", value: summaryExample },
        withSubscriptions: {
          summary: "With ?include=subscriptions",
          value: {
            ...summaryExample,
            valid: 3,
            sends: 5,
            byKind: { ...summaryExample.byKind, subscribe: { credits: 1, sends: 1 } },
            byTemplate: { [EXAMPLE_TEMPLATE_ID]: { credits: 1, sends: 1 } },
            subscriptions: subscriptionsExample,
          },
        },
      }),
    },
    ...errorAnswers(refusals(SESSION_TOKEN, RATE_LIMITED, ANY_ROUTE, STORE)),
  },
});

/**
 * `POST /v1/credits`.
 *
 * @example
 * ```ts
 * app.post("/v1/credits", describePrepay, admin, jsonBodyLimit(), handler);
 * ```
 */
export const describePrepay = describe({
  operationId: "addPrepayCredit",
  tags: ["Credits in"],
  summary: "Add a payment's prepay_id (backend)",
  description: "A prepay_id your backend obtained: 3 sends within 7 days.",
  security: SECURITY.admin,
  requestBody: jsonBody(PrepayBody, {
    prepay: {
      summary: "A prepay_id",
      value: { openId: EXAMPLE_OPEN_ID, kind: "prepay", id: "wx26083000123456789abcdef0" },
    },
  }),
  responses: {
    200: {
      description: "Collected",
      content: json(PrepayAnswer, {
        collected: { summary: "Collected", value: { accepted: 1, duplicates: 0, rejected: [] } },
      }),
    },
    ...errorAnswers(refusals(JSON_BODY, ROLE_TOKEN, ANY_ROUTE, STORE, {
      400: ["invalid_open_id", "invalid_kind", "invalid_id", "invalid_collected_at"],
    })),
  },
});

/**
 * `GET /v1/users/{openId}/credits`.
 *
 * @example
 * ```ts
 * app.get("/v1/users/:openId/credits", describeUserCredits, admin, handler);
 * ```
 */
export const describeUserCredits = describe({
  operationId: "getUserCredits",
  tags: ["Credits in"],
  summary: "A user's credits (backend)",
  security: SECURITY.admin,
  parameters: [{
    in: "path",
    name: "openId",
    required: true,
    schema: jsonSchema(OpenId),
    example: EXAMPLE_OPEN_ID,
  }, INCLUDE],
  responses: {
    200: {
      description: "The view and each credit",
      content: json(UserCredits, {
        view: {
          summary: "Two credits, with ?include=subscriptions",
          value: {
            ...summaryExample,
            byKind: {
              form: { credits: 1, sends: 1 },
              prepay: { credits: 0, sends: 0 },
              subscribe: { credits: 1, sends: 1 },
            },
            byTemplate: { [EXAMPLE_TEMPLATE_ID]: { credits: 1, sends: 1 } },
            sends: 2,
            credits: [
              { formId: "form-0001", kind: "form", uses: 1, expiresAt: 1_795_604_000_000 },
              {
                formId: "sub:r-2f9c1a7e:TPL_ORDER",
                kind: "subscribe",
                templateId: EXAMPLE_TEMPLATE_ID,
                uses: 1,
                expiresAt: null,
              },
            ],
            subscriptions: subscriptionsExample,
          },
        },
      }),
    },
    ...errorAnswers(refusals(ROLE_TOKEN, ANY_ROUTE, STORE, { 400: ["invalid_open_id"] })),
  },
});
