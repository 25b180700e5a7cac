/**
 * The account's subscribe templates as the ledger keeps them (the template registry): what
 * `wxaapi/newtmpl/gettemplate` lists, kept as `TemplatesSynced` events and folded into one
 * small projection. The shape is `SubscribeTemplate`'s (src/wechat/templates.ts) without any
 * WeChat I/O: the ledger sits below the WeChat layer.
 *
 * @module
 */

/** One keyword (placeholder) of a template. */
export interface RegisteredKeyword {
  /** The key in a send's `data`, e.g. `thing1`. */
  key: string;
  /** The key without its digits, e.g. `thing`. */
  type: string;
  /** The text before the placeholder, e.g. `物品名称`. */
  label: string;
  /** The only values WeChat accepts, when the template lists them. */
  enumValues?: readonly string[];
}

/** One subscribe template of the account. */
export interface RegisteredTemplate {
  id: string;
  title: string;
  /** `type` 2 is one-time, 3 long-term. */
  kind: "one-time" | "long-term";
  keywords: RegisteredKeyword[];
}

/**
 * Templates in the registry's canonical form: sorted by id, each with its fields in a fixed
 * order and no absent optional field, so two syncs of the same list compare equal as JSON.
 *
 * @example
 * ```ts
 * JSON.stringify(canonicalTemplates(a)) === JSON.stringify(canonicalTemplates(b)); // same set
 * ```
 */
export function canonicalTemplates(templates: readonly RegisteredTemplate[]): RegisteredTemplate[] {
  return [...templates]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((t) => ({
      id: t.id,
      keywords: t.keywords.map((k) => ({
        ...(k.enumValues !== undefined ? { enumValues: [...k.enumValues] } : {}),
        key: k.key,
        label: k.label,
        type: k.type,
      })),
      kind: t.kind,
      title: t.title,
    }));
}

/**
 * Whether two template lists are the same registry.
 *
 * @example
 * ```ts
 * sameTemplates(stored, fetched); // true: no TemplatesSynced needed
 * ```
 */
export function sameTemplates(
  a: readonly RegisteredTemplate[] | null,
  b: readonly RegisteredTemplate[],
): boolean {
  return a !== null &&
    JSON.stringify(canonicalTemplates(a)) === JSON.stringify(canonicalTemplates(b));
}
