/**
 * `POST /v1/formids` (session token): a mini-program hands in the formIds its users' form
 * submits produced. The openId comes from the session token only; the expiry is the server's.
 * One upload lands in one atomic ledger call (which may carry concurrent uploads too).
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { CreditCaps } from "../../ledger/credit_caps.ts";
import type { CollectItem, Ledger } from "../../ledger/ledger.ts";
import { formIdProblem, isEpochMs } from "../middleware/input_rules.ts";
import { jsonBodyLimit } from "../middleware/json_body.ts";
import type { SessionApp, SessionVariables } from "../middleware/session_token.ts";
import { describeUpload, readUpload } from "../schemas/formids.ts";

/** Most formIds one upload may carry. */
export { MAX_FORM_IDS } from "../schemas/formids.ts";

/** Fields an item given as an object may have; `expiresAt` is accepted and ignored. */
const ITEM_FIELDS = ["formId", "collectedAt", "expiresAt"];

/** Why one formId of an upload was refused. */
export type RejectReason =
  | "invalid_item"
  | "invalid_format"
  | "placeholder"
  | "invalid_collected_at"
  | "expired"
  | "user_full";

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
  /** The caps uploads are collected under (`MAX_CREDITS_PER_USER`, ...). */
  caps: CreditCaps;
}

/** The formids route. */
export function formIdRoutes({ ledger, session, limits, caps }: FormIdRouteDeps): SessionApp {
  return new Hono<{ Variables: SessionVariables }>().post(
    "/v1/formids",
    describeUpload,
    session,
    limits,
    jsonBodyLimit(),
    async (c) => {
      const items = (await readUpload(c)).formIds;
      const { collect, indexes, rejected } = sortItems(items);
      const outcome = collect.length > 0
        ? await ledger.collect(c.get("openId"), collect, caps, c.get("limits"))
        : { accepted: [], duplicates: [], expired: [] };
      // Each formId the ledger refused takes the position of its first item not yet reported.
      const reported = new Set<number>();
      const report = (formId: string, reason: RejectReason) => {
        const at = collect.findIndex((item, i) => item.formId === formId && !reported.has(i));
        reported.add(at);
        rejected.push({ formId, index: indexes[at], reason });
      };
      for (const formId of outcome.expired) report(formId, "expired");
      for (const { formId } of outcome.refused ?? []) report(formId, "user_full");
      rejected.sort((a, b) => a.index - b.index);
      return c.json({
        accepted: outcome.accepted.length,
        duplicates: outcome.duplicates.length,
        rejected,
      });
    },
  );
}

/**
 * Splits an upload into credits for the ledger (with each one's position in the upload) and
 * items refused on their face.
 */
function sortItems(items: unknown[]): {
  collect: CollectItem[];
  indexes: number[];
  rejected: Rejection[];
} {
  const collect: CollectItem[] = [];
  const indexes: number[] = [];
  const rejected: Rejection[] = [];
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    const reject = (formId: string | null, reason: RejectReason) =>
      void rejected.push({ formId, index, reason });
    let formId: unknown = item;
    let collectedAt: number | undefined;
    if (typeof item === "object" && item !== null && !Array.isArray(item)) {
      const fields = item as Record<string, unknown>;
      formId = fields.formId;
      if (typeof formId !== "string" || Object.keys(fields).some((k) => !ITEM_FIELDS.includes(k))) {
        reject(typeof formId === "string" ? formId : null, "invalid_item");
        continue;
      }
      if (fields.collectedAt !== undefined) {
        if (!isEpochMs(fields.collectedAt)) {
          reject(formId, "invalid_collected_at");
          continue;
        }
        collectedAt = fields.collectedAt;
      }
    }
    if (typeof formId !== "string") {
      reject(null, "invalid_item");
      continue;
    }
    const problem = formIdProblem(formId);
    if (problem !== null) {
      reject(formId, problem);
      continue;
    }
    collect.push(
      collectedAt === undefined ? { formId, kind: "form" } : { formId, kind: "form", collectedAt },
    );
    indexes.push(index);
  }
  return { collect, indexes, rejected };
}
