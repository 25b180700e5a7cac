/**
 * Everything by which credits get in, mounted together: sessions, formId uploads, subscription
 * results, credit views and the admin's prepay credits, with their rate limits.
 *
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { Config } from "../../config/config.ts";
import type { Clock } from "../../shared/clock.ts";
import type { Ledger } from "../../ledger/ledger.ts";
import type { TemplateRegistry } from "../../subscribe/registry.ts";
import { requireRole } from "../middleware/auth.ts";
import { creditRoutes } from "./credits.ts";
import { formIdRoutes } from "./formids.ts";
import { countedWithCollect, enforceLimits, type RateLimiter } from "../middleware/rate_limit.ts";
import { clientIp } from "../middleware/client_ip.ts";
import { requireSession, type SessionVariables } from "../middleware/session_token.ts";
import { sessionRoutes } from "./sessions.ts";
import { subscriptionRoutes } from "./subscriptions.ts";

/** The limits these routes count (built by `backends.ts`, counted by the store). */
export interface IntakeLimiters {
  /** Uploads per openId. */
  user: RateLimiter;
  /** Credit views (`GET /v1/me/credits`) per openId, counted apart from uploads. */
  view: RateLimiter;
  /** Uploads and credit views per client IP. */
  ip: RateLimiter;
  /** Logins per client IP. */
  login: RateLimiter;
}

/** What the credits-in routes are built from. */
export interface CreditsInDeps {
  config: Config;
  ledger: Ledger;
  clock: Clock;
  limiters: IntakeLimiters;
  /** The account's templates (and the SUBSCRIBE_TEMPLATES fallback). */
  registry: TemplateRegistry;
}

/**
 * The routes, with their limits.
 *
 * @example
 * ```ts
 * app.route("/", creditsInRoutes({ config, ledger, clock, limiters, registry }));
 * ```
 */
export function creditsInRoutes(
  { config, ledger, clock, limiters, registry }: CreditsInDeps,
): Hono {
  const session = requireSession(config, clock);
  type SessionEnv = { Variables: SessionVariables };
  const ipOf = (c: Context<SessionEnv>) =>
    clientIp(c, { header: config.clientIpHeader, trustedProxies: config.trustedProxies });
  /**
   * Upload limits: per openId (from the session) and per client IP, counted in the upload's
   * collect (one script call for a batch of uploads) or the subscription report's answer, or
   * alone when it records nothing.
   */
  const limits = countedWithCollect<SessionEnv>(clock, (c) => [
    [limiters.user, c.get("openId")],
    [limiters.ip, ipOf(c)],
  ]);
  /** A credit view counts per openId in a count of its own (same size), per IP with uploads. */
  const viewLimits: MiddlewareHandler<SessionEnv> = async (c, next) => {
    await enforceLimits(
      [[limiters.view, c.get("openId")], [limiters.ip, ipOf(c)]],
      () => clock.now(),
    );
    await next();
  };
  const admin = requireRole(config, ["admin"]);

  const app = new Hono();
  app.route("/", sessionRoutes({ config, clock, ipLimiter: limiters.login }));
  const caps = config.creditCaps;
  app.route("/", formIdRoutes({ ledger, session, limits, caps }));
  const windowMs = config.subscribe.push ? config.subscribe.confirmWindowSeconds * 1000 : null;
  app.route("/", subscriptionRoutes({ ledger, session, limits, caps, registry, windowMs }));
  app.route("/", creditRoutes({ ledger, session, limits: viewLimits, admin, caps }));
  return app;
}
