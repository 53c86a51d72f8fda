/**
 * What `lws version` prints: the product version, the git commit and build date, and the Deno runtime.
 *
 * The commit comes from `build_info.json` embedded by the compile task (`scripts/compile.ts` writes it to
 * `dist/build_info.json` and passes `--include`) inside a compiled binary, and from the repository's `.git`
 * directory when the entrypoint runs with `deno run` (read as files: no `git` process, no extra permission).
 *
 * @module
 */
import { join, resolve } from "node:path";

/** The product's version (also `version` in deno.json, checked by a test), stamped into the User-Agent. */
export const VERSION = "0.1.0";

/** The repository root (this file lives in `cli/`); inside a compiled binary, the root of its embedded files. */
export const ROOT_DIR: string = join(import.meta.dirname ?? ".", "..");

/** Where the compile task writes the build information it embeds. */
export const BUILD_INFO_FILE = "dist/build_info.json";

/** Build information of the running binary. */
export interface BuildInfo {
  /** `v<semver>`, e.g. `v0.1.0`. */
  version: string;
  /** Full git commit, or `unknown`. */
  commit: string;
  /** ISO 8601 build time of a compiled binary; `unknown` under `deno run`. */
  buildDate: string;
  /** Deno, V8 and TypeScript versions of the runtime. */
  deno: string;
  /** `true` inside a `deno compile`d binary. */
  compiled: boolean;
}

/** What the compile task writes to {@linkcode BUILD_INFO_FILE}. */
export interface EmbeddedBuildInfo {
  commit: string;
  buildDate: string;
}

/**
 * Reads the build information.
 *
 * @param root The repository root (default {@linkcode ROOT_DIR}).
 * @returns The build information; never throws (unknown parts are `unknown`).
 */
export async function readBuildInfo(root: string = ROOT_DIR): Promise<BuildInfo> {
  const compiled = Deno.build.standalone === true;
  let commit = "unknown";
  let buildDate = "unknown";
  if (compiled) {
    try {
      const embedded = JSON.parse(await Deno.readTextFile(join(root, BUILD_INFO_FILE))) as EmbeddedBuildInfo;
      commit = embedded.commit || "unknown";
      buildDate = embedded.buildDate || "unknown";
    } catch {
      // Compiled without the build information: leave it unknown.
    }
  } else {
    commit = await gitCommit(root) ?? "unknown";
  }
  return {
    version: `v${VERSION}`,
    commit,
    buildDate,
    deno: `deno ${Deno.version.deno} (v8 ${Deno.version.v8}, typescript ${Deno.version.typescript})`,
    compiled,
  };
}

/**
 * The commit `HEAD` points at, read from `<root>/.git` (a directory, or a `gitdir:` file of a worktree), following
 * one symbolic ref through loose refs and `packed-refs`.
 *
 * @param root The repository root.
 * @returns The full commit hash, or `undefined` when there is no readable repository.
 */
export async function gitCommit(root: string): Promise<string | undefined> {
  try {
    let gitDir = join(root, ".git");
    const stat = await Deno.stat(gitDir);
    if (stat.isFile) {
      const pointer = (await Deno.readTextFile(gitDir)).trim();
      if (!pointer.startsWith("gitdir:")) return undefined;
      gitDir = resolve(root, pointer.slice("gitdir:".length).trim());
    }
    const head = (await Deno.readTextFile(join(gitDir, "HEAD"))).trim();
    if (!head.startsWith("ref:")) return /^[0-9a-f]{40,64}$/.test(head) ? head : undefined;
    const ref = head.slice(4).trim();
    // A worktree keeps its HEAD locally but shares refs with the main repository (`commondir`).
    const dirs = [gitDir];
    try {
      dirs.push(resolve(gitDir, (await Deno.readTextFile(join(gitDir, "commondir"))).trim()));
    } catch {
      // Not a worktree.
    }
    for (const dir of dirs) {
      try {
        const loose = (await Deno.readTextFile(join(dir, ref))).trim();
        if (loose) return loose;
      } catch {
        // Not a loose ref here.
      }
      try {
        for (const line of (await Deno.readTextFile(join(dir, "packed-refs"))).split("\n")) {
          const [hash, name] = line.trim().split(" ");
          if (name === ref && hash) return hash;
        }
      } catch {
        // No packed refs here.
      }
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * Renders the build information like upstream's `--version` (`Version: …`, `Git Commit: …`, `Build Date: …`) plus
 * the runtime.
 *
 * @param info The build information.
 * @returns The lines, newline-terminated.
 */
export function formatBuildInfo(info: BuildInfo): string {
  return [
    `Version: ${info.version}`,
    `Git Commit: ${info.commit}`,
    `Build Date: ${info.buildDate}`,
    `Deno: ${info.deno}`,
    `Binary: ${info.compiled ? "compiled (deno compile)" : "deno run"}`,
    "",
  ].join("\n");
}
