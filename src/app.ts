/**
 * The Hono app: middleware, error mapping, and every resource's routes mounted. Dependencies are
 * passed in, so tests build the real thing with a manual clock or a simulator URL.
 *
 * @module
 */
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { Config } from "./config.ts";
import { notFound, onError } from "./http/errors.ts";
import { creditsInRoutes } from "./http/credits_in.ts";
import { healthRoutes } from "./http/health.ts";
import type { Clock } from "./ledger/clock.ts";
import { Ledger } from "./ledger/ledger.ts";
import type { LedgerStore } from "./store/store.ts";

/** What the app is built from. */
export interface AppDeps {
  config: Config;
  store: LedgerStore;
  clock: Clock;
}

/** Everything built from the dependencies, for main.ts and tests. */
export interface Service {
  app: Hono;
  ledger: Ledger;
}

/**
 * Builds the service.
 *
 * @example
 * ```ts
 * const { app } = createApp({ config, store: new MemoryStore(), clock: systemClock });
 * Deno.serve(app.fetch);
 * ```
 */
export function createApp(deps: AppDeps): Service {
  const { config, store, clock } = deps;
  const ledger = new Ledger(store, {
    formIdTtlSeconds: config.formIdTtlSeconds,
    safetySeconds: config.formIdSafetySeconds,
    subscribeTtlSeconds: config.subscribeTtlSeconds,
  }, clock);

  const app = new Hono();
  app.use(secureHeaders());
  app.onError(onError);
  app.notFound(notFound);
  app.route("/", healthRoutes(store));
  app.route("/", creditsInRoutes({ config, ledger, clock }));
  return { app, ledger };
}
