/**
 * The product under test: the `lws` binary started exactly as `deno task lws -- run …` starts it (same Deno flags,
 * read from `deno.json`), but as a direct child so its PID is the Deno process itself (for `/proc`). Local mode: the
 * webhook is registered at 127.0.0.1; metrics over plain HTTP on a free port; leader election on (as deployed).
 *
 * @module
 */
import { join } from "node:path";
import { REPO_ROOT } from "../tests/cluster/state.ts";
import { parseScrape, type Scrape } from "./prometheus.ts";

/** The running product. */
export interface RunningController {
  /** PID of the Deno process running `mod.ts`. */
  readonly pid: number;
  /** `http://127.0.0.1:<port>/metrics` */
  readonly metricsUrl: string;
  /** `http://127.0.0.1:<port>` of the dashboard. */
  readonly dashboardUrl: string;
  /** Where its stdout and stderr go. */
  readonly logPath: string;
  /** Scrapes its `/metrics`. */
  scrape(): Promise<Scrape>;
  /** SIGTERM (graceful stop: the local-mode webhook configurations are removed), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<Deno.CommandStatus>;
}

/**
 * The command of the `lws` task in `deno.json`, with `deno` replaced by this Deno.
 *
 * @param denoJson the text of `deno.json`
 * @returns argv (`[deno, "run", ...flags, "mod.ts"]`)
 * @throws when there is no `lws` task
 */
export function lwsTaskCommand(denoJson: string): string[] {
  const task = (JSON.parse(denoJson) as { tasks?: Record<string, string> }).tasks?.lws;
  if (!task) throw new Error("Cannot start the product: deno.json has no lws task");
  const argv = task.trim().split(/\s+/);
  if (argv[0] !== "deno") {
    throw new Error(`Cannot start the product: the lws task does not start with deno, got ${task}`);
  }
  return [Deno.execPath(), ...argv.slice(1)];
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago.
 *
 * @returns the port
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Options of {@linkcode startController}. */
export interface StartControllerOptions {
  /** The controller's kubeconfig. */
  kubeconfig: string;
  /** File for its output (appended). */
  logPath: string;
  /** Give up waiting for `/readyz` after this long (default 120 s). */
  timeoutMs?: number;
  /** More `lws run` arguments. */
  extraArgs?: string[];
  /** Start Deno's inspector on this 127.0.0.1 port (for the CPU profiler). */
  inspectPort?: number;
}

/**
 * Starts `lws run` against the cluster and waits until it is ready (cache synced, webhook serving and registered).
 *
 * @param options kubeconfig, log file, timeout
 * @returns the running product
 * @throws when it exits or is not ready in time (the message carries its log tail)
 */
export async function startController(options: StartControllerOptions): Promise<RunningController> {
  const [metricsPort, healthPort, dashboardPort] = [freePort(), freePort(), freePort()];
  const [deno, run, ...denoArgs] = lwsTaskCommand(await Deno.readTextFile(join(REPO_ROOT, "deno.json")));
  const command = [
    deno!,
    run!,
    ...(options.inspectPort ? [`--inspect=127.0.0.1:${options.inspectPort}`] : []),
    ...denoArgs,
    "run",
    "--kubeconfig",
    options.kubeconfig,
    "--metrics-bind-address",
    `127.0.0.1:${metricsPort}`,
    "--metrics-secure=false",
    "--health-probe-bind-address",
    `127.0.0.1:${healthPort}`,
    "--dashboard-bind-address",
    `127.0.0.1:${dashboardPort}`,
    "--webhook-port",
    "0",
    ...(options.extraArgs ?? []),
  ];
  // `exec` replaces the shell, so the child's PID is the Deno process and its output goes straight to the file.
  const child = new Deno.Command("sh", {
    args: ["-c", 'LOG="$1"; shift; exec "$@" >>"$LOG" 2>&1', "sh", options.logPath, ...command],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => (exited = s));
  const tail = async () =>
    (await Deno.readTextFile(options.logPath).catch(() => "")).trimEnd().split("\n").slice(-30)
      .join("\n");

  const stop = async (graceMs = 20_000): Promise<Deno.CommandStatus> => {
    if (exited) return exited;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        resolve();
      }, graceMs);
    });
    await Promise.race([status, killed]);
    clearTimeout(timer);
    return await status;
  };

  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (exited) throw new Error(`The product exited with code ${exited.code} before it was ready:\n${await tail()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${healthPort}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop(5_000);
      throw new Error(`The product was not ready after ${(options.timeoutMs ?? 120_000) / 1000} s:\n${await tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  // Scrapes use their own connection pool, closed before the stop, so no idle keep-alive connection of ours is open
  // while the product shuts its servers down.
  const scrapes = Deno.createHttpClient({});
  return {
    pid: child.pid,
    metricsUrl,
    dashboardUrl: `http://127.0.0.1:${dashboardPort}`,
    logPath: options.logPath,
    async scrape() {
      const init: RequestInit & { client: Deno.HttpClient } = { client: scrapes, signal: AbortSignal.timeout(30_000) };
      const response = await fetch(metricsUrl, init);
      const text = await response.text();
      if (!response.ok) throw new Error(`Cannot scrape the product: ${response.status} ${text.slice(0, 300)}`);
      return parseScrape(text);
    },
    stop: (graceMs?: number) => {
      scrapes.close();
      return stop(graceMs);
    },
  };
}
