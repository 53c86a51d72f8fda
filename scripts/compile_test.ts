import assert from "node:assert/strict";
import { binaryName, compileArgs, INCLUDES, lwsPermissionFlags, permissionFlags, TARGETS } from "./compile.ts";

Deno.test("permissionFlags() takes the flags between `deno run` and `mod.ts`", () => {
  assert.deepEqual(permissionFlags("deno run --no-prompt --allow-read --allow-env=HOME mod.ts"), [
    "--no-prompt",
    "--allow-read",
    "--allow-env=HOME",
  ]);
  assert.throws(() => permissionFlags("deno run -A mod.ts"), /"-A" in the lws task is not a permission flag/);
  assert.throws(
    () => permissionFlags("deno run --allow-read other.ts"),
    /must be "deno run <permission flags> mod\.ts"/,
  );
  assert.throws(() => permissionFlags("deno run --allow-all --watch mod.ts"), /"--watch"/);
});

Deno.test("the lws task grants no write and no blanket permission; compile uses exactly its flags", async () => {
  const flags = await lwsPermissionFlags();
  assert.ok(flags.includes("--no-prompt"));
  assert.ok(!flags.some((f) => f.startsWith("--allow-write") || f === "--allow-all" || f.startsWith("--allow-ffi")));
  const args = compileArgs(flags, TARGETS[0]!, "dist/lws-x86_64");
  assert.deepEqual(args.slice(0, 1 + flags.length), ["compile", ...flags]);
  for (const include of INCLUDES) assert.ok(args.join(" ").includes(`--include ${include}`));
  assert.deepEqual(args.slice(-5), ["--target", "x86_64-unknown-linux-gnu", "--output", "dist/lws-x86_64", "mod.ts"]);
});

Deno.test("binaryName() names binaries by architecture", () => {
  assert.deepEqual(TARGETS.map(binaryName), ["lws-x86_64", "lws-aarch64"]);
});
