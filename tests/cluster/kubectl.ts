/**
 * Runs the kubectl built with the control plane (never a kubectl from PATH: Debian's is far outside the version
 * skew) against a given kubeconfig.
 *
 * @module
 */

/** What a kubectl run printed and how it exited. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of one kubectl run. */
export interface KubectlOptions {
  /** Written to kubectl's stdin (for `-f -`). */
  stdin?: string;
  /** Adds `--namespace <namespace>`. */
  namespace?: string;
}

/**
 * Runs `kubectl --kubeconfig <kubeconfig> [--namespace ns] ...args` and collects its output.
 *
 * @param binary the kubectl binary
 * @param kubeconfig the kubeconfig file
 * @param args the kubectl arguments
 * @param options stdin and namespace
 * @returns exit code, stdout and stderr (never throws on a non-zero exit)
 */
export async function runKubectl(
  binary: string,
  kubeconfig: string,
  args: string[],
  options: KubectlOptions = {},
): Promise<CommandResult> {
  const fullArgs = [
    "--kubeconfig",
    kubeconfig,
    ...(options.namespace ? ["--namespace", options.namespace] : []),
    ...args,
  ];
  const child = new Deno.Command(binary, {
    args: fullArgs,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/**
 * Like {@linkcode runKubectl}, but returns stdout and throws on a non-zero exit.
 *
 * @param binary the kubectl binary
 * @param kubeconfig the kubeconfig file
 * @param args the kubectl arguments
 * @param options stdin and namespace
 * @returns stdout
 * @throws an Error naming the command, the exit code and stderr
 */
export async function runKubectlOk(
  binary: string,
  kubeconfig: string,
  args: string[],
  options: KubectlOptions = {},
): Promise<string> {
  const result = await runKubectl(binary, kubeconfig, args, options);
  if (result.code !== 0) {
    const where = options.namespace ? ` -n ${options.namespace}` : "";
    throw new Error(`kubectl${where} ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}
