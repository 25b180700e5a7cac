/**
 * Test runner behind `deno task test [extra deno test args]`: starts a throwaway
 * redis-server and the Upstash REST bridge in front of it, runs `deno test` with
 * TEST_REDIS_URL, TEST_UPSTASH_URL and TEST_UPSTASH_TOKEN set, then stops both and
 * prints `N passed, N failed` as its last line. Exits with deno test's exit code.
 */
import { startRedisServer } from "./helpers/redis_server.ts";
import { startBridge } from "../tools/upstash_bridge.ts";

/** Top-level counts from deno test's summary line (`ok | 3 passed (2 steps) | 0 failed ...`). */
export function parseSummary(output: string): { passed: number; failed: number } | null {
  // deno colours its output even into a pipe; drop the escape codes first.
  // deno-lint-ignore no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const re = /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/gm;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(plain); m; m = re.exec(plain)) last = m;
  return last ? { passed: Number(last[1]), failed: Number(last[2]) } : null;
}

/** Copies a child's stream to `out` while keeping the text. */
async function tee(stream: ReadableStream<Uint8Array>, out: typeof Deno.stdout): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    await out.write(chunk);
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

async function main(): Promise<number> {
  let redis;
  try {
    redis = await startRedisServer();
  } catch (e) {
    console.error(`tests/run.ts: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const token = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  let bridge;
  try {
    bridge = await startBridge({ redisUrl: redis.url, token });
  } catch (e) {
    await redis.close();
    console.error(`tests/run.ts: bridge failed to start: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  let code = 1;
  let output = "";
  try {
    const child = new Deno.Command(Deno.execPath(), {
      // No --parallel: test modules run one after another (deno's default). Note that
      // `--parallel=false` does not mean that: deno 2.9 reads it as --parallel.
      args: ["test", "-A", ...Deno.args],
      env: {
        TEST_REDIS_URL: redis.url,
        TEST_UPSTASH_URL: bridge.url,
        TEST_UPSTASH_TOKEN: token,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const [out, err, status] = await Promise.all([
      tee(child.stdout, Deno.stdout),
      tee(child.stderr, Deno.stderr),
      child.status,
    ]);
    output = out + err;
    code = status.code;
  } finally {
    await bridge.close();
    await redis.close();
  }
  const summary = parseSummary(output);
  if (!summary) {
    console.log("tests/run.ts: no deno test summary line found");
    return code === 0 ? 1 : code;
  }
  console.log(`${summary.passed} passed, ${summary.failed} failed`);
  return code;
}

if (import.meta.main) Deno.exit(await main());
