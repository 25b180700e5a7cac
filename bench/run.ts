/**
 * `deno task bench`: runs every benchmark, one process after another so they do not compete for
 * the machine, each printing its figures beside a baseline measured in the same run.
 *
 *   deno task bench [name ...]   e.g. `deno task bench ledger push`
 *
 * @module
 */
const ALL = [
  "ledger",
  "upload",
  "wechat_client",
  "push",
  "audit",
  "keywords",
  "credit_index",
  "subscribe",
];
const chosen = Deno.args.length > 0 ? Deno.args : ALL;
let failed = 0;
for (const name of chosen) {
  const file = new URL(`./${name}.ts`, import.meta.url);
  console.log(`\n== bench/${name}.ts`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", file.pathname],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.error(`bench/${name}.ts exited with ${code}`);
    failed++;
  }
}
Deno.exit(failed > 0 ? 1 : 0);
