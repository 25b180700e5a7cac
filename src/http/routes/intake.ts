/**
 * Everything by which credits get in, mounted together: sessions, formId uploads, subscription
 * results, credit views and the admin's prepay credits, with their rate limits.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Config } from "../../config/config.ts";
import type { Clock } from "../../shared/clock.ts";
import type { Ledger } from "../../ledger/ledger.ts";
import type { TemplateRegistry } from "../../subscribe/registry.ts";
import { requireRole } from "../middleware/auth.ts";
import { creditRoutes } from "./credits.ts";
import { formIdRoutes } from "./formids.ts";
import { enforceLimits, type RateLimiter } from "../middleware/rate_limit.ts";
import { clientIp } from "../middleware/client_ip.ts";
import { requireSession, type SessionVariables } from "../middleware/session_token.ts";
import { sessionRoutes } from "./sessions.ts";
import { subscriptionRoutes } from "./subscriptions.ts";

/** The limits these routes count (built by `backends.ts`, in Redis or in memory). */
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
  /**
   * Upload limits: per openId (from the session) and per client IP, counted together. A credit
   * view counts per openId in a bucket of its own (same size), and per client IP with uploads.
   */
  const limitsOn =
    (perUser: RateLimiter): MiddlewareHandler<{ Variables: SessionVariables }> =>
    async (
      c,
      next,
    ) => {
      await enforceLimits([
        [perUser, c.get("openId")],
        [
          limiters.ip,
          clientIp(c, { header: config.clientIpHeader, trustedProxies: config.trustedProxies }),
        ],
      ]);
      await next();
    };
  const limits = limitsOn(limiters.user);
  const admin = requireRole(config, ["admin"]);

  const app = new Hono();
  app.route("/", sessionRoutes({ config, clock, ipLimiter: limiters.login }));
  const caps = config.creditCaps;
  app.route("/", formIdRoutes({ ledger, session, limits, caps }));
  const windowMs = config.subscribe.push ? config.subscribe.confirmWindowSeconds * 1000 : null;
  app.route("/", subscriptionRoutes({ ledger, session, limits, caps, registry, windowMs }));
  app.route("/", creditRoutes({ ledger, session, limits: limitsOn(limiters.view), admin, caps }));
  return app;
}
