/**
 * One keep-alive HTTP/1.1 connection of the pool (http1_pool.ts): one request at a time, a read
 * loop that feeds the answer being awaited (parsed by http1_answer.ts), and the one error type
 * of a post, which says whether the request may have reached the server.
 *
 * @module
 */
import { parseAnswer, type PostAnswer } from "./http1_answer.ts";

/**
 * Why a post failed, and whether the request may have reached the server.
 *
 * @example
 * ```ts
 * const err = new PostError("connect", false, "connection refused");
 * err.sent; // false: nothing reached the server, a retry is safe
 * ```
 */
export class PostError extends Error {
  constructor(
    /** `connect`: not opened; `timeout`: no whole answer in time; `broken`: the connection failed. */
    readonly kind: "connect" | "timeout" | "broken",
    /** False only when no byte of the request was written. */
    readonly sent: boolean,
    message: string,
  ) {
    super(message);
    this.name = "PostError";
  }
}

/** What the reader is waiting for. */
interface Exchange {
  resolve(answer: PostAnswer & { reusable: boolean }): void;
  reject(err: PostError): void;
}

/**
 * One connection: a read loop that feeds the answer being awaited, if any.
 *
 * @example
 * ```ts
 * const conn = new Connection(await Deno.connect({ hostname: "127.0.0.1", port }), () => {});
 * const { status, body, reusable } = await conn.exchange(requestBytes, 5_000);
 * ```
 */
export class Connection {
  #data = new Uint8Array(4096);
  #length = 0;
  #exchange: Exchange | null = null;
  #idleSince = 0;
  #closed = false;

  constructor(private readonly socket: Deno.Conn, private readonly onClose: () => void) {
    this.#readLoop();
  }

  usable(idleMs: number): boolean {
    return !this.#closed && Date.now() - this.#idleSince < idleMs;
  }

  idle(): void {
    this.#idleSince = Date.now();
    this.socket.unref(); // an idle pool does not keep the process alive
  }

  /** Writes the request and resolves with the whole answer. */
  async exchange(
    request: Uint8Array,
    timeoutMs: number,
  ): Promise<PostAnswer & { reusable: boolean }> {
    this.socket.ref();
    const answer = new Promise<PostAnswer & { reusable: boolean }>((resolve, reject) => {
      this.#exchange = { resolve, reject };
    });
    const timer = setTimeout(
      () => this.#fail(new PostError("timeout", true, "no answer within the timeout")),
      timeoutMs,
    );
    try {
      let written = 0;
      try {
        while (written < request.length) {
          written += await this.socket.write(request.subarray(written));
        }
      } catch {
        // Content-Length frames the request: a server never acts on a part of one.
        this.#fail(new PostError("broken", false, "the request could not be written"));
      }
      return await answer;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.socket.close();
    } catch { /* already closed */ }
    this.onClose();
    this.#fail(new PostError("broken", true, "the connection closed"));
  }

  #fail(err: PostError): void {
    const exchange = this.#exchange;
    this.#exchange = null;
    if (exchange) {
      exchange.reject(err);
      this.close();
    }
  }

  async #readLoop(): Promise<void> {
    const chunk = new Uint8Array(16_384);
    for (;;) {
      let n: number | null;
      try {
        n = await this.socket.read(chunk);
      } catch {
        n = null;
      }
      if (n === null) {
        if (this.#exchange && !this.#closed) this.#parse(true);
        this.#fail(new PostError("broken", true, "the connection closed before the answer"));
        return this.close();
      }
      if (!this.#exchange) return this.close(); // bytes nobody asked for: unusable
      this.#append(chunk.subarray(0, n));
      this.#parse(false);
    }
  }

  #append(bytes: Uint8Array): void {
    if (this.#length + bytes.length > this.#data.length) {
      const grown = new Uint8Array(Math.max(this.#data.length * 2, this.#length + bytes.length));
      grown.set(this.#data.subarray(0, this.#length));
      this.#data = grown;
    }
    this.#data.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Resolves the exchange once the buffer holds a whole answer (`eof`: the peer closed). */
  #parse(eof: boolean): void {
    const parsed = parseAnswer(this.#data.subarray(0, this.#length), eof);
    if (parsed === "more") return;
    const exchange = this.#exchange!;
    this.#exchange = null;
    this.#length = 0;
    if (parsed === "bad") {
      exchange.reject(new PostError("broken", true, "an answer that is not HTTP/1.1"));
      return this.close();
    }
    exchange.resolve(parsed);
  }
}
