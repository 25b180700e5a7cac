/**
 * Which mode `main.ts` starts in, from the environment alone. With nothing configured, dev mode
 * (the embedded store, the WeChat simulator in the process, throwaway secrets); as soon as any
 * real setting is present (a store URL, WeChat credentials, WECHAT_API_BASE, a token or a secret),
 * the configured mode, exactly as the environment says. Dev mode never runs on Deno Deploy.
 *
 * @module
 */
import type { Env } from "../shared/env.ts";

/**
 * The settings that make a deployment real: any one of them, not empty, turns dev mode off.
 * Tuning knobs (PORT, rate limits, TTLs, LEDGER_PREFIX, ...) do not: they make sense in dev mode.
 */
export const REAL_SETTINGS = [
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "WECHAT_APPID",
  "WECHAT_SECRET",
  "WECHAT_API_BASE",
  "SESSION_SECRET",
  "ADMIN_TOKEN",
  "AUDIT_TOKEN",
] as const;

/**
 * A credential or endpoint of the service's own families that a later version may read (e.g.
 * WECHAT_PUSH_TOKEN, WECHAT_PUSH_AES_KEY): also real. Names outside these families (GITHUB_TOKEN
 * in a developer's shell) are not the service's and change nothing.
 */
const REAL_PATTERN = /^(UPSTASH|WECHAT|SESSION|ADMIN|AUDIT|LEDGER)_\w*(URL|TOKEN|SECRET|KEY|BASE)$/;

/** The mode to start in, and why, as the start line says it. */
export interface StartMode {
  dev: boolean;
  /** Why this mode: the names of the settings found (never their values), or what is missing. */
  reason: string;
  /** The first line the service prints. */
  line: string;
}

/**
 * Chooses the start mode.
 *
 * @example
 * ```ts
 * startMode({}).dev; // true
 * startMode({ ADMIN_TOKEN: "0123456789abcdef" }).reason; // "set: ADMIN_TOKEN"
 * startMode({ DENO_DEPLOYMENT_ID: "abc" }).dev; // false
 * ```
 */
export function startMode(env: Env): StartMode {
  if (env.DENO_DEPLOYMENT_ID) {
    return configured("DENO_DEPLOYMENT_ID is set: dev mode never runs on Deno Deploy");
  }
  const present = Object.keys(env)
    .filter((name) => env[name] && realSetting(name))
    .sort();
  if (present.length > 0) return configured(`set: ${present.join(", ")}`);
  const reason = `nothing configured: none of ${REAL_SETTINGS.join(", ")} is set`;
  return {
    dev: true,
    reason,
    line: `formid-ledger: DEV MODE (${reason}); not for production`,
  };
}

/**
 * Whether a variable's name is a real setting.
 *
 * @example
 * ```ts
 * realSetting("WECHAT_SECRET"); // true
 * realSetting("WECHAT_TOKEN_MODE"); // false: a tuning knob
 * ```
 */
export function realSetting(name: string): boolean {
  return (REAL_SETTINGS as readonly string[]).includes(name) || REAL_PATTERN.test(name);
}

function configured(reason: string): StartMode {
  return { dev: false, reason, line: `formid-ledger: configured mode (${reason})` };
}
