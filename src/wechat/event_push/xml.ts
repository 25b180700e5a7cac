/**
 * Reads WeChat's XML bodies (`<xml><Field>...</Field>...</xml>`) into plain objects, with
 * fast-xml-parser behind three guards:
 * - no `<!...>` construct other than CDATA is accepted (no DOCTYPE, so no entity can be declared
 *   and none expanded: fast-xml-parser's entity-expansion advisories all start from a DOCTYPE);
 * - the text must be well-formed (the parser alone is lenient, the validator is not);
 * - values stay strings (no number guessing: a `MsgID` exceeds 2^53), and `List` is always an
 *   array, whether WeChat sent one `<List>` or several.
 *
 * @module
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { PushError } from "./errors.ts";

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  processEntities: true,
  htmlEntities: false,
  isArray: (name: string) => name === "List",
});

/**
 * The children of an XML body's `<xml>` root, leaves as strings.
 *
 * @throws {PushError} `malformed` when the body is not well-formed, declares anything, or has
 * another root.
 * @example
 * ```ts
 * readXml("<xml><MsgType><![CDATA[event]]></MsgType></xml>"); // { MsgType: "event" }
 * ```
 */
export function readXml(text: string): Record<string, unknown> {
  const outsideCdata = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, "");
  if (outsideCdata.includes("<!")) {
    throw new PushError("malformed", "XML declarations (DOCTYPE, ENTITY, comments) are refused");
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new PushError("malformed", `body is not well-formed XML: ${valid.err.msg}`);
  }
  let doc: unknown;
  try {
    doc = parser.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message.slice(0, 120) : "unreadable";
    throw new PushError("malformed", `body is not readable XML: ${why}`);
  }
  const root = (doc as Record<string, unknown> | null)?.xml;
  const keys = Object.keys(doc as object);
  if (keys.length !== 1 || typeof root !== "object" || root === null || Array.isArray(root)) {
    throw new PushError("malformed", "XML body must have a single <xml> root with fields");
  }
  return root as Record<string, unknown>;
}
