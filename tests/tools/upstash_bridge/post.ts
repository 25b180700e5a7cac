/** Raw HTTP to an Upstash REST bridge, for the bridge's tests. */
import { Buffer } from "node:buffer";

/** One item of a /pipeline or /multi-exec answer. */
export type Item = { result?: unknown; error?: string };

/**
 * POSTs a JSON body to `url + path` with the bearer token (and `Upstash-Encoding: base64` when
 * `b64`); returns the status and the parsed JSON answer.
 *
 * @example
 * ```ts
 * const { status, body } = await post(url, token, "/", ["PING"]); // 200, { result: "PONG" }
 * ```
 */
export async function post(
  url: string,
  token: string,
  path: string,
  body: unknown,
  b64 = false,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    authorization: `Bearer ${token}`,
  };
  if (b64) headers["upstash-encoding"] = "base64";
  const res = await fetch(url + path, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/**
 * Base64 of the UTF-8 bytes of every string in `v`, at any depth (what Upstash answers with
 * `Upstash-Encoding: base64`); numbers and null stay as they are.
 *
 * @example
 * ```ts
 * b64All(["a", 1, ["b"]]); // ["YQ==", 1, ["Yg=="]]
 * ```
 */
export function b64All(v: unknown): unknown {
  if (typeof v === "string") return Buffer.from(v).toString("base64");
  if (Array.isArray(v)) return v.map(b64All);
  return v;
}
