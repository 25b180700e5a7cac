/**
 * Request bodies checked by the zod schema the OpenAPI description is generated from
 * (src/http/schemas/): the strict JSON rules of json_body.ts first (415, `invalid_json`,
 * `invalid_body`, `unknown_field`), then the schema, whose first problem the route's refusal
 * turns into its `{ error: { code, message } }`.
 *
 * The reader answers the body as it came (typed by the schema) rather than zod's copy of it: zod
 * leaves out a `__proto__` key of a record, which the routes still see and refuse by hand.
 *
 * @module
 */
import type { Context } from "hono";
import type { z } from "zod";
import type { ApiError } from "./errors.ts";
import { readJsonObject } from "./json_body.ts";

/** A problem zod found, as the route's refusal receives it. */
export type BodyIssue = z.core.$ZodIssue;

/** Turns a body's first problem into the route's answer. */
export type BodyRefusal = (issue: BodyIssue) => ApiError;

/** Reads and checks one route's body. */
export type BodyReader<T> = (c: Context) => Promise<T>;

/**
 * Makes the reader of one route's body. `fields` are the fields the route takes (default: the
 * schema's); the list and the schema are made once, not per request.
 *
 * @example
 * ```ts
 * const readLogin = bodyReader(LoginBody, () => new ApiError(400, "invalid_code", "..."));
 * app.post("/v1/sessions", jsonBodyLimit(), async (c) => c.json(await readLogin(c)));
 * ```
 */
export function bodyReader<S extends z.ZodObject>(
  schema: S,
  refuse: BodyRefusal,
  fields: readonly string[] = Object.keys(schema.shape),
): BodyReader<z.input<S>> {
  return async (c) => {
    const body = await readJsonObject(c, fields);
    const checked = schema.safeParse(body);
    if (!checked.success) throw refuse(checked.error.issues[0]);
    return body as z.input<S>;
  };
}
