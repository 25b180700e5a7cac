/**
 * The account's subscribe templates: `GET /v1/templates` and `POST /v1/templates/sync`, their
 * answers, refusals and examples.
 *
 * @module
 */
import { z } from "zod";
import { describe, EXAMPLE_TEMPLATE_ID, json, SECURITY } from "./common.ts";
import { ANY_ROUTE, errorAnswers, refusals, ROLE_TOKEN, STORE } from "./errors.ts";

/** One keyword (placeholder) of a template (src/ledger/registry.ts). */
export const TemplateKeyword = z.object({
  key: z.string().describe("The key in a send's `data`, e.g. `thing1`"),
  type: z.string().describe("The key without its digits, e.g. `thing`: the rule its value keeps"),
  label: z.string().describe("The text before the placeholder in the template, e.g. `物品名称`"),
  enumValues: z.array(z.string()).optional().describe("The only values WeChat accepts, if listed"),
});

/** One subscribe template of the account, as WeChat's `gettemplate` lists it. */
export const Template = z.object({
  id: z.string().describe("`priTmplId`: the `templateId` of a push"),
  title: z.string(),
  kind: z.enum(["one-time", "long-term"]),
  keywords: z.array(TemplateKeyword),
});

/** The registry: whether a sync ever listed a template, and the templates. */
export const TemplateList = z.object({
  synced: z.boolean().describe(
    "`false` before a first sync that listed any template (then `SUBSCRIBE_TEMPLATES`, or any " +
      "template, may get credits, and pushes' data is not checked)",
  ),
  templates: z.array(Template),
});

/** The answer to a sync. */
export const SyncAnswer = z.object({
  changed: z.boolean().describe("Whether the list differs from the one kept (a new event)"),
  templates: z.array(Template),
});

const template = {
  id: EXAMPLE_TEMPLATE_ID,
  title: "订单发货通知",
  kind: "one-time",
  keywords: [
    { key: "thing1", type: "thing", label: "商品名称" },
    { key: "time2", type: "time", label: "发货时间" },
  ],
};

/**
 * `GET /v1/templates`.
 *
 * @example
 * ```ts
 * app.get("/v1/templates", describeTemplates, auditor, handler);
 * ```
 */
export const describeTemplates = describe({
  operationId: "listTemplates",
  tags: ["Push"],
  summary: "The account's subscribe templates (the registry)",
  description: "As last synced from WeChat's `gettemplate`: on start (in the background, " +
    "retried), on demand (`POST /v1/templates/sync`), and when a push or an event names a " +
    "template nobody knows (at most once per `TEMPLATE_SYNC_INTERVAL_SECONDS`). Pushes' `data` " +
    "is checked against these keywords.",
  security: SECURITY.auditor,
  responses: {
    200: {
      description: "The registry",
      content: json(TemplateList, {
        synced: { summary: "One template", value: { synced: true, templates: [template] } },
        never: { summary: "Before a first sync", value: { synced: false, templates: [] } },
      }),
    },
    ...errorAnswers(refusals(ROLE_TOKEN, ANY_ROUTE, STORE)),
  },
});

/**
 * `POST /v1/templates/sync`.
 *
 * @example
 * ```ts
 * app.post("/v1/templates/sync", describeTemplateSync, admin, handler);
 * ```
 */
export const describeTemplateSync = describe({
  operationId: "syncTemplates",
  tags: ["Push"],
  summary: "Sync the templates from WeChat now",
  description: "Reads WeChat's `gettemplate` with the access token and keeps the list (one " +
    "`TemplatesSynced` event, only when it changed). No body. Needs `WECHAT_APPID` and " +
    "`WECHAT_SECRET` (`503 not_configured`); WeChat unreachable or refusing is `502 " +
    "template_sync_failed`.",
  security: SECURITY.admin,
  responses: {
    200: {
      description: "Synced",
      content: json(SyncAnswer, {
        synced: { summary: "A new list", value: { changed: true, templates: [template] } },
      }),
    },
    ...errorAnswers(refusals(ROLE_TOKEN, ANY_ROUTE, STORE, { 502: ["template_sync_failed"] })),
  },
});
