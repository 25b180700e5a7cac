/**
 * Starts the service as `deno task start` does (the task's own command and flags, read from
 * deno.json), in an environment holding nothing but what is given (plus HOME and DENO_DIR, so
 * deno finds its cache), and collects what it prints.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);

/** A started service process. */
export interface StartedService {
  /** Everything printed so far (stdout and stderr, interleaved as read). */
  output(): string;
  /** Waits until the output matches `pattern` (or the process ends, or `ms` pass). */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Stops the process (SIGTERM) and waits for it. */
  stop(): Promise<void>;
}

/** The `start` task's command line from deno.json, e.g. `deno run --allow-net ... main.ts`. */
export async function startTask(): Promise<string[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const words = String(denoJson.tasks.start).trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run") {
    throw new Error(`the start task is not "deno run ...": ${denoJson.tasks.start}`);
  }
  return words;
}

/** Runs the start task's command with exactly `env` (and HOME / DENO_DIR). */
export async function startService(env: Record<string, string>): Promise<StartedService> {
  const [, ...args] = await startTask();
  const base: Record<string, string> = {};
  for (const name of ["HOME", "DENO_DIR"]) {
    const value = Deno.env.get(name);
    if (value) base[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    clearEnv: true,
    env: { ...base, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let ended = false;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      // deno-lint-ignore no-control-regex
      text += chunk.replace(/\x1b\[[0-9;]*m/g, "");
      wake();
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status.then((s) => {
    ended = true;
    wake();
    return s;
  });
  return {
    output: () => text,
    waitFor(pattern, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = text.match(pattern);
          if (match) finish(() => resolve(match));
          else if (ended) finish(() => reject(new Error(`process ended; output:\n${text}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out waiting for ${pattern}:\n${text}`))),
          ms,
        );
        const finish = (then: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          then();
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (!ended) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
      }
      await status;
      await pumps;
    },
  };
}

/** The port a configured-mode service printed (`Listening on http://0.0.0.0:<port>/`). */
export async function listeningPort(service: StartedService): Promise<number> {
  const [, port] = await service.waitFor(/[Ll]istening on http:\/\/[^\s]*?:(\d+)\//);
  return Number(port);
}
