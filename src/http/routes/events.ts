/**
 * The log for auditors (auditor or admin token, read-only):
 * - `GET /v1/events?after=<seq>&limit=<n>`: events in order as JSON, a page at a time; with
 *   `Accept: application/x-ndjson`, the whole log from `after` (up to the head when the request
 *   arrived, or `limit` events) streamed as NDJSON, read page by page, never held in memory;
 * - `GET /v1/audit/checkpoint`: `{ seq, hash, at }` of the head, for auditors to record outside
 *   the system;
 * - `GET /v1/audit/verify?from=<seq:hash>&checkpoint=<seq:hash>&budgetMs=<ms>`: the chain
 *   verified server-side within a time budget; says how far it got and where it broke.
 *
 * @module
 */
import { Hono } from "hono";
import { auditStore } from "../../audit/audit.ts";
import { eventLine, exportEvent, NDJSON } from "../../audit/ndjson.ts";
import { logPages } from "../../audit/pages.ts";
import { type Checkpoint, checkpointConflict, parseCheckpoint } from "../../audit/checkpoint.ts";
import type { LogHead } from "../../ledger/events.ts";
import type { LedgerStore } from "../../ledger/store.ts";
import { bearerToken, requireRole, type RoleTokens } from "../middleware/auth.ts";
import { concurrencyLimit, type ConcurrencyLimits } from "../middleware/concurrency.ts";
import { ApiError } from "../middleware/errors.ts";
import { describeCheckpoint, describeEvents, describeVerify } from "../schemas/audit.ts";

/** Events per JSON page, and the server-side verification budget in ms: default and maximum. */
export { EVENTS_PAGE, VERIFY_BUDGET_MS } from "../schemas/audit.ts";
import { EVENTS_PAGE, VERIFY_BUDGET_MS } from "../schemas/audit.ts";
/**
 * Events per page and pages in flight of a server-side verification: each page is verified in
 * one go, so small pages keep the service answering other requests in between (a page of 500
 * verifies in a few ms), while four in flight keep the store busy.
 */
const VERIFY_PAGE = 500;
const VERIFY_IN_FLIGHT = 4;
/** Events per store read while streaming NDJSON, and reads in flight. */
const STREAM_PAGE = 2_000;
const STREAM_IN_FLIGHT = 2;

/** What the audit routes need: the role tokens and how many audits may run at once. */
export interface EventRouteSettings extends RoleTokens {
  auditConcurrency: { perToken: number; overall: number };
}

/** The audit routes over `store`. */
export function eventRoutes(settings: EventRouteSettings, store: LedgerStore): Hono {
  const app = new Hono();
  const auditor = requireRole(settings, ["admin", "auditor"]);
  app.use("/v1/events", auditor);
  app.use("/v1/audit/*", auditor);
  // Verifications and exports read the whole log: a few at a time, per token and overall, so
  // a read-only token cannot take the service's time or memory from everyone else.
  const limits: ConcurrencyLimits = {
    perKey: settings.auditConcurrency.perToken,
    overall: settings.auditConcurrency.overall,
  };
  const heavy = concurrencyLimit(
    "audits and exports",
    limits,
    (c) => bearerToken(c.req.header("authorization")) ?? "",
  );
  app.use("/v1/audit/verify", heavy);
  app.use("/v1/events", (c, next) => wantsNdjson(c.req.header("accept")) ? heavy(c, next) : next());

  app.get("/v1/events", describeEvents, async (c) => {
    const after = integerParam(c.req.query("after"), "after", 0, 0, Number.MAX_SAFE_INTEGER);
    const head = await store.head();
    if (wantsNdjson(c.req.header("accept"))) {
      const limit = integerParam(c.req.query("limit"), "limit", null, 1, Number.MAX_SAFE_INTEGER);
      const to = Math.min(head.seq, limit === null ? head.seq : after + limit);
      return new Response(ndjsonStream(store, after, to), {
        headers: {
          "content-type": NDJSON,
          "cache-control": "no-store",
          ...headHeaders(head),
        },
      });
    }
    const limit = integerParam(
      c.req.query("limit"),
      "limit",
      EVENTS_PAGE.default,
      1,
      EVENTS_PAGE.max,
    )!;
    const events = after < head.seq ? await store.readEvents(after, limit) : [];
    const last = events.at(-1)?.seq ?? after;
    return c.json(
      {
        events: events.map(exportEvent),
        head,
        next: last < head.seq ? last : null,
      },
      200,
      { "cache-control": "no-store" },
    );
  });

  app.get("/v1/audit/checkpoint", describeCheckpoint, async (c) => {
    const { seq, hash, at } = await store.head();
    return c.json({ seq, hash, at }, 200, { "cache-control": "no-store" });
  });

  app.get("/v1/audit/verify", describeVerify, async (c) => {
    const budgetMs = integerParam(
      c.req.query("budgetMs"),
      "budgetMs",
      VERIFY_BUDGET_MS.default,
      1,
      VERIFY_BUDGET_MS.max,
    )!;
    const from = checkpointParam(c.req.query("from"), "from");
    const checkpoints = (c.req.queries("checkpoint") ?? []).map((text) =>
      checkpointParam(text, "checkpoint")!
    );
    const conflict = checkpointConflict([...checkpoints, ...(from ? [from] : [])]);
    if (conflict) throw new ApiError(400, "bad_request", conflict);
    const result = await auditStore(store, {
      from,
      checkpoints,
      budgetMs,
      pageSize: VERIFY_PAGE,
      inFlight: VERIFY_IN_FLIGHT,
    });
    return c.json({ ...result.verify, budgetMs }, 200, { "cache-control": "no-store" });
  });

  return app;
}

/** Streams events `after+1 .. to` as NDJSON, one store page at a time. */
function ndjsonStream(store: LedgerStore, after: number, to: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const pages = logPages(store, { after, to, pageSize: STREAM_PAGE, inFlight: STREAM_IN_FLIGHT });
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await pages.next();
      if (done) {
        controller.close();
        return;
      }
      let text = "";
      for (const event of value.events) text += eventLine(event);
      if (value.unreadable) {
        // Not an event: a verifier reading the export stops here and reports it as malformed.
        const { after, error } = value.unreadable;
        const message = `the entry after seq ${after} cannot be read: ${error}`;
        text += `${JSON.stringify({ error: { code: "unreadable_entry", message } })}\n`;
      }
      if (text !== "") controller.enqueue(encoder.encode(text));
    },
    async cancel() {
      await pages.return(undefined);
    },
  }, { highWaterMark: 1 });
}

function wantsNdjson(accept: string | undefined): boolean {
  return accept !== undefined && accept.toLowerCase().includes(NDJSON);
}

function headHeaders(head: LogHead): Record<string, string> {
  return {
    "x-ledger-head-seq": String(head.seq),
    "x-ledger-head-hash": head.hash,
    ...(head.at ? { "x-ledger-head-at": head.at } : {}),
  };
}

function integerParam<T extends number | null>(
  raw: string | undefined,
  name: string,
  fallback: T,
  min: number,
  max: number,
): number | T {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ApiError(400, "bad_request", `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function checkpointParam(raw: string | undefined, name: string): Checkpoint | undefined {
  if (raw === undefined || raw === "") return undefined;
  try {
    return parseCheckpoint(raw);
  } catch (err) {
    throw new ApiError(400, "bad_request", `${name}: ${(err as Error).message}`);
  }
}
