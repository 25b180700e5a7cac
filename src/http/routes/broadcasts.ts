/**
 * Broadcasts (admin): `POST /v1/broadcasts` `{ templateId, page?, data, openIds?, kind? }` ->
 * `202 { broadcastId, total, state }`, the work queued for the workers (default audience: every
 * user who may hold a valid credit); `GET /v1/broadcasts/:id` (admin or auditor) -> `{ total, sent, failed,
 * noCredit, pending, errors: { "<errcode>": n }, state, ... }`.
 *
 * @module
 */
import { Hono } from "hono";
import type { Config } from "../../config/config.ts";
import type { PushService } from "../../push/service.ts";
import { requireRole } from "../middleware/auth.ts";
import { ApiError } from "../middleware/errors.ts";
import { jsonBodyLimit } from "../middleware/json_body.ts";
import {
  describeBroadcast as created,
  describeBroadcastStatus as progress,
} from "../schemas/broadcasts.ts";
import { readBroadcastBody, readMessage, readOpenIds } from "./push_input.ts";
import type { MessageGate } from "./message_check.ts";

/**
 * The broadcast routes. `push` is `null` when WeChat credentials are not configured; `gate`
 * refuses a broadcast whose data its template would refuse, at creation.
 */
export function broadcastRoutes(
  config: Config,
  push: PushService | null,
  gate?: MessageGate,
): Hono {
  const app = new Hono();
  const admin = requireRole(config, ["admin"]);
  const reader = requireRole(config, ["admin", "auditor"]);
  const ready = () => {
    if (!push) {
      throw new ApiError(503, "not_configured", "set WECHAT_APPID and WECHAT_SECRET to push");
    }
    return push;
  };
  app.post("/v1/broadcasts", created, admin, jsonBodyLimit(4 * 1024 * 1024), async (c) => {
    const service = ready();
    const body = await readBroadcastBody(c);
    const message = readMessage(body);
    const openIds = readOpenIds(body);
    await gate?.(message);
    const info = await service.broadcasts.create({ ...message, ...(openIds ? { openIds } : {}) });
    service.worker.poke();
    return c.json({ broadcastId: info.broadcastId, total: info.total, state: info.state }, 202);
  });
  app.get("/v1/broadcasts/:id", progress, reader, async (c) => {
    const id = c.req.param("id");
    const status = /^[a-z0-9]{1,40}$/.test(id) ? await ready().broadcasts.status(id) : null;
    if (!status) throw new ApiError(404, "not_found", "no such broadcast");
    return c.json(status);
  });
  return app;
}
