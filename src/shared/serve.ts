/**
 * Serving HTTP so that running out of file descriptors never ends the process. `Deno.serve`
 * stops for good when accepting a connection fails with `EMFILE` (too many open files): its
 * `finished` promise rejects and, with nothing else to do, the process exits, and on the
 * embedded store everything is lost. Here the listener is opened again after a pause, so new
 * connections are refused while descriptors are short and accepted again once others close.
 *
 * Opening the listener again needs a few descriptors itself (Deno also registers its signal
 * handlers then, and panics when it cannot), so a small reserve of descriptors is held while
 * serving and given up just before the listener is opened again.
 *
 * What `Deno.serve` cannot do (it has no header or idle timeouts: denoland/deno#3515) a reverse
 * proxy in front does: see docs/self-hosting.md and deploy/nginx.conf.
 *
 * @module
 */

/** What to serve, where. */
export interface ResilientServeOptions {
  port: number;
  hostname?: string;
  handler: Deno.ServeHandler<Deno.NetAddr>;
  /** Pause before the listener is opened again after it failed, in ms (default 250). */
  retryMs?: number;
  /** Descriptors held in reserve for opening the listener again (default 16). */
  reserve?: number;
  /** Told each time the listener stops with an error, and when it is open again. */
  onEvent?: (event: "stopped" | "listening", detail: string) => void;
}

/** A running server: its port, and how to stop it for good. */
export interface ResilientServer {
  readonly port: number;
  shutdown(): Promise<void>;
}

/**
 * Serves `handler` on `port`, opening the listener again whenever it fails.
 *
 * @example
 * ```ts
 * const server = serveResilient({ port: 8000, handler: app.fetch });
 * await server.shutdown();
 * ```
 */
export function serveResilient(options: ResilientServeOptions): ResilientServer {
  const retryMs = options.retryMs ?? 250;
  const reserve = new FileReserve(options.reserve ?? 16);
  let current: Deno.HttpServer<Deno.NetAddr> | null = null;
  let stopping = false;
  let port = options.port;
  const open = (): void => {
    // Synchronously: the new listener accepts nothing before the reserve is taken back.
    reserve.release();
    const server = Deno.serve({
      port,
      hostname: options.hostname,
      onListen: (addr) => {
        port = addr.port;
        options.onEvent?.("listening", `http://${addr.hostname}:${addr.port}/`);
      },
    }, options.handler);
    reserve.take();
    current = server;
    server.finished.catch(async (err) => {
      if (stopping) return;
      options.onEvent?.("stopped", err instanceof Error ? err.message.slice(0, 200) : String(err));
      // Reopen on the port it had (a port 0 would move), retrying until descriptors are back.
      while (!stopping) {
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        try {
          open();
          return;
        } catch (reopen) {
          reserve.take();
          options.onEvent?.("stopped", reopen instanceof Error ? reopen.message : String(reopen));
        }
      }
    });
  };
  open();
  return {
    get port() {
      return port;
    },
    async shutdown() {
      stopping = true;
      await current?.shutdown();
      reserve.release();
    },
  };
}

/** Open handles on /dev/null, kept only to be closed when descriptors are needed. */
class FileReserve {
  #files: Deno.FsFile[] = [];

  constructor(readonly size: number) {
    this.take();
  }

  /** Takes as many descriptors as are free, up to the size. */
  take(): void {
    while (this.#files.length < this.size) {
      try {
        this.#files.push(Deno.openSync("/dev/null", { read: true }));
      } catch {
        return; // none free now: the next release has fewer to give, not none
      }
    }
  }

  release(): void {
    for (const file of this.#files.splice(0)) file.close();
  }
}
