/**
 * A raw TCP server for HTTP/1.1 client tests: it reads each request whole and lets the case
 * write whatever bytes it likes back (or hang up).
 *
 * @module
 */

/** A TCP server that reads each request whole and lets `answer` write raw bytes back. */
export function rawServer(
  answer: (conn: Deno.Conn, request: string, index: number) => Promise<void>,
): { url: string; requests: string[]; connections: () => number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: string[] = [];
  const open = new Set<Deno.Conn>();
  let accepted = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      accepted++;
      open.add(conn);
      (async () => {
        const buf = new Uint8Array(65_536);
        let text = "";
        try {
          for (;;) {
            const n = await conn.read(buf);
            if (n === null) break;
            text += new TextDecoder().decode(buf.subarray(0, n));
            // Requests are whole once the declared body has arrived.
            for (;;) {
              const end = text.indexOf("\r\n\r\n");
              if (end < 0) break;
              const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
              if (text.length < end + 4 + length) break;
              const request = text.slice(0, end + 4 + length);
              text = text.slice(end + 4 + length);
              requests.push(request);
              await answer(conn, request, requests.length - 1);
            }
          }
        } catch { /* closed by a case */ }
        open.delete(conn);
        try {
          conn.close();
        } catch { /* already */ }
      })();
    }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    requests,
    connections: () => accepted,
    async close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* already */ }
      }
      await serving.catch(() => {});
    },
  };
}
