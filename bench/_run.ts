/**
 * Runs `deno <args>` from the repository root (the benchmark's one way to start a Deno subprocess) and collects its
 * output. Package-internal.
 *
 * @module
 */
import { REPO_ROOT } from "../tests/cluster/state.ts";

/**
 * Runs `deno <args>` in the repository root with `NO_COLOR=1` and waits for it.
 *
 * @param args the arguments after `deno`
 * @param env extra environment variables
 * @returns stdout and stderr
 * @throws when it exits unsuccessfully (the message carries the last 40 lines of stderr)
 */
export async function runDeno(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  const stdout = decoder.decode(output.stdout);
  const stderr = decoder.decode(output.stderr);
  if (!output.success) {
    const tail = stderr.trimEnd().split("\n").slice(-40).join("\n");
    throw new Error(`deno ${args.join(" ")} exited ${output.code}:\n${tail}`);
  }
  return { stdout, stderr };
}
