/**
 * How an event is stored in a log segment entry: one field `e` holding `<t>␟<a>␟<d>`, where ␟
 * is DEL (U+007F), `t` the type, `a` the time (epoch ms) and `d` the data. One field rather than
 * three: every reader (Redis, the REST layer, the client) handles three strings per entry
 * instead of seven. DEL is ASCII but not printable, so no formId holds it, and JSON leaves it
 * unescaped (a control character such as U+001F would cross the REST layer as six).
 *
 * Memory is the log's main cost, so known event types are stored compactly: `t` is a
 * one-letter code and `d` the data's field values in sorted key order, joined by ␟ (no key
 * names, no quotes). Data that does not fit its type's layout (a value holding ␟, an unknown
 * field, an unexpected null) is stored as `t` the type's full name and `d` the canonical JSON
 * object. Readers accept both forms.
 *
 * The hash chain never sees this encoding: it hashes the decoded event's canonical JSON.
 *
 * @module
 */
import { canonicalJson } from "../../chain/chain.ts";

/** The separator of positional fields. */
export const FIELD_SEPARATOR = "\x7f";

/**
 * How a field is stored: `s` a string, `s?` an optional string (empty when absent), `n` a
 * number, `n|null` a number or null (empty when null).
 */
type FieldKind = "s" | "s?" | "n" | "n|null";

interface Layout {
  type: string;
  /** Field names in sorted order, each with its kind. */
  fields: [string, FieldKind][];
}

/** A layout with its names and kinds in two arrays, as the decoder reads them. */
interface ReadLayout {
  type: string;
  names: string[];
  kinds: FieldKind[];
}

/** Integer text as String(n) writes it for a safe integer n. */
const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]{0,14})$/;

/** Type codes and layouts. Changing one changes the storage format: add, never edit. */
const LAYOUTS: Record<string, Layout> = {
  C: {
    type: "FormIdCollected",
    fields: [
      ["expiresAt", "n|null"],
      ["formId", "s"],
      ["kind", "s"],
      ["openId", "s"],
      ["templateId", "s?"],
      ["uses", "n"],
    ],
  },
  U: { type: "FormIdConsumed", fields: [["formId", "s"], ["openId", "s"], ["pushId", "s"]] },
  R: {
    type: "FormIdReleased",
    fields: [
      ["expiresAt", "n|null"],
      ["formId", "s"],
      ["kind", "s"],
      ["openId", "s"],
      ["pushId", "s"],
      ["templateId", "s?"],
    ],
  },
  S: {
    type: "PushSucceeded",
    fields: [
      ["broadcastId", "s?"],
      ["formId", "s"],
      ["msgid", "s?"],
      ["openId", "s"],
      ["pushId", "s"],
      ["templateId", "s"],
    ],
  },
  F: {
    type: "PushFailed",
    fields: [
      ["broadcastId", "s?"],
      ["class", "s"],
      ["errcode", "n"],
      ["errmsg", "s"],
      ["formId", "s?"],
      ["openId", "s"],
      ["pushId", "s"],
    ],
  },
};

const READ_LAYOUTS: Record<string, ReadLayout> = Object.fromEntries(
  Object.entries(LAYOUTS).map(([code, { type, fields }]) => [
    code,
    { type, names: fields.map(([name]) => name), kinds: fields.map(([, kind]) => kind) },
  ]),
);

const CODE_OF: Record<string, string> = Object.fromEntries(
  Object.entries(LAYOUTS).map(([code, layout]) => [layout.type, code]),
);

/**
 * The code of each compactly stored event type. The Lua scripts that build an entry themselves
 * (FormIdConsumed, PushFailed) get their codes from here (scripts.ts).
 *
 * @example
 * ```ts
 * TYPE_CODE.FormIdConsumed; // "U"
 * ```
 */
export const TYPE_CODE: Readonly<Record<string, string>> = CODE_OF;

/** The field of a log entry. */
export const ENTRY_FIELD = "e";

/** The parts of a log entry's value. */
export interface EntryParts {
  t: string;
  a: string;
  d: string;
}

/** The value of a log entry (lib.lua's append writes the same). */
export function entryValue({ t, a, d }: EntryParts): string {
  return `${t}${FIELD_SEPARATOR}${a}${FIELD_SEPARATOR}${d}`;
}

/**
 * Splits a log entry's field/value list (as XRANGE returns it) into its parts; `null` when it is
 * not the one field `e` with a type and a time.
 */
export function entryParts(fields: string[]): EntryParts | null {
  if (fields.length !== 2 || fields[0] !== ENTRY_FIELD) return null;
  const value = fields[1];
  const i = value.indexOf(FIELD_SEPARATOR);
  const j = i < 0 ? -1 : value.indexOf(FIELD_SEPARATOR, i + 1);
  if (j < 0) return null;
  return { t: value.slice(0, i), a: value.slice(i + 1, j), d: value.slice(j + 1) };
}

/** The stored `t` and `d` of an event. */
export interface EncodedEntry {
  t: string;
  d: string;
}

/**
 * Encodes an event's type and data for a log entry.
 *
 * @example
 * ```ts
 * encodeEntry("FormIdConsumed", { openId: "o1", formId: "f1", pushId: "p1" });
 * // { t: "U", d: "f1\x7fo1\x7fp1" }
 * ```
 */
export function encodeEntry(type: string, data: unknown): EncodedEntry {
  const code = CODE_OF[type];
  const d = code === undefined ? null : positional(LAYOUTS[code], data);
  return d === null ? { t: type, d: canonicalJson(data) } : { t: code, d };
}

/** The data as positional fields, or `null` when it does not fit the layout exactly. */
function positional(layout: Layout, data: unknown): string | null {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  const record = data as Record<string, unknown>;
  let known = 0;
  const parts: string[] = [];
  for (const [name, kind] of layout.fields) {
    const value = record[name];
    if (value !== undefined) known++;
    if (kind === "s" || kind === "s?") {
      if (value === undefined && kind === "s?") parts.push("");
      else if (typeof value !== "string" || value.includes(FIELD_SEPARATOR)) return null;
      else if (value === "" && kind === "s?") return null; // would read back as absent
      else parts.push(value);
    } else if (value === null && kind === "n|null") parts.push("");
    else if (typeof value !== "number" || !Number.isFinite(value)) return null;
    else parts.push(String(value));
  }
  // Every own field must be one of the layout's (undefined ones are omitted by JSON anyway).
  for (const name in record) if (record[name] !== undefined) known--;
  return known === 0 ? parts.join(FIELD_SEPARATOR) : null;
}

/**
 * Decodes a stored entry's type and data. Throws on data that is neither valid positional
 * fields for its code nor JSON.
 */
export function decodeEntry(t: string, d: string): { type: string; data: unknown } {
  const layout = READ_LAYOUTS[t];
  if (layout === undefined) return { type: t, data: JSON.parse(d) };
  return { type: layout.type, data: positionalData(t, layout, d.split(FIELD_SEPARATOR), 0) };
}

/** A log entry read back: its type, time (epoch ms, as stored) and data. */
export interface ReadEntry {
  type: string;
  a: string;
  /** The data; `undefined` when its type was not among the wanted ones. */
  data: unknown;
}

/**
 * Reads a log entry from its field/value list (as XRANGE returns it) in one pass over its text:
 * `null` when it is not one field `e` with a type and a time; throws a SyntaxError when its data
 * does not decode. With `wanted`, data of other types is not decoded.
 */
export function readEntry(fields: string[], wanted?: ReadonlySet<string>): ReadEntry | null {
  if (fields.length !== 2 || fields[0] !== ENTRY_FIELD) return null;
  const parts = fields[1].split(FIELD_SEPARATOR);
  if (parts.length < 3) return null;
  const t = parts[0];
  const layout = READ_LAYOUTS[t];
  const type = layout?.type ?? t;
  if (wanted && !wanted.has(type)) return { type, a: parts[1], data: undefined };
  const data = layout
    ? positionalData(t, layout, parts, 2)
    // JSON data may hold the separator itself: put it back together.
    : JSON.parse(parts.length === 3 ? parts[2] : parts.slice(2).join(FIELD_SEPARATOR));
  return { type, a: parts[1], data };
}

/** The data object of positional fields `parts[offset..]`. */
function positionalData(t: string, layout: ReadLayout, parts: string[], offset: number) {
  const { names, kinds } = layout;
  if (parts.length - offset !== names.length) {
    throw new SyntaxError(`a ${t} entry has ${parts.length - offset} fields, not ${names.length}`);
  }
  // The two most frequent types as object literals, which V8 builds several times faster than
  // the loop's keyed stores (a rebuild decodes a million of them). Same keys, same order.
  if (t === "C") return collectedData(parts, offset);
  if (t === "U") {
    return { formId: parts[offset], openId: parts[offset + 1], pushId: parts[offset + 2] };
  }
  // Keys are set in sorted order, so canonicalJson takes its JSON.stringify fast path.
  const data: Record<string, unknown> = {};
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const kind = kinds[i];
    const part = parts[offset + i];
    if (kind === "s") data[name] = part;
    else if (kind === "s?") {
      if (part !== "") data[name] = part;
    } else if (part === "" && kind === "n|null") data[name] = null;
    else data[name] = numberField(t, name, part);
  }
  return data;
}

/** A FormIdCollected's data (layout C). */
function collectedData(parts: string[], o: number) {
  const expiresAt = parts[o] === "" ? null : numberField("C", "expiresAt", parts[o]);
  const formId = parts[o + 1];
  const kind = parts[o + 2];
  const openId = parts[o + 3];
  const templateId = parts[o + 4];
  const uses = numberField("C", "uses", parts[o + 5]);
  return templateId === ""
    ? { expiresAt, formId, kind, openId, uses }
    : { expiresAt, formId, kind, openId, templateId, uses };
}

/** A stored number: only the text String(value) writes, one form per value as with JSON. */
function numberField(t: string, name: string, part: string): number {
  const value = Number(part);
  // An integer in canonical form, the usual case, passes the cheaper test.
  if (!Number.isFinite(value) || (!CANONICAL_INTEGER.test(part) && String(value) !== part)) {
    throw new SyntaxError(`a ${t} entry's ${name} is not a number`);
  }
  return value;
}
