/**
 * A push's (or a broadcast's) `data` checked against its template before any credit is taken:
 * WeChat refuses a value that breaks its keyword's rule (47003) after the credit is spent, so
 * the check runs first (src/wechat/keyword_rules.ts) and lists every bad key and why.
 *
 * Legacy template messages (kind `template`: form and prepay credits) are not subscribe
 * messages and are not checked. Kind `subscribe` needs a template the registry knows; kind
 * `auto` is checked when the registry knows the template (else it may be a legacy one). Without
 * a registry (never synced) nothing is checked.
 *
 * @module
 */
import { checkMessageData, type KeywordProblem } from "../wechat/keyword_rules.ts";
import type { TemplateRegistry } from "./registry.ts";

/** What the check found. */
export type MessageVerdict =
  | { ok: true }
  | { ok: false; code: "unknown_template" }
  | { ok: false; code: "invalid_message_data"; problems: KeywordProblem[] };

/** The parts of a message the check reads. */
export interface CheckedMessage {
  templateId: string;
  data: unknown;
  kind?: "auto" | "template" | "subscribe";
}

/**
 * Checks `message` against the registry.
 *
 * @example
 * ```ts
 * const verdict = await checkMessage(registry, { templateId: "T", data, kind: "subscribe" });
 * if (!verdict.ok && verdict.code === "invalid_message_data") console.log(verdict.problems);
 * ```
 */
export async function checkMessage(
  registry: TemplateRegistry,
  message: CheckedMessage,
): Promise<MessageVerdict> {
  const kind = message.kind ?? "auto";
  if (kind === "template") return { ok: true };
  const template = await registry.find(message.templateId);
  if (template === undefined) return { ok: true };
  if (template === null) {
    return kind === "subscribe" ? { ok: false, code: "unknown_template" } : { ok: true };
  }
  const problems = checkMessageData(template, message.data);
  return problems.length === 0
    ? { ok: true }
    : { ok: false, code: "invalid_message_data", problems };
}
