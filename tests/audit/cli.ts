/**
 * Running the audit CLIs (tools/replay.ts, tools/rebuild.ts) as an operator would: in their own
 * process, with the store given by the environment.
 */
import { upstashFromEnv } from "../helpers/rig.ts";
import type { TamperRig } from "./fixture.ts";

/** Runs `tools/<name>.ts` with `args`; no store unless `env` names one. */
export async function runTool(name: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(`../../tools/${name}.ts`, import.meta.url).pathname, ...args],
    env: { UPSTASH_REDIS_REST_URL: "", UPSTASH_REDIS_REST_TOKEN: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** The environment naming the rig's store, as the service's. */
export function storeEnv(rig: TamperRig): Record<string, string> {
  const { url, token } = upstashFromEnv();
  return {
    UPSTASH_REDIS_REST_URL: url,
    UPSTASH_REDIS_REST_TOKEN: token,
    LEDGER_PREFIX: rig.prefix,
  };
}
