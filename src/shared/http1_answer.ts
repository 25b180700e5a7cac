/**
 * Reading one HTTP/1.1 answer from the bytes a connection has received so far, for the pool
 * (http1_pool.ts): the status line, `Content-Length`, chunked or close-delimited bodies,
 * `Connection: close`, 1xx answers skipped. Pure: bytes in, an answer (or "more" / "bad") out.
 *
 * @module
 */

/** A whole answer. */
export interface PostAnswer {
  status: number;
  body: string;
}

const CRLF2 = [13, 10, 13, 10];
const decoder = new TextDecoder();

/**
 * One answer from the start of `data`: the answer, `"more"` (incomplete) or `"bad"`.
 *
 * @example
 * ```ts
 * parseAnswer(new TextEncoder().encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), false);
 * // { status: 200, body: "{}", reusable: true }
 * ```
 */
export function parseAnswer(
  data: Uint8Array,
  eof: boolean,
): PostAnswer & { reusable: boolean } | "more" | "bad" {
  let start = 0;
  for (;;) {
    const end = indexOf(data, CRLF2, start);
    if (end < 0) return data.length - start > 65_536 ? "bad" : "more";
    const lines = decoder.decode(data.subarray(start, end)).split("\r\n");
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
    if (!status) return "bad";
    const code = Number(status[2]);
    const bodyAt = end + 4;
    if (code >= 100 && code < 200) { // an interim answer: the real one follows
      start = bodyAt;
      continue;
    }
    let length = -1;
    let chunked = false;
    let keepAlive = status[1] === "1";
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(":");
      if (colon < 0) continue;
      const name = lines[i].slice(0, colon).trim().toLowerCase();
      const value = lines[i].slice(colon + 1).trim().toLowerCase();
      if (name === "content-length") {
        if (!/^\d+$/.test(value)) return "bad";
        length = Number(value);
      } else if (name === "transfer-encoding") {
        chunked = value.split(",").pop()!.trim() === "chunked";
      } else if (name === "connection") keepAlive = status[1] === "1" && value !== "close";
    }
    if (chunked) {
      const body = dechunk(data, bodyAt);
      if (body === "more") return eof ? "bad" : "more";
      if (body === "bad") return "bad";
      return { status: code, body: body.text, reusable: keepAlive && body.end === data.length };
    }
    if (length >= 0) {
      if (data.length - bodyAt < length) return eof ? "bad" : "more";
      const text = decoder.decode(data.subarray(bodyAt, bodyAt + length));
      return { status: code, body: text, reusable: keepAlive && bodyAt + length === data.length };
    }
    if (code === 204 || code === 304) return { status: code, body: "", reusable: keepAlive };
    // No length: the body runs to the end of the connection.
    if (!eof) return "more";
    return { status: code, body: decoder.decode(data.subarray(bodyAt)), reusable: false };
  }
}

/** A chunked body from `at`: its text and where it ends, or `"more"` / `"bad"`. */
function dechunk(
  data: Uint8Array,
  at: number,
): { text: string; end: number } | "more" | "bad" {
  const parts: Uint8Array[] = [];
  let pos = at;
  for (;;) {
    const lineEnd = indexOf(data, [13, 10], pos);
    if (lineEnd < 0) return "more";
    const sizeText = decoder.decode(data.subarray(pos, lineEnd)).split(";")[0].trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return "bad";
    const size = parseInt(sizeText, 16);
    pos = lineEnd + 2;
    if (size === 0) {
      // Trailers (usually none) end with an empty line.
      if (data.length < pos + 2) return "more";
      if (data[pos] === 13 && data[pos + 1] === 10) return { text: joined(parts), end: pos + 2 };
      const trailersEnd = indexOf(data, CRLF2, pos);
      return trailersEnd < 0 ? "more" : { text: joined(parts), end: trailersEnd + 4 };
    }
    if (data.length < pos + size + 2) return "more";
    parts.push(data.subarray(pos, pos + size));
    pos += size + 2;
  }
}

function joined(parts: Uint8Array[]): string {
  if (parts.length === 1) return decoder.decode(parts[0]);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return decoder.decode(all);
}

function indexOf(data: Uint8Array, needle: number[], from: number): number {
  outer: for (let i = from; i <= data.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (data[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
