/**
 * The sizes of a benchmark run. `full` is the workload (50 LWS × 4 groups × 4 pods, 10,000 unrelated
 * pods, 60 s idle); `small` is the same harness scaled down for the CI smoke test.
 *
 * @module
 */

/** kube-controller-manager client limits of one configuration; unset fields mean the upstream default. */
export interface KcmLimits {
  /** `--kube-api-qps` (upstream default 20). */
  qps?: number;
  /** `--kube-api-burst` (upstream default 30). */
  burst?: number;
  /** `--concurrent-statefulset-syncs` (upstream default 5). */
  statefulSetSyncs?: number;
}

/** kube-controller-manager's upstream defaults, for the report. */
export const KCM_DEFAULTS: Required<KcmLimits> = { qps: 20, burst: 30, statefulSetSyncs: 5 };

/** One control-plane configuration the workloads run under. */
export interface ControlPlaneConfig {
  /** `default` (what users have) or `raised` (so the LWS controller itself is the bottleneck). */
  name: string;
  /** What it means, for the report. */
  description: string;
  kcm: KcmLimits;
}

/** Everything that sizes a run. */
export interface Preset {
  name: "small" | "full";
  /** W1: LeaderWorkerSets. */
  lws: number;
  /** W1: groups (replicas) per LWS. */
  groups: number;
  /** W1: pods per group (leader + workers); at least 2, W4 fails a worker. */
  size: number;
  /** W3: pods that belong to no LWS. */
  fillerPods: number;
  /** W3: idle window in seconds. */
  idleSeconds: number;
  /** Fake nodes and pods per node (room for the LWS pods, a surge group per LWS and the filler pods). */
  nodes: number;
  podsPerNode: number;
  /** Control-plane configurations, run one after the other on the same cluster (W3 runs after the last). */
  configs: ControlPlaneConfig[];
  /** Give up on one workload after this long. */
  workloadTimeoutSeconds: number;
  /** Engine micro-benchmarks: pods for the store figures, the cached-pods RSS and the watch-event stream. */
  engine: { storePods: number; cachedPods: number; watchEvents: number };
  /** Dashboard micro-benchmark: one LWS of `groups` × `size` pods, `clients` SSE clients. */
  dashboard: { groups: number; size: number; clients: number };
}

const CONFIGS: ControlPlaneConfig[] = [
  {
    name: "default",
    description: "kube-controller-manager at its upstream client limits (qps 20, burst 30, 5 StatefulSet workers)",
    kcm: {},
  },
  {
    name: "raised",
    description: "kube-controller-manager limits raised (qps 1000, burst 2000, 50 StatefulSet workers)",
    kcm: { qps: 1000, burst: 2000, statefulSetSyncs: 50 },
  },
];

/** The sizes: 800 LWS pods, 10,000 unrelated pods, 60 s idle. Takes about half an hour on 2 cores. */
export const FULL: Preset = {
  name: "full",
  lws: 50,
  groups: 4,
  size: 4,
  fillerPods: 10_000,
  idleSeconds: 60,
  nodes: 40,
  podsPerNode: 300,
  configs: CONFIGS,
  workloadTimeoutSeconds: 900,
  engine: { storePods: 20_000, cachedPods: 10_000, watchEvents: 20_000 },
  dashboard: { groups: 1_000, size: 8, clients: 50 },
};

/** The smoke-test sizes: every workload and figure, in a few minutes. */
export const SMALL: Preset = {
  name: "small",
  lws: 3,
  groups: 2,
  size: 2,
  fillerPods: 150,
  idleSeconds: 5,
  nodes: 4,
  podsPerNode: 110,
  configs: CONFIGS,
  workloadTimeoutSeconds: 180,
  engine: { storePods: 2_000, cachedPods: 1_000, watchEvents: 2_000 },
  dashboard: { groups: 50, size: 4, clients: 5 },
};

/** Presets by name. */
export const PRESETS: Record<Preset["name"], Preset> = { small: SMALL, full: FULL };

/**
 * Pods per LWS workload: `lws × groups × size`.
 *
 * @param preset the sizes
 * @returns the pod count
 */
export function lwsPodCount(preset: Pick<Preset, "lws" | "groups" | "size">): number {
  return preset.lws * preset.groups * preset.size;
}

/**
 * Checks that a preset is runnable: positive sizes, a worker to fail, and room on the nodes for the LWS pods, a
 * surge group per LWS and the filler pods.
 *
 * @param preset the sizes
 * @returns every problem found (empty when fine)
 */
export function presetProblems(preset: Preset): string[] {
  const problems: string[] = [];
  for (const key of ["lws", "groups", "size", "nodes", "podsPerNode", "idleSeconds"] as const) {
    if (!Number.isInteger(preset[key]) || preset[key] < 1) {
      problems.push(`${key} must be a positive integer, got ${preset[key]}`);
    }
  }
  if (preset.size < 2) problems.push(`size must be at least 2 (W4 fails a worker pod), got ${preset.size}`);
  const needed = lwsPodCount(preset) + preset.lws * preset.size + preset.fillerPods;
  const room = preset.nodes * preset.podsPerNode;
  if (needed > room) problems.push(`nodes hold ${room} pods, the run needs up to ${needed}`);
  if (preset.configs.length === 0) problems.push("configs must not be empty");
  return problems;
}
