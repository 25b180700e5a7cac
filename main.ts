/**
 * Starts formid-ledger: configuration from the environment, the store, the app, `Deno.serve`.
 *
 * @module
 */
import { createApp } from "./src/app.ts";
import { ConfigError, loadConfig } from "./src/config.ts";
import { systemClock } from "./src/ledger/clock.ts";
import { openStore } from "./src/store/open.ts";

function start(): void {
  let config;
  try {
    config = loadConfig(Deno.env.toObject());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      Deno.exit(2);
    }
    throw err;
  }
  const store = openStore(config);
  if (store.kind === "memory") {
    console.warn(
      "store: embedded memory store (UPSTASH_REDIS_REST_URL is unset): nothing survives a restart",
    );
  } else {
    console.log(`store: redis at ${new URL(config.redis!.url).host}, prefix "${config.prefix}"`);
  }
  const { app } = createApp({ config, store, clock: systemClock });
  Deno.serve({ port: config.port }, app.fetch);
}

if (import.meta.main) start();
