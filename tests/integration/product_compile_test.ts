/**
 * The `deno compile`d binary itself: `deno task compile` for this machine's target, then the binary prints its
 * version (commit embedded), and `lws run` from it serves the embedded dashboard assets, reaches ready against the
 * control plane and stops cleanly — proving the `--include`s and the permissions baked in from the `lws` task.
 *
 * `deno compile` needs Deno's `denort` runtime, downloaded from Deno's server (unreachable on the development
 * machines) or given as `DENORT_BIN`. Without it this test is reported as ignored, with the reason in its name;
 * every other test runs the same entrypoint with the same permissions through `deno run`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { requireCluster } from "../cluster/harness.ts";
import { httpGet, ProductProcess } from "./support/product_process.ts";

const ROOT = join(import.meta.dirname!, "..", "..");
const TARGET = Deno.build.target;

/** Where `deno compile` would find denort: `DENORT_BIN`, or the download cache of this Deno version. */
function denortAvailable(): { ok: true; source: string } | { ok: false; reason: string } {
  const fromEnv = Deno.env.get("DENORT_BIN");
  if (fromEnv) {
    try {
      if (Deno.statSync(fromEnv).isFile) return { ok: true, source: `DENORT_BIN=${fromEnv}` };
    } catch {
      return { ok: false, reason: `DENORT_BIN=${fromEnv} does not exist` };
    }
  }
  const denoDir = Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno");
  const cached = join(denoDir, "dl", "release", `v${Deno.version.deno}`, `denort-${TARGET}.zip`);
  try {
    if (Deno.statSync(cached).isFile) return { ok: true, source: cached };
  } catch {
    // Not cached.
  }
  return {
    ok: false,
    reason: `no denort for ${TARGET}: DENORT_BIN unset and ${cached} not cached (dl.deno.land is unreachable here)`,
  };
}

const denort = denortAvailable();

Deno.test({
  name: denort.ok
    ? `the compiled lws binary runs (denort: ${denort.source})`
    : `the compiled lws binary runs (ignored: ${denort.reason})`,
  ignore: !denort.ok,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const binary = join(dir, "lws");
      const compile = await new Deno.Command(Deno.execPath(), {
        args: ["task", "compile", "--target", TARGET, "--output", binary],
        cwd: ROOT,
        stdin: "null",
      }).output();
      assert.equal(compile.code, 0, new TextDecoder().decode(compile.stderr));

      const version = await new Deno.Command(binary, { args: ["version"] }).output();
      const text = new TextDecoder().decode(version.stdout);
      assert.equal(version.code, 0);
      assert.match(text, /^Version: v\d+\.\d+\.\d+$/m);
      assert.match(text, /^Git Commit: [0-9a-f]{40}$/m);
      assert.match(text, /^Binary: compiled \(deno compile\)$/m);

      const cluster = await requireCluster();
      await using lws = await ProductProcess.start(cluster, {
        namespace: "default",
        binary,
        name: "compiled lws",
        args: ["--no-webhook", "--leader-elect=false", "--no-controllers", "--metrics-secure=false"],
      });
      const dashboard = lws.url("dashboard");
      const page = await httpGet(dashboard);
      assert.equal(page.status, 200);
      const css = /href="(\/static\/style\.css\?v=[0-9a-f]+)"/.exec(page.body)?.[1];
      assert.ok(css, page.body.slice(0, 500));
      assert.equal((await httpGet(`${dashboard}${css}`)).status, 200, "embedded assets are served");
      assert.equal((await httpGet(lws.url("metrics"))).status, 200);
      assert.equal((await lws.stop()).code, 0, lws.tail());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
