/**
 * A loopback port that is free right now (the listener that found it is closed at once), for
 * tests that start a process of their own on it.
 *
 * @example
 * ```ts
 * const port = freePort();
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
