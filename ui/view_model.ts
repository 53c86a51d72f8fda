/**
 * The dashboard's pure view model: LeaderWorkerSets, their Pods, StatefulSets and events in, plain serialisable data
 * out (overview rows, the detail page with its group grid, the pod drawer). No I/O and no clock: callers pass `now`.
 *
 * Every status is given as a `state` (for colour) **and** a text `label` (never colour alone). Secret values never
 * reach the output: an env var sourced from a Secret becomes a reference (`secretKeyRef app-secrets/token`), and the
 * dashboard never reads Secrets at all.
 *
 * Readiness follows the controller (spec §7.5): a group is ready when its leader pod is Running and Ready and (for
 * size > 1) its worker StatefulSet has all replicas available on its update revision; it is updated when the leader
 * pod and the worker StatefulSet carry the leader StatefulSet's `template-revision-hash`.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Container, ContainerStatus, EnvVar, Pod } from "kubernetes-types/core/v1.d.ts";
import type { Condition } from "kubernetes-types/meta/v1.d.ts";
import { stringify } from "yaml";
import {
  ANNOTATION_SIZE,
  CONDITION_AVAILABLE,
  CONDITION_PROGRESSING,
  CONDITION_UPDATE_IN_PROGRESS,
  ENV_LWS_GROUP_SIZE,
  ENV_LWS_LEADER_ADDRESS,
  ENV_LWS_WORKER_INDEX,
  ENV_TPU_NAME,
  ENV_TPU_PROCESS_ADDRESSES,
  ENV_TPU_PROCESS_PORT,
  ENV_TPU_WORKER_HOSTNAMES,
  ENV_TPU_WORKER_ID,
  EVENT_REASON_RECREATE_GROUP,
  KEY_PREFIX,
  LABEL_GROUP_INDEX,
  LABEL_NAME,
  LABEL_SUBGROUP_INDEX,
  LABEL_TEMPLATE_REVISION_HASH,
} from "../api/constants.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import { FAILURE_RETENTION_MS, type FailureKind, type FailureOutcome, type PodFailure } from "./failures.ts";
import { parseIndex, podPosition } from "./position.ts";
import type { DashboardEvent } from "./source.ts";

// ---------------------------------------------------------------------------------------------------------------
// Output types (plain JSON: islands receive them as props)

/** How a pod is doing, most urgent first in {@linkcode POD_STATE_ORDER}. */
export type PodState =
  | "failed"
  | "restarting"
  | "unscheduled"
  | "missing"
  | "terminating"
  | "pending"
  | "running"
  | "unknown"
  | "succeeded"
  | "ready";

/** Pod states from most to least urgent; a group shows its most urgent pod state. */
export const POD_STATE_ORDER: readonly PodState[] = [
  "failed",
  "restarting",
  "unscheduled",
  "missing",
  "terminating",
  "pending",
  "running",
  "unknown",
  "succeeded",
  "ready",
];

const STATE_RANK = Object.fromEntries(POD_STATE_ORDER.map((s, i) => [s, i])) as Record<PodState, number>;

/** Colour family of a status: the UI maps it to a palette and always prints the label beside it. */
export type Tone = "ok" | "progress" | "warn" | "error" | "neutral";

/** One pod of a group in the grid (or a placeholder for a pod that does not exist yet). */
export interface PodCell {
  /** Pod name (`<lws>-<g>` for the leader, `<lws>-<g>-<w>` for workers); set even when the pod is missing. */
  name: string;
  /** Worker index; 0 for the leader. */
  workerIndex: number;
  /** `leader` or `worker`. */
  role: "leader" | "worker";
  /** Classified state (for colour). */
  state: PodState;
  /** Short text for the state: `Ready`, `Running`, `CrashLoopBackOff`, `Unschedulable`, `Not created`, … */
  label: string;
  /** Pod phase and condition Ready both fine. */
  ready: boolean;
  /** Sum of container and init container restart counts. */
  restarts: number;
  /** Node the pod runs on, when scheduled. */
  node?: string;
  /** `leaderworkerset.sigs.k8s.io/subgroup-index`, when subgrouping is on. */
  subgroup?: number;
  /** The pod's `template-revision-hash` differs from the update revision. */
  outdated: boolean;
  /** Worker index ≥ the group's size (a pod that is being scaled away). */
  extra: boolean;
  /** The latest failure recorded at this position within {@linkcode FAILURE_RETENTION_MS} (lasts past the pod). */
  failure?: CellFailure;
}

/** A cell's recent failure: short text for the cell, full text for its label and tooltip. */
export interface CellFailure {
  /** What happened. */
  kind: FailureKind;
  /** e.g. `failed 12s ago`. */
  short: string;
  /** e.g. `failed 12s ago: Error, exit 1 — group recreated`. */
  text: string;
}

/** A pod failure as the dashboard shows it, from the failure record (`ui/failures.ts`). */
export interface FailureView {
  /** Group index. */
  group: number;
  /** Worker index; 0 for the leader. */
  worker: number;
  /** `L` or `W<n>`, as the grid's cells say. */
  position: string;
  /** `leader` or `worker <n>`. */
  who: string;
  /** Pod name at the time. */
  pod: string;
  /** What was seen. */
  kind: FailureKind;
  /** `failed`, `container exited`, `restarted`, `deleted while not ready`. */
  what: string;
  /** The container concerned. */
  container?: string;
  /** Reason from the pod or container status. */
  reason?: string;
  /** Exit code of the terminated container. */
  exitCode?: number;
  /** Message from the pod or container status (cut to a few hundred characters). */
  message?: string;
  /** What followed: `pod replaced` or `group recreated`. */
  outcome?: FailureOutcome;
  /** When (RFC 3339). */
  time: string;
  /** Age, e.g. `12s`. */
  age: string;
  /** One line: `failed 12s ago: Error, exit 1 — group recreated`. */
  text: string;
}

/** A group's overall state (for colour): a pod state, or `ready` when the controller would count it ready. */
export type GroupState = PodState;

/** One group (one row of the grid). */
export interface GroupRow {
  /** Group index `g`. */
  index: number;
  /** Leader pod name `<lws>-<g>`. */
  leaderName: string;
  /** Most urgent state of the group. */
  state: GroupState;
  /** Text of the state, e.g. `Ready`, `1 pod restarting`, `Workers not created`. */
  label: string;
  /** Ready as the controller counts it (spec §7.5). */
  ready: boolean;
  /** On the update revision (leader pod and worker StatefulSet). */
  updated: boolean;
  /** Revision key of the leader pod (or the worker StatefulSet when the leader is missing). */
  revision?: string;
  /** `new`: on the update revision; `old`: on another one; `unknown`: no revision known. */
  revisionRole: "new" | "old" | "unknown";
  /** Index ≥ `spec.replicas`: a temporary surge group. */
  surge: boolean;
  /** Index < the spec partition: keeps its revision. */
  held: boolean;
  /** Not updated, ≥ the spec partition but below the rolling-update front: will be updated later. */
  queued: boolean;
  /** Pods this group should have (size annotation of its leader, else the live size). */
  size: number;
  /** Worker StatefulSet of the group; absent for size 1. */
  workers?: {
    name: string;
    exists: boolean;
    ready: boolean;
    replicas: number;
    available: number;
  };
  /** Number of ready pods in the group. */
  readyPods: number;
  /** Leader first, then workers by index. */
  cells: PodCell[];
  /** The controller recreated this group within {@linkcode RECENT_RECREATION_MS} (its `RecreateGroup` event). */
  recreated?: RecreationView;
  /** Pod failures recorded in this group within {@linkcode FAILURE_RETENTION_MS}: the latest and how many. */
  failure?: { latest: FailureView; count: number };
  /**
   * The group needs attention: a failed, restarting or unscheduled pod, recreated within
   * {@linkcode RECENT_RECREATION_MS}, a pod failure within {@linkcode FAILURE_RETENTION_MS}, or its worker
   * StatefulSet missing for longer than {@linkcode MISSING_WORKERS_GRACE_MS}.
   */
  warning: boolean;
}

/** A recent recreation of a group, from the controller's `RecreateGroup` event about it. */
export interface RecreationView {
  /** Age of the last recreation, e.g. `45s`. */
  age: string;
  /** Recreations reported by the event (its series count), at least 1. */
  count: number;
  /** The event's note: `Worker pod <pod> failed, deleted leader pod <leader> to recreate group <g>`. */
  note: string;
}

/** A condition of `status.conditions`, with its age. */
export interface ConditionView {
  /** Condition type. */
  type: string;
  /** `True`, `False` or `Unknown`. */
  status: string;
  /** Machine-readable reason. */
  reason?: string;
  /** Human-readable message. */
  message?: string;
  /** `lastTransitionTime` as given (RFC 3339). */
  lastTransitionTime?: string;
  /** Age of the last transition, e.g. `3m`. */
  age?: string;
  /** Generation the condition was computed for. */
  observedGeneration?: number;
  /** The condition was computed for an older generation than the object's. */
  stale: boolean;
}

/** A revision key and how many groups run it. */
export interface RevisionView {
  /** Revision key (`template-revision-hash`). */
  key: string;
  /** Groups whose leader pod carries it. */
  groups: number;
  /** It is the update (target) revision. */
  update: boolean;
}

/** Counts of groups that need attention, for the warning badge. */
export interface WarningCounts {
  /** Groups with a failed pod. */
  failed: number;
  /** Groups with a restarting pod. */
  restarting: number;
  /** Groups with an unscheduled pod. */
  unscheduled: number;
  /** Groups (size > 1) whose leader exists but whose worker StatefulSet does not, past the grace period. */
  missingWorkers: number;
  /** Groups recreated within {@linkcode RECENT_RECREATION_MS} that are not failed, restarting or unscheduled now. */
  recreated: number;
  /**
   * Groups with a pod failure recorded within {@linkcode FAILURE_RETENTION_MS} that are not failed, restarting,
   * unscheduled or recreated now (the pod was replaced or restarted in place).
   */
  failedRecently: number;
  /** Human text, e.g. `1 group failed · 2 restarting`; empty when all counts are 0. */
  text: string;
}

/** One row of the overview table (one LeaderWorkerSet). */
export interface OverviewRow {
  /** `<namespace>/<name>`. */
  key: string;
  /** LWS namespace. */
  namespace: string;
  /** LWS name. */
  name: string;
  /** Link to the detail page. */
  href: string;
  /** `spec.replicas` (desired groups). */
  replicas: number;
  /** `spec.leaderWorkerTemplate.size`. */
  size: number;
  /** Groups that exist or should exist, surge included. */
  groups: number;
  /** Surge groups present (index ≥ replicas). */
  surgeGroups: number;
  /** Ready non-surge groups. */
  readyGroups: number;
  /** Updated non-surge groups. */
  updatedGroups: number;
  /** Ready pods / pods that exist. */
  readyPods: number;
  /** Pods that exist. */
  pods: number;
  /** Summary state from the conditions: `Available`, `Updating`, `Progressing`, `Pending`, `Scaled to zero`. */
  status: { label: string; tone: Tone };
  /** `status.conditions` with ages. */
  conditions: ConditionView[];
  /** Revision most old groups run (equals `updateRevision` when nothing is outdated). */
  currentRevision?: string;
  /** Target revision (leader StatefulSet's `template-revision-hash`). */
  updateRevision?: string;
  /** Rollout progress over non-surge groups. */
  rollout: { updated: number; desired: number; percent: number; inProgress: boolean };
  /** `spec` partition and the leader StatefulSet's current partition. */
  partition: { spec: number; current?: number };
  /** Groups that need attention. */
  warnings: WarningCounts;
  /** `metadata.generation` > `status.observedGeneration`: the controller has not caught up. */
  awaitingController: boolean;
  /** Age of the object, e.g. `2d`. */
  age?: string;
}

/** Overview page data. */
export interface OverviewView {
  /** Namespace filter applied (`""`: all). */
  namespace: string;
  /** Search text applied. */
  query: string;
  /** Namespaces that hold LeaderWorkerSets, sorted (for the filter). */
  namespaces: string[];
  /** One row per LWS, sorted by namespace then name. */
  rows: OverviewRow[];
  /** Rows before the search filter (for "3 of 12"). */
  total: number;
  /** The cache finished its first list. */
  synced: boolean;
}

/** An event line. */
export interface EventView {
  /** `Normal` or `Warning`. */
  type: string;
  /** Event reason, e.g. `GroupsUpdating`. */
  reason: string;
  /** Event note. */
  note: string;
  /** `Kind/name` of `regarding`. */
  object: string;
  /** Time of the last occurrence (RFC 3339). */
  time?: string;
  /** Age of the last occurrence, e.g. `3m`. */
  age?: string;
  /** Occurrences (series count). */
  count: number;
  /** `type` is `Warning`. */
  warning: boolean;
}

/** Which groups the grid shows. */
export type GroupFilter = "all" | "attention";

/** A line drawn between two grid rows. */
export interface GridDivider {
  /** Drawn before the row with this group index. */
  before: number;
  /** `partition`: spec partition; `front`: rolling-update front (leader sts partition); `surge`: surge groups start. */
  kind: "partition" | "front" | "surge";
  /** Text shown on the line. */
  label: string;
}

/** One page of the group grid. */
export interface GroupPage {
  /** 1-based page number. */
  page: number;
  /** Groups per page. */
  pageSize: number;
  /** Pages (at least 1). */
  pageCount: number;
  /** Filter applied. */
  filter: GroupFilter;
  /** Groups matching the filter (all pages). */
  matching: number;
  /** All groups. */
  total: number;
  /** Groups of this page, by index. */
  rows: GroupRow[];
  /** Dividers that fall on this page. */
  dividers: GridDivider[];
  /** Groups per state over all groups, most urgent first; every state listed has count > 0. */
  counts: { state: GroupState; label: string; count: number }[];
  /** Indexes of the first groups that need attention (at most 50), for "jump to next problem". */
  attention: number[];
  /** Whether any group uses subgroups. */
  subgroups: boolean;
  /** Widest group (cells per row). */
  maxCells: number;
}

/** Detail page data of one LeaderWorkerSet. */
export interface DetailView {
  /** The overview row of this LWS (status, counts, progress, warnings). */
  summary: OverviewRow;
  /** `metadata.generation`. */
  generation?: number;
  /** `status.observedGeneration`. */
  observedGeneration?: number;
  /** Status fields as the controller wrote them. */
  status: { replicas: number; readyReplicas: number; updatedReplicas: number; hpaPodSelector?: string };
  /** Revisions in use, the update revision first. */
  revisions: RevisionView[];
  /** `leaderWorkerTemplate.restartPolicy`. */
  restartPolicy: string;
  /** `startupPolicy`. */
  startupPolicy: string;
  /** Pods per subgroup, when subgrouping is on. */
  subGroupSize?: number;
  /** Subgroup policy type, when subgrouping is on. */
  subGroupPolicyType?: string;
  /** `rollingUpdateConfiguration.maxUnavailable`. */
  maxUnavailable: string;
  /** `rollingUpdateConfiguration.maxSurge`. */
  maxSurge: string;
  /** One page of the group grid. */
  grid: GroupPage;
  /** Events regarding the LWS, newest first. */
  events: EventView[];
  /** Pod failures recorded within {@linkcode FAILURE_RETENTION_MS} in every group, newest first. */
  failures: FailureView[];
  /** `apiVersion`, `kind`, `metadata` (trimmed) and `spec` as YAML. */
  specYaml: string;
}

/** An env var of a container, without any Secret value. */
export interface EnvView {
  /** Variable name. */
  name: string;
  /** Literal value (`value`), when the var is not sourced from elsewhere. */
  value?: string;
  /** Where the value comes from, e.g. `secretKeyRef app-secrets/token`, `fieldRef metadata.name`. */
  source?: string;
  /** The value comes from a Secret: only the reference is shown. */
  secret: boolean;
  /** Injected by LWS (`LWS_*`, `TPU_*`). */
  injected: boolean;
}

/** A container of the pod drawer. */
export interface ContainerView {
  /** Container name. */
  name: string;
  /** An init container. */
  init: boolean;
  /** Image. */
  image: string;
  /** Container ready. */
  ready: boolean;
  /** Restart count. */
  restarts: number;
  /** e.g. `Running since 2024-…`, `Waiting: CrashLoopBackOff`, `Terminated: Error (exit 1)`. */
  state: string;
  /** State before the last restart, when there was one. */
  lastState?: string;
  /** Resource requests, e.g. `cpu: 4, memory: 16Gi`. */
  requests?: string;
  /** Resource limits. */
  limits?: string;
  /** Env vars, LWS-injected first. */
  env: EnvView[];
  /** `envFrom` sources as references (`secretRef app-secrets`, `configMapRef settings`). */
  envFrom: string[];
}

/** Pod drawer data. */
export interface PodDetailView {
  /** Pod name. */
  name: string;
  /** Pod namespace. */
  namespace: string;
  /** LWS name (from the name label). */
  lwsName: string;
  /** Group index. */
  groupIndex?: number;
  /** Worker index (0: leader). */
  workerIndex?: number;
  /** Leader or worker. */
  role: "leader" | "worker";
  /** Classified state (for colour). */
  state: PodState;
  /** Text of the state. */
  label: string;
  /** `status.phase`. */
  phase: string;
  /** `status.reason` / `status.message`, when set. */
  reason?: string;
  /** `status.message`, when set. */
  message?: string;
  /** Node the pod runs on. */
  node?: string;
  /** `status.podIP`. */
  podIP?: string;
  /** `status.hostIP`. */
  hostIP?: string;
  /** `status.startTime`. */
  startTime?: string;
  /** Age of the pod. */
  age?: string;
  /** `status.qosClass`. */
  qosClass?: string;
  /** `template-revision-hash` of the pod. */
  revision?: string;
  /** The pod's revision differs from the LWS's update revision. */
  outdated: boolean;
  /** Sum of container restart counts. */
  restarts: number;
  /** Pod conditions with ages. */
  conditions: ConditionView[];
  /** Init containers, then containers. */
  containers: ContainerView[];
  /** Labels whose key starts with `leaderworkerset.sigs.k8s.io/`. */
  lwsLabels: { key: string; value: string }[];
  /** Annotations whose key starts with `leaderworkerset.sigs.k8s.io/`. */
  lwsAnnotations: { key: string; value: string }[];
  /** Events regarding the pod, newest first. */
  events: EventView[];
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs

/** The objects of one LeaderWorkerSet as read from the cache. */
export interface LwsObjects {
  /** The LeaderWorkerSet. */
  lws: LeaderWorkerSet;
  /** Pods labelled with the LWS name (leaders and workers). */
  pods: readonly Pod[];
  /** StatefulSets labelled with the LWS name (leader and worker sets). */
  statefulSets: readonly StatefulSet[];
  /** Events regarding the LWS (optional). */
  events?: readonly DashboardEvent[];
  /** Pod failures recorded for the LWS (`ui/failures.ts`; optional), in any order. */
  failures?: readonly PodFailure[];
}

/** Options of {@linkcode buildDetail}. */
export interface DetailOptions {
  /** Current time in ms since the epoch (for ages). */
  now: number;
  /** 1-based page; clamped to the page count. Default 1. */
  page?: number;
  /** Groups per page, 1–500. Default 50. */
  pageSize?: number;
  /** Show the page that contains this group index (overrides `page`). */
  group?: number;
  /** Which groups to list. Default `all`. */
  filter?: GroupFilter;
  /** Most recent events to include. Default 30. */
  eventLimit?: number;
}

/** Default groups per grid page. */
export const DEFAULT_PAGE_SIZE = 50;
/** Largest accepted groups per page. */
export const MAX_PAGE_SIZE = 500;

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function label(object: { metadata?: { labels?: Record<string, string> } }, key: string): string | undefined {
  return object.metadata?.labels?.[key];
}

/**
 * Formats the time from `iso` to `now` as a short age: `45s`, `12m`, `3h`, `5d`. Future times give `0s`.
 *
 * @param iso An RFC 3339 timestamp; `undefined` or unparsable gives `undefined`.
 * @param now Milliseconds since the epoch.
 * @returns The age text.
 * @example
 * formatAge("2024-01-01T00:00:00Z", Date.parse("2024-01-01T00:03:00Z")); // "3m"
 */
export function formatAge(iso: string | undefined, now: number): string | undefined {
  if (!iso) return undefined;
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return undefined;
  const s = Math.max(0, Math.floor((now - then) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

/** Waiting reasons that will not resolve by themselves. */
const FAILING_WAITING_REASONS = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
]);

function allStatuses(pod: Pod): ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

function restartCount(pod: Pod): number {
  let total = 0;
  for (const s of pod.status?.initContainerStatuses ?? []) total += s.restartCount ?? 0;
  for (const s of pod.status?.containerStatuses ?? []) total += s.restartCount ?? 0;
  return total;
}

function conditionTrue(conditions: readonly { type: string; status: string }[] | undefined, type: string): boolean {
  return conditions?.some((c) => c.type === type && c.status === "True") ?? false;
}

/**
 * Classifies a pod for the grid: the most urgent thing about it, with a short text label.
 *
 * Order: phase Failed (also while being deleted), terminating (deletionTimestamp), phase Succeeded/Unknown,
 * CrashLoopBackOff (restarting), a waiting reason that will not resolve (failed: `ImagePullBackOff`,
 * `CreateContainerConfigError`, …), Pending and not schedulable (unscheduled), restarted and not ready (restarting),
 * Pending, Running and Ready (ready), Running.
 *
 * @param pod The pod.
 * @returns Its state, label and whether it is ready (Running with condition Ready True).
 */
export function classifyPod(pod: Pod): { state: PodState; label: string; ready: boolean } {
  const phase = pod.status?.phase ?? "Pending";
  const ready = phase === "Running" && conditionTrue(pod.status?.conditions, "Ready");
  // A failed pod being deleted (its StatefulSet replaces it, or its group is recreated) still shows why it goes.
  if (phase === "Failed") {
    return { state: "failed", label: pod.status?.reason ? `Failed: ${pod.status.reason}` : "Failed", ready };
  }
  if (pod.metadata?.deletionTimestamp) return { state: "terminating", label: "Terminating", ready };
  if (phase === "Succeeded") return { state: "succeeded", label: "Completed", ready };
  if (phase === "Unknown") return { state: "unknown", label: "Unknown", ready };
  // Ready implies every container runs: nothing below can apply (the common case, kept cheap).
  if (ready) return { state: "ready", label: "Ready", ready };
  const statuses = allStatuses(pod);
  const waiting = statuses.map((s) => s.state?.waiting?.reason).filter((r): r is string => !!r);
  if (waiting.includes("CrashLoopBackOff")) return { state: "restarting", label: "CrashLoopBackOff", ready };
  const failing = waiting.find((r) => FAILING_WAITING_REASONS.has(r));
  if (failing) return { state: "failed", label: failing, ready };
  if (phase === "Pending") {
    const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (scheduled?.status === "False") {
      return { state: "unscheduled", label: scheduled.reason || "Unschedulable", ready };
    }
  }
  if (statuses.some((s) => !s.ready && (s.restartCount ?? 0) > 0)) {
    const last = statuses.find((s) => (s.restartCount ?? 0) > 0)?.lastState?.terminated?.reason;
    return { state: "restarting", label: last ? `Restarting (${last})` : "Restarting", ready };
  }
  if (phase === "Pending") {
    const reason = waiting[0];
    return { state: "pending", label: reason ?? (pod.spec?.nodeName ? "Pending" : "Scheduling"), ready };
  }
  return { state: "running", label: "Running, not ready", ready };
}

function toneOf(state: PodState): Tone {
  switch (state) {
    case "failed":
      return "error";
    case "restarting":
    case "unscheduled":
    case "missing":
      return "warn";
    case "ready":
    case "succeeded":
      return "ok";
    case "pending":
    case "running":
    case "terminating":
      return "progress";
    default:
      return "neutral";
  }
}

/**
 * The colour family of a pod or group state (the UI prints the label next to it).
 *
 * @param state A pod or group state.
 * @returns Its tone.
 */
export function stateTone(state: PodState): Tone {
  return toneOf(state);
}

const STATE_NOUN: Record<PodState, string> = {
  failed: "failed",
  restarting: "restarting",
  unscheduled: "unscheduled",
  missing: "not created",
  terminating: "terminating",
  pending: "pending",
  running: "not ready",
  unknown: "unknown",
  succeeded: "completed",
  ready: "ready",
};

const GROUP_STATE_LABEL: Record<PodState, string> = {
  failed: "Failed",
  restarting: "Restarting",
  unscheduled: "Unscheduled",
  missing: "Incomplete",
  terminating: "Terminating",
  pending: "Pending",
  running: "Not ready",
  unknown: "Unknown",
  succeeded: "Completed",
  ready: "Ready",
};

function conditionView(c: Condition, generation: number | undefined, now: number): ConditionView {
  return {
    type: c.type,
    status: c.status,
    reason: c.reason || undefined,
    message: c.message || undefined,
    lastTransitionTime: c.lastTransitionTime,
    age: formatAge(c.lastTransitionTime, now),
    observedGeneration: c.observedGeneration,
    stale: generation !== undefined && c.observedGeneration !== undefined && c.observedGeneration < generation,
  };
}

function statefulSetReady(sts: StatefulSet): boolean {
  const status = sts.status;
  return (sts.spec?.replicas ?? 1) === (status?.availableReplicas ?? 0) &&
    (status?.currentRevision ?? "") === (status?.updateRevision ?? "");
}

function encodePath(...parts: string[]): string {
  return parts.map((p) => encodeURIComponent(p)).join("/");
}

/**
 * Link of a LeaderWorkerSet's detail page.
 *
 * @param namespace The LWS namespace.
 * @param name The LWS name.
 * @returns `/lws/<ns>/<name>` with both parts URL-encoded.
 */
export function detailHref(namespace: string, name: string): string {
  return `/lws/${encodePath(namespace, name)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Analysis of one LWS (all groups)

interface Analysis {
  lws: LeaderWorkerSet;
  namespace: string;
  name: string;
  replicas: number;
  size: number;
  specPartition: number;
  stsPartition?: number;
  updateRevision?: string;
  currentRevision?: string;
  revisions: RevisionView[];
  groups: GroupRow[];
  readyPods: number;
  pods: number;
}

/**
 * How long a group may lack its worker StatefulSet before the dashboard flags it: the pod controller creates it right
 * after the leader pod (`LeaderCreated`) or right after the leader became Ready (`LeaderReady`), so a younger gap is
 * a group on its way up, not a problem.
 */
export const MISSING_WORKERS_GRACE_MS = 30_000;

/**
 * Whether a group whose leader exists but whose worker StatefulSet does not has been so for longer than
 * {@linkcode MISSING_WORKERS_GRACE_MS}: counted from the leader's creation (`LeaderCreated`) or from its Ready
 * transition (`LeaderReady`; a leader that is not Ready yet is waited for, and its own cell says why).
 */
function workersOverdue(leader: Pod, startupPolicy: string | undefined, now: number): boolean {
  let since: string | undefined;
  if (startupPolicy === "LeaderReady") {
    const ready = leader.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True");
    if (!ready) return false;
    since = ready.lastTransitionTime ?? leader.metadata?.creationTimestamp;
  } else since = leader.metadata?.creationTimestamp;
  const at = since ? Date.parse(since) : NaN;
  // No usable time: flag it rather than hide a problem.
  return Number.isNaN(at) || now - at > MISSING_WORKERS_GRACE_MS;
}

/** How long after a group recreation (the controller's `RecreateGroup` event) the group and the badge say so. */
export const RECENT_RECREATION_MS = 10 * 60_000;

/** When an event last happened (RFC 3339), from its series, legacy fields, event time or creation. */
function eventTime(event: DashboardEvent): string | undefined {
  return event.series?.lastObservedTime ?? event.deprecatedLastTimestamp ?? event.eventTime ??
    event.metadata?.creationTimestamp ?? undefined;
}

/**
 * Groups the controller recreated within {@linkcode RECENT_RECREATION_MS}, from its `RecreateGroup` events: the
 * group is the one of the leader pod the event relates to (`<lws>-<g>`), else the one its note names. A pod that
 * fails and is replaced within a moment may never be seen failed by a live page; the event stays.
 */
function recentRecreations(
  name: string,
  events: readonly DashboardEvent[] | undefined,
  now: number,
): Map<number, RecreationView & { at: number }> {
  const out = new Map<number, RecreationView & { at: number }>();
  for (const event of events ?? []) {
    if (event.reason !== EVENT_REASON_RECREATE_GROUP) continue;
    const time = eventTime(event);
    const at = time ? Date.parse(time) : NaN;
    if (Number.isNaN(at) || now - at > RECENT_RECREATION_MS) continue;
    const related = event.related?.name ?? "";
    const group = related.startsWith(`${name}-`)
      ? parseIndex(related.slice(name.length + 1))
      : parseIndex(/recreate group ([0-9]+)$/.exec(event.note ?? "")?.[1]);
    if (group === undefined) continue;
    const count = Math.max(1, event.series?.count ?? event.deprecatedCount ?? 1);
    const seen = out.get(group);
    if (seen && seen.at >= at) {
      seen.count += count;
      continue;
    }
    out.set(group, {
      at,
      age: formatAge(time, now) ?? "0s",
      count: count + (seen?.count ?? 0),
      note: event.note ?? "",
    });
  }
  return out;
}

const FAILURE_WHAT: Record<FailureKind, string> = {
  failed: "failed",
  exited: "container exited",
  restarted: "restarted",
  deleted: "deleted while not ready",
};

const FAILURE_SHORT: Record<FailureKind, string> = {
  failed: "failed",
  exited: "exited",
  restarted: "restarted",
  deleted: "deleted",
};

/**
 * Describes one recorded pod failure: `failed 12s ago: Error, exit 1 — group recreated`.
 *
 * @param failure A record of `ui/failures.ts`.
 * @param now Current time (ms since the epoch).
 * @returns Plain data.
 */
export function failureView(failure: PodFailure, now: number): FailureView {
  const time = new Date(failure.at).toISOString();
  const age = formatAge(time, now) ?? "0s";
  const detail = [failure.reason, failure.exitCode === undefined ? undefined : `exit ${failure.exitCode}`]
    .filter((part) => part !== undefined && part !== "").join(", ");
  const container = (failure.kind === "exited" || failure.kind === "restarted") && failure.container
    ? ` (container ${failure.container})`
    : "";
  const what = FAILURE_WHAT[failure.kind];
  return {
    group: failure.group,
    worker: failure.worker,
    position: failure.worker === 0 ? "L" : `W${failure.worker}`,
    who: failure.worker === 0 ? "leader" : `worker ${failure.worker}`,
    pod: failure.pod,
    kind: failure.kind,
    what,
    container: failure.container,
    reason: failure.reason,
    exitCode: failure.exitCode,
    message: failure.message,
    outcome: failure.outcome,
    time,
    age,
    text: `${what} ${age} ago${detail ? `: ${detail}` : ""}${container}${
      failure.outcome ? ` — ${failure.outcome}` : ""
    }`,
  };
}

/** The failures within {@linkcode FAILURE_RETENTION_MS}, oldest first. */
function recentFailures(failures: readonly PodFailure[] | undefined, now: number): PodFailure[] {
  return (failures ?? []).filter((f) => now - f.at <= FAILURE_RETENTION_MS).sort((a, b) => a.at - b.at);
}

/**
 * The failures recorded within {@linkcode FAILURE_RETENTION_MS}, newest first, as the dashboard shows them.
 *
 * @param failures Records of `ui/failures.ts`, in any order.
 * @param now Current time (ms since the epoch).
 * @returns Plain data.
 */
export function failureViews(failures: readonly PodFailure[] | undefined, now: number): FailureView[] {
  return recentFailures(failures, now).reverse().map((f) => failureView(f, now));
}

function analyze(objects: LwsObjects, now: number): Analysis {
  const { lws } = objects;
  const namespace = lws.metadata.namespace ?? "";
  const name = lws.metadata.name ?? "";
  const replicas = lws.spec?.replicas ?? 1;
  const size = lws.spec?.leaderWorkerTemplate?.size ?? 1;
  const specPartition = lws.spec?.rolloutStrategy?.rollingUpdateConfiguration?.partition ?? 0;

  let leaderSts: StatefulSet | undefined;
  const workerSts = new Map<number, StatefulSet>();
  for (const sts of objects.statefulSets) {
    const stsName = sts.metadata?.name ?? "";
    if (stsName === name && label(sts, LABEL_GROUP_INDEX) === undefined) {
      leaderSts = sts;
      continue;
    }
    const g = parseIndex(label(sts, LABEL_GROUP_INDEX));
    if (g !== undefined && stsName === `${name}-${g}`) workerSts.set(g, sts);
  }
  const updateRevision = leaderSts ? label(leaderSts, LABEL_TEMPLATE_REVISION_HASH) : undefined;
  const stsPartition = leaderSts?.spec?.updateStrategy?.rollingUpdate?.partition;
  const stsReplicas = leaderSts?.spec?.replicas ?? 0;

  const podsByGroup = new Map<number, Map<number, Pod>>();
  let pods = 0;
  let readyPods = 0;
  for (const pod of objects.pods) {
    const at = podPosition(pod, name);
    if (!at) continue;
    let members = podsByGroup.get(at.group);
    if (!members) podsByGroup.set(at.group, members = new Map());
    members.set(at.worker, pod);
  }

  const indexes = new Set<number>();
  for (let g = 0; g < Math.max(replicas, stsReplicas); g++) indexes.add(g);
  for (const g of podsByGroup.keys()) indexes.add(g);
  for (const g of workerSts.keys()) indexes.add(g);
  const sorted = [...indexes].sort((a, b) => a - b);

  const front = stsPartition !== undefined && stsPartition > specPartition ? stsPartition : specPartition;
  const recreations = recentRecreations(name, objects.events, now);
  // Group → position → its latest failure (and the group's latest and count).
  const failures = new Map<number, { cells: Map<number, PodFailure>; latest: PodFailure; count: number }>();
  for (const f of recentFailures(objects.failures, now)) {
    const seen = failures.get(f.group);
    if (seen) {
      seen.cells.set(f.worker, f);
      seen.latest = f;
      seen.count++;
    } else failures.set(f.group, { cells: new Map([[f.worker, f]]), latest: f, count: 1 });
  }
  const groups: GroupRow[] = [];
  const revisionCounts = new Map<string, number>();
  for (const g of sorted) {
    const members = podsByGroup.get(g) ?? new Map<number, Pod>();
    const groupFailures = failures.get(g);
    const cellFailure = (w: number): CellFailure | undefined => {
      const f = groupFailures?.cells.get(w);
      if (!f) return undefined;
      const view = failureView(f, now);
      return { kind: f.kind, short: `${FAILURE_SHORT[f.kind]} ${view.age} ago`, text: view.text };
    };
    const leader = members.get(0);
    const sts = workerSts.get(g);
    const sizeAnnotation = parseIndex(leader?.metadata?.annotations?.[ANNOTATION_SIZE]);
    const groupSize = sizeAnnotation && sizeAnnotation > 0
      ? sizeAnnotation
      : sts
      ? (sts.spec?.replicas ?? 0) + 1
      : size;

    const cells: PodCell[] = [];
    let lastWorker = groupSize - 1;
    for (const w of members.keys()) if (w > lastWorker) lastWorker = w;
    let leaderReady = false;
    for (let w = 0; w <= lastWorker; w++) {
      const pod = members.get(w);
      if (!pod && w >= groupSize) continue;
      const podName = w === 0 ? `${name}-${g}` : `${name}-${g}-${w}`;
      if (!pod) {
        cells.push({
          name: podName,
          workerIndex: w,
          role: w === 0 ? "leader" : "worker",
          state: "missing",
          label: "Not created",
          ready: false,
          restarts: 0,
          outdated: false,
          extra: false,
          failure: cellFailure(w),
        });
        continue;
      }
      const c = classifyPod(pod);
      if (w === 0) leaderReady = c.ready;
      const revision = label(pod, LABEL_TEMPLATE_REVISION_HASH);
      pods++;
      if (c.ready) readyPods++;
      cells.push({
        name: pod.metadata?.name ?? podName,
        workerIndex: w,
        role: w === 0 ? "leader" : "worker",
        state: c.state,
        label: c.label,
        ready: c.ready,
        restarts: restartCount(pod),
        node: pod.spec?.nodeName || undefined,
        subgroup: parseIndex(label(pod, LABEL_SUBGROUP_INDEX)),
        outdated: updateRevision !== undefined && revision !== undefined && revision !== updateRevision,
        extra: w >= groupSize,
        failure: cellFailure(w),
      });
    }

    // Readiness and update state exactly as the controller computes them (spec §7.5), with the live size.
    const leaderOk = leader !== undefined && leader.metadata?.name === `${name}-${g}`;
    const stsOk = size === 1 || (sts !== undefined && sts.metadata?.name === `${name}-${g}`);
    leaderReady = leaderOk && leaderReady && !leader.metadata?.deletionTimestamp;
    const leaderRevision = leader ? label(leader, LABEL_TEMPLATE_REVISION_HASH) : undefined;
    const stsRevision = sts ? label(sts, LABEL_TEMPLATE_REVISION_HASH) : undefined;
    const ready = leaderOk && stsOk && leaderReady && (size === 1 || (sts !== undefined && statefulSetReady(sts)));
    const updated = leaderOk && stsOk && updateRevision !== undefined && leaderRevision === updateRevision &&
      (size === 1 || stsRevision === updateRevision);
    const revision = leaderRevision ?? stsRevision;
    if (revision !== undefined) revisionCounts.set(revision, (revisionCounts.get(revision) ?? 0) + 1);
    // A group whose worker StatefulSet is not created yet is on the new revision when its leader is (it is not
    // `updated` as the controller counts it until the StatefulSet exists).
    const onUpdate = updateRevision !== undefined && revision === updateRevision &&
      (sts === undefined || stsRevision === updateRevision);
    const revisionRole = updated || onUpdate
      ? "new"
      : revision === undefined || updateRevision === undefined
      ? "unknown"
      : "old";

    const missingWorkers = groupSize > 1 && leader !== undefined && sts === undefined;
    const workersLate = missingWorkers && workersOverdue(leader, lws.spec?.startupPolicy, now);
    const recreated = recreations.get(g);
    const recreation = recreated && { age: recreated.age, count: recreated.count, note: recreated.note };
    let worst: PodState = "ready";
    let readyCount = 0;
    for (const cell of cells) {
      if (cell.ready) readyCount++;
      if (STATE_RANK[cell.state] < STATE_RANK[worst]) worst = cell.state;
    }
    let state: GroupState = worst;
    let text: string;
    if (missingWorkers && STATE_RANK.missing <= STATE_RANK[worst]) {
      state = "missing";
      text = "Workers not created";
    } else if (!leader) {
      state = worst === "ready" ? "missing" : worst;
      text = "Leader not created";
    } else if (worst === "ready") {
      // Every pod is ready, but the worker StatefulSet may still be rolling.
      state = ready ? "ready" : "running";
      text = ready ? "Ready" : "Workers not available";
    } else {
      const n = cells.filter((c) => c.state === worst).length;
      text = cells.length === 1 ? GROUP_STATE_LABEL[worst] : `${plural(n, "pod")} ${STATE_NOUN[worst]}`;
    }
    groups.push({
      index: g,
      leaderName: `${name}-${g}`,
      state,
      label: text,
      ready,
      updated,
      revision,
      revisionRole,
      surge: g >= replicas,
      held: g < specPartition && !updated,
      queued: !updated && g >= specPartition && g < front && g < replicas,
      size: groupSize,
      workers: groupSize > 1 || sts
        ? {
          name: `${name}-${g}`,
          exists: sts !== undefined,
          ready: sts !== undefined && statefulSetReady(sts),
          replicas: sts?.spec?.replicas ?? groupSize - 1,
          available: sts?.status?.availableReplicas ?? 0,
        }
        : undefined,
      readyPods: readyCount,
      cells,
      recreated: recreation,
      failure: groupFailures && { latest: failureView(groupFailures.latest, now), count: groupFailures.count },
      warning: state === "failed" || state === "restarting" || state === "unscheduled" || workersLate ||
        recreation !== undefined || groupFailures !== undefined,
    });
  }

  let currentRevision: string | undefined;
  let best = 0;
  for (const [key, count] of revisionCounts) {
    if (key !== updateRevision && count > best) [currentRevision, best] = [key, count];
  }
  currentRevision ??= updateRevision;
  const revisions: RevisionView[] = [...revisionCounts].map(([key, count]) => ({
    key,
    groups: count,
    update: key === updateRevision,
  }));
  if (updateRevision !== undefined && !revisionCounts.has(updateRevision)) {
    revisions.push({ key: updateRevision, groups: 0, update: true });
  }
  revisions.sort((a, b) => Number(b.update) - Number(a.update) || b.groups - a.groups || a.key.localeCompare(b.key));

  return {
    lws,
    namespace,
    name,
    replicas,
    size,
    specPartition,
    stsPartition,
    updateRevision,
    currentRevision,
    revisions,
    groups,
    readyPods,
    pods,
  };
}

function warningCounts(groups: readonly GroupRow[]): WarningCounts {
  let failed = 0, restarting = 0, unscheduled = 0, missingWorkers = 0, recreated = 0, failedRecently = 0;
  for (const g of groups) {
    if (g.state === "failed") failed++;
    else if (g.state === "restarting") restarting++;
    else if (g.state === "unscheduled") unscheduled++;
    else if (g.recreated) recreated++;
    else if (g.failure) failedRecently++;
    else if (g.warning) missingWorkers++;
  }
  // "1 group failed · 2 restarting": only the first part names the noun.
  const text = ([
    [failed, "failed"],
    [restarting, "restarting"],
    [unscheduled, "unscheduled"],
    [recreated, "recreated"],
    [failedRecently, "failed recently"],
    [missingWorkers, "without workers"],
  ] as const)
    .filter(([n]) => n > 0)
    .map(([n, what], i) => (i === 0 ? `${plural(n, "group")} ${what}` : `${n} ${what}`))
    .join(" · ");
  return { failed, restarting, unscheduled, missingWorkers, recreated, failedRecently, text };
}

function summaryOf(a: Analysis, now: number): OverviewRow {
  const { lws } = a;
  const generation = lws.metadata.generation;
  const conditions = (lws.status?.conditions ?? []).map((c) => conditionView(c, generation, now));
  const desired = a.groups.filter((g) => !g.surge);
  const readyGroups = desired.filter((g) => g.ready).length;
  const updatedGroups = desired.filter((g) => g.updated).length;
  const is = (type: string) => conditions.some((c) => c.type === type && c.status === "True");
  let status: OverviewRow["status"];
  if (a.replicas === 0 && a.groups.length === 0) status = { label: "Scaled to zero", tone: "neutral" };
  else if (is(CONDITION_UPDATE_IN_PROGRESS)) status = { label: "Updating", tone: "progress" };
  else if (is(CONDITION_AVAILABLE)) status = { label: "Available", tone: "ok" };
  else if (is(CONDITION_PROGRESSING)) status = { label: "Progressing", tone: "progress" };
  else status = { label: "Pending", tone: "neutral" };
  // The status pill tells what the controller reports; pod trouble goes to the separate warning badge.
  const warnings = warningCounts(a.groups);
  // A rollout is under way while a group still runs an old revision, and until the controller says it is over: the
  // last group being updated is on no revision for a moment (leader and worker StatefulSet recreated).
  const inProgress = updatedGroups < a.replicas && a.updateRevision !== undefined &&
    (is(CONDITION_UPDATE_IN_PROGRESS) || a.groups.some((g) => !g.surge && g.revisionRole === "old"));
  return {
    key: `${a.namespace}/${a.name}`,
    namespace: a.namespace,
    name: a.name,
    href: detailHref(a.namespace, a.name),
    replicas: a.replicas,
    size: a.size,
    groups: a.groups.length,
    surgeGroups: a.groups.length - desired.length,
    readyGroups,
    updatedGroups,
    readyPods: a.readyPods,
    pods: a.pods,
    status,
    conditions,
    currentRevision: a.currentRevision,
    updateRevision: a.updateRevision,
    rollout: {
      updated: updatedGroups,
      desired: a.replicas,
      percent: a.replicas === 0 ? 100 : Math.floor((updatedGroups / a.replicas) * 100),
      inProgress,
    },
    partition: { spec: a.specPartition, current: a.stsPartition },
    warnings,
    awaitingController: generation !== undefined &&
      (lws.status?.observedGeneration === undefined || lws.status.observedGeneration < generation),
    age: formatAge(lws.metadata.creationTimestamp, now),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Public builders

/**
 * Builds one overview row.
 *
 * @param objects The LWS with its pods and StatefulSets.
 * @param now Current time (ms since the epoch), for ages.
 * @returns A new row (plain data).
 */
export function buildOverviewRow(objects: LwsObjects, now: number): OverviewRow {
  return summaryOf(analyze(objects, now), now);
}

/** Options of {@linkcode buildOverview}. */
export interface OverviewOptions {
  /** Current time in ms since the epoch (for ages). */
  now: number;
  /** Only this namespace (`""`: all). */
  namespace?: string;
  /** Case-insensitive substring of `<namespace>/<name>`. */
  query?: string;
  /** All namespaces that hold LWS (for the filter); defaults to those of `all`. */
  namespaces?: readonly string[];
  /** The cache finished its first list. Default true. */
  synced?: boolean;
}

/**
 * Builds the overview: one row per LeaderWorkerSet matching the namespace filter and search, sorted by namespace
 * then name.
 *
 * @param all The LWS of the namespace filter (or of every namespace) with their objects.
 * @param options Filters and `now`.
 * @returns The overview (new plain data).
 */
export function buildOverview(all: readonly LwsObjects[], options: OverviewOptions): OverviewView {
  const namespace = options.namespace ?? "";
  const query = (options.query ?? "").trim();
  const needle = query.toLowerCase();
  const inNamespace = all.filter((o) => !namespace || o.lws.metadata.namespace === namespace);
  const matching = inNamespace.filter((o) =>
    !needle || `${o.lws.metadata.namespace}/${o.lws.metadata.name}`.toLowerCase().includes(needle)
  );
  const rows = matching.map((o) => buildOverviewRow(o, options.now));
  rows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const namespaces = options.namespaces ?? [...new Set(all.map((o) => o.lws.metadata.namespace ?? ""))];
  return {
    namespace,
    query,
    namespaces: [...namespaces].sort(),
    rows,
    total: inNamespace.length,
    synced: options.synced ?? true,
  };
}

/** A group that is not ready, has a warning, or still runs an old revision it is meant to leave. */
function needsAttention(g: GroupRow): boolean {
  return g.warning || !g.ready || g.state !== "ready" || (g.revisionRole === "old" && !g.held);
}

function gridPage(a: Analysis, options: DetailOptions): GroupPage {
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(options.pageSize ?? DEFAULT_PAGE_SIZE)));
  const filter: GroupFilter = options.filter === "attention" ? "attention" : "all";
  const matching = filter === "attention" ? a.groups.filter(needsAttention) : a.groups;
  const pageCount = Math.max(1, Math.ceil(matching.length / pageSize));
  let page = Math.floor(options.page ?? 1);
  if (options.group !== undefined) {
    const at = matching.findIndex((g) => g.index >= options.group!);
    if (at >= 0) page = Math.floor(at / pageSize) + 1;
  }
  page = Math.min(pageCount, Math.max(1, Number.isFinite(page) ? page : 1));
  const rows = matching.slice((page - 1) * pageSize, page * pageSize);

  const dividers: GridDivider[] = [];
  const first = rows[0]?.index;
  const last = rows[rows.length - 1]?.index;
  const onPage = (before: number) => first !== undefined && last !== undefined && before > first && before <= last;
  const total = a.groups.length;
  if (a.specPartition > 0 && a.specPartition < Math.max(total, a.replicas) && onPage(a.specPartition)) {
    dividers.push({
      before: a.specPartition,
      kind: "partition",
      label: `Partition ${a.specPartition}: groups below keep their revision, groups from ${a.specPartition} update`,
    });
  }
  const front = a.stsPartition;
  const rolling = a.groups.some((g) => !g.surge && g.revisionRole === "old");
  if (rolling && front !== undefined && front > a.specPartition && front < a.replicas && onPage(front)) {
    dividers.push({
      before: front,
      kind: "front",
      label: `Rolling update: groups from ${front} are being updated; ${
        front - 1 === a.specPartition ? `group ${front - 1} waits` : `groups ${a.specPartition}–${front - 1} wait`
      }`,
    });
  }
  if (a.groups.some((g) => g.surge) && a.replicas > 0 && onPage(a.replicas)) {
    dividers.push({
      before: a.replicas,
      kind: "surge",
      label: `Surge: groups from ${a.replicas} are temporary (spec.replicas = ${a.replicas})`,
    });
  }
  dividers.sort((x, y) => x.before - y.before);

  const byState = new Map<GroupState, number>();
  for (const g of a.groups) byState.set(g.state, (byState.get(g.state) ?? 0) + 1);
  const counts = POD_STATE_ORDER.filter((s) => byState.has(s)).map((state) => ({
    state,
    label: GROUP_STATE_LABEL[state],
    count: byState.get(state)!,
  }));
  const attention: number[] = [];
  for (const g of a.groups) {
    if (attention.length >= 50) break;
    if (g.warning || g.state === "failed" || g.state === "restarting" || g.state === "unscheduled") {
      attention.push(g.index);
    }
  }
  return {
    page,
    pageSize,
    pageCount,
    filter,
    matching: matching.length,
    total,
    rows,
    dividers,
    counts,
    attention,
    subgroups: a.groups.some((g) => g.cells.some((c) => c.subgroup !== undefined)),
    maxCells: a.groups.reduce((m, g) => Math.max(m, g.cells.length), 0),
  };
}

/**
 * Builds an event line.
 *
 * @param event An events.k8s.io/v1 Event.
 * @param now Current time (ms since the epoch).
 * @returns Plain data.
 */
export function eventView(event: DashboardEvent, now: number): EventView {
  const time = eventTime(event);
  return {
    type: event.type ?? "Normal",
    reason: event.reason ?? "",
    note: event.note ?? "",
    object: `${event.regarding?.kind ?? "?"}/${event.regarding?.name ?? "?"}`,
    time: time || undefined,
    age: formatAge(time || undefined, now),
    count: event.series?.count ?? event.deprecatedCount ?? 1,
    warning: event.type === "Warning",
  };
}

function eventViews(events: readonly DashboardEvent[] | undefined, now: number, limit: number): EventView[] {
  const views = (events ?? []).map((e) => eventView(e, now));
  views.sort((a, b) => (Date.parse(b.time ?? "") || 0) - (Date.parse(a.time ?? "") || 0));
  return views.slice(0, limit);
}

const NOISY_ANNOTATIONS = ["kubectl.kubernetes.io/last-applied-configuration"];

/**
 * A copy of `value` in which every env entry (an object with `name` and `valueFrom`) has no `value`: a literal
 * beside a `valueFrom` is invalid, but a hand-made object could carry one, and it might be a secret.
 */
function withoutShadowedEnvValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutShadowedEnvValues);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  const shadowed = "valueFrom" in record && "name" in record;
  for (const [k, v] of Object.entries(record)) {
    if (shadowed && k === "value") continue;
    out[k] = withoutShadowedEnvValues(v);
  }
  return out;
}

function specYaml(lws: LeaderWorkerSet): string {
  const m = lws.metadata;
  const annotations = Object.fromEntries(
    Object.entries(m.annotations ?? {}).filter(([k]) => !NOISY_ANNOTATIONS.includes(k)),
  );
  const metadata: Record<string, unknown> = { name: m.name, namespace: m.namespace };
  if (m.generation !== undefined) metadata.generation = m.generation;
  if (m.labels && Object.keys(m.labels).length) metadata.labels = m.labels;
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  return stringify(
    {
      apiVersion: lws.apiVersion ?? "leaderworkerset.x-k8s.io/v1",
      kind: lws.kind ?? "LeaderWorkerSet",
      metadata,
      spec: withoutShadowedEnvValues(lws.spec),
    },
    { lineWidth: 0 },
  );
}

/**
 * Builds the detail page of one LeaderWorkerSet: summary, conditions, revisions, one page of the group grid with its
 * partition/front/surge dividers, events and the spec as YAML.
 *
 * @param objects The LWS with its pods, StatefulSets and events.
 * @param options `now` and the grid page to show.
 * @returns The detail view (new plain data).
 */
export function buildDetail(objects: LwsObjects, options: DetailOptions): DetailView {
  const a = analyze(objects, options.now);
  const { lws } = objects;
  const ru = lws.spec?.rolloutStrategy?.rollingUpdateConfiguration;
  const sg = lws.spec?.leaderWorkerTemplate?.subGroupPolicy;
  return {
    summary: summaryOf(a, options.now),
    generation: lws.metadata.generation,
    observedGeneration: lws.status?.observedGeneration,
    status: {
      replicas: lws.status?.replicas ?? 0,
      readyReplicas: lws.status?.readyReplicas ?? 0,
      updatedReplicas: lws.status?.updatedReplicas ?? 0,
      hpaPodSelector: lws.status?.hpaPodSelector,
    },
    revisions: a.revisions,
    restartPolicy: lws.spec?.leaderWorkerTemplate?.restartPolicy ?? "RecreateGroupOnPodRestart",
    startupPolicy: lws.spec?.startupPolicy ?? "LeaderCreated",
    subGroupSize: sg?.subGroupSize,
    subGroupPolicyType: sg ? sg.subGroupPolicyType ?? "LeaderWorker" : undefined,
    maxUnavailable: String(ru?.maxUnavailable ?? 1),
    maxSurge: String(ru?.maxSurge ?? 0),
    grid: gridPage(a, options),
    events: eventViews(objects.events, options.now, options.eventLimit ?? 30),
    failures: failureViews(objects.failures, options.now),
    specYaml: specYaml(lws),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Pod drawer

const INJECTED_ENV = new Set([
  ENV_LWS_LEADER_ADDRESS,
  ENV_LWS_GROUP_SIZE,
  ENV_LWS_WORKER_INDEX,
  ENV_TPU_WORKER_HOSTNAMES,
  ENV_TPU_WORKER_ID,
  ENV_TPU_NAME,
  ENV_TPU_PROCESS_ADDRESSES,
  ENV_TPU_PROCESS_PORT,
]);

/**
 * Describes one env var without ever including a value sourced from a Secret or ConfigMap: `valueFrom` becomes a
 * reference text and any `value` beside a `valueFrom` (invalid, but possible in a hand-made object) is dropped.
 *
 * @param env The container's env entry.
 * @returns Plain data.
 */
export function envView(env: EnvVar): EnvView {
  const injected = INJECTED_ENV.has(env.name);
  const from = env.valueFrom;
  if (!from) return { name: env.name, value: env.value ?? "", secret: false, injected };
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    return {
      name: env.name,
      source: `secretKeyRef ${ref.name ?? "?"}/${ref.key}${ref.optional ? " (optional)" : ""}`,
      secret: true,
      injected,
    };
  }
  let source: string;
  if (from.configMapKeyRef) source = `configMapKeyRef ${from.configMapKeyRef.name ?? "?"}/${from.configMapKeyRef.key}`;
  else if (from.fieldRef) source = `fieldRef ${from.fieldRef.fieldPath}`;
  else if (from.resourceFieldRef) {
    const r = from.resourceFieldRef;
    source = `resourceFieldRef ${r.containerName ? `${r.containerName}/` : ""}${r.resource}`;
  } else source = "valueFrom (unknown source)";
  return { name: env.name, source, secret: false, injected };
}

function containerStateText(s: ContainerStatus["state"]): string {
  if (!s) return "Unknown";
  if (s.running) return s.running.startedAt ? `Running since ${s.running.startedAt}` : "Running";
  if (s.waiting) {
    return `Waiting: ${s.waiting.reason ?? "unknown"}${s.waiting.message ? ` — ${s.waiting.message}` : ""}`;
  }
  if (s.terminated) {
    const t = s.terminated;
    return `Terminated: ${t.reason ?? "unknown"} (exit ${t.exitCode})${t.finishedAt ? ` at ${t.finishedAt}` : ""}`;
  }
  return "Unknown";
}

function resourceText(list: Record<string, string | number> | undefined): string | undefined {
  if (!list) return undefined;
  const parts = Object.entries(list).map(([k, v]) => `${k}: ${v}`);
  return parts.length ? parts.join(", ") : undefined;
}

function containerView(c: Container, status: ContainerStatus | undefined, init: boolean): ContainerView {
  return {
    name: c.name,
    init,
    image: c.image ?? "",
    ready: status?.ready ?? false,
    restarts: status?.restartCount ?? 0,
    state: status ? containerStateText(status.state) : "No status yet",
    lastState: status?.lastState && Object.keys(status.lastState).length
      ? containerStateText(status.lastState)
      : undefined,
    requests: resourceText(c.resources?.requests as Record<string, string> | undefined),
    limits: resourceText(c.resources?.limits as Record<string, string> | undefined),
    env: (c.env ?? []).map(envView).sort((x, y) => Number(y.injected) - Number(x.injected)),
    envFrom: (c.envFrom ?? []).map((e) => {
      const prefix = e.prefix ? ` (prefix ${e.prefix})` : "";
      if (e.secretRef) return `secretRef ${e.secretRef.name ?? "?"}${prefix}`;
      if (e.configMapRef) return `configMapRef ${e.configMapRef.name ?? "?"}${prefix}`;
      return `envFrom (unknown source)${prefix}`;
    }),
  };
}

function prefixed(map: Record<string, string> | undefined): { key: string; value: string }[] {
  return Object.entries(map ?? {})
    .filter(([k]) => k.startsWith(KEY_PREFIX) || k === LABEL_NAME)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value }));
}

/** Options of {@linkcode buildPodDetail}. */
export interface PodDetailOptions {
  /** Current time in ms since the epoch (for ages). */
  now: number;
  /** The LWS's update revision (leader StatefulSet's `template-revision-hash`), to flag an outdated pod. */
  updateRevision?: string;
  /** Events regarding the pod (by name; those regarding another pod uid of that name are left out). */
  events?: readonly DashboardEvent[];
}

/**
 * Builds the pod drawer: status, conditions, containers with env (Secret-sourced values as references only), the
 * LWS labels and annotations, and events.
 *
 * @param pod The pod.
 * @param options `now`, the update revision and the pod's events.
 * @returns Plain data.
 */
export function buildPodDetail(pod: Pod, options: PodDetailOptions): PodDetailView {
  const lwsName = label(pod, LABEL_NAME) ?? "";
  const at = podPosition(pod, lwsName);
  const c = classifyPod(pod);
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));
  const initStatuses = new Map((pod.status?.initContainerStatuses ?? []).map((s) => [s.name, s]));
  const revision = label(pod, LABEL_TEMPLATE_REVISION_HASH);
  return {
    name: pod.metadata?.name ?? "",
    namespace: pod.metadata?.namespace ?? "",
    lwsName,
    groupIndex: at?.group,
    workerIndex: at?.worker,
    role: at?.worker === 0 ? "leader" : "worker",
    state: c.state,
    label: c.label,
    phase: pod.status?.phase ?? "Pending",
    reason: pod.status?.reason,
    message: pod.status?.message,
    node: pod.spec?.nodeName || undefined,
    podIP: pod.status?.podIP,
    hostIP: pod.status?.hostIP,
    startTime: pod.status?.startTime,
    age: formatAge(pod.metadata?.creationTimestamp, options.now),
    qosClass: pod.status?.qosClass,
    revision,
    outdated: options.updateRevision !== undefined && revision !== undefined && revision !== options.updateRevision,
    restarts: restartCount(pod),
    conditions: (pod.status?.conditions ?? []).map((cond) =>
      conditionView(
        {
          type: cond.type,
          status: cond.status,
          reason: cond.reason ?? "",
          message: cond.message ?? "",
          lastTransitionTime: cond.lastTransitionTime ?? "",
        },
        undefined,
        options.now,
      )
    ),
    containers: [
      ...(pod.spec?.initContainers ?? []).map((ct) => containerView(ct, initStatuses.get(ct.name), true)),
      ...(pod.spec?.containers ?? []).map((ct) => containerView(ct, statuses.get(ct.name), false)),
    ],
    lwsLabels: prefixed(pod.metadata?.labels),
    lwsAnnotations: prefixed(pod.metadata?.annotations),
    // Events are listed by pod name: keep those of this pod, not of an earlier pod of the same name (a recreated
    // group's leader, a replaced worker).
    events: eventViews(
      options.events?.filter((e) => !e.regarding?.uid || !pod.metadata?.uid || e.regarding.uid === pod.metadata.uid),
      options.now,
      50,
    ),
  };
}

/**
 * The update revision of an LWS: the `template-revision-hash` label of its leader StatefulSet `<lws>`.
 *
 * @param lwsName The LWS name.
 * @param statefulSets The LWS's StatefulSets.
 * @returns The revision key, or `undefined` when the leader StatefulSet is not cached.
 */
export function updateRevisionOf(lwsName: string, statefulSets: readonly StatefulSet[]): string | undefined {
  const leader = statefulSets.find((s) => s.metadata?.name === lwsName && label(s, LABEL_GROUP_INDEX) === undefined);
  return leader ? label(leader, LABEL_TEMPLATE_REVISION_HASH) : undefined;
}
