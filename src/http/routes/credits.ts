/**
 * Credit views and the server's own credits:
 * - `GET /v1/me/credits` (session token, counted like an upload by the per-user and per-IP
 *   limits): the caller's own valid credits, summed by kind and template, and the next expiry;
 * - `POST /v1/credits` (admin) `{ openId, kind: "prepay", id, collectedAt? }`: a payment's
 *   prepay_id (3 sends within 7 days) obtained by the team's backend;
 * - `GET /v1/users/:openId/credits` (admin): that user's view, credits listed.
 *
 * Both views take `?include=subscriptions`: `subscriptions: { mainSwitch, templates: [{
 * templateId, credits, awaitingWechat, longTerm, lastAnswer, alwaysKeep }] }` (an opt-in, so the
 * views' shape stays as clients know it).
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { CreditCaps } from "../../ledger/credit_caps.ts";
import { type CreditView, isLongTerm } from "../../ledger/credit_rules.ts";
import type { SubscriptionView } from "../../ledger/subscription_state.ts";
import type { CreditKind } from "../../ledger/events.ts";
import type { Ledger } from "../../ledger/ledger.ts";
import { ApiError } from "../middleware/errors.ts";
import { isOpenId, OPEN_ID_RULE } from "../middleware/input_rules.ts";
import { jsonBodyLimit } from "../middleware/json_body.ts";
import type { SessionApp, SessionVariables } from "../middleware/session_token.ts";
import {
  describeMyCredits,
  describePrepay,
  describeUserCredits,
  readPrepay,
} from "../schemas/credits.ts";

/** Credits and sends of one kind or template. */
export interface Tally {
  credits: number;
  sends: number;
}

/** A user's view as the API shows it. */
export interface CreditSummary {
  openId: string;
  valid: number;
  sends: number;
  nextExpiry: number | null;
  byKind: Record<CreditKind, Tally>;
  /**
   * Subscribe credits by template id: an object with one own property per template, made from
   * a `Map` (a template may be named `__proto__`, `constructor` or `toString`).
   */
  byTemplate: Record<string, Tally>;
}

/**
 * Sums a view by kind and template.
 *
 * @example
 * ```ts
 * summarize("o1", await ledger.view("o1")).byTemplate; // { TPL_A: { credits: 1, sends: 1 } }
 * ```
 */
export function summarize(openId: string, view: CreditView): CreditSummary {
  const tally = (): Tally => ({ credits: 0, sends: 0 });
  const byKind: Record<CreditKind, Tally> = {
    form: tally(),
    prepay: tally(),
    subscribe: tally(),
  };
  // A Map, not an object: a template id is data, and an object's keys would meet
  // Object.prototype's (`constructor`) or set its prototype (`__proto__`).
  const byTemplate = new Map<string, Tally>();
  for (const credit of view.credits) {
    const targets = [byKind[credit.kind]];
    if (credit.templateId !== undefined) {
      let t = byTemplate.get(credit.templateId);
      if (!t) byTemplate.set(credit.templateId, t = tally());
      targets.push(t);
    }
    for (const t of targets) [t.credits, t.sends] = [t.credits + 1, t.sends + credit.uses];
  }
  return {
    openId,
    valid: view.valid,
    sends: view.sends,
    nextExpiry: view.nextExpiry,
    byKind,
    // fromEntries defines own data properties, `__proto__` included, as JSON.stringify needs.
    byTemplate: Object.fromEntries(byTemplate),
  };
}

/** One template's subscription state, as `?include=subscriptions` shows it. */
export interface TemplateState {
  templateId: string;
  /** Live one-time credits (sends left). */
  credits: number;
  /** Of those, credits the client reported that WeChat has not confirmed yet. */
  awaitingWechat: number;
  /** A long-term subscription is on. */
  longTerm: boolean;
  /** The last answer recorded (with WeChat's event push), and who reported it. */
  lastAnswer: { answer: string; source: string } | null;
  /** The choice the user keeps ("always keep this choice"), from the client's settings. */
  alwaysKeep: string | null;
}

/**
 * Per template: credits left, long-term on or off, the last answer and the kept choice.
 *
 * @example
 * ```ts
 * subscriptionSummary(await ledger.view(o), await ledger.subscriptions(o)).templates[0];
 * // { templateId: "T", credits: 2, awaitingWechat: 0, longTerm: false, lastAnswer: null, ... }
 * ```
 */
export function subscriptionSummary(view: CreditView, state: SubscriptionView) {
  const byId = new Map<string, TemplateState>();
  const at = (templateId: string) => {
    let t = byId.get(templateId);
    if (!t) {
      byId.set(
        templateId,
        t = {
          templateId,
          credits: 0,
          awaitingWechat: 0,
          longTerm: false,
          lastAnswer: null,
          alwaysKeep: null,
        },
      );
    }
    return t;
  };
  for (const credit of view.credits) {
    if (credit.kind !== "subscribe" || credit.templateId === undefined) continue;
    if (isLongTerm(credit)) at(credit.templateId).longTerm = true;
    else at(credit.templateId).credits++;
  }
  for (const t of state.templates) {
    const entry = at(t.templateId);
    entry.awaitingWechat = t.awaitingWechat;
    if (t.answer) entry.lastAnswer = { answer: t.answer, source: t.source ?? "client" };
  }
  for (const [templateId, kept] of Object.entries(state.settings?.itemSettings ?? {})) {
    at(templateId).alwaysKeep = kept;
  }
  const templates = [...byId.values()].sort((a, b) =>
    a.templateId < b.templateId ? -1 : a.templateId > b.templateId ? 1 : 0
  );
  return { mainSwitch: state.settings?.mainSwitch ?? null, templates };
}

/** The summary, with `subscriptions` when the query asks `include=subscriptions`. */
async function withSubscriptions(
  ledger: Ledger,
  openId: string,
  view: CreditView,
  include: string | undefined,
) {
  const summary = summarize(openId, view);
  if (include !== "subscriptions") return summary;
  return {
    ...summary,
    subscriptions: subscriptionSummary(view, await ledger.subscriptions(openId)),
  };
}

/** What the credit routes need. */
export interface CreditRouteDeps {
  ledger: Ledger;
  session: MiddlewareHandler<{ Variables: SessionVariables }>;
  /** The per-user and per-IP limits, which a view counts against like an upload. */
  limits: MiddlewareHandler<{ Variables: SessionVariables }>;
  admin: MiddlewareHandler;
  /** The caps a prepay credit added by the admin is collected under. */
  caps: CreditCaps;
}

/** The credit routes. */
export function creditRoutes(
  { ledger, session, limits, admin, caps }: CreditRouteDeps,
): SessionApp {
  const app = new Hono<{ Variables: SessionVariables }>();
  app.get("/v1/me/credits", describeMyCredits, session, limits, async (c) => {
    const openId = c.get("openId");
    const view = await ledger.view(openId);
    return c.json(await withSubscriptions(ledger, openId, view, c.req.query("include")));
  });

  app.post("/v1/credits", describePrepay, admin, jsonBodyLimit(), async (c) => {
    const body = await readPrepay(c);
    const outcome = await ledger.collect(body.openId, [{
      formId: body.id,
      kind: "prepay",
      ...(body.collectedAt !== undefined ? { collectedAt: body.collectedAt as number } : {}),
    }], caps);
    const rejected = outcome.expired.map((formId) => ({ formId, reason: "expired" }));
    for (const { formId, reason } of outcome.refused ?? []) rejected.push({ formId, reason });
    return c.json({
      accepted: outcome.accepted.length,
      duplicates: outcome.duplicates.length,
      rejected,
    });
  });

  app.get("/v1/users/:openId/credits", describeUserCredits, admin, async (c) => {
    const openId = c.req.param("openId");
    if (!isOpenId(openId)) {
      throw new ApiError(400, "invalid_open_id", `openId must be ${OPEN_ID_RULE}`);
    }
    const view = await ledger.view(openId);
    const summary = await withSubscriptions(ledger, openId, view, c.req.query("include"));
    return c.json({ ...summary, credits: view.credits });
  });
  return app;
}
