/**
 * Strict JSON request bodies: a size limit (413), `application/json` only (415), well-formed
 * JSON (400), a JSON object (400), and no fields the endpoint does not know (400).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError, errorResponse } from "./errors.ts";

/** Largest request body any JSON endpoint takes, in bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Refuses bodies over `maxBytes` with 413 in the service's error shape. */
export function jsonBodyLimit(maxBytes = MAX_BODY_BYTES): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      errorResponse(c, 413, "payload_too_large", `the body may be at most ${maxBytes} bytes`),
  });
}

/** Whether a Content-Type header says JSON in UTF-8 (`application/json`, optional charset). */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((param) => param === "" || /^charset="?utf-8"?$/.test(param));
}

/**
 * Reads the body as a JSON object whose keys are all in `allowed`.
 *
 * @throws {ApiError} 415, 400 (`invalid_json`, `invalid_body`, `unknown_field`)
 */
export async function readJsonObject(
  c: Context,
  allowed: readonly string[],
): Promise<Record<string, unknown>> {
  if (!isJsonContentType(c.req.header("content-type"))) {
    throw new ApiError(415, "unsupported_media_type", "send Content-Type: application/json");
  }
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "the body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, "invalid_body", "the body must be a JSON object");
  }
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new ApiError(
      400,
      "unknown_field",
      `unknown field ${JSON.stringify(unknown[0].slice(0, 64))}; allowed: ${allowed.join(", ")}`,
    );
  }
  return body as Record<string, unknown>;
}
