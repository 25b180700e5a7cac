/**
 * Why a push from WeChat was refused. Every refusal carries one stable code the route can map to
 * an HTTP status and the `{ error: { code, message } }` body; messages never carry the token, the
 * key or the body.
 *
 * @module
 */

/**
 * The refusal codes:
 * - `bad_signature`: `signature` / `msg_signature` is missing or does not match;
 * - `stale_timestamp`: the signed timestamp is outside the accepted window (old or future);
 * - `replayed`: the same (timestamp, nonce, signature) was already accepted within the window;
 * - `wrong_appid`: the decrypted message names another mini-program;
 * - `malformed`: anything else about the request (method, query, body, padding, fields).
 */
export type PushErrorCode =
  | "bad_signature"
  | "stale_timestamp"
  | "replayed"
  | "wrong_appid"
  | "malformed";

/**
 * A refused push.
 *
 * @example
 * ```ts
 * throw new PushError("malformed", "body is not JSON");
 * ```
 */
export class PushError extends Error {
  constructor(readonly code: PushErrorCode, message: string) {
    super(message);
    this.name = "PushError";
  }
}
