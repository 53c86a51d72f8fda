/**
 * The benchmark's own local control plane, in its own directory (`LWS_CLUSTER_DIR`, never the shared `.cluster`):
 * started with `deno task cluster:up` sized for the preset, stopped with `deno task cluster:down`.
 *
 * Two things the shared scripts do not offer, done here on the benchmark's cluster only, by restarting one recorded
 * process with changed flags under the state lock (the same way the harness restarts kube-apiserver):
 *
 * - **Audit log for the controller's requests.** `apiserver_request_total` has no user-agent label, so the
 *   cross-check of the controller's request counter uses the API server's audit log: the controller gets its own
 *   client certificate (`CN=lws-bench-controller`, group `system:masters`), and the audit policy records
 *   `Metadata` for that user only (nothing else is logged, so the audit costs the API server next to nothing).
 * - **kube-controller-manager client limits** per configuration (`--kube-api-qps/--kube-api-burst/
 *   --concurrent-statefulset-syncs`) without starting a second cluster.
 *
 * @module
 */
import { join } from "node:path";
import { type Credentials, readKubeconfig, writeKubeconfig } from "../tests/cluster/api.ts";
import { apiserverReady } from "../tests/cluster/control_plane.ts";
import { createLeafCertificate } from "../tests/cluster/pki.ts";
import { eventually } from "../tests/cluster/poll.ts";
import { isOurs, spawnDetached, stopProcess } from "../tests/cluster/process.ts";
import {
  type ClusterState,
  type Component,
  readState,
  REPO_ROOT,
  withStateLock,
  writeState,
} from "../tests/cluster/state.ts";
import { runDeno } from "./_run.ts";
import type { KcmLimits } from "./presets.ts";
import { type Scrape, scrape } from "./prometheus.ts";

/** The user name of the controller's client certificate; the audit policy logs this user only. */
export const CONTROLLER_USER = "lws-bench-controller";

/** Where the benchmark's cluster lives by default: `<repo>/.cluster/bench`. */
export const DEFAULT_BENCH_CLUSTER_DIR: string = join(REPO_ROOT, ".cluster", "bench");

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    users: ["${CONTROLLER_USER}"]
  - level: None
`;

/** What the benchmark knows about its running cluster. */
export interface BenchCluster {
  dir: string;
  /** The recorded state (processes, PKI, binaries). Re-read after restarts. */
  state: ClusterState;
  /** Admin kubeconfig (what the benchmark itself uses). */
  kubeconfig: string;
  /** Kubeconfig of the controller (its own user, so the audit log sees only its requests). */
  controllerKubeconfig: string;
  /** The API server's audit log (controller requests only). */
  auditLog: string;
  /** Admin credentials (PEM). */
  credentials: Credentials;
  /** A persistent mutual-TLS HTTP client for scraping the API server and kube-controller-manager. */
  http: Deno.HttpClient;
}

function log(message: string): void {
  console.error(`[bench] ${message}`);
}

async function deno(args: string[], dir: string): Promise<string> {
  return (await runDeno(args, { LWS_CLUSTER_DIR: dir })).stderr;
}

/**
 * Starts the benchmark's cluster (`deno task cluster:up` with `LWS_CLUSTER_DIR=dir`), then turns on the audit log
 * for the controller's user. A cluster left in `dir` by an earlier run is stopped first, so every run starts from
 * an empty etcd.
 *
 * @param dir the cluster directory (not the shared `.cluster`)
 * @param nodes fake nodes and pods per node
 * @returns the running cluster; call {@linkcode stopBenchCluster} in a `finally`
 * @throws when the cluster does not come up
 */
export async function startBenchCluster(
  dir: string,
  nodes: { count: number; podsPerNode: number },
): Promise<BenchCluster> {
  if (join(dir) === join(REPO_ROOT, ".cluster")) {
    throw new Error(`Cannot benchmark on the shared cluster directory ${dir}: use a directory of your own`);
  }
  await Deno.mkdir(dir, { recursive: true });
  if (await readState(dir)) {
    log(`stopping the cluster an earlier run left in ${dir}`);
    await deno(["task", "cluster:down"], dir);
  }
  log(`starting the control plane in ${dir} (${nodes.count} nodes × ${nodes.podsPerNode} pods)`);
  await deno([
    "task",
    "cluster:up",
    "--nodes",
    String(nodes.count),
    "--pods-per-node",
    String(nodes.podsPerNode),
    "--zones",
    "2",
    "--racks",
    "4",
    // Gang scheduling is off in the benchmark; Volcano's scheduler would only add its watch of every pod.
    "--no-volcano",
  ], dir);
  const state = await readState(dir);
  if (!state) throw new Error(`Cannot benchmark: cluster:up left no state in ${dir}`);
  const target = await readKubeconfig(state.kubeconfig);

  // The controller's own identity: a client certificate signed by the cluster CA.
  const pki = join(dir, "pki");
  const cert = await createLeafCertificate(pki, CONTROLLER_USER, { cert: state.pki.caCert, key: state.pki.caKey }, {
    subject: `/CN=${CONTROLLER_USER}/O=system:masters`,
    usage: ["client"],
  });
  const controllerKubeconfig = join(dir, "controller.kubeconfig");
  await writeKubeconfig(controllerKubeconfig, {
    server: state.server,
    credentials: {
      caCert: target.credentials.caCert,
      clientCert: await Deno.readTextFile(cert.cert),
      clientKey: await Deno.readTextFile(cert.key),
    },
  });

  const policy = join(pki, "bench-audit-policy.yaml");
  await Deno.writeTextFile(policy, AUDIT_POLICY);
  const auditLog = join(state.logsDir, "audit.log");
  await restartComponent(dir, "kube-apiserver", (args) => [
    ...args.filter((a) => !a.startsWith("--audit-")),
    `--audit-policy-file=${policy}`,
    `--audit-log-path=${auditLog}`,
    "--audit-log-format=json",
    "--audit-log-mode=blocking",
  ]);
  const restarted = (await readState(dir))!;
  await eventually(
    "kube-apiserver /readyz after enabling the audit log",
    () => apiserverReady(restarted, target.credentials),
    {
      timeoutMs: 120_000,
      intervalMs: 200,
      process: restarted.processes["kube-apiserver"],
    },
  );
  log(`audit log for user ${CONTROLLER_USER}: ${auditLog}`);
  return {
    dir,
    state: restarted,
    kubeconfig: state.kubeconfig,
    controllerKubeconfig,
    auditLog,
    credentials: target.credentials,
    http: Deno.createHttpClient({
      caCerts: [target.credentials.caCert],
      cert: target.credentials.clientCert,
      key: target.credentials.clientKey,
    }),
  };
}

/**
 * Stops the benchmark's cluster (`deno task cluster:down`); logs stay in `<dir>/logs`.
 *
 * @param cluster the cluster, or just its directory when start-up failed half-way
 */
export async function stopBenchCluster(cluster: BenchCluster | string): Promise<void> {
  const dir = typeof cluster === "string" ? cluster : cluster.dir;
  const known = typeof cluster === "string" ? await readState(dir) : ((await readState(dir)) ?? cluster.state);
  if (typeof cluster !== "string") cluster.http.close();
  log(`stopping the control plane in ${dir}`);
  const output = await deno(["task", "cluster:down"], dir);
  // cluster:down stops what the state file records. Once a component outlived it (a kwok still running after the
  // state was removed), so check every process we knew of, by PID and exact command line, and stop survivors.
  for (const [name, record] of Object.entries(known?.processes ?? {})) {
    if (!record || !(await isOurs(record))) continue;
    log(`${name} (pid ${record.pid}) survived cluster:down; stopping it. cluster:down said:\n${output.trim()}`);
    await stopProcess(record);
  }
}

/**
 * Stops one recorded control-plane process and starts it again with changed arguments (recorded, so a later
 * `cluster:down` or harness restart uses them).
 *
 * @param dir the cluster directory
 * @param component which process
 * @param change new arguments from the old ones
 */
async function restartComponent(dir: string, component: Component, change: (args: string[]) => string[]) {
  await withStateLock(dir, async () => {
    const state = await readState(dir);
    const process = state?.processes[component];
    if (!state || !process) throw new Error(`Cannot restart ${component}: ${dir} records no such process`);
    const outcome = await stopProcess(process);
    if (outcome === "not ours") throw new Error(`Cannot restart ${component}: pid ${process.pid} is not ours`);
    const { pid: _old, ...spec } = process;
    spec.args = change(spec.args);
    state.processes[component] = { pid: await spawnDetached(spec), ...spec };
    await writeState(state);
  });
}

function securePort(state: ClusterState, component: Component): number {
  const arg = state.processes[component]?.args.find((a) => a.startsWith("--secure-port="));
  if (!arg) throw new Error(`Cannot find ${component}'s --secure-port in the recorded arguments`);
  return Number(arg.slice("--secure-port=".length));
}

/** What the benchmark reads of kube-controller-manager's metrics. */
const KCM_METRICS = ["rest_client_", "workqueue_"];
/** What the benchmark reads of the API server's metrics. */
const APISERVER_METRICS = ["apiserver_admission_webhook_admission_duration_seconds"];

/**
 * Scrapes kube-controller-manager's `/metrics` (client requests and rate-limiter waits, work queues).
 *
 * @param cluster the cluster
 * @returns the scrape (only the metrics the benchmark reads)
 */
export function scrapeKcm(cluster: BenchCluster): Promise<Scrape> {
  const url = `https://127.0.0.1:${securePort(cluster.state, "kube-controller-manager")}/metrics`;
  return scrape(url, cluster.http, KCM_METRICS);
}

/**
 * Scrapes the API server's `/metrics` (admission webhook latency).
 *
 * @param cluster the cluster
 * @returns the scrape (only the metrics the benchmark reads)
 */
export function scrapeApiserver(cluster: BenchCluster): Promise<Scrape> {
  return scrape(`${cluster.state.server}/metrics`, cluster.http, APISERVER_METRICS);
}

/**
 * Restarts kube-controller-manager with the given client limits (unset: upstream default) and waits until its
 * StatefulSet controller runs again. Does nothing when the recorded flags already match.
 *
 * @param cluster the cluster (its `state` is refreshed)
 * @param limits qps, burst, StatefulSet workers
 */
export async function setKcmLimits(cluster: BenchCluster, limits: KcmLimits): Promise<void> {
  const flags = [
    ...(limits.qps !== undefined ? [`--kube-api-qps=${limits.qps}`] : []),
    ...(limits.burst !== undefined ? [`--kube-api-burst=${limits.burst}`] : []),
    ...(limits.statefulSetSyncs !== undefined ? [`--concurrent-statefulset-syncs=${limits.statefulSetSyncs}`] : []),
  ];
  const managed = (a: string) =>
    a.startsWith("--kube-api-qps=") || a.startsWith("--kube-api-burst=") ||
    a.startsWith("--concurrent-statefulset-syncs=");
  const current = cluster.state.processes["kube-controller-manager"]?.args.filter(managed) ?? [];
  if (current.length === flags.length && current.every((a) => flags.includes(a))) return;
  log(`restarting kube-controller-manager with ${flags.length ? flags.join(" ") : "its default client limits"}`);
  await restartComponent(
    cluster.dir,
    "kube-controller-manager",
    (args) => [...args.filter((a) => !managed(a)), ...flags],
  );
  cluster.state = (await readState(cluster.dir))!;
  await eventually("kube-controller-manager's StatefulSet controller after the restart", async () => {
    const metrics = await scrapeKcm(cluster);
    return metrics.some((s) => s.name === "workqueue_adds_total" && s.labels.name === "statefulset");
  }, { timeoutMs: 90_000, intervalMs: 250, process: cluster.state.processes["kube-controller-manager"] });
}
