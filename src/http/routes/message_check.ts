/**
 * The check of a push's or a broadcast's `data` against its template, as the push and broadcast
 * routes run it before any credit is taken (src/subscribe/message_check.ts): `422
 * unknown_template`, or `422 invalid_message_data` with every bad key:
 * `{ error: { code, message: "thing1: 23 characters, at most 20; time2: missing: ...",
 * problems: [{ key, reason }] } }`.
 *
 * @module
 */
import { type CheckedMessage, checkMessage } from "../../subscribe/message_check.ts";
import type { TemplateRegistry } from "../../subscribe/registry.ts";
import { describeProblems } from "../../wechat/keyword_rules.ts";
import { ApiError } from "../middleware/errors.ts";

/** Throws the route's error when a message would be refused by WeChat; resolves when not. */
export type MessageGate = (message: CheckedMessage) => Promise<void>;

/**
 * The gate over one registry.
 *
 * @example
 * ```ts
 * app.route("/", pushRoutes(config, push, messageGate(registry)));
 * ```
 */
export function messageGate(registry: TemplateRegistry): MessageGate {
  return async (message) => {
    const verdict = await checkMessage(registry, message);
    if (verdict.ok) return;
    if (verdict.code === "unknown_template") {
      throw new ApiError(
        422,
        "unknown_template",
        `template ${message.templateId} is not one of the account's subscribe templates`,
      );
    }
    throw new ApiError(422, "invalid_message_data", describeProblems(verdict.problems), {}, {
      problems: verdict.problems,
    });
  };
}
