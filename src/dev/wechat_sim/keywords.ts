/**
 * The simulator's subscribe-template keywords: WeChat's value rules per keyword type, the check a
 * subscribe send goes through (47003 naming the key), and templates as `gettemplate` lists them.
 * This check is the sim's own: it stands in for WeChat, so it deliberately shares no code with
 * src/wechat/keyword_rules.ts.
 *
 * @module
 */
import { isObj, type Json, type SimTemplate } from "./state.ts";

// ---- subscribe keyword rules (WeChat's sendMessage table; stricter reading where it is vague) ----
// Characters are counted in UTF-16 units (an emoji is 2); digits and letters are ASCII; a symbol
// is \p{P}, \p{S} or a plain space; control/format characters and other blanks never pass.

type CharKind = "han" | "digit" | "letter" | "symbol" | "other" | "bad";

function charKind(ch: string): CharKind {
  if (ch === " ") return "symbol";
  if (/[\p{C}\p{Z}]/u.test(ch)) return "bad";
  if (ch >= "0" && ch <= "9") return "digit";
  if ((ch >= "A" && ch <= "Z") || (ch >= "a" && ch <= "z")) return "letter";
  if (/\p{sc=Han}/u.test(ch)) return "han";
  return /[\p{P}\p{S}]/u.test(ch) ? "symbol" : "other";
}

const onlyKinds = (v: string, ...kinds: CharKind[]) =>
  Array.from(v).every((ch) => kinds.includes(charKind(ch)));

/** Two ASCII digits within 0..max. */
const twoDigits = (t: string, max: number) => /^[0-9][0-9]$/.test(t) && Number(t) <= max;

function simClock(t: string): boolean {
  const [h, m, sec, ...rest] = t.split(":");
  return rest.length === 0 && m !== undefined && twoDigits(h, 23) && twoDigits(m, 59) &&
    (sec === undefined || twoDigits(sec, 59));
}

/** Whether y-m-d names a real day; a missing year is a leap year, a missing day the 1st. */
function realDay(y: string | undefined, m: string, d: string | undefined): boolean {
  const [yy, mm, dd] = [Number(y ?? 2000), Number(m), Number(d ?? 1)];
  const day = new Date(Date.UTC(yy, mm - 1, dd));
  day.setUTCFullYear(yy);
  return day.getUTCFullYear() === yy && day.getUTCMonth() === mm - 1 && day.getUTCDate() === dd;
}

function simDate(t: string): boolean {
  const cn = /^(?:([0-9]{4})年)?(?:([0-9]{1,2})月)(?:([0-9]{1,2})日)?$/.exec(t);
  if (cn) return (cn[1] !== undefined || cn[3] !== undefined) && realDay(cn[1], cn[2], cn[3]);
  const sep = /[-/.]/.exec(t)?.[0];
  if (!sep) return false;
  const parts = t.split(sep);
  if (!parts.every((p) => /^[0-9]+$/.test(p))) return false;
  const shape = parts.map((p) => p.length).join(",");
  if (shape === "4,2,2") return realDay(parts[0], parts[1], parts[2]);
  if (shape === "4,2") return realDay(parts[0], parts[1], undefined);
  return shape === "2,2" && realDay(undefined, parts[0], parts[1]);
}

function simMoment(t: string, needClock: boolean): boolean {
  const [a, b, ...rest] = t.split(" ");
  if (rest.length > 0) return false;
  if (b === undefined) return needClock ? simClock(a) : simDate(a);
  return simDate(a) && simClock(b);
}

function simAmount(v: string): boolean {
  const chars = Array.from(v);
  if (chars.length < 2 || !/^\p{Sc}$/u.test(chars[0])) return false;
  let rest = chars.slice(1).join("");
  if (rest.endsWith("元")) rest = rest.slice(0, -1);
  const [int, frac, ...more] = rest.split(".");
  const digitsOnly = (p: string | undefined) => p === undefined || /^[0-9]+$/.test(p);
  return more.length === 0 && /^[0-9]+$/.test(int) && digitsOnly(frac) &&
    int.length + (frac?.length ?? 0) <= 10;
}

function simCar(v: string): boolean {
  const chars = Array.from(v);
  if (v.length > 8) return false;
  return chars.every((ch, i) => {
    const kind = charKind(ch);
    const edge = i === 0 || i === chars.length - 1;
    return kind === "digit" || kind === "letter" || (edge && kind === "han");
  });
}

/** Whether `v` (not empty) keeps the rule of keyword type `type`. */
const SIM_RULES: Record<string, (v: string) => boolean> = {
  thing: (v) => v.length <= 20,
  short_thing: (v) => v.length <= 5,
  number: (v) => v.length <= 32 && /^[0-9]+(\.[0-9]+)?$/.test(v),
  letter: (v) => v.length <= 32 && onlyKinds(v, "letter"),
  symbol: (v) => v.length <= 5 && onlyKinds(v, "symbol"),
  character_string: (v) => v.length <= 32 && onlyKinds(v, "digit", "letter", "symbol"),
  phone_number: (v) => v.length <= 17 && onlyKinds(v, "digit", "symbol") && /[0-9]/.test(v),
  phrase: (v) => v.length <= 5 && onlyKinds(v, "han"),
  name: (v) =>
    onlyKinds(v, "han", "letter", "symbol") &&
    v.length <= (Array.from(v).some((ch) => charKind(ch) === "han") ? 10 : 20),
  car_number: simCar,
  amount: simAmount,
  time: (v) => v.split("~").length <= 2 && v.split("~").every((p) => simMoment(p, true)),
  date: (v) => v.split("~").length <= 2 && v.split("~").every((p) => simMoment(p, false)),
};

/**
 * WeChat's errmsg (before the rid) for the first keyword of `data` that `tpl` refuses, or null.
 * Keywords are checked in the template's order, then keys the template does not have.
 *
 * @example
 * ```ts
 * keywordFault(tpl, { thing1: { value: "" } }); // "argument invalid! data.thing1.value is empty"
 * ```
 */
export function keywordFault(tpl: SimTemplate, data: unknown): string | null {
  if (!isObj(data)) return "argument invalid! data invalid";
  for (const { key, enumValues } of tpl.keywords) {
    const entry = data[key];
    if (entry === undefined) return `argument invalid! data.${key}.value is empty`;
    const v = isObj(entry) ? entry.value : undefined;
    if (typeof v !== "string") return `argument invalid! data.${key}.value invalid`;
    if (!/\S/.test(v)) return `argument invalid! data.${key}.value is empty`;
    const type = key.replace(/[0-9]+$/, "");
    const rule = SIM_RULES[type];
    const ok = !Array.from(v).some((ch) => charKind(ch) === "bad") &&
      (enumValues ? enumValues.includes(v) : rule !== undefined && rule(v));
    if (!ok) return `argument invalid! data.${key}.value invalid`;
  }
  const known = new Set(tpl.keywords.map((k) => k.key));
  const extra = Object.keys(data).find((key) => !known.has(key));
  return extra === undefined ? null : `argument invalid! data.${extra} invalid`;
}

/** A sample value per type for gettemplate's `example`. */
const SAMPLES: Record<string, string> = {
  thing: "示例内容",
  short_thing: "示例",
  number: "12",
  letter: "ABC",
  symbol: "-",
  character_string: "NO20240101",
  time: "15:01",
  date: "2019年10月1日",
  amount: "¥12.50",
  phone_number: "+86-0766-66888866",
  car_number: "粤A8Z888挂",
  name: "张三",
  phrase: "配送中",
};

/**
 * The template as gettemplate answers it.
 *
 * @example
 * ```ts
 * templateEntry(tpl).content; // "Item:{{thing1.DATA}}\n"
 * ```
 */
export function templateEntry(t: SimTemplate): Json {
  const line = (k: SimTemplate["keywords"][number], text: string) => `${k.label}:${text}\n`;
  const enums = t.keywords.filter((k) => k.enumValues);
  return {
    priTmplId: t.id,
    title: t.title,
    content: t.keywords.map((k) => line(k, `{{${k.key}.DATA}}`)).join(""),
    example: t.keywords.map((k) =>
      line(k, k.enumValues?.[0] ?? SAMPLES[k.key.replace(/[0-9]+$/, "")] ?? "")
    ).join(""),
    type: t.type,
    ...(enums.length > 0
      ? {
        keywordEnumValueList: enums.map((k) => ({
          keywordCode: `${k.key}.DATA`,
          enumValueList: k.enumValues,
        })),
      }
      : {}),
  };
}

/**
 * A SimTemplate from the setup API's JSON, or why not.
 *
 * @example
 * ```ts
 * readSimTemplate({ id: "TPL", keywords: [{ key: "thing1" }] }); // a SimTemplate
 * ```
 */
export function readSimTemplate(b: unknown): SimTemplate | string {
  if (!isObj(b) || typeof b.id !== "string" || !b.id) return "template id (string) required";
  const type = b.type ?? 2;
  if (type !== 2 && type !== 3) return `template ${b.id}: type must be 2 or 3`;
  if (!Array.isArray(b.keywords) || b.keywords.length === 0) {
    return `template ${b.id}: keywords (non-empty array) required`;
  }
  const keywords: SimTemplate["keywords"] = [];
  for (const k of b.keywords) {
    if (!isObj(k) || typeof k.key !== "string" || !/^[a-z_]+[0-9]+$/.test(k.key)) {
      return `template ${b.id}: each keyword needs a key like thing1`;
    }
    const ev = k.enumValues;
    if (ev !== undefined && (!Array.isArray(ev) || !ev.every((v) => typeof v === "string"))) {
      return `template ${b.id}: ${k.key}.enumValues must be a string array`;
    }
    if (keywords.some((x) => x.key === k.key)) return `template ${b.id}: ${k.key} twice`;
    keywords.push({
      key: k.key,
      label: typeof k.label === "string" ? k.label : k.key,
      ...(ev ? { enumValues: ev as string[] } : {}),
    });
  }
  return { id: b.id, title: typeof b.title === "string" ? b.title : b.id, type, keywords };
}
