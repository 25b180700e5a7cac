/**
 * Starts the real app on a loopback port, on either store, for HTTP tests.
 *
 * @module
 */
import { createApp, type Service } from "../../src/app.ts";
import { openBackends } from "../../src/backends.ts";
import { type Config, loadConfig } from "../../src/config/config.ts";
import { type Clock, systemClock } from "../../src/shared/clock.ts";
import type { LedgerStore } from "../../src/ledger/store.ts";
import { uniquePrefix, upstashFromEnv } from "./rig.ts";

/** Which store a test service runs on. */
export type StoreKind = "memory" | "redis";

/** A running service: its base URL, its parts, and how to stop it. */
export interface TestService extends Service {
  url: string;
  config: Config;
  store: LedgerStore;
  close(): Promise<void>;
}

/** Options: the store, extra environment (as main.ts would read it), a clock. */
export interface TestServiceOptions {
  store: StoreKind;
  env?: Record<string, string>;
  clock?: Clock;
}

/** Test secrets: long enough for config validation, never used outside tests. */
export const TEST_ENV = {
  SESSION_SECRET: "test-session-secret-0123456789abcdef",
  ADMIN_TOKEN: "test-admin-token-0123456789",
  AUDIT_TOKEN: "test-audit-token-0123456789",
} as const;

/** Starts the app with a real `Deno.serve` on a free port. */
export function startService(options: TestServiceOptions): Promise<TestService> {
  const env: Record<string, string> = { ...TEST_ENV, ...options.env };
  if (options.store === "redis") {
    const { url, token } = upstashFromEnv();
    env.UPSTASH_REDIS_REST_URL ??= url;
    env.UPSTASH_REDIS_REST_TOKEN ??= token;
    env.LEDGER_PREFIX ??= uniquePrefix("svc");
  }
  const config = loadConfig(env);
  const clock = options.clock ?? systemClock;
  const backends = openBackends(config, clock);
  const { store } = backends;
  const service = createApp({ config, backends, clock });
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    service.app.fetch,
  );
  return Promise.resolve({
    ...service,
    url: `http://127.0.0.1:${server.addr.port}`,
    config,
    store,
    async close() {
      await server.shutdown();
      await service.push?.client.close();
      await backends.close();
    },
  });
}
