/**
 * `POST /v1/push`, `POST /v1/broadcasts` and `GET /v1/broadcasts/{id}`: their descriptions (the
 * bodies are in push.ts).
 *
 * @module
 */
import { z } from "zod";
import {
  describe,
  EXAMPLE_BROADCAST_ID,
  EXAMPLE_OPEN_ID,
  json,
  jsonBody,
  SECURITY,
} from "./common.ts";
import { ANY_ROUTE, errorAnswers, JSON_BODY, refusals, ROLE_TOKEN, STORE } from "./errors.ts";
import { BroadcastBody, EXAMPLE_MESSAGE, PushAnswer, PushBody } from "./push.ts";

/**
 * A push's or a broadcast's refusals: the body, the token, and the check of `data` against its
 * template before any credit is taken (routes/message_check.ts).
 */
const PUSH_REFUSALS = refusals(JSON_BODY, ROLE_TOKEN, ANY_ROUTE, STORE, {
  400: ["invalid_field"],
  422: ["unknown_template", "invalid_message_data"],
});

/** What the description of both says about the template check. */
const TEMPLATE_CHECK = "Once the account's templates are synced (`GET /v1/templates`), `data` " +
  "is checked against its template's keyword rules before any credit is taken: `422 " +
  "invalid_message_data` lists every bad key in `error.problems` (`[{ key, reason }]`); kind " +
  "`subscribe` with a template the account does not have (after one sync) is `422 " +
  "unknown_template`. Kind `template` (form and prepay credits) is not checked.";

/**
 * `POST /v1/push`.
 *
 * @example
 * ```ts
 * app.post("/v1/push", describePush, admin, jsonBodyLimit(), handler);
 * ```
 */
export const describePush = describe({
  operationId: "push",
  tags: ["Push"],
  summary: "Send one message to one user, spending one credit",
  description: "Consuming the credit, calling WeChat and recording the outcome are one flow. " +
    "An `Idempotency-Key` makes a retried request return the first outcome instead of sending " +
    "again (`Idempotent-Replayed: true`). Needs `WECHAT_APPID` and `WECHAT_SECRET`. " +
    TEMPLATE_CHECK,
  security: SECURITY.admin,
  parameters: [{
    in: "header",
    name: "Idempotency-Key",
    required: false,
    description: "1-255 visible ASCII; the same key with the same body answers the first outcome",
    schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" },
    example: "order-1024-shipped",
  }],
  requestBody: jsonBody(PushBody, {
    push: { summary: "A template message", value: { openId: EXAMPLE_OPEN_ID, ...EXAMPLE_MESSAGE } },
  }),
  responses: {
    200: {
      description: "How the send ended",
      headers: {
        "Idempotent-Replayed": {
          description: "`true` when the answer is the first outcome for this Idempotency-Key",
          schema: { type: "string", enum: ["true"] },
        },
      },
      content: json(PushAnswer, {
        sent: {
          summary: "Sent",
          value: { pushId: "pmf3k2x9a1b2c3d4e5f6", status: "sent", attempts: 1, msgid: "2914" },
        },
        noCredit: {
          summary: "No credit left",
          value: { pushId: "pmf3k2xa0c1d2e3f4a5b", status: "no_credit", attempts: 0 },
        },
        failed: {
          summary: "WeChat refused (the user unsubscribed)",
          value: {
            pushId: "pmf3k2xb7e8f9a0b1c2d",
            status: "failed",
            attempts: 1,
            errcode: 43101,
            errmsg: "user refuse to accept the msg",
            class: "spent",
          },
        },
      }),
    },
    ...errorAnswers(refusals(PUSH_REFUSALS, {
      400: ["invalid_idempotency_key"],
      409: ["idempotency_in_progress", "push_already_handled"],
      422: ["idempotency_key_reused"],
    })),
  },
});

/** The answer to a new broadcast. */
export const BroadcastCreated = z.object({
  broadcastId: z.string(),
  total: z.int().min(0).describe("Users it will try"),
  state: z.enum(["running", "done", "stopped"]),
});

/**
 * `POST /v1/broadcasts`.
 *
 * @example
 * ```ts
 * app.post("/v1/broadcasts", describeBroadcast, admin, jsonBodyLimit(4 << 20), handler);
 * ```
 */
export const describeBroadcast = describe({
  operationId: "createBroadcast",
  tags: ["Push"],
  summary: "Send one message to many users",
  description: "Queues the work for the workers; the body may be up to 4 MB. " + TEMPLATE_CHECK,
  security: SECURITY.admin,
  requestBody: jsonBody(BroadcastBody, {
    listed: {
      summary: "To listed users",
      value: { ...EXAMPLE_MESSAGE, openIds: [EXAMPLE_OPEN_ID] },
    },
  }),
  responses: {
    202: {
      description: "Queued",
      content: json(BroadcastCreated, {
        queued: {
          summary: "Queued",
          value: { broadcastId: EXAMPLE_BROADCAST_ID, total: 1, state: "running" },
        },
      }),
    },
    ...errorAnswers(PUSH_REFUSALS),
  },
});

/** A broadcast's progress. */
export const BroadcastStatus = z.object({
  broadcastId: z.string(),
  state: z.enum(["running", "done", "stopped"]),
  reason: z.string().optional().describe("Why it stopped (`quota`: WeChat's daily quota)"),
  templateId: z.string(),
  total: z.int().min(0),
  sent: z.int().min(0),
  failed: z.int().min(0),
  noCredit: z.int().min(0),
  pending: z.int().min(0),
  errors: z.record(z.string(), z.int()).describe("Failed sends by WeChat errcode"),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
});

/**
 * `GET /v1/broadcasts/{id}`.
 *
 * @example
 * ```ts
 * app.get("/v1/broadcasts/:id", describeBroadcastStatus, auditor, handler);
 * ```
 */
export const describeBroadcastStatus = describe({
  operationId: "getBroadcast",
  tags: ["Push"],
  summary: "A broadcast's progress",
  security: SECURITY.auditor,
  parameters: [{
    in: "path",
    name: "id",
    required: true,
    schema: { type: "string", pattern: "^[a-z0-9]{1,40}$" },
    example: EXAMPLE_BROADCAST_ID,
  }],
  responses: {
    200: {
      description: "Its progress",
      content: json(BroadcastStatus, {
        progress: {
          summary: "Done",
          value: {
            broadcastId: EXAMPLE_BROADCAST_ID,
            state: "done",
            templateId: "TPL_ORDER",
            total: 3,
            sent: 2,
            failed: 1,
            noCredit: 0,
            pending: 0,
            errors: { "43101": 1 },
            createdAt: "2026-11-26T08:30:00.000Z",
            finishedAt: "2026-11-26T08:30:02.000Z",
          },
        },
      }),
    },
    ...errorAnswers(refusals(ROLE_TOKEN, ANY_ROUTE, STORE, { 404: ["not_found"] })),
  },
});
