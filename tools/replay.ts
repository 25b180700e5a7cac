/**
 * `deno task replay`: audits the ledger's log. Reads it from the configured store (environment
 * as main.ts: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, LEDGER_PREFIX) or from an NDJSON
 * export (`--file`), verifies every link and that seq is dense, optionally against recorded
 * checkpoints, rebuilds every projection in memory, compares it with the live one (store only),
 * and prints a report. Exit code: 0 all good, 1 a break, mismatch or anomaly, 2 a usage or
 * configuration error.
 *
 * ```
 * deno task replay [--file export.ndjson|-] [--checkpoint <seq:hash>]... [--from <seq:hash>]
 *                  [--at <ISO time|epoch ms>] [--no-compare] [--json] [--page <n>]
 *                  [--one-thread]
 * ```
 *
 * @module
 */
import {
  auditChunks,
  type AuditProgress,
  type AuditResult,
  auditStore,
} from "../src/audit/audit.ts";
import { auditPassed, formatAudit } from "../src/audit/format.ts";
import { auditRedisInParallel } from "../src/audit/parallel.ts";
import { readNdjson } from "../src/audit/ndjson.ts";
import { type Checkpoint, checkpointConflict, parseCheckpoint } from "../src/audit/checkpoint.ts";
import { openBackends } from "../src/backends.ts";
import { ConfigError, loadConfig } from "../src/config/config.ts";
import { cliArgs } from "./cli_args.ts";
import { timeArg } from "./time_arg.ts";

const USAGE = `usage: deno task replay [options]
  --file <path|->          audit an NDJSON export (GET /v1/events, Accept: application/x-ndjson)
                           instead of the configured store ("-" reads stdin)
  --checkpoint <seq:hash>  a checkpoint recorded earlier (GET /v1/audit/checkpoint); repeatable.
                           For an export, pass its x-ledger-head-seq:x-ledger-head-hash to catch
                           a cut file
  --from <seq:hash>        verify only what follows this checkpoint (no replay: the projection
                           needs the whole log)
  --at <time>              the instant for expired/outstanding and the comparison (ISO-8601 or
                           epoch ms; default now)
  --no-compare             do not compare with the live projection
  --json                   print the result as JSON
  --page <n>               events per store read (default 2000)
  --one-thread             read, verify and fold on one thread, as GET /v1/audit/verify does
                           (by default a worker verifies the chain while this thread folds)
Store: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, LEDGER_PREFIX (as the service).
Exit code: 0 verified and consistent; 1 a break, mismatch or anomaly; 2 usage or setup error.`;

class UsageError extends Error {}

function checkpointArg(text: string): Checkpoint {
  try {
    return parseCheckpoint(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function parseTime(text: string): number {
  const value = timeArg(text);
  if (!Number.isFinite(value)) throw new UsageError(`--at: not a time: "${text}"`);
  return value;
}

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = cliArgs(args, {
    file: { type: "string" },
    checkpoint: { type: "string", multiple: true },
    from: { type: "string" },
    at: { type: "string" },
    "no-compare": { type: "boolean" },
    json: { type: "boolean" },
    page: { type: "string" },
    "one-thread": { type: "boolean" },
  }, USAGE);
  if ("exit" in parsed) return parsed.exit;
  const options = parsed.values;
  let result: AuditResult;
  try {
    const checkpoints: Checkpoint[] = (options.checkpoint ?? []).map(checkpointArg);
    const from = options.from ? checkpointArg(options.from) : undefined;
    const conflict = checkpointConflict([...checkpoints, ...(from ? [from] : [])]);
    if (conflict) throw new UsageError(conflict);
    const now = options.at ? parseTime(options.at) : Date.now();
    const pageSize = options.page ? Number(options.page) : undefined;
    if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize > 0)) {
      throw new UsageError(`--page must be a positive integer`);
    }
    const common = {
      checkpoints,
      from,
      now,
      replay: from === undefined,
      onProgress: progressLine(),
      pageSize,
    };
    if (options.file) {
      const input = options.file === "-"
        ? Deno.stdin.readable
        : (await Deno.open(options.file)).readable;
      result = await auditChunks(readNdjson(input), common);
    } else {
      const backends = openBackends(loadConfig(Deno.env.toObject()));
      try {
        // The embedded store's log lives in the service's memory: nothing to read here.
        if (backends.parallelAudit === null) {
          throw new UsageError(
            "no store configured: set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN " +
              "(and LEDGER_PREFIX), or audit an export with --file",
          );
        }
        const storeOptions = { ...common, compare: !options["no-compare"] };
        result = options["one-thread"]
          ? await auditStore(backends.store, storeOptions)
          : await auditRedisInParallel(backends.parallelAudit, storeOptions);
      } finally {
        await backends.close();
      }
    }
  } catch (err) {
    clearProgress();
    if (
      err instanceof UsageError || err instanceof ConfigError || err instanceof Deno.errors.NotFound
    ) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  clearProgress();
  if (options.json) console.log(JSON.stringify(result, null, 2));
  else console.log(formatAudit(result).join("\n"));
  return auditPassed(result) ? 0 : 1;
}

let progressShown = false;

/**
 * A progress reporter for runs past two seconds: a self-rewriting line on a terminal, otherwise a
 * line then one every 10 s.
 */
function progressLine(): (progress: AuditProgress) => void {
  const terminal = Deno.stderr.isTerminal();
  let lastPrinted = -Infinity;
  const encoder = new TextEncoder();
  return ({ seq, to, elapsedMs }) => {
    if (elapsedMs < 2_000) return;
    if (!terminal && elapsedMs - lastPrinted < 10_000) return;
    lastPrinted = elapsedMs;
    const rate = seq / (elapsedMs / 1000);
    const of = to ? ` / ${to.toLocaleString("en-US")} (${Math.floor((seq / to) * 100)}%)` : "";
    const eta = to && rate > 0 ? `, ${Math.ceil((to - seq) / rate)} s left` : "";
    const text = `replay: seq ${seq.toLocaleString("en-US")}${of}, ` +
      `${Math.round(rate).toLocaleString("en-US")} events/s${eta}`;
    Deno.stderr.writeSync(encoder.encode(terminal ? `\r${text}\x1b[K` : `${text}\n`));
    progressShown = terminal;
  };
}

function clearProgress(): void {
  if (progressShown) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
  progressShown = false;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
