/**
 * `POST /v1/formids`: the upload body, its answer, its refusals and examples.
 *
 * An item that is not a formId is no reason to refuse the upload: the answer lists it in
 * `rejected` with its reason. So the schema checks the list (1 to 100 items, else
 * `invalid_form_ids`) and documents what an item should be; the route sorts the items.
 *
 * @module
 */
import { z } from "zod";
import { ApiError } from "../middleware/errors.ts";
import { bodyReader } from "../middleware/valid_body.ts";
import { describe, EpochMs, json, jsonBody, jsonSchema, SECURITY } from "./common.ts";
import {
  ANY_ROUTE,
  errorAnswers,
  JSON_BODY,
  RATE_LIMITED,
  refusals,
  SESSION_TOKEN,
  STORE,
} from "./errors.ts";

/** Most formIds one upload may carry. */
export const MAX_FORM_IDS = 100;

/**
 * What an item should be: a formId, or one with the time it was collected.
 *
 * @example
 * ```ts
 * FormIdItem.parse({ formId: "form-0001", collectedAt: 1795000000000 });
 * ```
 */
export const FormIdItem = z.union([
  z.string().min(1).max(128).describe("A formId: 1-128 printable ASCII"),
  z.strictObject({
    formId: z.string().min(1).max(128),
    collectedAt: EpochMs.optional().describe(
      "When the form was submitted (epoch ms; a time in the future counts as now)",
    ),
    expiresAt: z.unknown().optional().describe("Ignored: the server sets the expiry"),
  }),
]);

/**
 * The upload body.
 *
 * @example
 * ```ts
 * UploadBody.parse({ formIds: ["form-0001"] });
 * ```
 */
export const UploadBody = z.strictObject({
  formIds: z.array(z.unknown()).min(1).max(MAX_FORM_IDS).meta({
    description: `1 to ${MAX_FORM_IDS} formIds; an item that is not one is listed in \`rejected\``,
    items: jsonSchema(FormIdItem),
  }),
});

/**
 * Reads an upload; a list that is not 1 to 100 items is `400 invalid_form_ids`.
 *
 * @example
 * ```ts
 * const { formIds } = await readUpload(c);
 * ```
 */
export const readUpload = bodyReader(
  UploadBody,
  () =>
    new ApiError(
      400,
      "invalid_form_ids",
      `formIds must be an array of 1 to ${MAX_FORM_IDS} formIds`,
    ),
);

/** Why a formId of an upload was refused. */
export const UploadRejectReason = z.enum([
  "invalid_item",
  "invalid_format",
  "placeholder",
  "invalid_collected_at",
  "expired",
  "user_full",
]);

/** The answer: counts, and each refused formId with its position and reason. */
export const UploadAnswer = z.object({
  accepted: z.int().min(0).describe("New credits"),
  duplicates: z.int().min(0).describe("formIds the user already held (or repeated)"),
  rejected: z.array(z.object({
    formId: z.string().nullable().describe("`null` when the item had no string formId"),
    index: z.int().min(0).describe("The item's position in `formIds`"),
    reason: UploadRejectReason,
  })),
});

/**
 * The route's description.
 *
 * @example
 * ```ts
 * app.post("/v1/formids", describeUpload, session, limits, jsonBodyLimit(), handler);
 * ```
 */
export const describeUpload = describe({
  operationId: "uploadFormIds",
  tags: ["Credits in"],
  summary: "Upload formIds (mini-program)",
  description: "The formIds the user's form submits produced, for the session's user (no field " +
    "names another user). The server sets each expiry. All accepted credits of one upload land " +
    "in one atomic ledger call. Counts against the per-openId and per-IP upload limits.",
  security: SECURITY.session,
  requestBody: jsonBody(UploadBody, {
    upload: {
      summary: "Two formIds, one with the time it was collected",
      value: { formIds: ["form-0001", { formId: "form-0002", collectedAt: 1_795_000_000_000 }] },
    },
  }),
  responses: {
    200: {
      description: "Collected; refused items listed",
      content: json(UploadAnswer, {
        collected: {
          summary: "One collected, one placeholder refused",
          value: {
            accepted: 1,
            duplicates: 0,
            rejected: [{ formId: "the formId is a mock one", index: 1, reason: "placeholder" }],
          },
        },
      }),
    },
    ...errorAnswers(refusals(JSON_BODY, SESSION_TOKEN, RATE_LIMITED, ANY_ROUTE, STORE, {
      400: ["invalid_form_ids"],
    })),
  },
});
