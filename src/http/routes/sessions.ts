/**
 * `POST /v1/sessions` `{ code }`: a mini-program logs in with its `wx.login` code and gets a
 * session token bound to the openId WeChat names. The client never says who it is.
 *
 * @module
 */
import { Hono } from "hono";
import type { Config } from "../../config/config.ts";
import type { Clock } from "../../shared/clock.ts";
import { code2Session, WeChatLoginError } from "../../wechat/login.ts";
import { ApiError } from "../middleware/errors.ts";
import { clientIp } from "../middleware/client_ip.ts";
import { isOpenId } from "../middleware/input_rules.ts";
import { jsonBodyLimit } from "../middleware/json_body.ts";
import { enforceLimits, type RateLimiter } from "../middleware/rate_limit.ts";
import { issueSession } from "../middleware/session_token.ts";
import { describeLogin, readLogin } from "../schemas/sessions.ts";

/** What the sessions route needs. */
export interface SessionRouteDeps {
  config: Config;
  clock: Clock;
  /** Per client IP, so nobody burns the app's WeChat login quota. */
  ipLimiter: RateLimiter;
}

/** The session route. */
export function sessionRoutes({ config, clock, ipLimiter }: SessionRouteDeps): Hono {
  return new Hono().post("/v1/sessions", describeLogin, jsonBodyLimit(), async (c) => {
    // A session token is a credential: no cache (a proxy's, a WebView's) may keep the answer.
    c.header("Cache-Control", "no-store");
    const { appid, secret, apiBase } = config.wechat;
    if (config.sessionSecret === null || appid === null || secret === null) {
      throw new ApiError(
        503,
        "not_configured",
        "set SESSION_SECRET, WECHAT_APPID and WECHAT_SECRET to log in",
      );
    }
    await enforceLimits([[
      ipLimiter,
      clientIp(c, { header: config.clientIpHeader, trustedProxies: config.trustedProxies }),
    ]]);
    const body = await readLogin(c);
    let openId: string;
    try {
      const settings = { apiBase, appid, secret, timeoutMs: config.wechatLoginTimeoutMs };
      ({ openId } = await code2Session(settings, body.code));
    } catch (err) {
      throw loginError(err);
    }
    if (!isOpenId(openId)) {
      console.warn("login: WeChat returned an openid outside [A-Za-z0-9_-]{1,128}");
      throw new ApiError(502, "wechat_error", "WeChat returned an unusable openid");
    }
    const session = await issueSession(
      openId,
      config.sessionSecret,
      config.sessionTtlSeconds,
      clock,
    );
    return c.json({ token: session.token, openId, expiresIn: session.expiresIn });
  });
}

/** Maps a failed WeChat login to the caller's answer; logs only the errcode. */
function loginError(err: unknown): ApiError {
  if (!(err instanceof WeChatLoginError)) {
    console.error("login: unexpected failure:", err instanceof Error ? err.name : typeof err);
    return new ApiError(500, "internal", "internal error");
  }
  console.warn(`login: ${err.message}`);
  switch (err.kind) {
    case "invalid_code":
      return new ApiError(
        401,
        err.errcode === 40163 ? "code_used" : "invalid_code",
        err.errcode === 40163
          ? "this code was already used; call wx.login again"
          : "the code is invalid or expired; call wx.login again",
      );
    case "unavailable":
      return new ApiError(503, "wechat_unavailable", "WeChat login is unavailable; retry later", {
        "Retry-After": String(err.retryAfterSeconds),
      });
    case "refused":
      return new ApiError(403, "login_refused", "WeChat refused this user's login");
    default:
      return new ApiError(502, "wechat_error", "WeChat refused the login");
  }
}
