/**
 * Builders of consistent in-memory LWS worlds (LeaderWorkerSet, leader and worker StatefulSets, pods, events) for
 * the dashboard's tests, benchmark, browser test and demo. Objects look like what the controller, the StatefulSet
 * controller and the pod webhook produce (names, labels, annotations, env), so the view model sees realistic input.
 *
 * Times are fixed relative to {@linkcode FIXTURE_NOW}, so outputs are deterministic.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Container, ContainerStatus, EnvVar, Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1.d.ts";
import type { Condition } from "kubernetes-types/meta/v1.d.ts";
import {
  ANNOTATION_LEADER_NAME,
  ANNOTATION_SIZE,
  ANNOTATION_SUBGROUP_SIZE,
  API_VERSION,
  CONDITION_AVAILABLE,
  CONDITION_PROGRESSING,
  CONDITION_UPDATE_IN_PROGRESS,
  ENV_LWS_GROUP_SIZE,
  ENV_LWS_LEADER_ADDRESS,
  ENV_LWS_WORKER_INDEX,
  KIND,
  LABEL_GROUP_INDEX,
  LABEL_GROUP_KEY,
  LABEL_NAME,
  LABEL_SUBGROUP_INDEX,
  LABEL_TEMPLATE_REVISION_HASH,
  LABEL_WORKER_INDEX,
  MESSAGE_ALL_GROUPS_READY,
  MESSAGE_GROUPS_PROGRESSING,
  MESSAGE_GROUPS_UPDATING,
  REASON_ALL_GROUPS_READY,
  REASON_GROUPS_PROGRESSING,
  REASON_GROUPS_UPDATING,
} from "../api/constants.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import type { DashboardEvent } from "./source.ts";
import type { LwsObjects } from "./view_model.ts";

/** The fixed "now" of every fixture: 2025-01-01T12:00:00Z. */
export const FIXTURE_NOW: number = Date.parse("2025-01-01T12:00:00Z");

function ago(ms: number): string {
  return new Date(FIXTURE_NOW - ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** How a fixture pod looks. */
export type FixturePodState =
  | "ready"
  | "running"
  | "pending"
  | "unscheduled"
  | "crashloop"
  | "restarted"
  | "failed"
  | "imagepull"
  | "terminating"
  | "succeeded";

/** Options of {@linkcode lwsFixture}. */
export interface LwsFixtureOptions {
  /** LWS name. Default `demo`. */
  name?: string;
  /** Namespace. Default `default`. */
  namespace?: string;
  /** `spec.replicas`. Default 2. */
  replicas?: number;
  /** Group size. Default 2. */
  size?: number;
  /** Spec partition. Default 0. */
  partition?: number;
  /** maxSurge. Default 0. */
  maxSurge?: number | string;
  /** maxUnavailable. Default 1. */
  maxUnavailable?: number | string;
  /** Subgroup size; absent: no subgroups. */
  subGroupSize?: number;
  /** Subgroup policy type. Default `LeaderWorker`. */
  subGroupPolicyType?: "LeaderWorker" | "LeaderExcluded";
  /** Which conditions are True: `available`, `progressing` or `updating` (UpdateInProgress + Progressing). */
  conditions?: "available" | "progressing" | "updating" | "none";
  /** `metadata.generation`. Default 1. */
  generation?: number;
  /** `status.observedGeneration`. Default: the generation. */
  observedGeneration?: number;
  /** Extra env of the worker template container. */
  env?: EnvVar[];
  /** Worker image. */
  image?: string;
}

/**
 * A LeaderWorkerSet after defaulting, with status conditions.
 *
 * @param options Shape of the object.
 * @returns A new object.
 */
export function lwsFixture(options: LwsFixtureOptions = {}): LeaderWorkerSet {
  const generation = options.generation ?? 1;
  const cond = (type: string, status: string, reason: string, message: string, age: number): Condition => ({
    type,
    status,
    reason,
    message,
    lastTransitionTime: ago(age),
    observedGeneration: options.observedGeneration ?? generation,
  });
  const conditions: Condition[] = [];
  switch (options.conditions ?? "available") {
    case "available":
      conditions.push(cond(CONDITION_AVAILABLE, "True", REASON_ALL_GROUPS_READY, MESSAGE_ALL_GROUPS_READY, 3_600_000));
      conditions.push(
        cond(CONDITION_PROGRESSING, "False", REASON_GROUPS_PROGRESSING, MESSAGE_GROUPS_PROGRESSING, 3_600_000),
      );
      break;
    case "progressing":
      conditions.push(
        cond(CONDITION_PROGRESSING, "True", REASON_GROUPS_PROGRESSING, MESSAGE_GROUPS_PROGRESSING, 90_000),
      );
      break;
    case "updating":
      conditions.push(cond(CONDITION_AVAILABLE, "False", REASON_ALL_GROUPS_READY, MESSAGE_ALL_GROUPS_READY, 240_000));
      conditions.push(
        cond(CONDITION_PROGRESSING, "True", REASON_GROUPS_PROGRESSING, MESSAGE_GROUPS_PROGRESSING, 240_000),
      );
      conditions.push(
        cond(CONDITION_UPDATE_IN_PROGRESS, "True", REASON_GROUPS_UPDATING, MESSAGE_GROUPS_UPDATING, 240_000),
      );
      break;
    case "none":
      break;
  }
  const container: Container = {
    name: "worker",
    image: options.image ?? "registry.example/llm-server:1.4",
    resources: { limits: { "nvidia.com/gpu": "8" }, requests: { cpu: "4", memory: "16Gi" } },
    env: options.env,
  };
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: options.name ?? "demo",
      namespace: options.namespace ?? "default",
      uid: `uid-${options.namespace ?? "default"}-${options.name ?? "demo"}`,
      generation,
      creationTimestamp: ago(86_400_000 * 2),
    },
    spec: {
      replicas: options.replicas ?? 2,
      leaderWorkerTemplate: {
        size: options.size ?? 2,
        restartPolicy: "RecreateGroupOnPodRestart",
        workerTemplate: { metadata: {}, spec: { containers: [container] } },
        subGroupPolicy: options.subGroupSize
          ? { subGroupPolicyType: options.subGroupPolicyType ?? "LeaderWorker", subGroupSize: options.subGroupSize }
          : undefined,
      },
      rolloutStrategy: {
        type: "RollingUpdate",
        rollingUpdateConfiguration: {
          partition: options.partition ?? 0,
          maxUnavailable: options.maxUnavailable ?? 1,
          maxSurge: options.maxSurge ?? 0,
        },
      },
      startupPolicy: "LeaderCreated",
      networkConfig: { subdomainPolicy: "Shared" },
    },
    status: {
      conditions,
      observedGeneration: options.observedGeneration ?? generation,
      hpaPodSelector: `${LABEL_NAME}=${options.name ?? "demo"},${LABEL_WORKER_INDEX}=0`,
    },
  };
}

/** Options of {@linkcode podFixture}. */
export interface PodFixtureOptions {
  /** LWS name. */
  lwsName: string;
  /** Namespace. Default `default`. */
  namespace?: string;
  /** Group index. */
  group: number;
  /** Worker index (0: leader). */
  worker: number;
  /** Group size (size annotation, LWS_GROUP_SIZE). */
  size: number;
  /** `template-revision-hash` label. */
  revision: string;
  /** How the pod looks. Default `ready`. */
  state?: FixturePodState;
  /** Node name. Default: a node derived from the indexes. */
  node?: string;
  /** Subgroup size; sets the subgroup labels like the pod webhook (leader in subgroup 0). */
  subGroupSize?: number;
  /** Subgroup policy type. Default `LeaderWorker`. */
  subGroupPolicyType?: "LeaderWorker" | "LeaderExcluded";
  /** Extra env of the container (after the injected LWS vars). */
  env?: EnvVar[];
}

function containerStatus(state: FixturePodState): ContainerStatus {
  const base = { name: "worker", image: "registry.example/llm-server:1.4", imageID: "", restartCount: 0 };
  switch (state) {
    case "ready":
      return { ...base, ready: true, started: true, state: { running: { startedAt: ago(3_000_000) } } };
    case "running":
      return { ...base, ready: false, started: true, state: { running: { startedAt: ago(20_000) } } };
    case "pending":
    case "unscheduled":
      return { ...base, ready: false, state: { waiting: { reason: "ContainerCreating" } } };
    case "crashloop":
      return {
        ...base,
        ready: false,
        restartCount: 5,
        state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 2m40s restarting failed container" } },
        lastState: { terminated: { exitCode: 1, reason: "Error", finishedAt: ago(30_000) } },
      };
    case "restarted":
      return {
        ...base,
        ready: false,
        restartCount: 1,
        state: { running: { startedAt: ago(5_000) } },
        lastState: { terminated: { exitCode: 137, reason: "OOMKilled", finishedAt: ago(6_000) } },
      };
    case "failed":
      return {
        ...base,
        ready: false,
        state: { terminated: { exitCode: 1, reason: "Error", finishedAt: ago(60_000) } },
      };
    case "imagepull":
      return {
        ...base,
        ready: false,
        state: { waiting: { reason: "ImagePullBackOff", message: "Back-off pulling image" } },
      };
    case "terminating":
      return { ...base, ready: false, state: { running: { startedAt: ago(3_000_000) } } };
    case "succeeded":
      return { ...base, ready: false, state: { terminated: { exitCode: 0, reason: "Completed" } } };
  }
}

/**
 * A pod as the leader or worker StatefulSet and the pod webhook create it, with a status for `state`.
 *
 * @param options Identity and state.
 * @returns A new object.
 */
export function podFixture(options: PodFixtureOptions): Pod {
  const state = options.state ?? "ready";
  const ns = options.namespace ?? "default";
  const leaderName = `${options.lwsName}-${options.group}`;
  const name = options.worker === 0 ? leaderName : `${leaderName}-${options.worker}`;
  const labels: Record<string, string> = {
    [LABEL_NAME]: options.lwsName,
    [LABEL_GROUP_INDEX]: String(options.group),
    [LABEL_WORKER_INDEX]: String(options.worker),
    [LABEL_TEMPLATE_REVISION_HASH]: options.revision,
    [LABEL_GROUP_KEY]: `gk${String(options.group).padStart(38, "0")}`,
  };
  const annotations: Record<string, string> = { [ANNOTATION_SIZE]: String(options.size) };
  if (options.worker > 0) annotations[ANNOTATION_LEADER_NAME] = leaderName;
  if (options.subGroupSize) {
    annotations[ANNOTATION_SUBGROUP_SIZE] = String(options.subGroupSize);
    const k = options.subGroupSize;
    const leaderExtra = (options.size - 1) % k === 0 && options.size % k !== 0;
    const excluded = options.subGroupPolicyType === "LeaderExcluded";
    if (options.worker > 0 || !excluded) {
      const index = options.worker === 0 ? 0 : Math.trunc((leaderExtra ? options.worker - 1 : options.worker) / k);
      labels[LABEL_SUBGROUP_INDEX] = String(index);
    }
  }
  const scheduled = state !== "unscheduled";
  const phase = state === "failed"
    ? "Failed"
    : state === "succeeded"
    ? "Succeeded"
    : state === "pending" || state === "unscheduled" || state === "imagepull"
    ? "Pending"
    : "Running";
  const conditions: PodCondition[] = [
    scheduled ? { type: "PodScheduled", status: "True", lastTransitionTime: ago(3_500_000) } : {
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message: "0/16 nodes are available: 16 Insufficient nvidia.com/gpu.",
      lastTransitionTime: ago(120_000),
    },
  ];
  if (scheduled) {
    const ready = state === "ready";
    conditions.push({ type: "Initialized", status: "True", lastTransitionTime: ago(3_400_000) });
    conditions.push({ type: "ContainersReady", status: ready ? "True" : "False", lastTransitionTime: ago(3_000_000) });
    conditions.push({ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: ago(3_000_000) });
  }
  const env: EnvVar[] = [
    { name: ENV_LWS_LEADER_ADDRESS, value: `${leaderName}.${options.lwsName}.${ns}` },
    { name: ENV_LWS_GROUP_SIZE, value: String(options.size) },
    { name: ENV_LWS_WORKER_INDEX, value: String(options.worker) },
    ...(options.env ?? []),
  ];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: ns,
      uid: `uid-${ns}-${name}`,
      labels,
      annotations,
      creationTimestamp: ago(3_600_000),
      deletionTimestamp: state === "terminating" ? ago(10_000) : undefined,
    },
    spec: {
      subdomain: options.lwsName,
      nodeName: scheduled ? options.node ?? `node-${(options.group * 3 + options.worker) % 97}` : undefined,
      containers: [{
        name: "worker",
        image: "registry.example/llm-server:1.4",
        env,
        resources: { limits: { "nvidia.com/gpu": "8" } },
      }],
    },
    status: {
      phase,
      conditions,
      reason: state === "failed" ? "Evicted" : undefined,
      hostIP: scheduled ? "10.0.0.5" : undefined,
      podIP: scheduled && phase === "Running" ? `10.244.${options.group % 250}.${options.worker + 2}` : undefined,
      startTime: scheduled ? ago(3_500_000) : undefined,
      qosClass: "Burstable",
      containerStatuses: scheduled ? [containerStatus(state)] : undefined,
    },
  };
}

/**
 * A container status of the fixtures' single container `worker`.
 *
 * @param status The fields that differ (state, lastState, counts).
 * @returns A new status (not ready, no restarts, unless given).
 */
export function workerStatus(status: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    name: "worker",
    image: "registry.example/llm-server:1.4",
    imageID: "",
    ready: false,
    restartCount: 0,
    ...status,
  };
}

/**
 * The pod as the local control plane's `lws-pod-fail` KWOK stage leaves it (`tests/cluster/stages/pod-fail.yaml`):
 * phase Failed, Ready False, its container terminated with reason `Error`, exit code 1.
 *
 * @param pod The pod (not changed).
 * @param at When it failed (ms since the epoch). Default {@linkcode FIXTURE_NOW}.
 * @param status Status fields to set besides (e.g. a pod `reason` and `message`).
 * @returns A new object.
 */
export function kwokFailedPod(pod: Pod, at: number = FIXTURE_NOW, status: Partial<PodStatus> = {}): Pod {
  const time = new Date(at).toISOString();
  return {
    ...pod,
    status: {
      ...pod.status,
      phase: "Failed",
      conditions: [{ type: "Ready", status: "False", lastTransitionTime: time }],
      containerStatuses: [workerStatus({
        started: false,
        state: {
          terminated: {
            exitCode: 1,
            reason: "Error",
            message: "failed by the lws-pod-fail stage",
            startedAt: time,
            finishedAt: time,
          },
        },
      })],
      ...status,
    },
  };
}

/** Options of {@linkcode statefulSetFixture}. */
export interface StatefulSetFixtureOptions {
  /** LWS name. */
  lwsName: string;
  /** Namespace. Default `default`. */
  namespace?: string;
  /** Group index for a worker StatefulSet; omitted for the leader StatefulSet. */
  group?: number;
  /** `spec.replicas` (and `status.replicas`). */
  replicas: number;
  /** `status.availableReplicas`. */
  available: number;
  /** `template-revision-hash` label. */
  revision: string;
  /** Leader StatefulSet partition. */
  partition?: number;
  /** Worker StatefulSet still rolling its own pods. */
  rolling?: boolean;
}

/**
 * A leader StatefulSet (`<lws>`, no group-index label) or a worker StatefulSet (`<lws>-<g>`).
 *
 * @param options Identity and status.
 * @returns A new object.
 */
export function statefulSetFixture(options: StatefulSetFixtureOptions): StatefulSet {
  const ns = options.namespace ?? "default";
  const name = options.group === undefined ? options.lwsName : `${options.lwsName}-${options.group}`;
  const labels: Record<string, string> = {
    [LABEL_NAME]: options.lwsName,
    [LABEL_TEMPLATE_REVISION_HASH]: options.revision,
  };
  if (options.group !== undefined) labels[LABEL_GROUP_INDEX] = String(options.group);
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace: ns, uid: `uid-${ns}-sts-${name}`, labels, creationTimestamp: ago(3_600_000) },
    spec: {
      replicas: options.replicas,
      serviceName: options.lwsName,
      selector: { matchLabels: { [LABEL_NAME]: options.lwsName } },
      template: { spec: { containers: [] } },
      updateStrategy: options.group === undefined
        ? { type: "RollingUpdate", rollingUpdate: { partition: options.partition ?? 0 } }
        : undefined,
    },
    status: {
      replicas: options.replicas,
      availableReplicas: options.available,
      readyReplicas: options.available,
      currentRevision: `${name}-aaa`,
      updateRevision: options.rolling ? `${name}-bbb` : `${name}-aaa`,
    },
  };
}

/** Options of {@linkcode worldFixture}. */
export interface WorldOptions extends LwsFixtureOptions {
  /** Update (target) revision. Default `"5b9c7d4f6b"`. */
  revision?: string;
  /** Revision of groups that are not updated. Default `"7f8d6c5b4a"`. */
  oldRevision?: string;
  /** Groups that exist (surge included). Default `replicas`. */
  groups?: number;
  /** Whether group `g` runs the update revision. Default: every group. */
  updated?: (group: number) => boolean;
  /** State of pod (g, w). Default `ready`. */
  podState?: (group: number, worker: number) => FixturePodState | "absent";
  /** Groups without a worker StatefulSet. */
  missingWorkerSets?: readonly number[];
  /** Leader StatefulSet partition. Default: `partition`. */
  stsPartition?: number;
  /** No leader StatefulSet at all. */
  noLeaderSet?: boolean;
  /** Events regarding the LWS. */
  events?: DashboardEvent[];
  /** Extra env of every pod container. */
  podEnv?: EnvVar[];
}

/**
 * A consistent world for one LWS: the object, its leader StatefulSet, one worker StatefulSet per group (size > 1)
 * and every pod, each in the state `podState` gives it.
 *
 * @param options Shape of the world.
 * @returns The objects, ready for the view model or a `MemoryDashboardSource`.
 */
export function worldFixture(options: WorldOptions = {}): LwsObjects {
  const lws = lwsFixture(options);
  const name = lws.metadata.name!;
  const ns = lws.metadata.namespace!;
  const size = lws.spec.leaderWorkerTemplate.size ?? 1;
  const replicas = lws.spec.replicas ?? 1;
  const groups = options.groups ?? replicas;
  const revision = options.revision ?? "5b9c7d4f6b";
  const oldRevision = options.oldRevision ?? "7f8d6c5b4a";
  const pods: Pod[] = [];
  const statefulSets: StatefulSet[] = [];
  let ready = 0, updatedCount = 0;
  if (!options.noLeaderSet) {
    statefulSets.push(statefulSetFixture({
      lwsName: name,
      namespace: ns,
      replicas: groups,
      available: groups,
      revision,
      partition: options.stsPartition ?? options.partition ?? 0,
    }));
  }
  for (let g = 0; g < groups; g++) {
    const rev = (options.updated?.(g) ?? true) ? revision : oldRevision;
    let readyWorkers = 0;
    let leaderReady = false;
    for (let w = 0; w < size; w++) {
      const state = options.podState?.(g, w) ?? "ready";
      if (state === "absent") continue;
      if (state === "ready") w === 0 ? (leaderReady = true) : readyWorkers++;
      pods.push(podFixture({
        lwsName: name,
        namespace: ns,
        group: g,
        worker: w,
        size,
        revision: rev,
        state,
        subGroupSize: options.subGroupSize,
        subGroupPolicyType: options.subGroupPolicyType,
        env: options.podEnv,
      }));
    }
    if (size > 1 && !options.missingWorkerSets?.includes(g)) {
      statefulSets.push(statefulSetFixture({
        lwsName: name,
        namespace: ns,
        group: g,
        replicas: size - 1,
        available: readyWorkers,
        revision: rev,
      }));
    }
    if (leaderReady && readyWorkers === size - 1) ready++;
    if (rev === revision) updatedCount++;
  }
  lws.status = { ...lws.status, replicas: groups, readyReplicas: ready, updatedReplicas: updatedCount };
  return { lws, pods, statefulSets, events: options.events ?? [] };
}

/**
 * An events.k8s.io/v1 Event regarding an LWS (or, with `kind`, another object).
 *
 * @param options What the event says.
 * @returns A new object.
 */
export function eventFixture(options: {
  lwsName: string;
  namespace?: string;
  reason: string;
  note: string;
  type?: "Normal" | "Warning";
  agoMs?: number;
  kind?: string;
  name?: string;
  seq?: number;
}): DashboardEvent {
  const ns = options.namespace ?? "default";
  const regardingName = options.name ?? options.lwsName;
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: {
      name: `${regardingName}.${options.seq ?? 0}`,
      namespace: ns,
      creationTimestamp: ago(options.agoMs ?? 0),
    },
    eventTime: new Date(FIXTURE_NOW - (options.agoMs ?? 0)).toISOString(),
    reason: options.reason,
    note: options.note,
    type: options.type ?? "Normal",
    action: "Update",
    reportingController: "leaderworkerset",
    reportingInstance: "leaderworkerset-controller",
    regarding: { kind: options.kind ?? KIND, name: regardingName, namespace: ns, apiVersion: API_VERSION },
  };
}

/**
 * A small fleet for demos and the browser test: a healthy LWS, a rolling update with partition, surge, subgroups
 * and failures, an LWS whose pods cannot be scheduled, a size-1 LWS and, with `big`, 1,000 groups × 8 pods.
 *
 * @param options `big` adds the large LWS (namespace `scale`).
 * @returns The worlds, one per LWS.
 */
export function demoWorlds(options: { big?: boolean } = {}): LwsObjects[] {
  const worlds: LwsObjects[] = [
    worldFixture({ name: "llama-70b", namespace: "inference", replicas: 3, size: 4 }),
    worldFixture({
      name: "mixtral-serving",
      namespace: "inference",
      replicas: 6,
      size: 4,
      groups: 7,
      maxSurge: 1,
      partition: 1,
      stsPartition: 3,
      subGroupSize: 2,
      conditions: "updating",
      updated: (g) => g >= 3,
      podState: (g, w) =>
        g === 4 && w === 2
          ? "crashloop"
          : g === 6
          ? (w === 0 ? "running" : "pending")
          : g === 3 && w === 3
          ? "restarted"
          : "ready",
      podEnv: [
        { name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: "hf-credentials", key: "token" } } },
        { name: "MODEL_ID", value: "mistralai/Mixtral-8x7B-Instruct-v0.1" },
        { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      ],
      events: [
        eventFixture({
          lwsName: "mixtral-serving",
          namespace: "inference",
          reason: "GroupsUpdating",
          note: "Updating replicas 3 to 5 (inclusive)",
          agoMs: 95_000,
          seq: 1,
        }),
        eventFixture({
          lwsName: "mixtral-serving",
          namespace: "inference",
          reason: "CreatingRevision",
          note: "Creating revision with key 5b9c7d4f6b for updated LWS",
          agoMs: 240_000,
          seq: 2,
        }),
        eventFixture({
          lwsName: "mixtral-serving",
          namespace: "inference",
          reason: "FailedCreate",
          type: "Warning",
          note:
            "Failed to create worker statefulset for leader pod mixtral-serving-6: the server is currently unable to handle the request",
          agoMs: 30_000,
          seq: 3,
        }),
      ],
    }),
    worldFixture({
      name: "trainer-gpt",
      namespace: "training",
      replicas: 2,
      size: 8,
      conditions: "progressing",
      podState: (g, w) => (g === 1 && w >= 4 ? "unscheduled" : g === 1 && w === 1 ? "imagepull" : "ready"),
      missingWorkerSets: [],
    }),
    worldFixture({ name: "embedder", namespace: "inference", replicas: 4, size: 1 }),
  ];
  if (options.big) {
    worlds.push(worldFixture({
      name: "fleet-1k",
      namespace: "scale",
      replicas: 1000,
      size: 8,
      conditions: "updating",
      stsPartition: 400,
      updated: (g) => g >= 400,
      podState: (g, w) => (g % 97 === 5 && w === 3 ? "crashloop" : g % 211 === 7 ? "pending" : "ready"),
    }));
  }
  return worlds;
}
