/**
 * Who the client is, for per-IP limits. Behind proxies the peer is the last proxy, and the
 * client's address is in a forwarding header that anyone can also write: a header value is
 * trusted only when the peer is a configured proxy (`TRUSTED_PROXIES`), and then the right-most
 * address that is not itself a trusted proxy is the client (each proxy appends the address it
 * saw, so everything left of that may be forged).
 *
 * @module
 */
import type { Context } from "hono";
import { inRanges, type IpRange, normalizeIp } from "../../shared/ip_range.ts";

/** Where to read the client's address. */
export interface ClientIpRule {
  /** Forwarding header (lower case, e.g. `x-forwarded-for`); `null`: the peer address only. */
  header: string | null;
  /** Peers whose forwarding header is believed. */
  trustedProxies: readonly IpRange[];
}

/**
 * The client's address from the peer address and the forwarding header's value.
 *
 * @example
 * ```ts
 * const trusted = [parseIpRange("10.0.0.0/8")!];
 * resolveClientIp("10.0.0.5", "6.6.6.6, 1.2.3.4", trusted); // "1.2.3.4"
 * resolveClientIp("9.9.9.9", "1.2.3.4", trusted); // "9.9.9.9": not a proxy, header ignored
 * ```
 */
export function resolveClientIp(
  peer: string | undefined,
  forwarded: string | undefined,
  trustedProxies: readonly IpRange[],
): string {
  let client = (peer && normalizeIp(peer)) ?? peer ?? "unknown";
  if (!forwarded || !inRanges(client, trustedProxies)) return client;
  const hops = forwarded.split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeIp(hops[i].trim());
    // A hop that is not an address was not written by a trusted proxy: stop at the last
    // address we could believe.
    if (hop === null) return client;
    client = hop;
    if (!inRanges(hop, trustedProxies)) return hop;
  }
  return client;
}

/**
 * The client's address for a request, by `rule`.
 *
 * @example
 * ```ts
 * app.use(async (c, next) => {
 *   console.log(clientIp(c, { header: null, trustedProxies: [] }));
 *   await next();
 * });
 * ```
 */
export function clientIp(c: Context, rule: ClientIpRule): string {
  const env = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  const peer = env?.remoteAddr?.hostname;
  const forwarded = rule.header === null ? undefined : c.req.header(rule.header);
  return resolveClientIp(peer, forwarded, rule.trustedProxies).slice(0, 64);
}
