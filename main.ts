/**
 * Starts formid-ledger: configuration from the environment, the store, the app, `Deno.serve`.
 *
 * @module
 */
import { createApp } from "./src/app.ts";
import { ConfigError, loadConfig } from "./src/config/config.ts";
import { systemClock } from "./src/shared/clock.ts";
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
  const { app, push } = createApp({ config, store, clock: systemClock });
  Deno.serve({ port: config.port }, app.fetch);
  if (push) {
    // Deno Deploy: no queues and evictable instances, so a cron drives the broadcast worker
    // step (50 s of work a minute). Locally Deno.cron needs --unstable-cron; the loop below is
    // the self-hosted path. Both may run: instances share the work through the queue.
    if (typeof Deno.cron === "function") {
      Deno.cron("broadcast worker", "* * * * *", async () => {
        await push.worker.step(Date.now() + 50_000);
      });
    }
    if (config.push.workerEnabled) push.worker.start();
  } else {
    console.warn(
      "push: WECHAT_APPID / WECHAT_SECRET unset: push and broadcast endpoints answer 503",
    );
  }
}

if (import.meta.main) start();
