/**
 * `deno task rebuild`: rebuilds the live projection of the configured Redis store from its log
 * (environment as main.ts: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, LEDGER_PREFIX),
 * while the service keeps running: the new projection is swapped in once it has caught up with
 * the log, and the old one dropped. For when `deno task replay` reports a projection mismatch.
 * Exit code: 0 rebuilt, 1 refused (another rebuild is running, or the log has a missing or
 * foreign entry), 2 a usage or configuration error.
 *
 * ```
 * deno task rebuild [--at <ISO time|epoch ms>]
 * ```
 *
 * @module
 */
import { openBackends } from "../src/backends.ts";
import { ConfigError, loadConfig } from "../src/config/config.ts";
import { cliArgs } from "./cli_args.ts";
import { timeArg } from "./time_arg.ts";

const USAGE = `usage: deno task rebuild [--at <time>]
  --at <time>   the instant the rebuilt projection is valid at (ISO-8601 or epoch ms; default now)
Store: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, LEDGER_PREFIX (as the service).`;

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = cliArgs(args, { at: { type: "string" } }, USAGE);
  if ("exit" in parsed) return parsed.exit;
  const { values } = parsed;
  const now = values.at === undefined ? Date.now() : timeArg(values.at);
  if (!Number.isFinite(now)) {
    console.error(`--at: not a time: "${values.at}"`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(Deno.env.toObject());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 2;
  }
  const backends = openBackends(config);
  if (!backends.durable) {
    console.error(
      "no store configured: set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (and " +
        "LEDGER_PREFIX); the embedded store lives in the service's memory",
    );
    return 2;
  }
  const { store } = backends;
  const started = performance.now();
  try {
    const { events, users } = await store.rebuild(now);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `rebuilt the projection of ${config.prefix}: ${events} events folded, ${users} users, ` +
        `in ${seconds.toFixed(1)} s`,
    );
    return 0;
  } catch (err) {
    console.error(`rebuild refused: ${(err as Error).message}`);
    return 1;
  } finally {
    await backends.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
