/**
 * The command line of the `lws` binary (commander): `lws run` (the default command, so upstream's
 * `/manager --config=…` works), `lws install`, `lws uninstall`, `lws version`, `--help` everywhere.
 *
 * Exit codes: 0 success; 1 runtime failure; 2 bad flags, configuration file or kubeconfig (the message names the
 * flag or field). Output: command results on stdout, logs and errors on stderr.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { getLogger } from "@logtape/logtape";
import { ConfigError, LOG_FORMATS, LOG_LEVELS, resolveConfig, type RunFlags } from "../config.ts";
import { buildUserAgent, createClient } from "../kube/client.ts";
import { KubeConfigError, loadClusterConfig } from "../kube/kubeconfig.ts";
import { ApiError } from "../kube/errors.ts";
import { formatBuildInfo, readBuildInfo } from "./build_info.ts";
import { install, uninstall } from "./install.ts";
import { configureLogging } from "./logging.ts";

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  /** Command output (stdout). */
  out(text: string): void;
  /** Errors and help after errors (stderr). */
  err(text: string): void;
}

/** What a command needs besides its flags; injectable for tests. */
export interface CliDeps {
  /** Output (default stdout and stderr). */
  io?: CliIo;
  /** Environment lookup (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
  /** Runs the product (default: `run.ts`'s `runProduct` with signal handling); tests replace it. */
  run?: (flags: RunFlags) => Promise<number>;
}

const defaultIo: CliIo = {
  out: (text) => void Deno.stdout.writeSync(new TextEncoder().encode(text)),
  err: (text) => void Deno.stderr.writeSync(new TextEncoder().encode(text)),
};

// ---- argument parsers (commander calls them with the raw text; errors name the flag)

function number(min: number, integer: boolean): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
      throw new InvalidArgumentError(`Must be ${integer ? "an integer" : "a number"} ≥ ${min}.`);
    }
    return n;
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("Must be a port number 0-65535.");
  return n;
}

/** Go-style booleans: `--flag`, `--flag=true`, `--flag=false`. */
function bool(value: string | boolean): boolean {
  if (typeof value === "boolean") return value;
  const v = value.toLowerCase();
  if (["true", "1", "t", "yes"].includes(v)) return true;
  if (["false", "0", "f", "no"].includes(v)) return false;
  throw new InvalidArgumentError("Must be true or false.");
}

function oneOf(values: readonly string[]): (value: string) => string {
  return (value) => {
    if (!values.includes(value)) throw new InvalidArgumentError(`Must be one of ${values.join(", ")}.`);
    return value;
  };
}

/** zap's `--zap-log-level`: a level name or an integer verbosity (≥ 1 is debug, as upstream's `2`). */
function zapLevel(value: string): string {
  if (/^-?\d+$/.test(value)) return Number(value) >= 1 ? "debug" : "info";
  const map: Record<string, string> = { debug: "debug", info: "info", warn: "warning", error: "error" };
  const level = map[value.toLowerCase()];
  if (!level) throw new InvalidArgumentError("Must be debug, info, warn, error or an integer.");
  return level;
}

const RUN_EXAMPLES = `
Examples:
  # Locally, against the cluster of your kubeconfig: webhook registered at 127.0.0.1, dashboard on
  # http://127.0.0.1:8082, metrics on https://127.0.0.1:8443/metrics, probes on http://127.0.0.1:8081
  lws install && lws run

  # Only one namespace, no leader election, more log detail
  lws run --namespace team-a --leader-elect=false --log-level debug

  # In a pod (deploy/): upstream's configuration file; JSON logs
  lws run --config=/controller_manager_config.yaml --log-format json

  # A standby replica on the same machine: waits for the lease; free ports; no second webhook
  # (local-mode webhook registrations are per cluster or per --namespace: run one webhook)
  lws run --no-webhook --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \\
          --dashboard-bind-address 127.0.0.1:0

  # Only the dashboard and metrics, read-only (no controllers, no webhook)
  lws run --no-controllers --no-webhook

Environment:
  KUBECONFIG         kubeconfig path(s), when --kubeconfig is not given
  ENABLE_WEBHOOKS    "false" turns the webhooks off (upstream's variable)
`;

function runCommand(action: (flags: RunFlags) => Promise<void>): Command {
  return new Command("run")
    .description(
      "Run the controllers (behind leader election), the admission webhook, the dashboard, metrics and health probes " +
        "on one shared informer cache. Flags override the configuration file only when given.",
    )
    .option("--config <file>", "upstream configuration file (config.lws.x-k8s.io/v1alpha1 Configuration)")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, in-cluster, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context (default: its current-context)")
    .option("--namespace <name>", "watch only this namespace (default: all namespaces)")
    .option("--kube-api-qps <qps>", "API requests per second (clientConnection.qps; default 500)", number(0, false))
    .option("--kube-api-burst <n>", "API request burst (clientConnection.burst; default 500)", number(1, true))
    .option("--leader-elect [bool]", "run controllers only while holding the Lease (default true)", bool)
    .option("--no-leader-elect", "same as --leader-elect=false")
    .option("--leader-elect-lease-duration <duration>", "lease duration (default 15s)")
    .option("--leader-elect-renew-deadline <duration>", "renew deadline (default 10s)")
    .option("--leader-elect-retry-period <duration>", "retry period (default 2s)")
    .option("--leader-elect-resource-lock <lock>", "lock type; only leases (default leases)")
    .option("--leader-elect-resource-name <name>", "Lease name (default b8b2488c.x-k8s.io)")
    .option(
      "--leader-elect-resource-namespace <namespace>",
      "Lease namespace in local mode (default: --namespace, else lws-system; in-cluster: the pod's namespace)",
    )
    .option(
      "--metrics-bind-address <address>",
      "metrics address, 0 disables (default :8443; local mode 127.0.0.1:8443)",
    )
    .option(
      "--metrics-secure [bool]",
      "HTTPS with TokenReview/SubjectAccessReview auth; false: plain HTTP (default true)",
      bool,
    )
    .option(
      "--health-probe-bind-address <address>",
      "health probe address, 0 disables (default :8081; local mode 127.0.0.1:8081)",
    )
    .option(
      "--dashboard-bind-address <address>",
      "dashboard address, 0 disables (default :8082; local mode 127.0.0.1:8082)",
    )
    .option("--webhook-port <port>", "webhook HTTPS port, 0 picks a free one (webhook.port; default 9443)", port)
    .option("--webhook-host <host>", "webhook interface (webhook.host; default all; local mode 127.0.0.1)")
    .addOption(
      new Option(
        "--webhook-cert-mode <mode>",
        "local (in memory, URL registration at 127.0.0.1), internal (Secret + CA injection) or directory " +
          "(webhook.certDir) (default: local with a kubeconfig, internal in-cluster)",
      ).argParser(oneOf(["local", "internal", "directory"])),
    )
    .option("--no-controllers", "do not run the controllers")
    .option("--no-webhook", "do not serve the admission webhooks (also ENABLE_WEBHOOKS=false)")
    .option("--no-dashboard", "do not serve the dashboard")
    .option("--concurrency <n>", "reconciles at a time per controller (default: LWS 4, pods 8)", number(1, true))
    .option("--shutdown-timeout <duration>", "time a graceful stop may take before exiting anyway (default 8s)")
    .addOption(new Option("--log-level <level>", "lowest level logged (default info)").argParser(oneOf(LOG_LEVELS)))
    .addOption(
      new Option("--log-format <format>", "text (zap console, tab-separated) or json (default text)").argParser(
        oneOf(LOG_FORMATS),
      ),
    )
    .addOption(
      new Option("--zap-log-level <level>", "upstream compatibility: debug/info/error or a verbosity").argParser(
        zapLevel,
      ).hideHelp(),
    )
    .addOption(new Option("--zap-devel [bool]").argParser(bool).hideHelp())
    .addHelpText("after", RUN_EXAMPLES)
    .action(async (options: Record<string, unknown>) => {
      const flags: RunFlags = {
        config: options.config as string | undefined,
        kubeconfig: options.kubeconfig as string | undefined,
        context: options.context as string | undefined,
        namespace: options.namespace as string | undefined,
        kubeApiQps: options.kubeApiQps as number | undefined,
        kubeApiBurst: options.kubeApiBurst as number | undefined,
        leaderElect: options.leaderElect as boolean | undefined,
        leaderElectLeaseDuration: options.leaderElectLeaseDuration as string | undefined,
        leaderElectRenewDeadline: options.leaderElectRenewDeadline as string | undefined,
        leaderElectRetryPeriod: options.leaderElectRetryPeriod as string | undefined,
        leaderElectResourceLock: options.leaderElectResourceLock as string | undefined,
        leaderElectResourceName: options.leaderElectResourceName as string | undefined,
        leaderElectResourceNamespace: options.leaderElectResourceNamespace as string | undefined,
        metricsBindAddress: options.metricsBindAddress as string | undefined,
        metricsSecure: options.metricsSecure as boolean | undefined,
        healthProbeBindAddress: options.healthProbeBindAddress as string | undefined,
        dashboardBindAddress: options.dashboardBindAddress as string | undefined,
        webhookPort: options.webhookPort as number | undefined,
        webhookHost: options.webhookHost as string | undefined,
        webhookCertMode: options.webhookCertMode as string | undefined,
        // `--no-x` options default to true in commander: "not given" must stay undefined.
        controllers: options.controllers === false ? false : undefined,
        webhook: options.webhook === false ? false : undefined,
        dashboard: options.dashboard === false ? false : undefined,
        concurrency: options.concurrency as number | undefined,
        shutdownTimeout: options.shutdownTimeout as string | undefined,
        logLevel: (options.logLevel ?? options.zapLogLevel) as string | undefined,
        logFormat: options.logFormat as string | undefined,
      };
      await action(flags);
    });
}

/** Thrown inside actions to end with an exit code. */
class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

async function clientFor(flags: { kubeconfig?: string; context?: string }) {
  const buildInfo = await readBuildInfo();
  try {
    const config = await loadClusterConfig({ path: flags.kubeconfig, context: flags.context });
    return createClient(config, {
      qps: 50,
      burst: 100,
      userAgent: buildUserAgent({ version: buildInfo.version, commit: buildInfo.commit }),
    });
  } catch (err) {
    if (err instanceof KubeConfigError) throw new ConfigError(`Cannot load the cluster configuration: ${err.message}`);
    throw err;
  }
}

/**
 * Builds the program. Exposed for tests (`--help` output, parsing).
 *
 * @param deps Output, environment and the run action.
 * @returns The commander program; parse with `parseAsync(args, { from: "user" })`.
 */
export function buildProgram(deps: Required<Pick<CliDeps, "io" | "run">> & Pick<CliDeps, "env">): Command {
  const { io } = deps;
  const program = new Command("lws")
    .description(
      "LeaderWorkerSet for Deno: the LWS controllers, admission webhook and dashboard in one binary\n" +
        "(wire-compatible with kubernetes-sigs/lws, API leaderworkerset.x-k8s.io/v1).",
    )
    .option("--version", "print the version and exit")
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (text, write) => write(text) })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
Examples:
  lws install                       # CRD and the lws-system namespace into the kubeconfig's cluster
  lws run                           # everything; \`lws run --help\` for the flags
  lws --config=/controller_manager_config.yaml   # same as \`lws run --config=…\` (upstream's manifests)
  lws uninstall --keep-crd          # remove webhook configurations a crashed local run left behind
  lws version`,
    );
  program.exitOverride();

  const run = runCommand(async (flags) => {
    const code = await deps.run(flags);
    if (code !== 0) throw new Exit(code);
  });
  run.copyInheritedSettings(program); // output, exit override, help after errors
  program.addCommand(run, { isDefault: true });

  program.command("install")
    .description(
      "Install the LeaderWorkerSet CRD (embedded in the binary) and the operator namespace, for running `lws run` " +
        "outside the cluster. In-cluster installs use `kubectl apply -k deploy/`.",
    )
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context")
    .option("--namespace <name>", "operator namespace to create (home of the leader-election Lease)", "lws-system")
    .option("--dry-run", "validate on the server only; change nothing")
    .addHelpText(
      "after",
      `
The webhook configurations are not installed: \`lws run\` registers them (its CA lives in memory) and removes them
when it stops.

Examples:
  lws install
  lws install --kubeconfig ~/.kube/kind --context kind-lws --dry-run`,
    )
    .action(async (options: { kubeconfig?: string; context?: string; namespace: string; dryRun?: boolean }) => {
      const client = await clientFor(options);
      try {
        await install(client, { namespace: options.namespace, dryRun: options.dryRun, say: (l) => io.out(l + "\n") });
      } finally {
        client.close();
      }
    });

  program.command("uninstall")
    .description(
      "Remove the webhook configurations a local `lws run` registers (left behind if it crashed) and the CRD — " +
        "which deletes every LeaderWorkerSet and, through garbage collection, their StatefulSets and pods.",
    )
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    .option("--context <name>", "kubeconfig context")
    .option(
      "--namespace <name...>",
      "also remove the configurations of `lws run --namespace <name>` (repeatable)",
    )
    .option("--keep-crd", "keep the CRD and every LeaderWorkerSet; only remove the webhook configurations")
    .addHelpText(
      "after",
      `
Examples:
  lws uninstall --keep-crd                  # only the local webhook configurations
  lws uninstall --namespace team-a          # also those of \`lws run --namespace team-a\`, then the CRD`,
    )
    .action(async (options: { kubeconfig?: string; context?: string; namespace?: string[]; keepCrd?: boolean }) => {
      const client = await clientFor(options);
      const { localWebhookNames } = await import("../run.ts");
      try {
        await uninstall(client, {
          namespaces: options.namespace,
          keepCrd: options.keepCrd,
          say: (l) => io.out(l + "\n"),
          namesFor: localWebhookNames,
        });
      } finally {
        client.close();
      }
    });

  program.command("version")
    .description("Print the version, git commit, build date and Deno version.")
    .option("-o, --output <format>", "text or json", oneOf(["text", "json"]), "text")
    .addHelpText("after", "\nExamples:\n  lws version\n  lws version -o json")
    .action(async (options: { output: string }) => {
      const info = await readBuildInfo();
      io.out(options.output === "json" ? JSON.stringify(info, null, 2) + "\n" : formatBuildInfo(info));
    });

  program.hook("preAction", async (_thisCommand, actionCommand) => {
    if (program.opts().version) {
      io.out(formatBuildInfo(await readBuildInfo()));
      throw new Exit(0);
    }
    void actionCommand;
  });
  return program;
}

/**
 * Runs the CLI.
 *
 * @param args The arguments after the program name (a leading `--`, as `deno task lws -- …` passes it, is dropped).
 * @param deps Output, environment, run action (tests).
 * @returns The exit code.
 */
export async function main(args: string[], deps: CliDeps = {}): Promise<number> {
  const io = deps.io ?? defaultIo;
  const program = buildProgram({ io, env: deps.env, run: deps.run ?? ((flags) => runWithSignals(flags, deps.env)) });
  // `deno task lws -- <args>` passes the `--` through: drop it so flags stay flags.
  const argv = args[0] === "--" ? args.slice(1) : args;
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof Exit) return err.code;
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help" || err.code === "commander.version") {
        return 0;
      }
      return 2; // commander already printed the error, naming the flag
    }
    if (err instanceof ConfigError) {
      io.err(`error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ApiError) {
      io.err(`error: ${err.message}\n`);
      return 1;
    }
    io.err(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/**
 * `lws run` for real: resolve the configuration (exit 2 on errors), configure logging, run the product; SIGTERM or
 * SIGINT start a graceful stop bounded by `--shutdown-timeout`, a second signal exits at once.
 */
async function runWithSignals(flags: RunFlags, env?: (name: string) => string | undefined): Promise<number> {
  const config = await resolveConfig(flags, { env });
  await configureLogging(config.log);
  const log = getLogger(["lws", "cli"]);
  const { runProduct } = await import("../run.ts");
  const stop = new AbortController();
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const onSignal = (signal: Deno.Signal) => () => {
    if (stop.signal.aborted) {
      log.warn("Received {signal} again: exiting now", { signal });
      Deno.exit(130);
    }
    log.info("Received {signal}: stopping gracefully (send it again to exit at once)", { signal });
    stop.abort();
    deadline = setTimeout(() => {
      log.error("Graceful stop did not finish within {timeout} ms: exiting", { timeout: config.shutdownTimeoutMs });
      Deno.exit(1);
    }, config.shutdownTimeoutMs);
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const handler = onSignal(signal);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  try {
    return await runProduct(config, { signal: stop.signal, buildInfo: await readBuildInfo() });
  } finally {
    clearTimeout(deadline);
    for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
  }
}
