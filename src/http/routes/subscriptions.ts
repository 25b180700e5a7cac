/**
 * `POST /v1/subscriptions` (session token) `{ results, reportId?, settings? }`: what
 * `wx.requestSubscribeMessage` returned, and optionally what `wx.getSetting({ withSubscriptions:
 * true })` says (`settings: { mainSwitch, itemSettings? }`, recorded when it changed). Each
 * template the user accepted (`accept`, `acceptWithAudio`, `acceptWithAlert`) becomes one
 * `subscribe` credit for that template (a long-term template: the user's one long-term credit);
 * `reject`, `ban` and `filter` are counted in `ignored`.
 *
 * Without WeChat's event push the report stands as it always did: its credits are the only
 * events. With it (`WECHAT_PUSH_TOKEN`), every answer is recorded and an accept WeChat also
 * reports is counted once (src/ledger/answer_rules.ts): `provisional` counts credits waiting for
 * WeChat's confirmation (they expire unconfirmed after `SUBSCRIBE_CONFIRM_WINDOW_SECONDS`),
 * `confirmed` accepts WeChat had reported first; both present only when not 0.
 *
 * A report counts against the upload limits (per openId and per client IP, `limits`), in the
 * same atomic store call that records it: over one, it is answered 429 with `Retry-After` and
 * records nothing.
 *
 * A report may carry a `reportId` chosen by the client: sending the same report again (a retry
 * after a lost answer) then yields duplicates instead of extra credits.
 *
 * An accepted template yields no credit when it is not one of the account's templates (the
 * template registry once synced, else the allow-list `SUBSCRIBE_TEMPLATES`: `unknown_template`),
 * or when the user holds as many live credits as the caps allow (`user_full`, `template_full`):
 * each is listed in `rejected`, present when not empty.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import { ACCEPTS, type AnswerItem } from "../../ledger/answer_rules.ts";
import type { CapReason, CreditCaps } from "../../ledger/credit_caps.ts";
import type { Ledger } from "../../ledger/ledger.ts";
import type { SubscribeSettings } from "../../ledger/subscribe_events.ts";
import type { TemplateRegistry } from "../../subscribe/registry.ts";
import { ApiError } from "../middleware/errors.ts";
import { isTemplateId, subscribeCreditId } from "../middleware/input_rules.ts";
import { jsonBodyLimit } from "../middleware/json_body.ts";
import type { SessionApp, SessionVariables } from "../middleware/session_token.ts";
import {
  describeReport,
  KEPT_CHOICES,
  MAX_KEPT,
  MAX_TEMPLATES,
  readReport,
} from "../schemas/subscriptions.ts";

/** The refusals `wx.requestSubscribeMessage` gives per template. */
const REFUSALS = ["reject", "ban", "filter"] as const;
type Refusal = typeof REFUSALS[number];
/** Every answer it gives. */
const ANSWERS: readonly string[] = [...ACCEPTS, ...REFUSALS];
/** The kept choices `itemSettings` holds. */
const KEPT: readonly string[] = KEPT_CHOICES;
/** Keys of the `wx.requestSubscribeMessage` result that are not template ids. */
const NOT_TEMPLATES = ["errMsg", "errCode"];
/** Most templates one report may carry (WeChat asks for at most 3 at a time). */
export { MAX_TEMPLATES };
const REPORT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Why an accepted template got no credit. */
export type TemplateRejectReason = "unknown_template" | CapReason;

/** What the subscriptions route needs. */
export interface SubscriptionRouteDeps {
  ledger: Ledger;
  session: MiddlewareHandler<{ Variables: SessionVariables }>;
  limits: MiddlewareHandler<{ Variables: SessionVariables }>;
  caps: CreditCaps;
  /** Which templates may get credits, and which are long-term. */
  registry: TemplateRegistry;
  /** With WeChat's event push: how long a client's accept waits for WeChat's; `null`: none. */
  windowMs: number | null;
}

/**
 * The `settings` of a report, validated: `{ mainSwitch: boolean, itemSettings?: { [templateId]:
 * "accept" | "reject" | "ban" } }` (other fields of WeChat's object are ignored). The body's
 * schema refuses the same first, in the same words (src/http/schemas/subscriptions.ts); this
 * check stays for a `__proto__` template id, which zod's records skip.
 *
 * @example
 * ```ts
 * readSettings({ mainSwitch: true, itemSettings: { TPL: "accept" } });
 * ```
 */
export function readSettings(raw: unknown): SubscribeSettings {
  const bad = (why: string): never => {
    throw new ApiError(400, "invalid_settings", `settings ${why}`);
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    bad("must be wx.getSetting's subscriptionsSetting object");
  }
  const { mainSwitch, itemSettings = {} } = raw as Record<string, unknown>;
  if (typeof mainSwitch !== "boolean") bad("need mainSwitch: true or false");
  if (typeof itemSettings !== "object" || itemSettings === null || Array.isArray(itemSettings)) {
    bad("itemSettings must be an object of template id -> accept, reject or ban");
  }
  const entries = Object.entries(itemSettings as Record<string, unknown>);
  if (entries.length > MAX_KEPT) bad(`itemSettings may hold at most ${MAX_KEPT} templates`);
  for (const [id, choice] of entries) {
    if (!isTemplateId(id) || !KEPT.includes(choice as string)) {
      bad("itemSettings must map template ids (1-128 printable ASCII) to accept, reject or ban");
    }
  }
  return {
    mainSwitch: mainSwitch as boolean,
    itemSettings: Object.fromEntries(entries) as Record<string, string>,
  };
}

/** The subscriptions route. */
export function subscriptionRoutes(
  { ledger, session, limits, caps, registry, windowMs }: SubscriptionRouteDeps,
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
      const settings = body.settings === undefined ? undefined : readSettings(body.settings);
      const entries = Object.entries(results).filter(([key]) => !NOT_TEMPLATES.includes(key));
      if (entries.length === 0 || entries.length > MAX_TEMPLATES) {
        throw new ApiError(
          400,
          "invalid_results",
          `results must hold 1 to ${MAX_TEMPLATES} templates`,
        );
      }
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
      }
      const ignored: Record<Refusal, number> = { reject: 0, ban: 0, filter: 0 };
      const items: AnswerItem[] = [];
      const rejected: { templateId: string; reason: TemplateRejectReason }[] = [];
      for (const [templateId, answer] of entries as [string, string][]) {
        const accept = ACCEPTS.includes(answer);
        if (!accept) ignored[answer as Refusal]++;
        const { allowed, longTerm } = await registry.classify(templateId);
        if (accept && !allowed) rejected.push({ templateId, reason: "unknown_template" });
        // Refusals are recorded only with the event push (without it, as before: counted).
        else if (accept || windowMs !== null) {
          const key = subscribeCreditId(reportId, templateId);
          items.push({ templateId, answer, key, longTerm, revoke: false });
        }
      }
      // The report counts against the upload limits in the store call that records it (over
      // one: 429, nothing recorded); one with nothing to record is counted by `limits` alone.
      const results_ = items.length > 0 || settings
        ? await ledger.answer({
          openId: c.get("openId"),
          source: "client",
          items,
          ...(settings ? { settings } : {}),
          caps,
          windowMs,
        }, c.get("limits"))
        : [];
      const count = { accepted: 0, duplicates: 0, provisional: 0, confirmed: 0 };
      for (const { templateId, outcome } of results_) {
        if (outcome === "user_full" || outcome === "template_full") {
          rejected.push({ templateId, reason: outcome });
        } else if (outcome === "duplicate" || outcome === "active") count.duplicates++;
        else if (outcome === "credited" || outcome === "provisional" || outcome === "confirmed") {
          count.accepted++;
          if (outcome !== "credited") count[outcome]++;
        }
      }
      return c.json({
        reportId,
        accepted: count.accepted,
        duplicates: count.duplicates,
        ignored,
        ...(rejected.length > 0 ? { rejected } : {}),
        ...(count.provisional > 0 ? { provisional: count.provisional } : {}),
        ...(count.confirmed > 0 ? { confirmed: count.confirmed } : {}),
      });
    },
  );
}
