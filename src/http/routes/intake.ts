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
import { requireRole } from "../middleware/auth.ts";
import { clientIp } from "../middleware/client_ip.ts";
import { creditRoutes } from "./credits.ts";
import { formIdRoutes } from "./formids.ts";
import {
  enforceLimits,
  type LimitSpec,
  memoryLimiter,
  type RateLimiter,
  redisLimiters,
} from "../middleware/rate_limit.ts";
import { requireSession, type SessionVariables } from "../middleware/session_token.ts";
import { sessionRoutes } from "./sessions.ts";
import { subscriptionRoutes } from "./subscriptions.ts";

/** What the credits-in routes are built from. */
export interface CreditsInDeps {
  config: Config;
  ledger: Ledger;
  clock: Clock;
}

/**
 * The routes, with limits counted in Redis when the ledger is on Redis (shared by every
 * instance) and in memory otherwise.
 */
export function creditsInRoutes({ config, ledger, clock }: CreditsInDeps): Hono {
  const { windowSeconds, perUser, perIp } = config.rateLimit;
  const inRedis = config.redis ? redisLimiters(config.redis) : null;
  const limiter = (name: string, tokens: number): RateLimiter => {
    const spec: LimitSpec = { prefix: `${config.prefix}:rl:${name}`, tokens, windowSeconds };
    return inRedis ? inRedis(spec) : memoryLimiter(spec);
  };
  const userLimiter = limiter("user", perUser);
  const ipLimiter = limiter("ip", perIp);
  const loginLimiter = limiter("login", perIp);

  const session = requireSession(config, clock);
  /** Upload limits: per openId (from the session) and per client IP, counted together. */
  const limits: MiddlewareHandler<{ Variables: SessionVariables }> = async (c, next) => {
    await enforceLimits([
      [userLimiter, c.get("openId")],
      [
        ipLimiter,
        clientIp(c, { header: config.clientIpHeader, trustedProxies: config.trustedProxies }),
      ],
    ]);
    await next();
  };
  const admin = requireRole(config, ["admin"]);

  const app = new Hono();
  app.route("/", sessionRoutes({ config, clock, ipLimiter: loginLimiter }));
  app.route("/", formIdRoutes({ ledger, session, limits }));
  app.route("/", subscriptionRoutes({ ledger, session, limits }));
  app.route("/", creditRoutes({ ledger, session, admin }));
  return app;
}
