/**
 * The READMEs' quick starts (English and Chinese), each run as written: the service started as `deno task start` with an
 * empty environment, the `export LEDGER=...` line it prints pasted into a shell, then every
 * command of the quick start's blocks, each answer checked against the `# => ` line under it
 * (`…` matches anything). If the README and the service drift apart, this fails.
 *
 * PORT=0 is the one variable set: another service may hold port 8000 on a test machine. It is a
 * tuning setting, not a real one, so dev mode stays on (and prints the port it took).
 */
import assert from "node:assert/strict";
import { startService } from "./start_process.ts";

/** One command of the walk-through and the answer the README shows for it. */
export interface Step {
  command: string;
  /** The `# => ` lines under it, or null when the README shows no answer. */
  expect: string | null;
}

/** The `sh` blocks of a README's quick start section (`heading`), in order. */
export function quickStartBlocks(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `the README has a "${heading}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** A block's commands (continued lines joined) with their shown answers. */
export function parseSteps(block: string): Step[] {
  const steps: Step[] = [];
  let pending = "";
  for (const line of block.split("\n")) {
    if (pending) {
      pending += `\n${line}`;
      if (!line.endsWith("\\")) {
        steps.push({ command: pending, expect: null });
        pending = "";
      }
      continue;
    }
    if (line.startsWith("# => ")) {
      const last = steps.at(-1);
      assert.ok(last, `an answer with no command before it: ${line}`);
      last.expect = last.expect === null ? line.slice(5) : `${last.expect}\n${line.slice(5)}`;
    } else if (line.trim() === "" || line.startsWith("#")) {
      continue;
    } else if (line.endsWith("\\")) {
      pending = line;
    } else {
      steps.push({ command: line, expect: null });
    }
  }
  assert.equal(pending, "", "a command ends with a line continuation");
  return steps;
}

/** Whether `output` is the answer shown, `…` standing for any text. */
export function matchesShown(output: string, shown: string): boolean {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${shown.split("…").map(escape).join("[^]*?")}$`).test(output);
}

Deno.test("matchesShown: … matches anything, the rest literally", () => {
  assert.ok(matchesShown('{"token":"eyJabc","n":1}', '{"token":"eyJ…","n":1}'));
  assert.ok(!matchesShown('{"token":"eyJabc","n":2}', '{"token":"eyJ…","n":1}'));
  assert.ok(!matchesShown('{"n":1} extra', '{"n":1}'));
});

Deno.test("parseSteps: continued lines, answers, comments", () => {
  const steps = parseSteps('# a comment\nA=1\ncurl -s x \\\n  -d y\n# => {"ok":true}\n');
  assert.deepEqual(steps, [
    { command: "A=1", expect: null },
    { command: "curl -s x \\\n  -d y", expect: '{"ok":true}' },
  ]);
});

for (
  const [file, heading] of [
    ["README.md", "## Quick start"],
    ["README.zh-CN.md", "## 快速上手"],
  ]
) {
  Deno.test({
    name: `${file} quick start: every command works as written against \`deno task start\``,
    sanitizeResources: false,
    async fn() {
      const readme = await Deno.readTextFile(new URL(`../../${file}`, import.meta.url));
      const [startBlock, ...walkBlocks] = quickStartBlocks(readme, heading);
      assert.equal(startBlock.trim(), "deno task start", "the quick start begins with the start");
      const steps = walkBlocks.flatMap(parseSteps);
      assert.ok(steps.length >= 10, `the walk-through has its commands (${steps.length})`);
      for (const path of ["/v1/sessions", "/v1/formids", "/v1/push", "/v1/events", "/verify"]) {
        assert.ok(steps.some((s) => s.command.includes(path)), `the walk-through calls ${path}`);
      }

      const service = await startService({ PORT: "0" });
      try {
        await service.waitFor(/^formid-ledger: DEV MODE/m);
        const [exportLine] = await service.waitFor(/^export LEDGER=\S+ ADMIN_TOKEN=\S+ .*$/m);
        const printedSoFar = service.output();
        const adminToken = exportLine.match(/ADMIN_TOKEN=(\S+)/)![1];
        const auditToken = exportLine.match(/AUDIT_TOKEN=(\S+)/)![1];
        const sessionSecret = printedSoFar.match(/SESSION_SECRET=(\S+)/)![1];

        const dir = await Deno.makeTempDir({ prefix: "quickstart-" });
        const script = [
          "set -euo pipefail",
          exportLine, // pasted, as the README says
          ...steps.flatMap((step, i) => [`printf '\\n@@step ${i}\\n'`, step.command]),
          "printf '\\n@@end\\n'",
        ].join("\n");
        const run = await new Deno.Command("bash", {
          args: ["-c", script],
          cwd: dir,
          clearEnv: true,
          env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: dir },
        }).output();
        await Deno.remove(dir, { recursive: true });
        const stdout = new TextDecoder().decode(run.stdout);
        const stderr = new TextDecoder().decode(run.stderr);
        const context = `stdout:\n${stdout}\nstderr:\n${stderr}`;
        assert.equal(run.code, 0, `the walk-through's shell failed\n${context}`);
        assert.ok(stdout.endsWith("\n@@end\n"), `every command ran\n${context}`);

        const outputs = stdout.replace(/\n@@end\n$/, "").split(/\n@@step \d+\n/).slice(1);
        assert.equal(outputs.length, steps.length);
        steps.forEach((step, i) => {
          const output = outputs[i].trim();
          if (step.expect === null) {
            assert.equal(output, "", `\`${step.command}\` prints nothing`);
          } else {
            assert.ok(
              matchesShown(output, step.expect),
              `\`${step.command}\`\n  answered: ${output}\n  README shows: ${step.expect}`,
            );
          }
        });

        // The secrets were printed once, at start; the requests logged none of them.
        const afterStart = service.output().slice(printedSoFar.length);
        for (const secret of [adminToken, auditToken, sessionSecret, "eyJ"]) {
          assert.ok(!afterStart.includes(secret), "no secret or token in the log after the start");
        }
      } finally {
        await service.stop();
      }
    },
  });
}
