/**
 * The subscribe-message settings, read from the environment as part of `loadConfig`: WeChat's
 * message push (the admin console's URL, Token, EncodingAESKey, format and mode), how long an
 * accept waits for the other source's report, and how often the template list may be synced
 * for a template nobody knows yet. Every problem names its variable; secrets are never printed.
 *
 * @module
 */
import { type Env, envInt } from "../shared/env.ts";

/** WeChat's message push as configured in the mini-program's admin console. */
export interface WeChatPushSettings {
  /** WECHAT_PUSH_TOKEN: the console's Token (3-32 letters and digits). */
  token: string;
  /** WECHAT_PUSH_AES_KEY: the console's EncodingAESKey (43 characters); `null` in plain mode. */
  aesKey: string | null;
  /** WECHAT_PUSH_MODE: plain, compatible or safe (default safe with a key, else plain). */
  mode: "plain" | "compatible" | "safe";
  /** WECHAT_PUSH_FORMAT: json (default) or xml; a body in the other format is refused. */
  format: "json" | "xml";
}

/** Subscribe messages' settings. */
export interface SubscribeSettings {
  /** The message push; `null` when WECHAT_PUSH_TOKEN is unset (client reports stand alone). */
  push: WeChatPushSettings | null;
  /** SUBSCRIBE_CONFIRM_WINDOW_SECONDS: how long a client's accept waits for WeChat's (600). */
  confirmWindowSeconds: number;
  /** TEMPLATE_SYNC_INTERVAL_SECONDS: least time between two syncs, and retry delay (60). */
  templateSyncSeconds: number;
}

/**
 * Reads the subscribe settings, adding any problem to `problems`; `appid` is WECHAT_APPID (an
 * encrypted push must name it).
 *
 * @example
 * ```ts
 * const problems: string[] = [];
 * readSubscribeSettings({ WECHAT_PUSH_TOKEN: "tok3n" }, problems, "wx123").push?.mode; // "plain"
 * ```
 */
export function readSubscribeSettings(
  env: Env,
  problems: string[],
  appid: string | null,
): SubscribeSettings {
  const settings: SubscribeSettings = {
    push: null,
    confirmWindowSeconds: envInt(
      env,
      problems,
      "SUBSCRIBE_CONFIRM_WINDOW_SECONDS",
      600,
      10,
      86_400,
    ),
    templateSyncSeconds: envInt(env, problems, "TEMPLATE_SYNC_INTERVAL_SECONDS", 60, 1, 86_400),
  };
  const token = env.WECHAT_PUSH_TOKEN || null;
  const aesKey = env.WECHAT_PUSH_AES_KEY || null;
  const rawMode = env.WECHAT_PUSH_MODE || (aesKey ? "safe" : "plain");
  const rawFormat = env.WECHAT_PUSH_FORMAT || "json";
  if (token === null) {
    if (aesKey || env.WECHAT_PUSH_MODE || env.WECHAT_PUSH_FORMAT) {
      problems.push("WECHAT_PUSH_TOKEN is required with the other WECHAT_PUSH_ settings");
    }
    return settings;
  }
  if (!/^[A-Za-z0-9]{3,32}$/.test(token)) {
    problems.push("WECHAT_PUSH_TOKEN must be 3-32 letters and digits, as WeChat's console takes");
  }
  if (aesKey !== null && !/^[A-Za-z0-9]{43}$/.test(aesKey)) {
    problems.push("WECHAT_PUSH_AES_KEY must be the console's 43-character EncodingAESKey");
  }
  if (rawMode !== "plain" && rawMode !== "compatible" && rawMode !== "safe") {
    problems.push(`WECHAT_PUSH_MODE must be plain, compatible or safe, got "${rawMode}"`);
  }
  if (rawFormat !== "json" && rawFormat !== "xml") {
    problems.push(`WECHAT_PUSH_FORMAT must be json or xml, got "${rawFormat}"`);
  }
  const mode = rawMode === "compatible" || rawMode === "safe" ? rawMode : "plain";
  if (mode !== "plain" && aesKey === null) {
    problems.push(`WECHAT_PUSH_MODE ${mode} needs WECHAT_PUSH_AES_KEY`);
  }
  if (!appid) problems.push("WECHAT_PUSH_TOKEN needs WECHAT_APPID (pushes are checked against it)");
  settings.push = { token, aesKey, mode, format: rawFormat === "xml" ? "xml" : "json" };
  return settings;
}
