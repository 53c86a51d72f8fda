/**
 * Slow: compiles and runs the Go generators (needs Go and the module proxy or a warm module cache) and fails when a
 * committed generated file is stale. Regenerate with `deno task gen:gotypes` / `deno task oracle`.
 *
 * The upstream oracle (tests/oracle/upstream) imports the published sigs.k8s.io/lws module with controller-runtime
 * and client-go: its first build takes a few CPU-minutes; later runs reuse Go's build cache (~/.cache/go-build) and
 * module cache.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

async function goRun(dir: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("go", {
    args: ["-C", dir, "run", "."],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `go run in ${dir} failed: ${err}`);
  return new TextDecoder().decode(stdout);
}

Deno.test("go_types_gen.ts is what tools/gotypes generates (deno task gen:gotypes)", async () => {
  const committed = await Deno.readTextFile(new URL("controller/leaderworkerset/go_types_gen.ts", ROOT));
  assert.equal(await goRun("tools/gotypes"), committed);
});

Deno.test("golden.json is what the Go oracle computes (deno task oracle)", async () => {
  const committed = await Deno.readTextFile(new URL("tests/oracle/golden.json", ROOT));
  assert.equal(await goRun("tests/oracle"), committed);
});

Deno.test("upstream.json is what upstream LWS's own revision code computes (deno task oracle)", async () => {
  const committed = await Deno.readTextFile(new URL("tests/oracle/upstream/upstream.json", ROOT));
  assert.equal(await goRun("tests/oracle/upstream"), committed);
});
