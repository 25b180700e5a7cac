/**
 * The Hono app: middleware, error mapping, and every resource's routes mounted, on backends
 * built by `backends.ts` (which alone knows whether they are Redis or memory). Dependencies are
 * passed in, so tests build the real thing with a manual clock or a simulator URL.
 *
 * @module
 */
import { Hono } from "hono";
import type { Backends } from "./backends.ts";
import type { Config } from "./config/config.ts";
import { securityHeaders } from "./http/middleware/security_headers.ts";
import { notFound, onError } from "./http/middleware/errors.ts";
import { creditsInRoutes } from "./http/routes/intake.ts";
import { eventRoutes } from "./http/routes/events.ts";
import { healthRoutes } from "./http/routes/health.ts";
import type { Clock } from "./shared/clock.ts";
import { Ledger } from "./ledger/ledger.ts";
import { broadcastRoutes } from "./http/routes/broadcasts.ts";
import { pushRoutes } from "./http/routes/push.ts";
import { docsRoutes } from "./http/routes/docs.ts";
import { createPushService, type PushService } from "./push/service.ts";
import { TemplateRegistry } from "./subscribe/registry.ts";
import { confirmingUnknowns, EventIntake } from "./subscribe/event_intake.ts";
import { fetchTemplates } from "./wechat/template_api.ts";
import { MemoryReplayGuard, type ReplayGuard } from "./wechat/event_push/replay.ts";
import { messageGate } from "./http/routes/message_check.ts";
import { templateRoutes } from "./http/routes/templates.ts";
import { wechatEventRoutes } from "./http/routes/wechat_events.ts";

/** What the app is built from. */
export interface AppDeps {
  config: Config;
  /** The store, coordination store and rate limiters (`openBackends`), and its replay guard. */
  backends: Pick<Backends, "store" | "coordination" | "limiters"> & {
    replayGuard?: ReplayGuard;
  };
  clock: Clock;
  /** The HTTP client for WeChat calls (default: pooled keep-alive fetch). */
  fetch?: typeof fetch;
}

/** Everything built from the dependencies, for main.ts and tests. */
export interface Service {
  app: Hono;
  ledger: Ledger;
  /** Push delivery, broadcasts and their worker; `null` without WeChat credentials. */
  push: PushService | null;
  /** The account's templates; main.ts starts its first sync (`registry.start()`). */
  registry: TemplateRegistry;
  /** WeChat's event push into the ledger; `null` when WECHAT_PUSH_TOKEN is unset. */
  intake: EventIntake | null;
}

/**
 * Builds the service.
 *
 * @example
 * ```ts
 * const backends = openBackends(config);
 * const { app } = createApp({ config, backends, clock: systemClock });
 * Deno.serve(app.fetch);
 * ```
 */
export function createApp(deps: AppDeps): Service {
  const { config, clock } = deps;
  const { store, coordination, limiters } = deps.backends;
  const ledger = new Ledger(store, {
    formIdTtlSeconds: config.formIdTtlSeconds,
    safetySeconds: config.formIdSafetySeconds,
    subscribeTtlSeconds: config.subscribeTtlSeconds,
  }, clock);

  const app = new Hono();
  app.use(securityHeaders());
  app.onError(onError);
  app.notFound(notFound);
  const bodyTimeoutMs = config.requestBodyTimeoutMs;
  app.use((c, next) => {
    c.set("bodyTimeoutMs", bodyTimeoutMs);
    return next();
  });
  const push = createPushService({ config, store, coordination, clock, fetch: deps.fetch });
  app.route("/", healthRoutes(store, push?.outbox));
  app.route("/", eventRoutes(config, store));
  const tokens = push?.tokens;
  const registry = new TemplateRegistry(store, clock, {
    source: tokens
      ? () =>
        fetchTemplates(tokens, {
          apiBase: config.wechat.apiBase,
          timeoutMs: config.push.timeoutMs,
        }, deps.fetch)
      : null,
    allowList: config.subscribeTemplates,
    intervalMs: config.subscribe.templateSyncSeconds * 1000,
  });
  const intake = config.subscribe.push
    ? new EventIntake(ledger, registry, coordination.kv, {
      windowMs: config.subscribe.confirmWindowSeconds * 1000,
      caps: config.creditCaps,
      // A sent item first settles an unknown delivery (PushConfirmed), else SubscribeMessageSent.
      ...(push ? { onSent: confirmingUnknowns(push.reconciler) } : {}),
    })
    : null;
  const guard = deps.backends.replayGuard ?? new MemoryReplayGuard({ clock });
  app.route("/", creditsInRoutes({ config, ledger, clock, limiters, registry }));
  app.route("/", templateRoutes(config, registry));
  app.route("/", wechatEventRoutes({ config, intake, guard, clock }));
  const gate = messageGate(registry);
  app.route("/", pushRoutes(config, push, gate));
  app.route("/", broadcastRoutes(config, push, gate));
  app.route("/", docsRoutes(app));
  return { app, ledger, push, registry, intake };
}
