/**
 * The shape of `bench/out/bench-<preset>.json` (and of the committed `bench/results/latest.json`): everything the
 * table, the HTML report and the README figures are made from. Bump {@linkcode RESULT_SCHEMA} when it changes.
 *
 * @module
 */
import type { MachineInfo } from "./procfs.ts";
import type { ProfileSummary } from "./profile.ts";
import type { KcmLimits, Preset } from "./presets.ts";

/** Version of the JSON shape. */
export const RESULT_SCHEMA = 1;

/** Workload identifiers, in the order they are reported. */
export const WORKLOAD_IDS = ["W1", "W2", "W3", "W4"] as const;
/** One of {@linkcode WORKLOAD_IDS}. */
export type WorkloadId = typeof WORKLOAD_IDS[number];

/** What each workload does, for the table and the report. */
export const WORKLOAD_TITLES: Record<WorkloadId, string> = {
  W1: "create: apply → all Available",
  W2: "roll: new worker template (maxSurge 1) → all updated and Available",
  W3: "steady state: idle with unrelated pods in the cluster",
  W4: "recover: fail one worker per LWS (RecreateGroupOnPodRestart) → all Available",
};

/** Processes whose CPU the benchmark attributes per workload. */
export const COMPONENT_NAMES = [
  "controller",
  "kube-apiserver",
  "etcd",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "bench",
] as const;

/** Figures of the LWS controller process over one workload. */
export interface ControllerFigures {
  /** User + system CPU seconds (`/proc/<pid>/stat`). */
  cpuSeconds: number;
  /** Highest resident memory sampled during the workload (`VmRSS`, sampled every 500 ms and at both ends). */
  peakRssBytes: number;
  /** Resident memory at the end. */
  endRssBytes: number;
  /** API requests by its own counter (`rest_client_requests_total`). */
  requests: number;
  /** Its own counter per HTTP method. */
  requestsByMethod: Record<string, number>;
  /**
   * The same requests as the API server saw them: audit events of the controller's user whose user agent starts
   * with `lws/`, by the time the request was received. `null` when the audit log could not be read.
   */
  apiserverRequests: number | null;
  /** The API server's count per verb. */
  apiserverRequestsByVerb: Record<string, number>;
  /** Reconciles run (`controller_runtime_reconcile_total`) per controller (`leaderworkerset`, `pod`). */
  reconciles: Record<string, number>;
  /** Groups the restart policy recreated (`lws_group_recreations_total`), by what the triggering pod looked like. */
  groupRecreations: Record<string, number>;
  /** Reconciles that returned an error. */
  reconcileErrors: number;
  /** Seconds spent in reconciles, summed over concurrent workers (`controller_runtime_reconcile_time_seconds`). */
  reconcileSeconds: number;
  /** Seconds spent waiting for API responses, summed over concurrent requests (`rest_client_request_duration_seconds`). */
  requestSeconds: number;
}

/** Latency of one admission webhook as the API server measured it. */
export interface WebhookLatency {
  /** Admissions in the window. */
  admissions: number;
  /**
   * Median and 99th percentile in milliseconds, interpolated inside the API server's histogram buckets
   * (5, 25, 100, 500 ms, ...), so a p50 of "12 ms" means "between 5 and 25 ms, about 12". `null` without admissions.
   */
  p50Ms: number | null;
  p99Ms: number | null;
}

/** kube-controller-manager's own counters over one workload. */
export interface KcmFigures {
  /** Seconds its API clients spent waiting in their client-side rate limiter, summed over requests. */
  rateLimiterWaitSeconds: number;
  /** Requests it sent. */
  requests: number;
}

/** Everything measured over one run (LWS or raw) of one workload. */
export interface RunFigures {
  /** Wall time in seconds (W3: the idle window); a lower bound when {@linkcode RunFigures.timedOut}. */
  wallSeconds: number;
  /** Set when the workload did not reach its end state within the preset's timeout (the figures cover until then). */
  timedOut?: string;
  /** Set when the workload was not run, and why (its figures are zero). */
  skipped?: string;
  /** Pods created in the workload's namespace during it (distinct UIDs seen): the churn it caused. */
  podsCreated: number | null;
  /** CPU seconds per process ({@linkcode COMPONENT_NAMES}) during the workload. */
  cpuSeconds: Record<string, number>;
  /** The LWS controller; `null` for raw runs (there is none). */
  controller: ControllerFigures | null;
  /** `mpod.kb.io` (the pod defaulting webhook); `null` for raw runs. */
  podWebhook: WebhookLatency | null;
  /** `vpod.kb.io` (the pod validating webhook); `null` for raw runs. */
  podValidatingWebhook: WebhookLatency | null;
  kcm: KcmFigures;
  /** Window in epoch milliseconds (for the audit log and the charts). */
  window: { from: number; to: number };
  /** Window in sampler seconds (the RSS chart's time axis). */
  samplerWindow: { from: number; to: number };
}

/** One workload under one control-plane configuration. */
export interface WorkloadResult {
  id: WorkloadId;
  title: string;
  lws: RunFigures;
  /** The raw StatefulSet baseline; `null` where there is none (W3: no controller to compare). */
  raw: RunFigures | null;
  /** `lws.wallSeconds / raw.wallSeconds`; `null` without a baseline. */
  ratio: number | null;
  /** Workload-specific extras (W3: filler pods, their creation time, controller RSS before them). */
  extra?: Record<string, number>;
}

/** The workloads under one control-plane configuration. */
export interface ConfigResult {
  name: string;
  description: string;
  /** The effective kube-controller-manager limits (defaults filled in). */
  kcm: Required<KcmLimits>;
  workloads: WorkloadResult[];
  /** Controller resident memory over time: sampler seconds since the controller started → bytes. */
  controllerRss: { t: number; bytes: number }[];
  /** When the controller was ready (sampler seconds), and each LWS workload's window in the same time base. */
  phases: { id: WorkloadId; from: number; to: number }[];
  /** Controller start-up: process start to `/readyz`, seconds. */
  controllerStartupSeconds: number;
}

/** Engine figures from the micro-benchmarks (`kube/store_bench.ts` and `bench/engine_child.ts`). */
export interface EngineFigures {
  /** V8 heap bytes per cached LWS pod (frozen, managedFields stripped) — `kube/store_bench.ts`. */
  storeBytesPerPod: number | null;
  /** Store apply events per second (objects already parsed). */
  storeApplyPerSecond: number | null;
  /** JSON.parse + apply events per second. */
  storeParseApplyPerSecond: number | null;
  /** Watch events per second through the real client, watcher and store, from a local HTTP stream. */
  watcherEventsPerSecond: number | null;
  /** Resident memory of a Deno process caching `cachedPods` LWS pods through client → watcher → store. */
  cachedPods: number;
  cacheRssBytes: number | null;
  /** The same process before it listed anything (Deno + the modules). */
  baseRssBytes: number | null;
  /** Time the informer cache took to stop after its signal aborted; `null` when it had not stopped after 5 s. */
  cacheStopSeconds: number | null;
  /** Raw output of the micro-benchmarks, for the report. */
  output: string[];
}

/** One timing line of `ui/render_bench.ts`. */
export interface RenderTiming {
  label: string;
  medianMs: number;
  p95Ms: number;
  kib: number | null;
}

/** One SSE fan-out line of `ui/render_bench.ts`. */
export interface FanOut {
  label: string;
  changes: number;
  flushes: number;
  renders: number;
  messages: number;
  clients: number;
  mib: number;
  flushMs: number;
}

/** Dashboard figures from `ui/render_bench.ts`. */
export interface DashboardFigures {
  groups: number;
  size: number;
  clients: number;
  /** The detail page's server render (median), the headline figure. */
  detailRenderMs: number | null;
  timings: RenderTiming[];
  fanOut: FanOut[];
  output: string[];
}

/** The whole result. */
export interface BenchResult {
  schema: typeof RESULT_SCHEMA;
  preset: Preset["name"];
  sizes: {
    lws: number;
    groups: number;
    size: number;
    pods: number;
    fillerPods: number;
    idleSeconds: number;
    nodes: number;
    podsPerNode: number;
  };
  startedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  /** Git commit the run measured (with `-dirty` when the tree had changes). */
  commit: string;
  /** Control-plane versions (the binaries directory name). */
  controlPlane: string;
  configs: ConfigResult[];
  engine: EngineFigures;
  dashboard: DashboardFigures;
  /** CPU profile of the controller (`--profile`), or `null`. */
  profile: ProfileSummary | null;
  /** What limits throughput now, with the counters that show it. */
  bottleneck: { summary: string; evidence: string[] };
}
