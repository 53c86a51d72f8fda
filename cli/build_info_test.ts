import assert from "node:assert/strict";
import { join } from "node:path";
import { formatBuildInfo, gitCommit, readBuildInfo, ROOT_DIR, VERSION } from "./build_info.ts";

Deno.test("VERSION is deno.json's version", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT_DIR, "deno.json")));
  assert.equal(VERSION, config.version);
});

Deno.test("gitCommit() resolves HEAD through loose refs, packed refs, detached heads and worktrees", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const git = join(dir, ".git");
    const a = "a".repeat(40);
    const b = "b".repeat(40);
    await Deno.mkdir(join(git, "refs", "heads"), { recursive: true });
    await t.step("loose ref", async () => {
      await Deno.writeTextFile(join(git, "HEAD"), "ref: refs/heads/main\n");
      await Deno.writeTextFile(join(git, "refs", "heads", "main"), `${a}\n`);
      assert.equal(await gitCommit(dir), a);
    });
    await t.step("packed ref", async () => {
      await Deno.writeTextFile(join(git, "HEAD"), "ref: refs/heads/packed\n");
      await Deno.writeTextFile(join(git, "packed-refs"), `# pack-refs with: peeled\n${b} refs/heads/packed\n`);
      assert.equal(await gitCommit(dir), b);
    });
    await t.step("detached", async () => {
      await Deno.writeTextFile(join(git, "HEAD"), `${a}\n`);
      assert.equal(await gitCommit(dir), a);
    });
    await t.step("worktree", async () => {
      const tree = join(dir, "tree");
      const gitdir = join(git, "worktrees", "tree");
      await Deno.mkdir(gitdir, { recursive: true });
      await Deno.mkdir(tree);
      await Deno.writeTextFile(join(tree, ".git"), `gitdir: ${gitdir}\n`);
      await Deno.writeTextFile(join(gitdir, "HEAD"), "ref: refs/heads/main\n");
      await Deno.writeTextFile(join(gitdir, "commondir"), "../..\n");
      assert.equal(await gitCommit(tree), a);
    });
    await t.step("no repository", async () => {
      assert.equal(await gitCommit(join(dir, "nowhere")), undefined);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readBuildInfo() and formatBuildInfo() name version, commit, build date and Deno", async () => {
  const info = await readBuildInfo();
  assert.equal(info.version, `v${VERSION}`);
  assert.equal(info.compiled, false);
  assert.match(
    formatBuildInfo(info),
    /^Version: v.*\nGit Commit: .*\nBuild Date: .*\nDeno: deno \d+\.\d+\.\d+ \(v8 .*, typescript .*\)\nBinary: deno run\n$/,
  );
});
