/**
 * Import direction check behind `deno task layers`: reads the module graph of every
 * TypeScript file in the layer file's scope (`deno info --json`, one call per root not yet
 * reached, plus modules loaded at run time through `new URL("./x.ts", import.meta.url)`, such
 * as Workers) and fails on an import from a lower layer to a higher one, on any import cycle,
 * on a file in no layer, and on an allowlist entry that is no longer needed. Type-only and
 * dynamic imports count like the others.
 *
 * Usage: `deno run --allow-read --allow-run tools/check_layers.ts [--root <dir>] [--layers <file>]`
 * (defaults: the current directory and `<root>/layers.json`). Prints one line per problem and
 * exits 1 when there is any.
 *
 * @module
 */

/** One layer of the layer file. */
export interface Layer {
  name: string;
  /** Paths relative to the root; a path ending in `/` is a folder. */
  paths: string[];
  purpose: string;
}

/** A known violation the check lets through until the code is fixed. */
export interface Allowed {
  from: string;
  to: string;
  reason: string;
}

/** The layer file: which files are checked, the layers lowest first, the allowlist. */
export interface LayerFile {
  /** Every TypeScript file under these paths must belong to a layer. */
  scope: string[];
  layers: Layer[];
  allowlist: Allowed[];
}

/** One import between two local modules, paths relative to the root. */
export interface Edge {
  from: string;
  to: string;
  /** How `from` loads `to`: "import", "type import", "dynamic import" or "run-time URL". */
  how: string;
}

/** What the check found. `problems` empty means the tree passes. */
export interface Report {
  /** The checked files, relative to the root. */
  files: string[];
  /** Every import from a checked file to a local module. */
  edges: Edge[];
  /** One line per problem, `importer -> imported: why`. */
  problems: string[];
  /** Violations let through by the allowlist, as `importer -> imported: reason`. */
  allowed: string[];
}

const SOURCE = /\.(ts|tsx|mts|js|jsx|mjs)$/;

/**
 * Reads and validates a layer file.
 *
 * @example
 * ```ts
 * const file = await readLayerFile("layers.json");
 * file.layers[0].name; // "shared"
 * ```
 */
export async function readLayerFile(path: string): Promise<LayerFile> {
  const raw = JSON.parse(await Deno.readTextFile(path));
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
  if (!strings(raw?.scope) || !Array.isArray(raw?.layers)) {
    throw new Error(`${path}: needs "scope" (paths) and "layers" (lowest first)`);
  }
  for (const layer of raw.layers) {
    if (typeof layer?.name !== "string" || !strings(layer.paths)) {
      throw new Error(`${path}: every layer needs a "name" and "paths"`);
    }
  }
  const allowlist = raw.allowlist ?? [];
  for (const a of allowlist) {
    if (typeof a?.from !== "string" || typeof a.to !== "string" || !a.reason) {
      throw new Error(`${path}: every allowlist entry needs "from", "to" and a "reason"`);
    }
  }
  return { scope: raw.scope, layers: raw.layers, allowlist };
}

/**
 * The index (0 = lowest) of the layer `file` belongs to, by its longest matching path; -1
 * when none matches.
 *
 * @example
 * ```ts
 * const layers = [{ name: "shared", paths: ["src/shared/"], purpose: "" }];
 * layerOf("src/shared/clock.ts", layers); // 0
 * layerOf("src/app.ts", layers); // -1
 * ```
 */
export function layerOf(file: string, layers: Layer[]): number {
  let best = -1;
  let bestLength = -1;
  layers.forEach((layer, i) => {
    for (const p of layer.paths) {
      const hit = p.endsWith("/") ? file.startsWith(p) : file === p;
      if (hit && p.length > bestLength) [best, bestLength] = [i, p.length];
    }
  });
  return best;
}

/** Source files under `path` (a file or a folder) relative to `root`, sorted. */
async function sourcesUnder(root: string, path: string): Promise<string[]> {
  const full = `${root}/${path}`;
  let info;
  try {
    info = await Deno.stat(full);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  if (info.isFile) return SOURCE.test(path) ? [path.replace(/\/+$/, "")] : [];
  const out: string[] = [];
  for await (const entry of Deno.readDir(full)) {
    const child = `${path.replace(/\/+$/, "")}/${entry.name}`;
    out.push(...await sourcesUnder(root, entry.isDirectory ? `${child}/` : child));
  }
  return out.sort();
}

interface InfoDependency {
  code?: { specifier?: string };
  type?: { specifier?: string };
  isDynamic?: boolean;
}
interface InfoModule {
  specifier: string;
  error?: string;
  dependencies?: InfoDependency[];
  typesDependency?: { dependency?: { specifier?: string } };
}

/** `deno info --json` of one root: its modules (npm and remote ones left unresolved). */
async function denoInfo(root: string, file: string): Promise<InfoModule[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--no-npm", "--no-remote", file],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`deno info ${file} failed: ${err}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)).modules;
}

// `new URL("./x.ts", import.meta.url)`: a module loaded at run time (a Worker, say), which
// `deno info` does not see. Lua and other data files are not modules and are skipped.
const RUNTIME_URL =
  /new\s+URL\(\s*(["'`])([^"'`$]+\.(?:ts|tsx|mts|js|mjs))\1\s*,\s*import\.meta\.url/g;

/**
 * The module graph of `files` (relative to `root`): every import from one of them to a local
 * module, and the local modules `deno info` could not load.
 *
 * @example
 * ```ts
 * const { edges } = await moduleGraph(".", ["main.ts"]);
 * edges.some((e) => e.from === "main.ts" && e.to === "src/app.ts"); // true
 * ```
 */
export async function moduleGraph(
  root: string,
  files: string[],
): Promise<{ edges: Edge[]; unresolved: string[] }> {
  const rootUrl = new URL(`file://${await Deno.realPath(root)}/`);
  const relative = (specifier: string): string | null =>
    specifier.startsWith(rootUrl.href)
      ? decodeURIComponent(specifier.slice(rootUrl.href.length))
      : (
        specifier.startsWith("file:") ? decodeURIComponent(new URL(specifier).pathname) : null
      );
  const wanted = new Set(files);
  const seen = new Set<string>();
  const edges = new Map<string, Edge>();
  const unresolved = new Set<string>();
  const add = (from: string, to: string, how: string) => {
    const key = `${from}\0${to}`;
    const known = edges.get(key);
    if (!known) edges.set(key, { from, to, how });
    else if (!known.how.split(", ").includes(how)) known.how += `, ${how}`;
  };
  for (const file of files) {
    if (seen.has(file)) continue;
    for (const module of await denoInfo(root, file)) {
      const from = relative(module.specifier);
      if (from === null || seen.has(from)) continue;
      if (module.error) {
        unresolved.add(`${from}: ${module.error}`);
        continue;
      }
      seen.add(from);
      if (!wanted.has(from)) continue;
      for (const dep of module.dependencies ?? []) {
        const code = dep.code?.specifier ? relative(dep.code.specifier) : null;
        const type = dep.type?.specifier ? relative(dep.type.specifier) : null;
        if (code !== null) add(from, code, dep.isDynamic ? "dynamic import" : "import");
        if (type !== null && type !== code) add(from, type, "type import");
      }
      const types = module.typesDependency?.dependency?.specifier;
      if (types && relative(types) !== null) add(from, relative(types)!, "type import");
    }
  }
  for (const file of files) {
    const text = await Deno.readTextFile(`${root}/${file}`);
    for (const m of text.matchAll(RUNTIME_URL)) {
      const to = relative(new URL(m[2], new URL(file, rootUrl)).href);
      if (to !== null) add(file, to, "run-time URL");
    }
  }
  return { edges: [...edges.values()], unresolved: [...unresolved].sort() };
}

/**
 * The strongly connected components of a directed graph with more than one node or a
 * self-loop: each one holds at least one cycle (Tarjan's algorithm).
 *
 * @example
 * ```ts
 * tangles(["a", "b", "c"], [["a", "b"], ["b", "a"], ["b", "c"]]); // [["a", "b"]]
 * ```
 */
export function tangles(nodes: string[], edges: [string, string][]): string[][] {
  const next = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const [a, b] of edges) next.get(a)?.push(b);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || next.get(v)!.includes(v)) out.push(component.sort());
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** A shortest cycle through `start` inside `members` (breadth first), ending at `start`. */
function shortestCycle(start: string, members: Set<string>, edges: [string, string][]): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const [a, b] of edges) {
      if (a !== v || !members.has(b)) continue;
      if (b === start) {
        const path = [start];
        for (let u = v; u !== start; u = parent.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!parent.has(b)) {
        parent.set(b, v);
        queue.push(b);
      }
    }
  }
  return [start, start];
}

/**
 * Checks the tree at `root` against its layer file.
 *
 * @example
 * ```ts
 * const report = await checkLayers(".", "layers.json");
 * report.problems.length; // 0 when every import points down and nothing is in a cycle
 * ```
 */
export async function checkLayers(root: string, layersPath: string): Promise<Report> {
  const { scope, layers, allowlist } = await readLayerFile(layersPath);
  const files = [...new Set((await Promise.all(scope.map((p) => sourcesUnder(root, p)))).flat())];
  const inScope = new Set(files);
  const { edges, unresolved } = await moduleGraph(root, files);
  const problems: string[] = [];
  const allowed: string[] = [];
  const name = (i: number) => `${layers[i].name} (layer ${i + 1} of ${layers.length})`;

  for (const file of files) {
    if (layerOf(file, layers) < 0) problems.push(`${file}: in no layer; add it to a layer's paths`);
  }
  for (const u of unresolved) problems.push(`${u}: cannot be loaded`);

  const allow = new Map(allowlist.map((a) => [`${a.from}\0${a.to}`, a]));
  const isAllowed = (e: Edge) => allow.has(`${e.from}\0${e.to}`);
  const checked = edges.filter((e) => inScope.has(e.from));
  const pairs = (list: Edge[]): [string, string][] =>
    list.filter((e) => inScope.has(e.to)).map((e) => [e.from, e.to]);
  const fullTangles = tangles(files, pairs(checked));
  const tangled = new Map(fullTangles.flatMap((t, i) => t.map((f) => [f, i])));
  const needed = new Set<string>();

  for (const e of checked) {
    const [a, b] = [layerOf(e.from, layers), layerOf(e.to, layers)];
    if (b < 0 && !inScope.has(e.to)) {
      problems.push(`${e.from} -> ${e.to}: ${e.how} of a file outside the layers`);
      continue;
    }
    const up = a >= 0 && b > a;
    const inCycle = tangled.has(e.from) && tangled.get(e.from) === tangled.get(e.to);
    if (isAllowed(e) && (up || inCycle)) {
      needed.add(`${e.from}\0${e.to}`);
      allowed.push(`${e.from} -> ${e.to}: ${allow.get(`${e.from}\0${e.to}`)!.reason}`);
    } else if (up) {
      problems.push(
        `${e.from} -> ${e.to}: ${e.how} goes up, ${name(a)} imports ${name(b)}; ` +
          `a module may import only its own layer or lower ones`,
      );
    }
  }

  const kept = pairs(checked.filter((e) => !isAllowed(e)));
  for (const tangle of tangles(files, kept)) {
    const cycle = shortestCycle(tangle[0], new Set(tangle), kept);
    const more = tangle.length > cycle.length - 1 ? ` (${tangle.length} modules tangled)` : "";
    const where = [...new Set(cycle.map((f) => layers[layerOf(f, layers)]?.name ?? "no layer"))];
    problems.push(`cycle: ${cycle.join(" -> ")}${more}; layers ${where.join(", ")}`);
  }

  for (const a of allowlist) {
    if (!needed.has(`${a.from}\0${a.to}`)) {
      problems.push(
        `${a.from} -> ${a.to}: allowlisted but no longer goes up or closes a cycle; ` +
          `remove it from the allowlist`,
      );
    }
  }
  return { files, edges: checked, problems, allowed };
}

async function main(args: string[]): Promise<number> {
  let root = ".";
  let layersPath: string | null = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--root") root = args[++i];
    else if (args[i] === "--layers") layersPath = args[++i];
    else {
      console.error(`usage: check_layers.ts [--root <dir>] [--layers <file>]`);
      return 2;
    }
  }
  const report = await checkLayers(root, layersPath ?? `${root}/layers.json`);
  for (const line of report.allowed) console.log(`allowlisted: ${line}`);
  for (const line of report.problems) console.error(line);
  const counts = `${report.files.length} files, ${report.edges.length} imports`;
  if (report.problems.length > 0) {
    console.error(`layers: ${report.problems.length} problem(s) in ${counts}`);
    return 1;
  }
  console.log(`layers: ok, ${counts}, ${report.allowed.length} allowlisted`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
