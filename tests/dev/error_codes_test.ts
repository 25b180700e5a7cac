/**
 * Every error `code` the service can answer with is listed in the docs, in English (README.md)
 * and in Chinese (README.zh-CN.md), and the docs list no code the service no longer produces.
 * The codes are read from src/: the second argument of every `new ApiError(`, the code of every
 * `errorResponse(` (a literal, or the literals of the `const` it names), and every
 * `error: { code: "..." }` written by hand (an ApiError's code passed on is counted where it was
 * thrown). A code the scan cannot read (not a literal) fails
 * the test: write it as a literal, or teach this scan where it comes from.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

/** The top-level, comma-separated arguments of the call whose `(` is at `open`. */
export function callArguments(text: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i).trim());
        return args.filter((a) => a !== "");
      }
    } else if (ch === "," && depth === 1) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  throw new Error("unclosed call");
}

/** The snake_case string literals of an expression. */
function codeLiterals(expression: string): string[] {
  // A literal compared with (`err.reason === "mismatch" ? ...`) is a condition, not a code.
  const bare = expression.replace(/[=!]==\s*"[^"]*"|"[^"]*"\s*[=!]==/g, "");
  return [...bare.matchAll(/"([a-z][a-z0-9_]*)"/g)].map((m) => m[1]);
}

/** Every error code in one source file; `where` names the file in failures. */
export function errorCodesIn(text: string, where: string): Set<string> {
  const codes = new Set<string>();
  const add = (expression: string, call: string) => {
    const passed = expression.match(/^(\w+)\.code$/);
    if (passed && text.includes(`${passed[1]} instanceof ApiError`)) return; // counted at its throw
    let found = codeLiterals(expression);
    if (found.length === 0 && /^[A-Za-z_$][\w$]*$/.test(expression)) {
      // A variable: the literals of its `const` in the same file.
      const init = text.match(new RegExp(`const ${expression}\\b[^=]*=([^;]*);`));
      found = init ? codeLiterals(init[1]) : [];
    }
    assert.ok(found.length > 0, `${where}: cannot read the code of ${call}(${expression}, ...)`);
    found.forEach((c) => codes.add(c));
  };
  for (const m of text.matchAll(/new ApiError\(/g)) {
    add(callArguments(text, m.index! + m[0].length - 1)[1] ?? "", "new ApiError");
  }
  for (const m of text.matchAll(/\berrorResponse\(/g)) {
    if (/function errorResponse\($/.test(text.slice(m.index! - 9, m.index! + m[0].length))) {
      continue; // its declaration
    }
    add(callArguments(text, m.index! + m[0].length - 1)[2] ?? "", "errorResponse");
  }
  for (const m of text.matchAll(/error: \{ code: "([a-z_]+)"/g)) codes.add(m[1]);
  return codes;
}

/** Every error code the service's source can produce. */
async function sourceCodes(): Promise<Set<string>> {
  const codes = new Set<string>();
  const walk = async (dir: URL, rel: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${rel}${entry.name}`;
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir), `${path}/`);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(new URL(entry.name, dir));
        // Comments and JSDoc examples are not code.
        const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
        errorCodesIn(code, path).forEach((c) => codes.add(c));
      }
    }
  };
  await walk(new URL("src/", ROOT), "src/");
  return codes;
}

/** The codes of the table under `heading` in a Markdown file: `| <status> | \`code\` | ...`. */
async function documentedCodes(file: string, heading: string): Promise<Set<string>> {
  const text = await Deno.readTextFile(new URL(file, ROOT));
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `${file} has a section "${heading}"`);
  const end = text.indexOf("\n#", start + heading.length + 2);
  const section = text.slice(start, end < 0 ? undefined : end);
  return new Set([...section.matchAll(/^\| \d{3}\s+\| `([a-z_]+)`/gm)].map((m) => m[1]));
}

Deno.test("the scan reads literal, conditional and named codes, and refuses others", () => {
  const text = `
    throw new ApiError(400, "invalid_json", "the body is not valid JSON");
    return new ApiError(
      e.reason === "mismatch" ? 401 : 409,
      e.reason === "mismatch" ? "code_used" : "invalid_code",
      f(a, "not_a_code"),
    );
    const code = status === 413 ? "payload_too_large" : "bad_request";
    return errorResponse(c, status, code, err.message);
    text += JSON.stringify({ error: { code: "unreadable_entry", message } });`;
  assert.deepEqual(
    [...errorCodesIn(text, "t.ts")].sort(),
    [
      "bad_request",
      "code_used",
      "invalid_code",
      "invalid_json",
      "payload_too_large",
      "unreadable_entry",
    ],
  );
  assert.throws(() => errorCodesIn("new ApiError(400, err.code, m)", "t.ts"), /cannot read/);
});

Deno.test("every error code the service can produce is documented, in English and Chinese", async () => {
  const produced = await sourceCodes();
  assert.ok(produced.size >= 30, `the scan finds the codes (${produced.size})`);
  for (const code of ["invalid_json", "not_configured", "too_many_concurrent", "aborted"]) {
    assert.ok(produced.has(code), `the scan finds ${code}`);
  }
  for (
    const [file, heading] of [
      ["README.md", "### Error codes"],
      ["README.zh-CN.md", "### 错误码"],
    ]
  ) {
    const documented = await documentedCodes(file, heading);
    const missing = [...produced].filter((c) => !documented.has(c)).sort();
    const stale = [...documented].filter((c) => !produced.has(c)).sort();
    assert.deepEqual(missing, [], `${file}: codes the service produces but the table lacks`);
    assert.deepEqual(stale, [], `${file}: codes the table lists but the service never produces`);
  }
});
