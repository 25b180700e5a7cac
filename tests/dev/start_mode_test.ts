/**
 * The start mode as the real process shows it: started as `deno task start` does, with one
 * real setting, or on Deno Deploy, the service runs configured (no simulator, no made-up
 * secrets) and its first line says why.
 */
import assert from "node:assert/strict";
import { listeningPort, startService } from "./start_process.ts";

const ADMIN = "an-admin-token-set-by-the-operator";

async function get(port: number, path: string): Promise<{ status: number; code: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", body: "{}" });
  return { status: res.status, code: (await res.json()).error?.code };
}

for (
  const [name, env, why] of [
    ["a real setting (ADMIN_TOKEN)", { ADMIN_TOKEN: ADMIN }, "(set: ADMIN_TOKEN)"],
    ["DENO_DEPLOYMENT_ID", { DENO_DEPLOYMENT_ID: "dep123" }, "(DENO_DEPLOYMENT_ID is set: "],
  ] as const
) {
  Deno.test({
    name: `deno task start with ${name}: configured mode, no simulator, no dev secrets`,
    sanitizeResources: false,
    async fn() {
      const service = await startService({ PORT: "0", ...env });
      try {
        const port = await listeningPort(service);
        const out = service.output();
        assert.ok(out.startsWith(`formid-ledger: configured mode ${why}`), out);
        assert.ok(!/^dev mode:|DEV MODE|export LEDGER/m.test(out), out);
        assert.ok(!out.includes(ADMIN), "the token's value is never printed");
        assert.deepEqual(await get(port, "/__sim/codes"), { status: 404, code: "not_found" });
        assert.deepEqual(await get(port, "/v1/sessions"), {
          status: 503,
          code: "not_configured",
        });
      } finally {
        await service.stop();
      }
    },
  });
}
