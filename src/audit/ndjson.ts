/**
 * The export format: one event per line, as JSON, in log order (NDJSON). Each line is
 * `{"seq","id","type","at","data","prev","hash"}`: everything an auditor needs to recompute the
 * chain without this code (see the README's "Audit: verifying the log").
 *
 * @module
 */
import type { StoredEvent } from "../ledger/events.ts";
import type { LogChunk } from "./pages.ts";

/** The media type of the export. */
export const NDJSON = "application/x-ndjson";

/** An event with its fields in export order: seq, id, type, at, data, prev, hash. */
export function exportEvent(event: StoredEvent): StoredEvent {
  const { seq, id, type, at, data, prev, hash } = event;
  return { seq, id, type, at, data, prev, hash } as StoredEvent;
}

/** One event as one export line, newline included. */
export function eventLine(event: StoredEvent): string {
  return `${JSON.stringify(exportEvent(event))}\n`;
}

/**
 * Parses an NDJSON export into chunks of up to `batch` events. Blank lines are skipped; a line
 * that is not a JSON object ends the stream with an `unreadable` chunk naming the seq it follows.
 */
export async function* readNdjson(
  stream: ReadableStream<Uint8Array>,
  batch = 2_000,
): AsyncGenerator<LogChunk> {
  let buffered = "";
  let events: StoredEvent[] = [];
  let lastSeq = 0;
  let line = 0;
  const parse = (text: string): LogChunk | null => {
    line++;
    if (text.trim() === "") return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return unreadable(`line ${line}: ${(err as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return unreadable(`line ${line}: not a JSON object`);
    }
    const event = value as StoredEvent;
    events.push(event);
    if (typeof event.seq === "number") lastSeq = event.seq;
    return null;
  };
  const unreadable = (error: string): LogChunk => {
    const chunk = { events, unreadable: { after: lastSeq, error } };
    events = [];
    return chunk;
  };
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    let start = 0;
    for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n", start)) {
      const bad = parse(buffered.slice(start, end));
      start = end + 1;
      if (bad) {
        yield bad;
        return;
      }
      if (events.length >= batch) {
        yield { events };
        events = [];
      }
    }
    buffered = buffered.slice(start);
  }
  const bad = parse(buffered);
  if (bad) {
    yield bad;
    return;
  }
  if (events.length > 0) yield { events };
}
