import assert from "node:assert/strict";
import { checkLayers, readLayerFile, tangles } from "../../tools/check_layers.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const TOOL = new URL("../../tools/check_layers.ts", import.meta.url).pathname;

/** Every source file under `dir` (relative to ROOT). */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}/${dir}`)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await walk(path));
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** A two-layer fixture tree (low < high) in a temp dir: `files` maps path -> source. */
async function fixture(
  files: Record<string, string>,
  allowlist: unknown[] = [],
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "check_layers_" });
  const layers = {
    scope: ["src/"],
    layers: [
      { name: "low", paths: ["src/low/"], purpose: "below" },
      { name: "high", paths: ["src/high/", "src/top.ts"], purpose: "above" },
    ],
    allowlist,
  };
  await Deno.writeTextFile(`${dir}/layers.json`, JSON.stringify(layers));
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${path}`, text);
  }
  return dir;
}

async function check(files: Record<string, string>, allowlist: unknown[] = []) {
  const dir = await fixture(files, allowlist);
  try {
    return await checkLayers(dir, `${dir}/layers.json`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the real tree passes, every file under src/ checked, allowlist all in use", async () => {
  const report = await checkLayers(ROOT, `${ROOT}/layers.json`);
  assert.deepEqual(report.problems, []);
  const { allowlist } = await readLayerFile(`${ROOT}/layers.json`);
  assert.equal(report.allowed.length, allowlist.length);
  const expected = [...await walk("src"), "main.ts"].sort();
  assert.deepEqual([...report.files].sort(), expected);
  // The Worker is loaded through new URL(...), which deno info does not follow.
  assert.ok(
    report.edges.some((e) =>
      e.from === "src/audit/parallel.ts" && e.to === "src/audit/verify_worker.ts" &&
      e.how.includes("run-time URL")
    ),
  );
  assert.ok(report.edges.some((e) => e.from === "main.ts" && e.to === "src/app.ts"));
});

Deno.test("an up-import is caught, type-only too; down and sideways imports are fine", async () => {
  const report = await check({
    "src/low/a.ts": `import type { B } from "../high/b.ts";\nexport type A = B;\n`,
    "src/low/c.ts": `import { x } from "./x.ts";\nexport const c = x;\n`,
    "src/low/x.ts": `export const x = 1;\n`,
    "src/high/b.ts": `import { x } from "../low/x.ts";\nexport type B = typeof x;\n`,
  });
  assert.equal(report.problems.length, 1, report.problems.join("\n"));
  assert.match(report.problems[0], /^src\/low\/a\.ts -> src\/high\/b\.ts: type import goes up/);
  assert.match(report.problems[0], /low \(layer 1 of 2\) imports high \(layer 2 of 2\)/);
});

Deno.test("a cycle inside one layer is named", async () => {
  const report = await check({
    "src/high/c.ts": `import { d } from "./d.ts";\nexport const c = () => d();\n`,
    "src/high/d.ts": `import { e } from "./e.ts";\nexport const d = () => e();\n`,
    "src/high/e.ts": `import { c } from "./c.ts";\nexport const e = () => c();\n`,
  });
  assert.deepEqual(report.problems, [
    "cycle: src/high/c.ts -> src/high/d.ts -> src/high/e.ts -> src/high/c.ts; layers high",
  ]);
});

Deno.test("a Worker loaded by new URL(...) counts as an import", async () => {
  const report = await check({
    "src/low/spawn.ts":
      `export const w = () => new Worker(new URL("../high/job.ts", import.meta.url), { type: "module" });\n`,
    "src/high/job.ts": `export {};\n`,
  });
  assert.equal(report.problems.length, 1, report.problems.join("\n"));
  assert.match(
    report.problems[0],
    /^src\/low\/spawn\.ts -> src\/high\/job\.ts: run-time URL goes up/,
  );
});

Deno.test("allowlisted violations pass; a stale entry and a file in no layer fail", async () => {
  const files = {
    "src/low/a.ts": `import { b } from "../high/b.ts";\nexport const a = b;\n`,
    "src/high/b.ts": `export const b = 1;\n`,
    "src/stray.ts": `export const s = 1;\n`,
  };
  const report = await check(files, [
    { from: "src/low/a.ts", to: "src/high/b.ts", reason: "known, fixed elsewhere" },
    { from: "src/high/b.ts", to: "src/low/a.ts", reason: "long gone" },
  ]);
  assert.deepEqual(report.allowed, ["src/low/a.ts -> src/high/b.ts: known, fixed elsewhere"]);
  assert.deepEqual(report.problems, [
    "src/stray.ts: in no layer; add it to a layer's paths",
    "src/high/b.ts -> src/low/a.ts: allowlisted but no longer goes up or closes a cycle; " +
    "remove it from the allowlist",
  ]);
});

Deno.test("the CLI prints one line per problem and exits 1; 0 on a clean tree", async () => {
  const run = async (files: Record<string, string>) => {
    const dir = await fixture(files);
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-run", TOOL, "--root", dir],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = (b: Uint8Array) => new TextDecoder().decode(b).trim().split("\n");
      return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
  const bad = await run({
    "src/low/a.ts": `import "../high/b.ts";\n`,
    "src/high/b.ts": `import "./c.ts";\n`,
    "src/high/c.ts": `import "./b.ts";\n`,
  });
  assert.equal(bad.code, 1);
  assert.deepEqual(bad.stderr.map((l) => l.split(":")[0]), [
    "src/low/a.ts -> src/high/b.ts",
    "cycle",
    "layers",
  ]);
  assert.match(bad.stderr[2], /^layers: 2 problem\(s\) in 3 files, 3 imports$/);
  const good = await run({ "src/high/b.ts": `import "../low/a.ts";\n`, "src/low/a.ts": `\n` });
  assert.equal(good.code, 0);
  assert.match(good.stdout.at(-1)!, /^layers: ok, 2 files, 1 imports, 0 allowlisted$/);
});

Deno.test("tangles finds each strongly connected part once, self-loops included", () => {
  assert.deepEqual(
    tangles(["a", "b", "c", "d"], [["a", "b"], ["b", "a"], ["c", "d"], ["d", "d"]]),
    [
      ["a", "b"],
      ["d"],
    ],
  );
  assert.deepEqual(tangles(["a", "b"], [["a", "b"]]), []);
});
