import assert from "node:assert/strict";

const root = new URL("..", import.meta.url).pathname;

Deno.test("ui/static/islands.js is the current bundle of ui/islands/main.tsx (run `deno task ui:bundle`)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lws-ui-bundle-" });
  try {
    const output = `${dir}/islands.js`;
    // The same command as the `ui:bundle` task, into a temporary file.
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "browser", "--minify", "--output", output, "ui/islands/main.tsx"],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(result.success, `deno bundle failed: ${new TextDecoder().decode(result.stderr)}`);
    const fresh = await Deno.readTextFile(output);
    const committed = await Deno.readTextFile(`${root}ui/static/islands.js`);
    assert.ok(fresh === committed, "ui/static/islands.js is stale: run `deno task ui:bundle` and commit the result");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the islands bundle is self-contained: no remote imports, no eval", async () => {
  const bundle = await Deno.readTextFile(`${root}ui/static/islands.js`);
  assert.doesNotMatch(bundle, /\bimport\s*\(?\s*["']https?:/);
  assert.doesNotMatch(bundle, /from\s*["'](https?:|npm:|jsr:)/);
  assert.doesNotMatch(bundle, /\beval\(|new Function\(/);
});
