/**
 * `deno task bench [--small | --full]`: the end-to-end benchmark. Starts its own control plane (KWOK nodes) in its
 * own directory, runs the workloads with the LWS controller (the real binary) and the raw StatefulSet baseline side
 * by side under two kube-controller-manager configurations, runs the engine and dashboard micro-benchmarks, and
 * writes a table (stdout), a JSON file and an HTML report.
 *
 * ```sh
 * deno task bench --small                 # CI smoke: every workload and figure, a few minutes
 * deno task bench --full                  # the issue's sizes: 800 LWS pods, 10,000 filler pods (~30 min on 2 cores)
 * deno task bench --full --out /tmp/b     # elsewhere than bench/out/
 * ```
 *
 * Options: `--out DIR` (default `bench/out`), `--cluster-dir DIR` (default `.cluster/bench`; never the shared
 * `.cluster`), `--no-micro` (skip the micro-benchmarks), `--profile` (CPU profile of the controller during the last
 * configuration), `--save` (also copy the report to `bench/results/`).
 * No timing is asserted anywhere: the figures are ratios measured in the same run, on the same control plane.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createClient, type KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { loadKubeConfig } from "../kube/kubeconfig.ts";
import { MUTATING_WEBHOOK_CONFIGURATIONS, VALIDATING_WEBHOOK_CONFIGURATIONS } from "../kube/resources.ts";
import { MUTATING_WEBHOOK_CONFIGURATION_NAME, VALIDATING_WEBHOOK_CONFIGURATION_NAME } from "../api/constants.ts";
import { REPO_ROOT } from "../tests/cluster/state.ts";
import { runDeno } from "./_run.ts";
import { findBottleneck } from "./analysis.ts";
import { countRequests, type Window } from "./audit.ts";
import {
  type BenchCluster,
  DEFAULT_BENCH_CLUSTER_DIR,
  setKcmLimits,
  startBenchCluster,
  stopBenchCluster,
} from "./cluster.ts";
import { freePort, type RunningController, startController } from "./controller.ts";
import { connectProfiler, type ProfileSummary, summarizeProfile } from "./profile.ts";
import { runDashboardBench } from "./dashboard.ts";
import { runEngineBench } from "./engine.ts";
import { watchedPids } from "./measure.ts";
import { KCM_DEFAULTS, lwsPodCount, type Preset, presetProblems, PRESETS } from "./presets.ts";
import { machineInfo, Sampler, summarizeLoad } from "./procfs.ts";
import { renderHtml, renderTable } from "./report.ts";
import {
  type BenchResult,
  type ConfigResult,
  type DashboardFigures,
  type EngineFigures,
  RESULT_SCHEMA,
  type RunFigures,
  WORKLOAD_TITLES,
  type WorkloadResult,
} from "./results.ts";
import { createNamespace, deleteNamespace, runLws, runRaw, runSteadyState, type WorkloadContext } from "./workloads.ts";

const HELP =
  `Usage: deno task bench [--small | --full] [--out DIR] [--cluster-dir DIR] [--configs NAMES] [--timeout SECONDS]
                        [--no-steady] [--no-micro] [--profile] [--save]

  --small            CI smoke preset (default): every workload and figure at toy sizes
  --full             the issue's sizes: 50 LWS × 4 groups × 4 pods, 10,000 filler pods, 60 s idle
  --out DIR          where bench-<preset>.json and bench-<preset>.html go (default bench/out)
  --cluster-dir DIR  the benchmark's own control plane (default .cluster/bench; never the shared .cluster)
  --configs NAMES    run only these kube-controller-manager configurations, comma-separated (default
                     default,raised)
  --timeout SECONDS  give up on one workload after this long (default: the preset's, 180 small / 900 full)
  --no-steady        skip W3 (the steady state after the last configuration)
  --no-micro         skip the engine and dashboard micro-benchmarks
  --profile          CPU-profile the controller (V8 inspector, 1 ms sampling) during the last configuration's LWS
                     workloads; writes controller-<preset>.cpuprofile next to the report
  --save             also copy the report to bench/results/ (the committed latest report)`;

const startedAt = performance.now();
function log(message: string): void {
  console.error(`[bench +${((performance.now() - startedAt) / 1000).toFixed(0)}s] ${message}`);
}

/**
 * Names the control plane a run used: its binary directory, with the KWOK build the `kwok` link there points to
 * (`tests/cluster/build.sh` builds KWOK patched, under its own cache key).
 *
 * @param binDir the cluster's binary directory
 * @returns e.g. `k8s-v1.37.2-etcd-v3.6.16-kwok-v0.8.0 (kwok-v0.8.0-lws1)`
 */
function controlPlaneName(binDir: string): string {
  let kwok = "";
  try {
    kwok = basename(dirname(Deno.realPathSync(join(binDir, "kwok"))));
  } catch {
    // no link: an older cache with KWOK in the directory itself
  }
  const name = basename(binDir);
  return kwok && kwok !== name ? `${name} (${kwok})` : name;
}

async function gitCommit(): Promise<string> {
  const run = async (args: string[]) => {
    const output = await new Deno.Command("git", { args, cwd: REPO_ROOT, stdout: "piped", stderr: "null" }).output()
      .catch(() => undefined);
    return output?.success ? new TextDecoder().decode(output.stdout).trim() : "";
  };
  const commit = (await run(["rev-parse", "--short", "HEAD"])) || "unknown";
  const dirty = (await run(["status", "--porcelain", "--untracked-files=no"])) !== "";
  return dirty ? `${commit}-dirty` : commit;
}

/** Removes local-mode webhook registrations a controller that did not stop cleanly left behind. */
async function removeWebhookConfigurations(client: KubeClient): Promise<void> {
  for (
    const [type, name] of [
      [MUTATING_WEBHOOK_CONFIGURATIONS, MUTATING_WEBHOOK_CONFIGURATION_NAME],
      [VALIDATING_WEBHOOK_CONFIGURATIONS, VALIDATING_WEBHOOK_CONFIGURATION_NAME],
    ] as const
  ) {
    try {
      await client.delete(type, name);
      log(`removed the webhook configuration ${name} the controller left behind`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

function ratio(lws: RunFigures, raw: RunFigures): number {
  return raw.wallSeconds > 0 ? Math.round((lws.wallSeconds / raw.wallSeconds) * 100) / 100 : 0;
}

/** Options of {@linkcode runBench}. */
export interface BenchOptions {
  preset: Preset;
  /** The benchmark's cluster directory. */
  clusterDir: string;
  /** Run the engine and dashboard micro-benchmarks. */
  micro: boolean;
  /**
   * Write a CPU profile of the controller during the last configuration's LWS workloads to this `.cpuprofile` path
   * (the controller then runs with the inspector attached, sampling every millisecond).
   */
  profilePath?: string;
  /** Run W3 after the last configuration (default true). */
  steady?: boolean;
}

/**
 * Runs the whole benchmark: cluster up, every configuration, micro-benchmarks, cluster down (always).
 *
 * @param options preset, cluster directory, micro-benchmarks on or off
 * @returns the result (not yet written anywhere)
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const { preset } = options;
  const problems = presetProblems(preset);
  if (problems.length > 0) throw new Error(`Cannot run preset ${preset.name}: ${problems.join("; ")}`);
  const started = new Date();
  const machine = await machineInfo();
  if (machine.loadAverageAtStart > machine.nproc * 0.75) {
    log(`note: load average ${machine.loadAverageAtStart} on ${machine.nproc} CPUs; absolute times will be slower`);
  }
  const configs: ConfigResult[] = [];
  let profile: ProfileSummary | null = null;
  let cluster: BenchCluster | undefined;
  let client: KubeClient | undefined;
  const sampler = new Sampler(500);
  try {
    cluster = await startBenchCluster(options.clusterDir, { count: preset.nodes, podsPerNode: preset.podsPerNode });
    client = createClient(await loadKubeConfig({ path: cluster.kubeconfig }), {
      qps: 0,
      burst: 1,
      userAgent: "lws-bench/1",
    });
    await createNamespace(client, "lws-system"); // the leader-election Lease lives there
    const watchControlPlane = () => {
      for (const [name, pid] of Object.entries(watchedPids({ cluster: cluster!, sampler }))) sampler.watch(name, pid);
    };
    watchControlPlane();
    sampler.start();

    for (const [index, config] of preset.configs.entries()) {
      const last = index === preset.configs.length - 1;
      log(`configuration ${config.name}: ${config.description}`);
      await setKcmLimits(cluster, config.kcm);
      watchControlPlane();
      const base = { cluster, sampler, client, preset, log };
      const raw = await runRaw(base, `bench-raw-${config.name}`);
      log(`raw done: W1 ${raw.W1.wallSeconds} s, W2 ${raw.W2.wallSeconds} s, W4 ${raw.W4.wallSeconds} s`);
      await deleteNamespace(client, `bench-raw-${config.name}`, preset.workloadTimeoutSeconds * 1000);

      const controllerStarted = sampler.now();
      const inspectPort = last && options.profilePath ? freePort() : undefined;
      const controller: RunningController = await startController({
        kubeconfig: cluster.controllerKubeconfig,
        logPath: join(cluster.state.logsDir, `lws-${config.name}.log`),
        inspectPort,
      });
      const controllerReady = sampler.now();
      sampler.watch("controller", controller.pid);
      let lws;
      let steady;
      try {
        const ctx: WorkloadContext = { ...base, controller };
        const profiler = inspectPort ? await connectProfiler(`127.0.0.1:${inspectPort}`) : undefined;
        await profiler?.start();
        lws = await runLws(ctx, `bench-lws-${config.name}`);
        if (profiler && options.profilePath) {
          const raw = await profiler.stop();
          profiler.close();
          await Deno.writeTextFile(options.profilePath, JSON.stringify(raw));
          profile = {
            covers: `${config.name} W1, W2, W4`,
            file: basename(options.profilePath),
            ...summarizeProfile(raw),
          };
        }
        log(`LWS done: W1 ${lws.W1.wallSeconds} s, W2 ${lws.W2.wallSeconds} s, W4 ${lws.W4.wallSeconds} s`);
        if (last && options.steady !== false) steady = await runSteadyState(ctx, "bench-filler");
      } finally {
        await sampler.sample();
        const status = await controller.stop();
        sampler.watch("controller", undefined);
        if (!status.success && status.signal !== "SIGTERM") log(`the controller exited with code ${status.code}`);
        await removeWebhookConfigurations(client);
      }
      const controllerStopped = sampler.now();
      if (!last) await deleteNamespace(client, `bench-lws-${config.name}`, preset.workloadTimeoutSeconds * 1000);

      const workloads: WorkloadResult[] = (["W1", "W2", "W4"] as const).map((id) => ({
        id,
        title: WORKLOAD_TITLES[id],
        lws: lws[id],
        raw: raw[id],
        ratio: ratio(lws[id], raw[id]),
      }));
      if (steady) {
        workloads.splice(2, 0, {
          id: "W3",
          title: WORKLOAD_TITLES.W3,
          lws: steady.idle,
          raw: null,
          ratio: null,
          extra: {
            fillerPods: steady.fillerPods,
            fillerCreateSeconds: steady.filler.wallSeconds,
            fillerControllerCpuSeconds: steady.filler.controller?.cpuSeconds ?? 0,
            fillerControllerRequests: steady.filler.controller?.requests ?? 0,
            fillerPodWebhookAdmissions: steady.filler.podWebhook?.admissions ?? 0,
            rssBeforeFillerBytes: steady.rssBeforeFillerBytes,
          },
        });
      }
      configs.push({
        name: config.name,
        description: config.description,
        kcm: { ...KCM_DEFAULTS, ...config.kcm },
        workloads,
        controllerRss: sampler.between(controllerStarted, controllerStopped)
          .filter((s) => s.usage.controller)
          .map((s) => ({ t: Math.round((s.t - controllerStarted) * 10) / 10, bytes: s.usage.controller!.rssBytes })),
        phases: workloads.map((w) => ({
          id: w.id,
          from: Math.round((w.lws.samplerWindow.from - controllerStarted) * 10) / 10,
          to: Math.round((w.lws.samplerWindow.to - controllerStarted) * 10) / 10,
        })),
        controllerStartupSeconds: Math.round((controllerReady - controllerStarted) * 100) / 100,
      });
    }

    // The API server's view of the controller's requests, from the audit log.
    const figures = configs.flatMap((c) => c.workloads.map((w) => w.lws)).filter((f) => f.controller);
    try {
      const text = await Deno.readTextFile(cluster.auditLog);
      const windows: Window[] = figures.map((f) => f.window);
      const counts = countRequests(text, windows, "lws/");
      figures.forEach((f, i) => {
        f.controller!.apiserverRequests = counts[i]!.total;
        f.controller!.apiserverRequestsByVerb = counts[i]!.byVerb;
      });
    } catch (error) {
      log(`cannot read the audit log ${cluster.auditLog}: ${error instanceof Error ? error.message : error}`);
    }
  } finally {
    await sampler.stop();
    machine.loadAverageDuring = summarizeLoad(sampler.all().map((s) => s.load));
    client?.close();
    if (cluster) await stopBenchCluster(cluster);
    else await stopBenchCluster(options.clusterDir).catch(() => {});
  }

  let engine: EngineFigures = emptyEngine(preset);
  let dashboard: DashboardFigures = emptyDashboard(preset);
  if (options.micro) {
    log("engine micro-benchmarks");
    engine = await runEngineBench(preset);
    log("dashboard micro-benchmark");
    dashboard = await runDashboardBench(preset);
  }

  const result: BenchResult = {
    schema: RESULT_SCHEMA,
    preset: preset.name,
    sizes: {
      lws: preset.lws,
      groups: preset.groups,
      size: preset.size,
      pods: lwsPodCount(preset),
      fillerPods: preset.fillerPods,
      idleSeconds: preset.idleSeconds,
      nodes: preset.nodes,
      podsPerNode: preset.podsPerNode,
    },
    startedAt: started.toISOString(),
    durationSeconds: Math.round((performance.now() - startedAt) / 1000),
    machine,
    commit: await gitCommit(),
    controlPlane: cluster ? controlPlaneName(cluster.state.binDir) : "unknown",
    configs,
    engine,
    dashboard,
    profile,
    bottleneck: { summary: "", evidence: [] },
  };
  result.bottleneck = findBottleneck(result);
  return result;
}

function emptyEngine(preset: Preset): EngineFigures {
  return {
    storeBytesPerPod: null,
    storeApplyPerSecond: null,
    storeParseApplyPerSecond: null,
    watcherEventsPerSecond: null,
    cachedPods: preset.engine.cachedPods,
    cacheRssBytes: null,
    baseRssBytes: null,
    cacheStopSeconds: null,
    output: ["(skipped: --no-micro)"],
  };
}

function emptyDashboard(preset: Preset): DashboardFigures {
  return { ...preset.dashboard, detailRenderMs: null, timings: [], fanOut: [], output: ["(skipped: --no-micro)"] };
}

/**
 * Writes `bench-<preset>.json` and `bench-<preset>.html` into `dir`.
 *
 * @param result the result
 * @param dir the output directory (created)
 * @returns the two paths
 */
export async function writeReport(result: BenchResult, dir: string): Promise<{ json: string; html: string }> {
  await Deno.mkdir(dir, { recursive: true });
  const json = join(dir, `bench-${result.preset}.json`);
  const html = join(dir, `bench-${result.preset}.html`);
  await Deno.writeTextFile(json, JSON.stringify(result, null, 2) + "\n");
  await Deno.writeTextFile(html, renderHtml(result));
  return { json, html };
}

/**
 * A preset with only the named configurations and another workload timeout.
 *
 * @param preset the preset
 * @param configs comma-separated configuration names (`default,raised`), or `undefined` for all, in preset order
 * @param timeout workload timeout in seconds, or `undefined` for the preset's
 * @returns the changed preset
 * @throws when a name is unknown or the timeout is not a positive number
 */
export function selectPreset(preset: Preset, configs?: string, timeout?: string): Preset {
  const names = configs?.split(",").map((n) => n.trim()).filter((n) => n !== "");
  const unknown = names?.filter((n) => !preset.configs.some((c) => c.name === n)) ?? [];
  if (unknown.length > 0) {
    throw new Error(
      `Cannot select configurations ${unknown.join(", ")}: the preset has ${
        preset.configs.map((c) => c.name).join(", ")
      }`,
    );
  }
  const seconds = timeout === undefined ? preset.workloadTimeoutSeconds : Number(timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(`Cannot use --timeout ${timeout}: not a positive number`);
  }
  return {
    ...preset,
    configs: names ? preset.configs.filter((c) => names.includes(c.name)) : preset.configs,
    workloadTimeoutSeconds: seconds,
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args.filter((a) => a !== "--"),
    options: {
      small: { type: "boolean" },
      full: { type: "boolean" },
      out: { type: "string" },
      "cluster-dir": { type: "string" },
      "no-micro": { type: "boolean" },
      configs: { type: "string" },
      timeout: { type: "string" },
      "no-steady": { type: "boolean" },
      profile: { type: "boolean" },
      save: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.small && values.full) throw new Error("Cannot run: choose one of --small and --full, got both");
  const preset = selectPreset(values.full ? PRESETS.full : PRESETS.small, values.configs, values.timeout);
  const outDir = resolve(values.out ?? join(REPO_ROOT, "bench", "out"));
  await Deno.mkdir(outDir, { recursive: true });
  const profilePath = values.profile ? join(outDir, `controller-${preset.name}.cpuprofile`) : undefined;
  const result = await runBench({
    preset,
    clusterDir: resolve(values["cluster-dir"] ?? DEFAULT_BENCH_CLUSTER_DIR),
    micro: !values["no-micro"],
    profilePath,
    steady: !values["no-steady"],
  });
  const paths = await writeReport(result, outDir);
  if (values.save) {
    const saved = await writeReport(result, join(REPO_ROOT, "bench", "results"));
    if (profilePath) await Deno.copyFile(profilePath, join(REPO_ROOT, "bench", "results", basename(profilePath)));
    // Committed files pass `deno fmt --check`; the HTML is written compact, so format it once.
    await runDeno(["fmt", "--quiet", saved.html, saved.json]);
  }
  console.log(renderTable(result));
  console.log(`\nJSON: ${paths.json}\nHTML: ${paths.html}${profilePath ? `\nCPU profile: ${profilePath}` : ""}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    log(`FAILED: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    Deno.exit(1);
  }
}
