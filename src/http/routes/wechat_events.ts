/**
 * `GET|POST /v1/wechat/events`: WeChat's message push (消息推送), the URL set in the
 * mini-program's admin console with `WECHAT_PUSH_TOKEN`, `WECHAT_PUSH_AES_KEY`,
 * `WECHAT_PUSH_FORMAT` and `WECHAT_PUSH_MODE`. The URL check (GET) answers `echostr`; a push
 * (POST) is verified, decrypted and parsed (`openPush`: signature in constant time, appid,
 * timestamp window, replay guard shared by every instance), applied to the ledger in one store
 * call (src/subscribe/event_intake.ts) and answered `success`, well within WeChat's 5 s.
 *
 * A refused push changes nothing and gets `{ error: { code, message } }`: `bad_signature` or
 * `stale_timestamp` (401), `wrong_appid` (403), `replayed` (409), `malformed` (400, also a body
 * in the other format than `WECHAT_PUSH_FORMAT`). When applying a verified push fails, the
 * replay guard forgets it and the answer is 500, so WeChat's retry is let in.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import type { Config } from "../../config/config.ts";
import type { Clock } from "../../shared/clock.ts";
import type { EventIntake } from "../../subscribe/event_intake.ts";
import {
  formatOf,
  openPush,
  type PushConfig,
  type PushError,
  type ReplayGuard,
} from "../../wechat/event_push/mod.ts";
import { ApiError } from "../middleware/errors.ts";
import { jsonBodyLimit } from "../middleware/json_body.ts";
import { describeEventPush, describeUrlCheck } from "../schemas/wechat_events.ts";

/** Largest push body read (WeChat's are a few hundred bytes). */
const MAX_PUSH_BYTES = 64 * 1024;

/** What the route needs; `intake` is `null` when the push is not configured. */
export interface WeChatEventDeps {
  config: Config;
  intake: EventIntake | null;
  guard: ReplayGuard;
  clock: Clock;
}

function formatOrNull(body: string): string | null {
  try {
    return formatOf(body);
  } catch {
    return null;
  }
}

/** The refusal as the caller sees it. */
function refusal(error: PushError): ApiError {
  switch (error.code) {
    case "bad_signature":
      return new ApiError(401, "bad_signature", error.message);
    case "stale_timestamp":
      return new ApiError(401, "stale_timestamp", error.message);
    case "wrong_appid":
      return new ApiError(403, "wrong_appid", error.message);
    case "replayed":
      return new ApiError(409, "replayed", error.message);
    default:
      return new ApiError(400, "malformed", error.message);
  }
}

/**
 * The event push route.
 *
 * @example
 * ```ts
 * app.route("/", wechatEventRoutes({ config, intake, guard, clock }));
 * ```
 */
export function wechatEventRoutes({ config, intake, guard, clock }: WeChatEventDeps): Hono {
  const app = new Hono();
  const settings = config.subscribe.push;
  const pushConfig: PushConfig | null = settings && config.wechat.appid
    ? {
      token: settings.token,
      appid: config.wechat.appid,
      mode: settings.mode,
      ...(settings.aesKey ? { encodingAESKey: settings.aesKey } : {}),
    }
    : null;
  const handler = async (c: Context) => {
    if (!pushConfig || !intake || !settings) {
      throw new ApiError(
        503,
        "not_configured",
        "set WECHAT_PUSH_TOKEN (and WECHAT_APPID) to receive WeChat's message push",
      );
    }
    const body = c.req.method === "POST" ? await c.req.text() : "";
    // One character read: nothing unauthenticated is parsed before the signature is checked.
    if (body !== "" && formatOrNull(body) !== settings.format) {
      throw new ApiError(400, "malformed", `expected a ${settings.format} body`);
    }
    const query = new URL(c.req.url).searchParams;
    const outcome = await openPush({
      method: c.req.method,
      query,
      body,
      config: pushConfig,
      guard,
      clock,
    });
    if (outcome.kind === "refused") throw refusal(outcome.error);
    if (outcome.kind === "echo") return c.text(outcome.echostr);
    try {
      await intake.handle(outcome.message);
    } catch (err) {
      await guard.release(outcome.replayKey).catch(() => {});
      throw err;
    }
    return c.text("success");
  };
  // One handler; two routes, so each method has its own description.
  app.get("/v1/wechat/events", describeUrlCheck, jsonBodyLimit(MAX_PUSH_BYTES), handler);
  app.post("/v1/wechat/events", describeEventPush, jsonBodyLimit(MAX_PUSH_BYTES), handler);
  return app;
}
