/**
 * A subscribe-message template as WeChat describes it, and the parsing of the account's template
 * list (`GET /wxaapi/newtmpl/gettemplate`).
 *
 * WeChat answers each template as `{ priTmplId, title, content, example, type,
 * keywordEnumValueList? }`. The keywords are not listed on their own: they are the placeholders
 * in `content` (`会议时间:{{date2.DATA}}\n会议地点:{{thing1.DATA}}`), the key in a send's `data` is
 * the placeholder's name (`date2`) and its type is that name without the trailing digits
 * (`date`). Enum values come separately, keyed by the placeholder (`keywordCode:
 * "enum_string2.DATA"`); a keyword of any type may have them (a `phrase` often does).
 *
 * @module
 */

/** The keyword types WeChat documents for subscribe messages, plus `short_thing` seen in use. */
export const KEYWORD_TYPES = [
  "thing",
  "short_thing",
  "number",
  "letter",
  "symbol",
  "character_string",
  "time",
  "date",
  "amount",
  "phone_number",
  "car_number",
  "name",
  "phrase",
  "enum",
  "enum_string",
] as const;

/** A keyword type this project knows the rule of. */
export type KnownKeywordType = typeof KEYWORD_TYPES[number];

/** One placeholder of a template. */
export interface TemplateKeyword {
  /** The key in a send's `data`, e.g. `thing1`. */
  key: string;
  /**
   * The key without its digits, e.g. `thing`. Usually a {@link KnownKeywordType}; a type
   * WeChat adds later is kept as written so the check can name it.
   */
  type: string;
  /** The text before the placeholder in `content`, e.g. `物品名称` (empty if none). */
  label: string;
  /** The only values WeChat accepts for this keyword, when the template lists them. */
  enumValues?: readonly string[];
}

/** One subscribe template of the account. */
export interface SubscribeTemplate {
  /** `priTmplId`: the id a send names as `template_id`. */
  id: string;
  title: string;
  /** `type` 2 is one-time (一次性订阅), 3 long-term (长期订阅). */
  kind: "one-time" | "long-term";
  keywords: TemplateKeyword[];
}

/** WeChat's gettemplate answered an errcode, or an answer this parser cannot read. */
export class TemplateListError extends Error {
  constructor(message: string, readonly errcode?: number) {
    super(message);
    this.name = "TemplateListError";
  }
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_]+\d*)\.DATA\s*\}\}/g;

/**
 * The type of a data key: the key without its trailing digits.
 *
 * @example
 * ```ts
 * keywordType("character_string12"); // "character_string"
 * keywordType("number01"); // "number"
 * ```
 */
export function keywordType(key: string): string {
  return key.replace(/\d+$/, "");
}

/**
 * The keywords of a template's `content`, in the order they appear (a repeated placeholder
 * counts once), each with the label written before it on its line.
 *
 * @example
 * ```ts
 * keywordsOfContent("物品名称:{{thing1.DATA}}\n取件时间:{{time2.DATA}}");
 * // [{ key: "thing1", type: "thing", label: "物品名称" },
 * //  { key: "time2", type: "time", label: "取件时间" }]
 * ```
 */
export function keywordsOfContent(content: string): TemplateKeyword[] {
  const seen = new Set<string>();
  const out: TemplateKeyword[] = [];
  for (const m of content.matchAll(PLACEHOLDER)) {
    const key = m[1];
    if (seen.has(key)) continue;
    seen.add(key);
    const lineStart = content.lastIndexOf("\n", m.index) + 1;
    const label = content.slice(lineStart, m.index).replace(/[:：\s]+$/, "").trim();
    out.push({ key, type: keywordType(key), label });
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `enum_string2.DATA` -> `enum_string2`. */
const codeKey = (code: string) => code.trim().replace(/\.DATA$/, "");

/**
 * One entry of gettemplate's `data` as a {@link SubscribeTemplate}. Enum values listed for a
 * key the content does not use are dropped (they could never be checked against anything).
 *
 * @example
 * ```ts
 * parseTemplate({
 *   priTmplId: "cy_DfOZL7ly", title: "洗衣机故障提醒", type: 3,
 *   content: "完成时间:{{time1.DATA}}\n所在位置:{{enum_string2.DATA}}\n",
 *   keywordEnumValueList: [{ keywordCode: "enum_string2.DATA", enumValueList: ["客厅", "厨房"] }],
 * }).keywords[1].enumValues; // ["客厅", "厨房"]
 * ```
 */
export function parseTemplate(entry: unknown): SubscribeTemplate {
  if (!isObject(entry)) throw new TemplateListError("a template entry is not an object");
  const { priTmplId: id, title, content, type } = entry;
  if (typeof id !== "string" || id === "") {
    throw new TemplateListError("a template entry has no priTmplId");
  }
  if (typeof content !== "string") throw new TemplateListError(`template ${id}: no content`);
  // WeChat documents `type` as a number; some proxies answer it as a string.
  const kindCode = Number(type);
  if (kindCode !== 2 && kindCode !== 3) {
    throw new TemplateListError(`template ${id}: type ${String(type)} is neither 2 nor 3`);
  }
  const enums = new Map<string, string[]>();
  const list = entry.keywordEnumValueList ?? [];
  if (!Array.isArray(list)) {
    throw new TemplateListError(`template ${id}: keywordEnumValueList is not a list`);
  }
  for (const item of list) {
    if (
      !isObject(item) || typeof item.keywordCode !== "string" ||
      !Array.isArray(item.enumValueList) ||
      !item.enumValueList.every((v) => typeof v === "string")
    ) {
      throw new TemplateListError(`template ${id}: a keywordEnumValueList entry is malformed`);
    }
    enums.set(codeKey(item.keywordCode), item.enumValueList as string[]);
  }
  const keywords = keywordsOfContent(content).map((k) => {
    const values = enums.get(k.key);
    return values ? { ...k, enumValues: values } : k;
  });
  return {
    id,
    title: typeof title === "string" ? title : "",
    kind: kindCode === 2 ? "one-time" : "long-term",
    keywords,
  };
}

/**
 * The templates in gettemplate's answer (the parsed JSON body). A non-zero errcode or an
 * unreadable answer throws {@link TemplateListError} (with `errcode` when WeChat gave one).
 *
 * @example
 * ```ts
 * const answer = await (await fetch(`${api}/wxaapi/newtmpl/gettemplate?access_token=${t}`)).json();
 * const byId = new Map(parseTemplateList(answer).map((tpl) => [tpl.id, tpl]));
 * ```
 */
export function parseTemplateList(answer: unknown): SubscribeTemplate[] {
  if (!isObject(answer)) throw new TemplateListError("the answer is not a JSON object");
  const errcode = answer.errcode ?? 0;
  if (errcode !== 0) {
    const errmsg = typeof answer.errmsg === "string" ? answer.errmsg : "";
    throw new TemplateListError(
      `gettemplate answered ${String(errcode)}: ${errmsg}`,
      Number(errcode),
    );
  }
  const data = answer.data ?? [];
  if (!Array.isArray(data)) throw new TemplateListError("the answer's data is not a list");
  return data.map(parseTemplate);
}
