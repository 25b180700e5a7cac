/**
 * `POST /v1/push` (admin): one message to one user, spending one credit. Consuming the credit,
 * calling WeChat and recording the outcome are one flow; the answer says how it ended:
 * `{ pushId, status: "sent" | "failed" | "no_credit", errcode?, errmsg?, class?, msgid?,
 * attempts }` (200 in every case: a failed send is an outcome, not an HTTP error). An
 * `Idempotency-Key` header makes a retried request return the first outcome instead of sending
 * again (`Idempotent-Replayed: true`). A keyed push's id comes from its key, so a retry after
 * the first instance was lost never spends a second credit: it finds the first one's state (a
 * send that may have started is answered `unknown`, errcode -1004). While the store cannot be
 * reached a push answers 503 with `Retry-After` before it takes a credit.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Hono } from "hono";
import type { Config } from "../../config/config.ts";
import { IdempotencyConflict } from "../../push/idempotency.ts";
import type { PushService } from "../../push/service.ts";
import { requireRole } from "../middleware/auth.ts";
import { ApiError } from "../middleware/errors.ts";
import { jsonBodyLimit } from "../middleware/json_body.ts";
import { describePush } from "../schemas/broadcasts.ts";
import { readMessage, readOpenId, readPushBody } from "./push_input.ts";
import type { MessageGate } from "./message_check.ts";

/** Mints a push id. */
export function newPushId(): string {
  return `p${Date.now().toString(36)}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/**
 * The push id of a keyed push: the same for every retry with that `Idempotency-Key`, so a retry
 * after a lost instance finds that push's state in the ledger (taken, sent ...) instead of
 * spending a second credit.
 *
 * @example
 * ```ts
 * keyedPushId("order-42-shipped"); // "k" + 32 hex characters, always the same
 * ```
 */
export function keyedPushId(key: string): string {
  return `k${createHash("sha256").update(`push\u0000${key}`).digest("hex").slice(0, 32)}`;
}

/**
 * The push route. `push` is `null` when WeChat credentials are not configured; `gate` checks a
 * message's data against its template before any credit is taken.
 */
export function pushRoutes(config: Config, push: PushService | null, gate?: MessageGate): Hono {
  const app = new Hono();
  app.post("/v1/push", describePush, requireRole(config, ["admin"]), jsonBodyLimit(), async (c) => {
    if (!push) {
      throw new ApiError(503, "not_configured", "set WECHAT_APPID and WECHAT_SECRET to push");
    }
    const body = await readPushBody(c);
    const openId = readOpenId(body);
    const message = readMessage(body);
    await gate?.(message);
    const key = c.req.header("idempotency-key");
    const send = async () => {
      const pushId = key === undefined ? newPushId() : keyedPushId(key);
      const { openId: _, ...report } = await push.deliverer.deliver(openId, pushId, message);
      if (report.status === "skipped") {
        // An earlier run of this key ended (its instance was lost before it could answer).
        throw new ApiError(
          409,
          "push_already_handled",
          "this Idempotency-Key's push already ended; its outcome is in the ledger's log",
        );
      }
      return report;
    };
    if (key === undefined) return c.json(await send());
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new ApiError(400, "invalid_idempotency_key", "Idempotency-Key: 1-255 visible ASCII");
    }
    try {
      const { result, replayed } = await push.idempotency.run(
        "push",
        key,
        JSON.stringify({ openId, message }),
        send,
      );
      return c.json(result, 200, replayed ? { "Idempotent-Replayed": "true" } : {});
    } catch (err) {
      if (err instanceof IdempotencyConflict) {
        throw new ApiError(
          err.reason === "mismatch" ? 422 : 409,
          err.reason === "mismatch" ? "idempotency_key_reused" : "idempotency_in_progress",
          err.message,
        );
      }
      throw err;
    }
  });
  return app;
}
