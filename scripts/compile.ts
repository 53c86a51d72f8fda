/**
 * `deno task compile [--target <triple>]... [--output <file>]`: builds the `lws` binary with `deno compile` for
 * linux x86_64 and aarch64 (default both, into `dist/lws-<arch>`), embedding the dashboard assets (`ui/static`), the
 * CRD and the build information (`dist/build_info.json`: git commit and date).
 *
 * The permissions are defined once: they are the flags of the `lws` task in deno.json (what `deno task lws -- …` and
 * every test run), read from there and passed unchanged to `deno compile`. `deno compile` needs Deno's `denort`
 * runtime for each target, downloaded from Deno's server unless `DENORT_BIN` names a local copy (the variable is
 * read by `deno compile` itself and passed through).
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BUILD_INFO_FILE, gitCommit } from "../cli/build_info.ts";
import { CRD_PATH } from "../cli/install.ts";

/** The repository root. */
export const ROOT: string = join(import.meta.dirname!, "..");
/** Targets built by default. */
export const TARGETS: readonly string[] = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];
/** Files and directories embedded with `--include`, relative to the root. */
export const INCLUDES: readonly string[] = ["ui/static", CRD_PATH, BUILD_INFO_FILE];

/**
 * The permission flags of the `lws` task: everything between `deno run` and `mod.ts`.
 *
 * @param task The task's command line, e.g. `deno run --no-prompt --allow-read … mod.ts`.
 * @returns The flags, e.g. `["--no-prompt", "--allow-read", …]`.
 * @throws {Error} When the task is not `deno run <flags> mod.ts` or a flag is not a permission flag.
 */
export function permissionFlags(task: string): string[] {
  const words = task.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "mod.ts") {
    throw new Error(
      `Cannot read permissions: the lws task must be "deno run <permission flags> mod.ts", got "${task}"`,
    );
  }
  const flags = words.slice(2, -1);
  for (const flag of flags) {
    if (!/^--(allow|deny)-[a-z]+(=.+)?$/.test(flag) && flag !== "--no-prompt") {
      throw new Error(`Cannot read permissions: "${flag}" in the lws task is not a permission flag`);
    }
  }
  return flags;
}

/**
 * Reads the `lws` task of deno.json and returns its permission flags.
 *
 * @param root The repository root.
 * @returns The flags.
 */
export async function lwsPermissionFlags(root: string = ROOT): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json"))) as { tasks?: Record<string, string> };
  const task = config.tasks?.lws;
  if (!task) throw new Error("Cannot read permissions: deno.json has no lws task");
  return permissionFlags(task);
}

/** The `dist/` file name of a target's binary: `lws-x86_64`, `lws-aarch64`. */
export function binaryName(target: string): string {
  return `lws-${target.split("-")[0]}`;
}

/**
 * The arguments of one `deno compile` run.
 *
 * @param flags Permission flags (from the `lws` task).
 * @param target Target triple.
 * @param output Output file.
 * @returns The arguments after `deno`.
 */
export function compileArgs(flags: readonly string[], target: string, output: string): string[] {
  return [
    "compile",
    ...flags,
    ...INCLUDES.flatMap((path) => ["--include", path]),
    "--target",
    target,
    "--output",
    output,
    "mod.ts",
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args,
    options: { target: { type: "string", multiple: true }, output: { type: "string" }, help: { type: "boolean" } },
  });
  if (values.help) {
    console.log(
      "Usage: deno task compile [--target <triple>]... [--output <file>]\n" +
        `Targets: ${TARGETS.join(", ")} (default: both, into dist/lws-<arch>). DENORT_BIN: a local denort.`,
    );
    return 0;
  }
  const targets = values.target ?? [...TARGETS];
  for (const target of targets) {
    if (!TARGETS.includes(target)) {
      throw new Error(`Cannot compile: --target must be one of ${TARGETS.join(", ")}, got ${target}`);
    }
  }
  if (values.output && targets.length !== 1) throw new Error("Cannot compile: --output needs exactly one --target");
  try {
    await Deno.stat(join(ROOT, "ui", "static", "islands.js"));
  } catch {
    throw new Error("Cannot compile: ui/static/islands.js is missing (run `deno task ui:bundle`)");
  }
  const flags = await lwsPermissionFlags();
  const commit = Deno.env.get("LWS_GIT_COMMIT") || await gitCommit(ROOT) || "unknown";
  await Deno.mkdir(join(ROOT, "dist"), { recursive: true });
  await Deno.writeTextFile(
    join(ROOT, BUILD_INFO_FILE),
    JSON.stringify({ commit, buildDate: new Date().toISOString() }, null, 2) + "\n",
  );
  const denort = Deno.env.get("DENORT_BIN");
  console.error(`[compile] permissions (from the lws task): ${flags.join(" ")}`);
  console.error(`[compile] commit ${commit}; runtime: ${denort ? `DENORT_BIN=${denort}` : "denort from dl.deno.land"}`);
  for (const target of targets) {
    const output = values.output ?? join("dist", binaryName(target));
    const args = compileArgs(flags, target, output);
    console.error(`[compile] deno ${args.join(" ")}`);
    const status = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdout: "inherit", stderr: "inherit" })
      .spawn().status;
    if (!status.success) {
      console.error(
        `[compile] deno compile failed for ${target} (exit ${status.code}). It needs the denort runtime: network ` +
          "access to dl.deno.land, or DENORT_BIN pointing at a denort binary of this Deno version and target.",
      );
      return status.code || 1;
    }
    console.error(`[compile] wrote ${output}`);
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (err) {
    console.error(`[compile] ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
