/**
 * `deno task cluster:up [options]`: starts the local control plane (see control_plane.ts), or reports that it is
 * already up and healthy. Progress goes to stderr; the usage lines at the end go to stdout.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { healthProblems, newState, startControlPlane, stopControlPlane } from "./control_plane.ts";
import { DEFAULT_TOPOLOGY, type NodeTopology } from "./nodes.ts";
import { residentBytes } from "./process.ts";
import { clusterDir, type ClusterState, COMPONENTS, readState, REPO_ROOT, withStateLock } from "./state.ts";

const HELP = `Usage: deno task cluster:up [options]

Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler, KWOK with fake nodes and Volcano's scheduler
(vc-scheduler, scheduler name "volcano"), installs crds/*.yaml and Volcano's CRDs, and writes .cluster/kubeconfig and
.cluster/state.json. Does nothing when the recorded cluster is up and healthy.

Options (defaults in brackets):
  --nodes N               fake nodes [${DEFAULT_TOPOLOGY.count}]
  --zones N               values of topology.kubernetes.io/zone [${DEFAULT_TOPOLOGY.zones}]
  --racks N               values of example.com/rack [${DEFAULT_TOPOLOGY.racks}]
  --node-pools N          values of cloud.google.com/gke-nodepool [${DEFAULT_TOPOLOGY.nodePools}]
  --pods-per-node N       status.allocatable.pods [${DEFAULT_TOPOLOGY.pods}]
  --tpus-per-node N       status.allocatable google.com/tpu, 0 for none [${DEFAULT_TOPOLOGY.tpus}]
  --cpu Q, --memory Q     status.allocatable cpu/memory per node [${DEFAULT_TOPOLOGY.cpu}, ${DEFAULT_TOPOLOGY.memory}]
  --kcm-qps N, --kcm-burst N, --statefulset-syncs N
                          kube-controller-manager --kube-api-qps/--kube-api-burst/--concurrent-statefulset-syncs
                          [upstream defaults: 20, 30, 5]
  --no-volcano            leave out Volcano's scheduler and CRDs (the gang scheduling tests then fail)
  --bin-dir DIR           use these binaries instead of running tests/cluster/build.sh [$LWS_BIN_DIR]
  --keep-on-failure       leave a half-started cluster running to inspect it
Environment: LWS_CLUSTER_DIR (default <repo>/.cluster) to run a second, separate cluster.`;

const startedAt = performance.now();
function log(message: string): void {
  console.error(`[cluster:up +${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}`);
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`Cannot start: --${name} must be a positive integer, got ${value}`);
  }
  return n;
}

async function binaries(fromFlag: string | undefined): Promise<string> {
  const given = fromFlag ?? Deno.env.get("LWS_BIN_DIR");
  if (given) return given;
  // build.sh is a no-op when the binaries are cached; it prints progress on stderr and the bin dir last on stdout.
  const output = await new Deno.Command("bash", {
    args: [join(REPO_ROOT, "tests", "cluster", "build.sh")],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  if (!output.success) throw new Error(`Cannot start: tests/cluster/build.sh exited ${output.code}`);
  return lines[lines.length - 1]!;
}

function usage(state: ClusterState): string {
  return [
    `Control plane ${state.server} (${Object.keys(state.processes).join(", ")})`,
    `  export KUBECONFIG=${state.kubeconfig}`,
    `  kubectl: ${state.kubectl}    e.g. alias kubectl=${state.kubectl}`,
    `  state: ${join(state.dir, "state.json")}    logs: ${state.logsDir}/`,
    `  stop: deno task cluster:down`,
  ].join("\n");
}

async function rss(state: ClusterState): Promise<string> {
  const parts: string[] = [];
  let total = 0;
  for (const component of COMPONENTS) {
    const process = state.processes[component];
    if (!process) continue;
    const bytes = await residentBytes(process.pid);
    total += bytes;
    parts.push(`${component} ${Math.round(bytes / 2 ** 20)}`);
  }
  return `${Math.round(total / 2 ** 20)} MiB (${parts.join(", ")})`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      nodes: { type: "string" },
      zones: { type: "string" },
      racks: { type: "string" },
      "node-pools": { type: "string" },
      "pods-per-node": { type: "string" },
      "tpus-per-node": { type: "string" },
      cpu: { type: "string" },
      memory: { type: "string" },
      "kcm-qps": { type: "string" },
      "kcm-burst": { type: "string" },
      "statefulset-syncs": { type: "string" },
      "bin-dir": { type: "string" },
      "no-volcano": { type: "boolean" },
      "keep-on-failure": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const topology: NodeTopology = {
    count: positive("nodes", values.nodes, DEFAULT_TOPOLOGY.count),
    zones: positive("zones", values.zones, DEFAULT_TOPOLOGY.zones),
    racks: positive("racks", values.racks, DEFAULT_TOPOLOGY.racks),
    nodePools: positive("node-pools", values["node-pools"], DEFAULT_TOPOLOGY.nodePools),
    pods: positive("pods-per-node", values["pods-per-node"], DEFAULT_TOPOLOGY.pods),
    tpus: values["tpus-per-node"] === "0"
      ? 0
      : positive("tpus-per-node", values["tpus-per-node"], DEFAULT_TOPOLOGY.tpus),
    cpu: values.cpu ?? DEFAULT_TOPOLOGY.cpu,
    memory: values.memory ?? DEFAULT_TOPOLOGY.memory,
  };
  const optional = (name: string, value: string | undefined) =>
    value === undefined ? undefined : positive(name, value, 0);
  const controllerManager = {
    kubeApiQps: optional("kcm-qps", values["kcm-qps"]),
    kubeApiBurst: optional("kcm-burst", values["kcm-burst"]),
    concurrentStatefulSetSyncs: optional("statefulset-syncs", values["statefulset-syncs"]),
  };

  const dir = clusterDir();
  await Deno.mkdir(dir, { recursive: true });
  // One `up` (or `down`, or API server restart) at a time per cluster directory.
  return await withStateLock(dir, async () => {
    const existing = await readState(dir);
    if (existing) {
      const problems = await healthProblems(existing);
      if (problems.length === 0) {
        log("already up and healthy; nothing to do (deno task cluster:down first to change its shape)");
        console.log(usage(existing));
        return 0;
      }
      log(`the recorded cluster is not healthy (${problems.join("; ")}): stopping what is left, starting fresh`);
      await stopControlPlane(existing, log);
    }
    const binDir = await binaries(values["bin-dir"]);
    log(`binaries: ${binDir}`);
    for (const stale of ["state.json", "kubeconfig", "pki", "etcd", "kwok", "volcano", "logs"]) {
      await Deno.remove(join(dir, stale), { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
    const state = newState(dir, binDir);
    try {
      await startControlPlane({
        dir,
        binDir,
        topology,
        controllerManager,
        crdsDir: join(REPO_ROOT, "crds"),
        volcano: !values["no-volcano"],
        log,
      }, state);
    } catch (error) {
      log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
      if (values["keep-on-failure"]) {
        log(`left running for inspection; logs in ${state.logsDir}; stop with deno task cluster:down`);
      } else {
        log("stopping what was started");
        await stopControlPlane(state, log);
      }
      return 1;
    }
    log(`ready in ${((performance.now() - startedAt) / 1000).toFixed(1)}s; control plane RSS ${await rss(state)}`);
    console.log(usage(state));
    return 0;
  });
}

try {
  Deno.exit(await main());
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  Deno.exit(1);
}
