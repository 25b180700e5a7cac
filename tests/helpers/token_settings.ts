/**
 * Access-token settings for tests against the WeChat simulator: its default appid and secret,
 * the service's margins, and short waits.
 *
 * @module
 */
import type { TokenSettings } from "../../src/wechat/token.ts";

/**
 * The settings of an access-token cache that asks the simulator at `apiBase`.
 *
 * @example
 * ```ts
 * const tokens = new AccessTokens(new MemoryKeyValue(), simTokenSettings(sim.url));
 * ```
 */
export function simTokenSettings(
  apiBase: string,
  mode: TokenSettings["mode"] = "stable",
): TokenSettings {
  return {
    apiBase,
    appid: "wx_sim_appid",
    secret: "sim_secret",
    mode,
    marginMs: 300_000,
    lockMs: 5_000,
    waitMs: 10_000,
    timeoutMs: 2_000,
    localTtlMs: 60_000,
  };
}
