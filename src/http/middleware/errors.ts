/**
 * One error shape for every response: `{ error: { code, message } }` with a fitting status.
 * Routes throw `ApiError`; a store outage (Redis or its REST endpoint unreachable or too slow)
 * becomes 503 with `Retry-After`, so a client keeps what it sent and tries again; anything else
 * becomes a 500 whose details stay in the server log.
 *
 * @module
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { isStoreOutage, OUTAGE_RETRY_AFTER_SECONDS } from "../../push/outage.ts";

/**
 * An error meant for the caller: status, a stable machine code, a human message, and optional
 * `details` added to the error object (e.g. `problems` of `invalid_message_data`).
 */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details: Record<string, unknown> = {},
  ) {
    super(status, { message });
    this.name = "ApiError";
  }
}

/** The JSON error body, with optional extra headers (e.g. `Retry-After`) and details. */
export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  details: Record<string, unknown> = {},
): Response {
  return c.json({ error: { code, message, ...details } }, status, headers);
}

/** Maps any thrown error to the JSON error body; never leaks a stack or a secret. */
export const onError: ErrorHandler = (err, c) => {
  if (err instanceof ApiError) {
    return errorResponse(c, err.status, err.code, err.message, err.headers, err.details);
  }
  if (err instanceof HTTPException) {
    // Hono's own middleware (body limit, JWT) throws these; give them our shape.
    const status = err.status;
    const code = status === 413
      ? "payload_too_large"
      : status === 401
      ? "unauthorized"
      : status >= 500
      ? "internal"
      : "bad_request";
    return errorResponse(c, status, code, err.message || "request refused");
  }
  // Logs name the route's pattern, never its path: a path may hold an openId.
  const route = `${c.req.method} ${c.req.routePath}`;
  if (clientWentAway(err)) {
    // Nobody reads this answer; one quiet line, no error.
    console.info(`request aborted by the client: ${route}`);
    return errorResponse(c, 400, "aborted", "the request was aborted by the client");
  }
  if (isStoreOutage(err)) {
    // Nothing is lost: an upload that got this answer is sent again, and lands once.
    console.warn(`store unavailable on ${route}`);
    return errorResponse(
      c,
      503,
      "store_unavailable",
      "the ledger's store cannot be reached; try again shortly",
      { "Retry-After": String(OUTAGE_RETRY_AFTER_SECONDS) },
    );
  }
  // One line, no stack: a stack (or a nested cause) may carry request data into the logs.
  const what = err instanceof Error ? `${err.name}: ${err.message}` : typeof err;
  console.error(`unhandled error on ${route}: ${what.slice(0, 300)}`);
  return errorResponse(c, 500, "internal", "internal error");
};

/**
 * Whether `err` is the client closing the connection while its request was read (Deno throws
 * `BadResource`, `Interrupted` or `ConnectionReset` from the body stream).
 */
function clientWentAway(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted ||
    err instanceof Deno.errors.ConnectionReset;
}

/** 404 in the same shape. */
export const notFound: NotFoundHandler = (c) =>
  errorResponse(c, 404, "not_found", `no route for ${c.req.method} ${c.req.path}`);
