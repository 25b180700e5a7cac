/**
 * `POST /v1/formids` (session token): a mini-program hands in the formIds its users' form
 * submits produced. The openId comes from the session token only; the expiry is the server's.
 * One upload is one atomic ledger call.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { CollectItem, Ledger } from "../ledger/ledger.ts";
import { ApiError } from "./errors.ts";
import { formIdProblem, isEpochMs } from "./input_rules.ts";
import { jsonBodyLimit, readJsonObject } from "./json_body.ts";
import type { SessionApp, SessionVariables } from "./session_token.ts";

/** Most formIds one upload may carry. */
export const MAX_FORM_IDS = 100;

/** Fields an item given as an object may have; `expiresAt` is accepted and ignored. */
const ITEM_FIELDS = ["formId", "collectedAt", "expiresAt"];

/** Why one formId of an upload was refused. */
export type RejectReason =
  | "invalid_item"
  | "invalid_format"
  | "placeholder"
  | "invalid_collected_at"
  | "expired";

/** One refused formId (`null` when the item had no string formId) and its position. */
export interface Rejection {
  formId: string | null;
  index: number;
  reason: RejectReason;
}

/** What the formids route needs: the ledger, and the session and rate-limit middleware. */
export interface FormIdRouteDeps {
  ledger: Ledger;
  session: MiddlewareHandler<{ Variables: SessionVariables }>;
  limits: MiddlewareHandler<{ Variables: SessionVariables }>;
}

/** The formids route. */
export function formIdRoutes({ ledger, session, limits }: FormIdRouteDeps): SessionApp {
  return new Hono<{ Variables: SessionVariables }>().post(
    "/v1/formids",
    session,
    limits,
    jsonBodyLimit(),
    async (c) => {
      const body = await readJsonObject(c, ["formIds"]);
      const items = body.formIds;
      if (!Array.isArray(items) || items.length === 0 || items.length > MAX_FORM_IDS) {
        throw new ApiError(
          400,
          "invalid_form_ids",
          `formIds must be an array of 1 to ${MAX_FORM_IDS} formIds`,
        );
      }
      const { collect, rejected } = sortItems(items);
      const indexes = new Map<string, number[]>();
      for (const item of collect) {
        indexes.set(item.formId, [...indexes.get(item.formId) ?? [], item.index]);
      }
      const outcome = collect.length > 0
        ? await ledger.collect(c.get("openId"), collect.map(({ index: _, ...item }) => item))
        : { accepted: [], duplicates: [], expired: [] };
      for (const formId of outcome.expired) {
        rejected.push({ formId, index: indexes.get(formId)!.shift()!, reason: "expired" });
      }
      rejected.sort((a, b) => a.index - b.index);
      return c.json({
        accepted: outcome.accepted.length,
        duplicates: outcome.duplicates.length,
        rejected,
      });
    },
  );
}

/** Splits an upload into credits for the ledger and items refused on their face. */
function sortItems(items: unknown[]): {
  collect: (CollectItem & { index: number })[];
  rejected: Rejection[];
} {
  const collect: (CollectItem & { index: number })[] = [];
  const rejected: Rejection[] = [];
  items.forEach((item, index) => {
    const reject = (formId: string | null, reason: RejectReason) =>
      rejected.push({ formId, index, reason });
    let formId: unknown = item;
    let collectedAt: number | undefined;
    if (typeof item === "object" && item !== null && !Array.isArray(item)) {
      const fields = item as Record<string, unknown>;
      formId = fields.formId;
      if (typeof formId !== "string" || Object.keys(fields).some((k) => !ITEM_FIELDS.includes(k))) {
        return reject(typeof formId === "string" ? formId : null, "invalid_item");
      }
      if (fields.collectedAt !== undefined) {
        if (!isEpochMs(fields.collectedAt)) return reject(formId, "invalid_collected_at");
        collectedAt = fields.collectedAt;
      }
    }
    if (typeof formId !== "string") return reject(null, "invalid_item");
    const problem = formIdProblem(formId);
    if (problem !== null) return reject(formId, problem);
    collect.push({
      formId,
      kind: "form",
      index,
      ...(collectedAt !== undefined ? { collectedAt } : {}),
    });
  });
  return { collect, rejected };
}
