/**
 * At most so many requests of a kind running at once, per caller and overall; past that, 429.
 * A request counts until its answer has been sent whole (a streamed answer, such as an NDJSON
 * export, holds its place until the stream ends or the client goes away).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";

/** How many may run at once. */
export interface ConcurrencyLimits {
  /** Per caller (as `keyOf` names them). */
  perKey: number;
  /** Across all callers of this limit. */
  overall: number;
}

/**
 * Middleware admitting at most `limits` concurrent requests; `what` names them in the refusal.
 *
 * @example
 * ```ts
 * const audits = concurrencyLimit("audits", { perKey: 2, overall: 4 }, (c) => c.req.header("authorization") ?? "");
 * app.get("/v1/audit/verify", audits, handler);
 * ```
 */
export function concurrencyLimit(
  what: string,
  limits: ConcurrencyLimits,
  keyOf: (c: Context) => string,
): MiddlewareHandler {
  const running = new Map<string, number>();
  let total = 0;
  return async (c, next) => {
    const key = keyOf(c);
    const mine = running.get(key) ?? 0;
    if (mine >= limits.perKey || total >= limits.overall) {
      throw new ApiError(
        429,
        "too_many_concurrent",
        `at most ${limits.overall} ${what} run at once (${limits.perKey} per caller); ` +
          "retry when one has finished",
        { "Retry-After": "1" },
      );
    }
    running.set(key, mine + 1);
    total++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      total--;
      const left = (running.get(key) ?? 1) - 1;
      if (left > 0) running.set(key, left);
      else running.delete(key);
    };
    try {
      await next();
    } catch (err) {
      release();
      throw err;
    }
    const body = c.res.body;
    if (body === null) {
      release();
      return;
    }
    c.res = new Response(releasing(body, release), c.res);
  };
}

/** `body` passed through, calling `release` once when it ends, fails or is cancelled. */
function releasing(
  body: ReadableStream<Uint8Array>,
  release: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else controller.enqueue(value);
      } catch (err) {
        release();
        controller.error(err);
      }
    },
    async cancel(reason) {
      release();
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
