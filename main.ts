/**
 * Starts formid-ledger: configuration from the environment -> backends -> app -> `Deno.serve`,
 * and the broadcast worker (a loop and/or `Deno.cron`). With nothing configured it runs dev mode
 * (src/dev/): the same service plus the WeChat simulator, on throwaway secrets.
 *
 * @module
 */
import { createApp } from "./src/app.ts";
import { openBackends } from "./src/backends.ts";
import { ConfigError, loadConfig } from "./src/config/config.ts";
import { type ResilientServer, serveResilient } from "./src/shared/serve.ts";
import { systemClock } from "./src/shared/clock.ts";
import { type DevMode, openDevMode } from "./src/dev/dev_mode.ts";
import { startMode } from "./src/dev/mode.ts";

function start(): void {
  const env = Deno.env.toObject();
  const mode = startMode(env);
  console.log(mode.line);
  let config;
  let dev: DevMode | null = null;
  try {
    config = loadConfig(env);
    if (mode.dev) {
      dev = openDevMode(config.port);
      config = loadConfig({ ...env, ...dev.settings });
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      Deno.exit(2);
    }
    throw err;
  }
  const backends = openBackends(config, systemClock);
  if (backends.durable) console.log(backends.description);
  else console.warn(backends.description);
  const { app, push, registry } = createApp({ config, backends, clock: systemClock });
  // The account's templates: synced in the background, retried on failure; start-up goes on.
  registry.start();
  const listen = dev ? dev.listen : { port: config.port };
  const server = serveResilient({
    ...listen,
    handler: dev ? dev.handler(app.fetch) : app.fetch,
    onEvent: (event, detail) =>
      event === "stopped"
        ? console.error(`http: the listener stopped (${detail}); opening it again`)
        : console.log(`http: listening on ${detail}`),
  });
  if (dev) console.log(dev.banner());
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
    // SIGTERM/SIGINT: stop taking work, finish what is in hand, write the outbox, then exit.
    const stop = () => {
      registry.stop();
      void shutDown(server, push, backends).finally(() => Deno.exit(0));
    };
    Deno.addSignalListener("SIGTERM", stop);
    Deno.addSignalListener("SIGINT", stop);
  } else {
    console.warn(
      "push: WECHAT_APPID / WECHAT_SECRET unset: push and broadcast endpoints answer 503",
    );
  }
}

/** How long a graceful shutdown may take to finish its work and write its outbox. */
const SHUTDOWN_MS = 20_000;

async function shutDown(
  server: ResilientServer,
  push: NonNullable<ReturnType<typeof createApp>["push"]>,
  backends: ReturnType<typeof openBackends>,
): Promise<void> {
  const deadline = Date.now() + SHUTDOWN_MS;
  const late = new Promise((r) => setTimeout(r, SHUTDOWN_MS));
  await Promise.race([Promise.all([server.shutdown(), push.worker.stop()]), late]);
  const left = await push.outbox.drain(deadline);
  if (left > 0) {
    // Their deliveries end as unknown when reclaimed: say how many, for the operator.
    console.error(`shutdown: ${left} delivery outcome(s) could not be written to the ledger`);
  }
  await push.client.close();
  await backends.close().catch(() => {});
}

if (import.meta.main) start();
