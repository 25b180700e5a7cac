/**
 * `GET /healthz`, and the description's own routes: `/openapi.json`, `/docs` and its assets.
 *
 * @module
 */
import { z } from "zod";
import { describe, json, SECURITY } from "./common.ts";
import { ANY_ROUTE, errorAnswers, refusals } from "./errors.ts";

/** The health answer (also the 503's: the store does not answer). */
export const Health = z.object({
  status: z.enum(["ok", "unavailable"]),
  store: z.enum(["memory", "redis"]),
  storeAnswers: z.boolean(),
  unsealed: z.int().min(0).nullable().describe(
    "Events appended but not yet sealed into the chain (growing: sealing is stuck)",
  ),
  outcomesWaiting: z.int().min(0).optional().describe(
    "With push configured: delivery outcomes this instance holds until the store takes them",
  ),
  outbox: z.object({
    waiting: z.int().min(0),
    oldestMs: z.int().min(0).describe("Age of the oldest outcome waiting, ms"),
    dropped: z.int().min(0).describe("Outcomes given up after repeated non-outage errors"),
  }).optional(),
});

/**
 * `GET /healthz`.
 *
 * @example
 * ```ts
 * app.get("/healthz", describeHealth, handler);
 * ```
 */
export const describeHealth = describe({
  operationId: "health",
  tags: ["Service"],
  summary: "Whether the store answers",
  security: SECURITY.none,
  responses: {
    200: {
      description: "The store answers",
      content: json(Health, {
        ok: {
          summary: "Healthy",
          value: {
            status: "ok",
            store: "redis",
            storeAnswers: true,
            unsealed: 0,
            outcomesWaiting: 0,
            outbox: { waiting: 0, oldestMs: 0, dropped: 0 },
          },
        },
      }),
    },
    503: {
      description: "The store does not answer",
      content: json(Health, {
        unavailable: {
          summary: "The store is down",
          value: { status: "unavailable", store: "redis", storeAnswers: false, unsealed: null },
        },
      }),
    },
    ...errorAnswers(ANY_ROUTE),
  },
});

/**
 * `GET /openapi.json`.
 *
 * @example
 * ```ts
 * app.get("/openapi.json", describeOpenApi, openAPIRouteHandler(app));
 * ```
 */
export const describeOpenApi = describe({
  operationId: "openapi",
  tags: ["Service"],
  summary: "This description (OpenAPI 3.1)",
  security: SECURITY.none,
  responses: {
    200: {
      description: "The description",
      content: {
        "application/json": {
          schema: { type: "object", required: ["openapi", "info", "paths"] },
          example: { openapi: "3.1.0", info: { title: "formid-ledger", version: "1" }, paths: {} },
        },
      },
    },
    ...errorAnswers(ANY_ROUTE),
  },
});

/**
 * `GET /docs`.
 *
 * @example
 * ```ts
 * app.get("/docs", describeDocsPage, (c) => c.html(page));
 * ```
 */
export const describeDocsPage = describe({
  operationId: "docs",
  tags: ["Service"],
  summary: "The API reference page (Swagger UI, served by the service itself)",
  security: SECURITY.none,
  responses: {
    200: {
      description: "The page",
      content: {
        "text/html": {
          schema: { type: "string" },
          example: "<!doctype html><title>formid-ledger API</title>...",
        },
      },
    },
    ...errorAnswers(ANY_ROUTE),
  },
});

/**
 * `GET /docs/assets/{file}`.
 *
 * @example
 * ```ts
 * app.get("/docs/assets/:file", describeDocsAsset, handler);
 * ```
 */
export const describeDocsAsset = describe({
  operationId: "docsAsset",
  tags: ["Service"],
  summary: "A script or style sheet of the reference page",
  security: SECURITY.none,
  parameters: [{
    in: "path",
    name: "file",
    required: true,
    schema: { type: "string" },
    example: "swagger-ui.css",
  }],
  responses: {
    200: {
      description: "The file",
      content: {
        "text/css": { schema: { type: "string" }, example: ".swagger-ui{...}" },
        "text/javascript": { schema: { type: "string" }, example: "/*! swagger-ui */..." },
      },
    },
    ...errorAnswers(refusals(ANY_ROUTE, { 404: ["not_found"] })),
  },
});
