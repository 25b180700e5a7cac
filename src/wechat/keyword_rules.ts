/**
 * WeChat's rules for subscribe-message keyword values, checked before a push spends a credit:
 * a value that breaks its keyword's rule makes WeChat answer 47003 (`argument invalid!
 * data.thing1.value invalid`) and the push is lost, so the check runs first and says why.
 *
 * `checkMessageData(template, data)` lists every problem, one per key, as `{ key, reason }`:
 * every keyword of the template must be present, no key outside the template may be, and each
 * value (`{ value: string }`) must keep its type's rule:
 *
 * | type               | rule (WeChat's table, sendMessage "订阅消息参数值内容限制说明")          |
 * |--------------------|-----------------------------------------------------------------------|
 * | `thing`            | at most 20 characters                                                 |
 * | `short_thing`      | at most 5 characters (not in the table; seen in live templates)       |
 * | `number`           | digits, may have one decimal point; at most 32 characters            |
 * | `letter`           | letters only; at most 32                                              |
 * | `symbol`           | symbols only; at most 5                                               |
 * | `character_string` | digits, letters or symbols (no Chinese); at most 32                   |
 * | `time`             | 24-hour `HH:MM` or `HH:MM:SS`, may follow a date and a space          |
 * | `date`             | a date (below), may be followed by a space and a 24-hour time         |
 * | `amount`           | one currency symbol, at most 10 digits, may have decimals and `元`    |
 * | `phone_number`     | digits and symbols; at most 17                                        |
 * | `car_number`       | at most 8; the first and last may be Chinese, the rest letters/digits |
 * | `name`             | at most 10 if it has Chinese (mixed counts as Chinese), else 20       |
 * |                    | letters/symbols                                                       |
 * | `phrase`           | Chinese characters only; at most 5                                    |
 * | `enum`, `enum_string` | one of the template's enum values                                  |
 *
 * A keyword for which the template lists enum values (`keywordEnumValueList`, often a
 * `phrase`) accepts exactly those values and nothing else. `time` and `date` take a range of
 * two values joined by `~`. Dates are `2019年10月1日`, `2019年10月`, `10月1日`, or joined by
 * `-`, `/` or `.` (`2018-01-01`, `2018/01/01`, `2018.01.01`, `2018-01`, `01-01`), and must exist
 * (no `2月30日`; `2月29日` without a year is allowed).
 *
 * Where WeChat's documentation is ambiguous this module takes the stricter reading:
 * - Characters are counted in UTF-16 code units: a Chinese character counts 1 (as WeChat's
 *   staff confirm), an emoji or any character beyond U+FFFF counts 2 (`😀` is 2).
 * - Digits and letters are ASCII only: full-width `１２３` and `ＡＢ` are neither (they pass
 *   only in `thing`/`short_thing`, which take any printable character).
 * - A symbol is a Unicode punctuation or symbol character (`\p{P}`, `\p{S}`: `-`, `·`, `¥`,
 *   `😀`) or a plain space. No value may hold a control or format character (newline, tab,
 *   zero-width joiner, so no joined emoji like `👨‍👩‍👧`), a lone surrogate, or any other
 *   space (U+3000, no-break space). A value of spaces only is empty.
 * - `number`: no sign, no thousands separator; the decimal point counts toward the 32.
 * - `amount`: the currency symbol (`¥`, `￥`, `$`, `€`... one `\p{Sc}`) is required, even with
 *   `元` (`¥100元` passes, `100元` does not); no sign, no thousands separator; the 10 digits
 *   include the decimals.
 * - `time` needs a clock time (a date alone is not a time); hours are two digits (`09:05`).
 *   Dates joined by `-`/`/`/`.` use two-digit months and days and one separator throughout.
 *   A range is exactly two values around one `~` with no spaces; its order is not checked.
 * - `name`: digits are not allowed; a space or `·` is a symbol (`John Smith`, `阿依·买买提`).
 * - `phone_number` must hold at least one digit.
 * - A keyword type WeChat has not documented (e.g. a future one) is refused, not guessed, and
 *   so is an `enum` keyword whose template lists no values.
 *
 * @module
 */
import { isDatePoint, isTimePoint } from "./keyword_dates.ts";
import { type SubscribeTemplate, type TemplateKeyword } from "./templates.ts";

/** One reason a push's data would be refused by WeChat. */
export interface KeywordProblem {
  /** The data key at fault (`thing1`), or `data` when data itself is not an object. */
  key: string;
  /** What is wrong, in words, e.g. `23 characters, at most 20`. */
  reason: string;
}

// Character classes (see the module doc for why each is drawn where it is).
// Every \p{Z} character but the plain space, spelled out: a lookahead costs a third of a check.
const FORBIDDEN = /[\p{C}\p{Zl}\p{Zp}\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/u;
const HAN = /\p{Script=Han}/u;
const NUMBER = /^[0-9]+(?:\.[0-9]+)?$/;
const AMOUNT = /^\p{Sc}([0-9]+)(?:\.([0-9]+))?元?$/u;
const CAR = /^[\p{Script=Han}0-9A-Za-z](?:[0-9A-Za-z]*[\p{Script=Han}0-9A-Za-z])?$/u;
const ASTRAL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/;

/** An alphabet: `all` tests a whole value at once, `one` finds the character outside it. */
interface Alphabet {
  all: RegExp;
  one: RegExp;
  what: string;
}
const alphabet = (chars: string, what: string): Alphabet => ({
  all: new RegExp(`^[${chars}]+$`, "u"),
  one: new RegExp(`^[${chars}]$`, "u"),
  what,
});
const SYMBOL = "\\p{P}\\p{S} ";
const DIGITS_POINT = alphabet("0-9.", "digits 0-9 and one decimal point only");
const LETTERS = alphabet("A-Za-z", "letters A-Z and a-z only");
const SYMBOLS = alphabet(SYMBOL, "symbols only");
const ALNUM_SYMBOLS = alphabet(
  `0-9A-Za-z${SYMBOL}`,
  "digits, letters A-Z/a-z and symbols only (no Chinese)",
);
const DIGIT_SYMBOLS = alphabet(`0-9${SYMBOL}`, "digits and symbols only");
const HAN_ONLY = alphabet("\\p{Script=Han}", "Chinese characters only");
const NAME_CHARS = alphabet(
  `\\p{Script=Han}A-Za-z${SYMBOL}`,
  "Chinese, letters and symbols only (no digits)",
);

/** `"１" (U+FF11)`, or only `U+000A` for a character that does not show. */
const show = (ch: string) => {
  const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  return /[\p{C}\p{Z}\p{M}]/u.test(ch) ? code : `"${ch}" (${code})`;
};

/** Null when every character of `value` is in `abc`, else a reason naming the first that is not. */
function charsetReason(value: string, abc: Alphabet): string | null {
  if (abc.all.test(value)) return null;
  for (const ch of value) {
    if (!abc.one.test(ch)) return `${show(ch)} is not allowed: ${abc.what}`;
  }
  return null;
}

function lengthReason(value: string, max: number): string | null {
  if (value.length <= max) return null;
  const note = ASTRAL.test(value) ? " (an emoji or other character beyond U+FFFF counts 2)" : "";
  return `${value.length} characters${note}, at most ${max}`;
}

function rangeReason(value: string, point: (s: string) => boolean, what: string): string | null {
  const tilde = value.indexOf("~");
  if (tilde >= 0 && value.indexOf("~", tilde + 1) >= 0) {
    return `more than one "~": a range joins exactly two values`;
  }
  const parts = tilde < 0 ? [value] : [value.slice(0, tilde), value.slice(tilde + 1)];
  const bad = parts.find((p) => !point(p));
  return bad === undefined ? null : `${JSON.stringify(bad)} is not ${what}`;
}

const TIME_WHAT = "a 24-hour time (HH:MM or HH:MM:SS, may follow a date and a space)";
const DATE_WHAT =
  "a date (2019年10月1日, 2019-10-01, 10月1日...; may be followed by a 24-hour time)";

/** The rule of each known type: a reason when `value` (non-empty, printable) breaks it. */
const RULES: Record<string, (value: string) => string | null> = {
  thing: (v) => lengthReason(v, 20),
  short_thing: (v) => lengthReason(v, 5),
  number: (v) =>
    charsetReason(v, DIGITS_POINT) ??
      (NUMBER.test(v) ? null : `${JSON.stringify(v)} is not a number like 12 or 12.5`) ??
      lengthReason(v, 32),
  letter: (v) => charsetReason(v, LETTERS) ?? lengthReason(v, 32),
  symbol: (v) => charsetReason(v, SYMBOLS) ?? lengthReason(v, 5),
  character_string: (v) =>
    charsetReason(v, ALNUM_SYMBOLS) ??
      lengthReason(v, 32),
  time: (v) => rangeReason(v, isTimePoint, TIME_WHAT),
  date: (v) => rangeReason(v, isDatePoint, DATE_WHAT),
  amount: (v) => {
    const m = AMOUNT.exec(v);
    if (!m) {
      return `${JSON.stringify(v)} is not an amount: one currency symbol, then digits, ` +
        `may have decimals and a final 元 (e.g. ¥12.50 or ¥12元)`;
    }
    const digits = m[1].length + (m[2]?.length ?? 0);
    return digits > 10 ? `${digits} digits, at most 10` : null;
  },
  phone_number: (v) =>
    charsetReason(v, DIGIT_SYMBOLS) ??
      (/[0-9]/.test(v) ? null : "has no digit") ?? lengthReason(v, 17),
  car_number: (v) =>
    lengthReason(v, 8) ??
      (CAR.test(v) ? null : `${JSON.stringify(v)} is not a plate: letters and digits, ` +
        `where only the first and last may be Chinese (e.g. 粤A8Z888挂)`),
  name: (v) => {
    const bad = charsetReason(v, NAME_CHARS);
    if (bad) return bad;
    if (!HAN.test(v)) return lengthReason(v, 20);
    const long = lengthReason(v, 10);
    return long && `${long} (a name with Chinese in it counts as a Chinese name)`;
  },
  phrase: (v) => charsetReason(v, HAN_ONLY) ?? lengthReason(v, 5),
};

/**
 * Why `value` breaks `keyword`'s rule, or null when WeChat will take it.
 *
 * @example
 * ```ts
 * checkKeywordValue({ key: "thing1", type: "thing", label: "" }, "x".repeat(23));
 * // "23 characters, at most 20"
 * checkKeywordValue({ key: "amount2", type: "amount", label: "" }, "¥12.50"); // null
 * ```
 */
export function checkKeywordValue(keyword: TemplateKeyword, value: string): string | null {
  if (value.trim() === "") return "empty";
  const bad = FORBIDDEN.exec(value);
  if (bad) {
    return `${show(bad[0])} is not allowed: no control, format or non-space blank characters`;
  }
  if (keyword.enumValues) {
    if (keyword.enumValues.includes(value)) return null;
    const list = keyword.enumValues.slice(0, 8).join(", ");
    const more = keyword.enumValues.length > 8 ? ", ..." : "";
    return `${JSON.stringify(value)} is not one of the template's values (${list}${more})`;
  }
  if (keyword.type === "enum" || keyword.type === "enum_string") {
    return "the template lists no values for this enum keyword, so none can be sent";
  }
  const rule = RULES[keyword.type];
  if (!rule) return `keyword type "${keyword.type}" has no known rule; refused rather than guessed`;
  return rule(value);
}

/**
 * Every problem WeChat would refuse `data` for, checked against `template`'s keywords: the
 * template's keywords in order (missing, not a `{ value: string }`, or breaking the rule), then
 * keys the template does not have. An empty list means WeChat's keyword rules are kept.
 *
 * @example
 * ```ts
 * checkMessageData(template, { thing1: { value: "一二三四五六七八九十一二三四五六七八九十一二三" } });
 * // [{ key: "thing1", reason: "23 characters, at most 20" },
 * //  { key: "time2", reason: "missing: the template has it" }]
 * ```
 */
export function checkMessageData(template: SubscribeTemplate, data: unknown): KeywordProblem[] {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return [{ key: "data", reason: "must be an object of { value } by keyword" }];
  }
  const entries = data as Record<string, unknown>;
  const problems: KeywordProblem[] = [];
  for (const keyword of template.keywords) {
    const key = keyword.key;
    if (!Object.hasOwn(entries, key)) {
      problems.push({ key, reason: "missing: the template has it" });
      continue;
    }
    const entry = entries[key];
    const value = typeof entry === "object" && entry !== null
      ? (entry as { value?: unknown }).value
      : undefined;
    if (typeof value !== "string") {
      problems.push({ key, reason: 'must be { value: "..." } with a string value' });
      continue;
    }
    const reason = checkKeywordValue(keyword, value);
    if (reason) problems.push({ key, reason });
  }
  for (const key in entries) {
    if (Object.hasOwn(entries, key) && !template.keywords.some((k) => k.key === key)) {
      problems.push({ key, reason: "not a keyword of this template" });
    }
  }
  return problems;
}

/**
 * Problems as one line for an error message: `thing1: 23 characters, at most 20; time2: missing`.
 *
 * @example
 * ```ts
 * describeProblems([{ key: "thing1", reason: "23 characters, at most 20" }]);
 * // "thing1: 23 characters, at most 20"
 * ```
 */
export function describeProblems(problems: readonly KeywordProblem[]): string {
  return problems.map((p) => `${p.key}: ${p.reason}`).join("; ");
}
