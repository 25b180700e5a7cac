/**
 * WeChat's login call, `sns/jscode2session`: turns a mini-program's `wx.login` code into the
 * user's openid. The `session_key` WeChat returns never leaves this module: it is not returned,
 * stored or logged. Neither is the request URL, which carries the app secret.
 *
 * @module
 */

/** Where and as whom to call WeChat. */
export interface LoginSettings {
  apiBase: string;
  appid: string;
  secret: string;
  /** Abort the call after this many milliseconds (it then counts as `unavailable`). */
  timeoutMs: number;
}

/** Who the code belongs to. */
export interface LoginIdentity {
  openId: string;
  unionId?: string;
}

/**
 * How a failed login should be answered:
 * - `invalid_code`: 40029 (invalid or expired code) or 40163 (code already used): the caller
 *   needs a fresh code;
 * - `unavailable`: -1 (busy), 45011 (rate limit), a timeout or an unreadable answer: retry later;
 * - `refused`: 40226 (high-risk user);
 * - `failed`: anything else (the app's own credentials are wrong, for instance).
 */
export type LoginFailureKind = "invalid_code" | "unavailable" | "refused" | "failed";

/** A login WeChat did not complete. `errcode` is WeChat's, or `null` when none came back. */
export class WeChatLoginError extends Error {
  constructor(
    readonly kind: LoginFailureKind,
    readonly errcode: number | null,
    message: string,
  ) {
    super(message);
    this.name = "WeChatLoginError";
  }

  /** Seconds a caller should wait before retrying an `unavailable` login. */
  get retryAfterSeconds(): number {
    return this.errcode === 45011 ? 60 : 2;
  }
}

const KIND_BY_ERRCODE: Record<number, LoginFailureKind> = {
  40029: "invalid_code",
  40163: "invalid_code",
  [-1]: "unavailable",
  45011: "unavailable",
  40226: "refused",
};

/**
 * Exchanges a `wx.login` code for the user's openid.
 *
 * @throws {WeChatLoginError} when WeChat refuses, is busy, times out or answers nonsense.
 * @example
 * ```ts
 * const { openId } = await code2Session(settings, code);
 * ```
 */
export async function code2Session(settings: LoginSettings, code: string): Promise<LoginIdentity> {
  const query = new URLSearchParams({
    appid: settings.appid,
    secret: settings.secret,
    js_code: code,
    grant_type: "authorization_code",
  });
  let text: string;
  try {
    const res = await fetch(`${settings.apiBase}/sns/jscode2session?${query}`, {
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    text = await res.text();
    if (!res.ok) {
      throw new WeChatLoginError("unavailable", null, `WeChat answered HTTP ${res.status}`);
    }
  } catch (err) {
    if (err instanceof WeChatLoginError) throw err;
    // A fetch error's message names the URL, and so the secret: keep only its class.
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    throw new WeChatLoginError(
      "unavailable",
      null,
      timedOut ? "WeChat did not answer in time" : "WeChat could not be reached",
    );
  }
  // WeChat answers JSON with content-type text/plain, so parse the text whatever the header.
  let body: Record<string, unknown>;
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) throw new Error("not an object");
    body = parsed;
  } catch {
    throw new WeChatLoginError("unavailable", null, "WeChat's answer was not JSON");
  }
  const errcode = typeof body.errcode === "number" ? body.errcode : 0;
  if (errcode !== 0) {
    throw new WeChatLoginError(
      KIND_BY_ERRCODE[errcode] ?? "failed",
      errcode,
      `WeChat refused the login (errcode ${errcode})`,
    );
  }
  if (typeof body.openid !== "string" || body.openid === "") {
    throw new WeChatLoginError("unavailable", null, "WeChat's answer had no openid");
  }
  return {
    openId: body.openid,
    ...(typeof body.unionid === "string" ? { unionId: body.unionid } : {}),
  };
}
