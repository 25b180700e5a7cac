/**
 * The auditors' endpoints: `GET /v1/events`, `GET /v1/audit/checkpoint`,
 * `GET /v1/audit/verify`. Their query values are checked by the route (a whole number in range,
 * a `<seq>:<hash>` checkpoint, else `400 bad_request`); the parameters below say the same.
 *
 * @module
 */
import { z } from "zod";
import { describe, EXAMPLE_AT, EXAMPLE_HASH, EXAMPLE_OPEN_ID, json, SECURITY } from "./common.ts";
import { ANY_ROUTE, errorAnswers, refusals, ROLE_TOKEN, STORE } from "./errors.ts";

/** Events per JSON page: default and maximum (as events.ts applies them). */
export const EVENTS_PAGE = { default: 100, max: 1_000 };
/** Server-side verification budget in ms: default and maximum. */
export const VERIFY_BUDGET_MS = { default: 5_000, max: 25_000 };

const Hash = z.string().regex(/^[0-9a-f]{64}$/);
/** The head of the log. */
export const LogHead = z.object({ seq: z.int().min(0), hash: Hash, at: z.string().nullable() });
/** A checkpoint: an event's seq and hash. */
export const Checkpoint = z.object({
  seq: z.int().min(0),
  hash: Hash,
  at: z.string().nullable().optional(),
});

/** One event of the log, fields in export order. */
export const LogEvent = z.object({
  seq: z.int().min(1),
  id: z.string().describe("`<seq>-0`"),
  type: z.string().describe("`FormIdCollected`, `FormIdConsumed`, `PushSucceeded`, ..."),
  at: z.string(),
  data: z.record(z.string(), z.unknown()),
  prev: Hash,
  hash: Hash,
});

/** A JSON page of events. */
export const EventsPage = z.object({
  events: z.array(LogEvent),
  head: LogHead,
  next: z.int().nullable().describe("The `after` of the next page, `null` at the end"),
});

/** Where and why verification broke. */
export const ChainBreak = z.object({
  seq: z.int(),
  kind: z.enum([
    "gap",
    "unexpected_entry",
    "bad_id",
    "missing_hash",
    "prev_mismatch",
    "hash_mismatch",
    "checkpoint_mismatch",
    "truncated",
    "head_mismatch",
    "malformed",
  ]),
  message: z.string(),
  expected: z.union([z.string(), z.number()]).optional(),
  found: z.union([z.string(), z.number()]).optional(),
});

/** The answer of a server-side verification. */
export const VerifyAnswer = z.object({
  ok: z.boolean(),
  complete: z.boolean().describe("When false, call again from `through`"),
  from: Checkpoint,
  through: Checkpoint,
  events: z.int().min(0),
  head: LogHead.nullable(),
  break: ChainBreak.nullable(),
  uncheckedCheckpoints: z.array(z.int()),
  elapsedMs: z.number().min(0),
  budgetMs: z.int().min(1),
});

const event = {
  seq: 1,
  id: "1-0",
  type: "FormIdCollected",
  at: EXAMPLE_AT,
  data: {
    openId: EXAMPLE_OPEN_ID,
    formId: "form-0001",
    kind: "form",
    uses: 1,
    expiresAt: 1_795_604_000_000,
  },
  prev: "0".repeat(64),
  hash: EXAMPLE_HASH,
};
const head = { seq: 1, hash: EXAMPLE_HASH, at: EXAMPLE_AT };
const NO_STORE = {
  "Cache-Control": { description: "`no-store`", schema: { type: "string" } },
};
const AUDIT_REFUSALS = refusals(ROLE_TOKEN, ANY_ROUTE, STORE, { 400: ["bad_request"] });

function integer(name: string, description: string, min: number, max: number, example: number) {
  return {
    in: "query",
    name,
    required: false,
    description,
    schema: { type: "integer", minimum: min, maximum: max },
    example,
  };
}

/**
 * `GET /v1/events`.
 *
 * @example
 * ```ts
 * app.get("/v1/events", describeEvents, handler);
 * ```
 */
export const describeEvents = describe({
  operationId: "listEvents",
  tags: ["Audit"],
  summary: "Read the log",
  description: "Events with `seq > after`, in order, a page at a time. With `Accept: " +
    "application/x-ndjson`: the whole log from `after` (up to the head when the request " +
    "arrived, or `limit` events), one event per line, streamed; headers `x-ledger-head-seq`, " +
    "`x-ledger-head-hash`, `x-ledger-head-at` give that head, and an entry that cannot be read " +
    'ends the stream with a line `{"error":{"code":"unreadable_entry",...}}`. NDJSON exports ' +
    "run a few at a time (`429 too_many_concurrent`).",
  security: SECURITY.auditor,
  parameters: [
    integer("after", "Events after this seq (default 0)", 0, Number.MAX_SAFE_INTEGER, 0),
    integer(
      "limit",
      `Events per page (default ${EVENTS_PAGE.default}, at most ${EVENTS_PAGE.max}; NDJSON: ` +
        "any, default all)",
      1,
      Number.MAX_SAFE_INTEGER,
      100,
    ),
  ],
  responses: {
    200: {
      description: "A page of events (JSON), or the export (NDJSON)",
      headers: NO_STORE,
      content: {
        ...json(EventsPage, {
          page: { summary: "One event", value: { events: [event], head, next: null } },
        }),
        "application/x-ndjson": {
          schema: { type: "string", description: "One event (`LogEvent`) per line" },
          example: `${JSON.stringify(event)}\n`,
        },
      },
    },
    ...errorAnswers(refusals(AUDIT_REFUSALS, { 429: ["too_many_concurrent"] })),
  },
});

/**
 * `GET /v1/audit/checkpoint`.
 *
 * @example
 * ```ts
 * app.get("/v1/audit/checkpoint", describeCheckpoint, handler);
 * ```
 */
export const describeCheckpoint = describe({
  operationId: "getCheckpoint",
  tags: ["Audit"],
  summary: "The head of the log, to record outside the system",
  security: SECURITY.auditor,
  responses: {
    200: {
      description: "The head",
      headers: NO_STORE,
      content: json(LogHead, { head: { summary: "The head", value: head } }),
    },
    ...errorAnswers(refusals(ROLE_TOKEN, ANY_ROUTE, STORE)),
  },
});

/**
 * `GET /v1/audit/verify`.
 *
 * @example
 * ```ts
 * app.get("/v1/audit/verify", describeVerify, handler);
 * ```
 */
export const describeVerify = describe({
  operationId: "verifyChain",
  tags: ["Audit"],
  summary: "Verify the hash chain server-side, within a time budget",
  description: "Runs a few at a time (`429 too_many_concurrent`). A malformed checkpoint, or " +
    "two hashes for one seq, is `400 bad_request`.",
  security: SECURITY.auditor,
  parameters: [
    {
      in: "query",
      name: "from",
      required: false,
      description: "Start after this checkpoint (`<seq>:<64 lowercase hex>`) instead of genesis",
      schema: { type: "string", pattern: "^\\d+:[0-9a-f]{64}$" },
    },
    {
      in: "query",
      name: "checkpoint",
      required: false,
      description: "A checkpoint recorded earlier, `<seq>:<hash>`; may be repeated",
      schema: { type: "array", items: { type: "string", pattern: "^\\d+:[0-9a-f]{64}$" } },
      style: "form",
      explode: true,
    },
    integer(
      "budgetMs",
      `Time budget in ms (default ${VERIFY_BUDGET_MS.default})`,
      1,
      VERIFY_BUDGET_MS.max,
      5_000,
    ),
  ],
  responses: {
    200: {
      description: "How far it got and where it broke",
      headers: NO_STORE,
      content: json(VerifyAnswer, {
        verified: {
          summary: "The whole log verified",
          value: {
            ok: true,
            complete: true,
            from: { seq: 0, hash: "0".repeat(64) },
            through: { seq: 1, hash: EXAMPLE_HASH, at: EXAMPLE_AT },
            events: 1,
            head,
            break: null,
            uncheckedCheckpoints: [],
            elapsedMs: 3,
            budgetMs: 5000,
          },
        },
      }),
    },
    ...errorAnswers(refusals(AUDIT_REFUSALS, { 429: ["too_many_concurrent"] })),
  },
});
