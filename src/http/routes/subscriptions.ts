/**
 * `POST /v1/subscriptions` (session token) `{ results, reportId? }`: what
 * `wx.requestSubscribeMessage` returned. Each template the user accepted (`accept`, or
 * `acceptWithAudio` / `acceptWithAlert`: accepted with a reminder) becomes one `subscribe`
 * credit for that template; "reject", "ban" and "filter" are counted and ignored.
 *
 * A report may carry a `reportId` chosen by the client: sending the same report again (a retry
 * after a lost answer) then yields duplicates instead of extra credits.
 *
 * An accepted template yields no credit when it is not on the allow-list (`SUBSCRIBE_TEMPLATES`,
 * `unknown_template`), or when the user holds as many live credits as the caps allow
 * (`user_full`, `template_full`): each is listed in `rejected`, present when not empty.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { CapReason, CreditCaps } from "../../ledger/credit_caps.ts";
import type { CollectItem, Ledger } from "../../ledger/ledger.ts";
import { ApiError } from "../middleware/errors.ts";
import { isTemplateId, subscribeCreditId } from "../middleware/input_rules.ts";
import { jsonBodyLimit } from "../middleware/json_body.ts";
import type { SessionApp, SessionVariables } from "../middleware/session_token.ts";
import { describeReport, readReport } from "../schemas/subscriptions.ts";

/** Answers that grant a send: accept, with a voice reminder, with a banner reminder (WeChat's). */
const ACCEPTS = ["accept", "acceptWithAudio", "acceptWithAlert"];
/** The answers `wx.requestSubscribeMessage` gives per template. */
const ANSWERS = [...ACCEPTS, "reject", "ban", "filter"] as const;
type Answer = "reject" | "ban" | "filter";
/** Keys of the `wx.requestSubscribeMessage` result that are not template ids. */
const NOT_TEMPLATES = ["errMsg", "errCode"];
/** Most templates one report may carry (WeChat asks for at most 3 at a time). */
export const MAX_TEMPLATES = 20;
const REPORT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Why an accepted template got no credit. */
export type TemplateRejectReason = "unknown_template" | CapReason;

/** What the subscriptions route needs. */
export interface SubscriptionRouteDeps {
  ledger: Ledger;
  session: MiddlewareHandler<{ Variables: SessionVariables }>;
  limits: MiddlewareHandler<{ Variables: SessionVariables }>;
  caps: CreditCaps;
  /** The templates credits may be added for; `null`: any (until a template registry exists). */
  templates: ReadonlySet<string> | null;
}

/** The subscriptions route. */
export function subscriptionRoutes(
  { ledger, session, limits, caps, templates }: SubscriptionRouteDeps,
): SessionApp {
  return new Hono<{ Variables: SessionVariables }>().post(
    "/v1/subscriptions",
    describeReport,
    session,
    limits,
    jsonBodyLimit(),
    async (c) => {
      const body = await readReport(c);
      const { results } = body;
      if (typeof results !== "object" || results === null || Array.isArray(results)) {
        throw new ApiError(400, "invalid_results", "results must be the object WeChat returned");
      }
      const reportId = body.reportId ?? crypto.randomUUID();
      if (typeof reportId !== "string" || !REPORT_ID.test(reportId)) {
        throw new ApiError(400, "invalid_report_id", "reportId must be 1-64 of [A-Za-z0-9_-]");
      }
      const entries = Object.entries(results).filter(([key]) => !NOT_TEMPLATES.includes(key));
      if (entries.length === 0 || entries.length > MAX_TEMPLATES) {
        throw new ApiError(
          400,
          "invalid_results",
          `results must hold 1 to ${MAX_TEMPLATES} templates`,
        );
      }
      const ignored: Record<Answer, number> = { reject: 0, ban: 0, filter: 0 };
      const credits: CollectItem[] = [];
      const rejected: { templateId: string; reason: TemplateRejectReason }[] = [];
      for (const [templateId, answer] of entries) {
        if (!isTemplateId(templateId)) {
          throw new ApiError(400, "invalid_template_id", "a template id is 1-128 printable ASCII");
        }
        if (!ANSWERS.includes(answer as string)) {
          throw new ApiError(
            400,
            "invalid_results",
            `each template's answer is one of ${ANSWERS.join(", ")}`,
          );
        }
        const accepted = ACCEPTS.includes(answer as string);
        if (accepted && templates !== null && !templates.has(templateId)) {
          rejected.push({ templateId, reason: "unknown_template" });
        } else if (accepted) {
          credits.push({
            formId: subscribeCreditId(reportId, templateId),
            kind: "subscribe",
            templateId,
          });
        } else ignored[answer as Answer]++;
      }
      const outcome = credits.length > 0
        ? await ledger.collect(c.get("openId"), credits, caps)
        : { accepted: [], duplicates: [], expired: [] };
      if (outcome.refused) {
        const templateOf = new Map(credits.map((credit) => [credit.formId, credit.templateId!]));
        for (const { formId, reason } of outcome.refused) {
          rejected.push({ templateId: templateOf.get(formId)!, reason });
        }
      }
      return c.json({
        reportId,
        accepted: outcome.accepted.length,
        duplicates: outcome.duplicates.length,
        ignored,
        ...(rejected.length > 0 ? { rejected } : {}),
      });
    },
  );
}
