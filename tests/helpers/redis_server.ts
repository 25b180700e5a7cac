/** Starts a throwaway redis-server on a free loopback port, without disk persistence. */

/** A running redis-server started by {@link startRedisServer}. */
export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Stops the server and waits for it to exit. */
  close(): Promise<void>;
}

const INSTALL_HINT =
  "redis-server is not on PATH: install it with `apt-get install -y redis-server` (Debian/Ubuntu)";

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Sends PING; true when the server answers +PONG. */
async function ping(port: number): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

/**
 * Spawns `redis-server` on a free 127.0.0.1 port (no RDB, no AOF) and resolves once it
 * answers PING. Throws at once, with the install command, if redis-server is missing.
 */
export async function startRedisServer(): Promise<RedisServer> {
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("redis-server", {
        args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new Error(INSTALL_HINT);
      throw e;
    }
    // Keep the log (for error messages) and drain the pipes so redis never blocks on them.
    let log = "";
    const drain = (s: ReadableStream<Uint8Array>) =>
      s.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({ write: (t) => void (log = (log + t).slice(-4000)) }),
      ).catch(() => {});
    const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
    let exited = false;
    const status = child.status.then((s) => (exited = true, s));
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) {
      if (await ping(port)) {
        return {
          port,
          url: `redis://127.0.0.1:${port}`,
          async close() {
            try {
              child.kill("SIGTERM");
            } catch { /* already gone */ }
            await status;
            await drained;
          },
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!exited) child.kill("SIGKILL");
    await status;
    await drained;
    lastError = `redis-server on port ${port} did not answer PING:\n${log}`;
  }
  throw new Error(lastError);
}
