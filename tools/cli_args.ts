/**
 * The command-line conventions every tool shares: strict options, `-h`/`--help` prints the
 * usage and exits 0, a bad option prints the problem and the usage and exits 2.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The parsed values, or the exit code the tool should return at once. */
export type CliArgs<T extends Options> =
  | { values: ReturnType<typeof parseArgs<{ options: T; strict: true }>>["values"] }
  | { exit: number };

/**
 * Parses `args` against `options` (a `help` flag is added).
 *
 * @example
 * ```ts
 * const parsed = cliArgs(Deno.args, { at: { type: "string" } }, "usage: deno task rebuild [--at <time>]");
 * if ("exit" in parsed) return parsed.exit;
 * parsed.values.at;
 * ```
 */
export function cliArgs<T extends Options>(args: string[], options: T, usage: string): CliArgs<T> {
  let values;
  try {
    values = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return { exit: 2 };
  }
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    return { exit: 0 };
  }
  return { values } as CliArgs<T>;
}
