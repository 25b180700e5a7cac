/**
 * IP addresses and CIDR ranges (IPv4 and IPv6), for deciding which peers are trusted proxies.
 * Parsing and matching come from `ipaddr.js` (the library behind Express's `proxy-addr`).
 *
 * @module
 */
import ipaddr from "ipaddr.js";

/** A parsed range: an address and a prefix length. */
export type IpRange = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Parses `1.2.3.0/24`, `::1/128` or a bare address (a range of one); `null` when it is neither.
 *
 * @example
 * ```ts
 * parseIpRange("10.0.0.0/8"); // [IPv4 10.0.0.0, 8]
 * parseIpRange("not-an-ip"); // null
 * ```
 */
export function parseIpRange(text: string): IpRange | null {
  try {
    if (text.includes("/")) {
      const [address, bits] = ipaddr.parseCIDR(text);
      return [unmapped(address), address.kind() === "ipv6" && isMapped(address) ? bits - 96 : bits];
    }
    const address = unmapped(ipaddr.parse(text));
    return [address, address.kind() === "ipv4" ? 32 : 128];
  } catch {
    return null;
  }
}

/**
 * The address in canonical text (an IPv4-mapped IPv6 address as plain IPv4); `null` when `text`
 * is not an IP address.
 *
 * @example
 * ```ts
 * normalizeIp("::ffff:10.0.0.1"); // "10.0.0.1"
 * ```
 */
export function normalizeIp(text: string): string | null {
  // Parsing is a few µs on every request; the same clients come back, so answers are kept.
  const known = normalized.get(text);
  if (known !== undefined) return known;
  const answer = ipaddr.isValid(text) ? unmapped(ipaddr.parse(text)).toString() : null;
  if (normalized.size >= NORMALIZED_MAX) normalized.clear();
  normalized.set(text, answer);
  return answer;
}

/** Addresses normalised lately (cleared when full: bounded whatever the traffic). */
const normalized = new Map<string, string | null>();
const NORMALIZED_MAX = 10_000;

/**
 * Whether `address` lies in any of `ranges` (an invalid address lies in none).
 *
 * @example
 * ```ts
 * inRanges("10.1.2.3", [parseIpRange("10.0.0.0/8")!]); // true
 * ```
 */
export function inRanges(address: string, ranges: readonly IpRange[]): boolean {
  if (ranges.length === 0 || !ipaddr.isValid(address)) return false;
  const parsed = unmapped(ipaddr.parse(address));
  return ranges.some(([base, bits]) => parsed.kind() === base.kind() && parsed.match(base, bits));
}

function isMapped(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress();
}

function unmapped(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return isMapped(address) ? (address as ipaddr.IPv6).toIPv4Address() : address;
}
