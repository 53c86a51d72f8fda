/**
 * Desired objects and pure decisions of the pod controller (spec §6.4, §6.5, §8.2): the worker StatefulSet
 * created once per leader pod, the per-replica headless Service, and the plan of one pod reconcile, so that the
 * reconciler only reads, calls these, and writes.
 *
 * Pure: every result is a new object sharing nothing with its inputs.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { OwnerReference } from "kubernetes-types/meta/v1.d.ts";
import {
  ANNOTATION_EXCLUSIVE_TOPOLOGY,
  ANNOTATION_LEADER_NAME,
  ANNOTATION_LEADER_REQUESTS_TPUS,
  ANNOTATION_SIZE,
  ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY,
  ANNOTATION_SUBGROUP_POLICY_TYPE,
  ANNOTATION_SUBGROUP_SIZE,
  EVENT_ACTION_CREATE,
  EVENT_REASON_FAILED_CREATE,
  EVENT_REASON_GROUPS_PROGRESSING,
  EVENT_TYPE_NORMAL,
  EVENT_TYPE_WARNING,
  LABEL_GROUP_INDEX,
  LABEL_GROUP_KEY,
  LABEL_NAME,
  LABEL_TEMPLATE_REVISION_HASH,
  LABEL_WORKER_INDEX,
} from "../../api/constants.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { controllerOf, isDeleting } from "../../kube/meta.ts";
import {
  groupSize,
  type PlannedEvent,
  reducedVolumeClaimTemplates,
  retentionPolicy,
  templateWith,
} from "../leaderworkerset/desired.ts";
// One TPU detection (spec §9.5.1) for the pod webhook and the worker sts.
import { podRequestsTpus } from "../../api/tpu.ts";

/** How long to wait before retrying when the leader's revision does not exist yet (spec §8.2 step 12, v0.6.0). */
export const REVISION_MISSING_REQUEUE_MS = 1000;

/**
 * How long to wait before looking again while pods of a previous worker StatefulSet still hold the names a new one
 * would create (see {@linkcode previousWorkerPods}).
 */
export const PREVIOUS_WORKERS_REQUEUE_MS = 250;

/**
 * The pods that still hold a name the leader's new worker StatefulSet would create (`<leader>-1 … <leader>-<size-1>`)
 * and are on their way out: being deleted, or controlled by a StatefulSet named like the leader — which, since the
 * leader has no worker StatefulSet when this is asked, is a previous one whose pods the garbage collector is about to
 * delete (a recreated group's leader comes back under the same name, and so does its worker StatefulSet).
 *
 * Not in the spec; our choice. Creating the worker StatefulSet while such pods exist makes the StatefulSet
 * controller's first syncs fail (`object is being deleted: pods "<name>" already exists`) and requeue the
 * StatefulSet with its per-key backoff; the pods' deletion does not wake it (their owner is the old StatefulSet), so
 * under a busy kube-controller-manager a recreated group waited minutes after its old workers were gone (benchmark,
 * raised limits, 2026-11-26). Waiting for the names to be free first costs nothing the StatefulSet would not have
 * waited for anyway. Pods controlled by something else or by nothing are not waited for (a StatefulSet adopts
 * orphans; a conflict with another controller's pod is KCM's to report).
 *
 * @param leaderPod The leader pod.
 * @param size The group size (workers are ordinals 1 … size − 1).
 * @param getPod Reads a pod of the leader's namespace from the store.
 * @returns The names of the pods to wait for (empty: create now).
 */
export function previousWorkerPods(leaderPod: Pod, size: number, getPod: (name: string) => Pod | undefined): string[] {
  const leader = leaderPod.metadata?.name ?? "";
  const waiting: string[] = [];
  for (let ordinal = 1; ordinal < size; ordinal++) {
    const name = `${leader}-${ordinal}`;
    const pod = getPod(name);
    if (pod === undefined) continue;
    const owner = controllerOf(pod);
    if (isDeleting(pod) || (owner?.kind === "StatefulSet" && owner.name === leader)) waiting.push(name);
  }
  return waiting;
}

/**
 * Controller owner reference to a Pod (spec §6.1): `apiVersion: v1`, `kind: Pod`.
 *
 * @param pod The owner (a leader pod).
 * @returns A new owner reference with `controller` and `blockOwnerDeletion` true.
 */
export function podOwnerReference(pod: Pod): OwnerReference {
  return {
    apiVersion: "v1",
    kind: "Pod",
    name: pod.metadata?.name ?? "",
    uid: pod.metadata?.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Options of {@linkcode desiredWorkerStatefulSet}. */
export interface WorkerStatefulSetOptions {
  /**
   * Value of the exclusive-topology label on the leader's node (spec §8.2 step 14). When given and the live LWS has
   * the `exclusive-topology` annotation, `{<annotation value>: <this>}` is merged into the worker nodeSelector.
   */
  leaderNodeTopologyValue?: string;
}

/**
 * The worker StatefulSet of a leader pod (spec §6.4), created once and never updated. Built from `currentLws` (the
 * live LWS with the leader's revision applied, spec §5.4.6) for everything the revision covers, and from the live
 * LWS for metadata and the exclusive-topology annotations:
 *
 * - name/namespace of the leader pod; labels: live LWS labels overridden by `group-index`, `name`, `group-key`,
 *   `template-revision-hash` (the leader's values); annotations: live LWS annotations;
 * - `serviceName` `<lws>` for a Shared (or unset) currentLws subdomain policy, else the leader pod name;
 * - `replicas` S − 1 (currentLws), `podManagementPolicy: Parallel`, `ordinals.start: 1`, selector
 *   `{group-index, name, group-key}` (no revision label), no updateStrategy;
 * - template: currentLws `workerTemplate` plus the labels above and annotations `size`, `leader-name`,
 *   `exclusive-topology` (live, non-empty), subgroup `policy-type`/`size` (currentLws) and `subgroup-exclusive-topology`
 *   (live, non-empty), `leader-requests-tpus: "true"` when the leader requests TPUs; the exclusive nodeSelector;
 * - reduced volume claim templates and retention policy of currentLws; controller reference to the leader pod.
 *
 * @param leaderPod The leader pod (labels set by the pod webhook).
 * @param liveLws The live LeaderWorkerSet.
 * @param currentLws The live LeaderWorkerSet with the leader's revision applied.
 * @param options The leader node's topology value, when exclusive placement is on.
 * @returns A new StatefulSet, ready to `create`.
 */
export function desiredWorkerStatefulSet(
  leaderPod: Pod,
  liveLws: LeaderWorkerSet,
  currentLws: LeaderWorkerSet,
  options: WorkerStatefulSetOptions = {},
): StatefulSet {
  const lwsName = liveLws.metadata.name ?? "";
  const leaderName = leaderPod.metadata?.name ?? "";
  const namespace = leaderPod.metadata?.namespace ?? "";
  const leaderLabels = leaderPod.metadata?.labels ?? {};
  const liveAnnotations = liveLws.metadata.annotations ?? {};
  const lwt = currentLws.spec.leaderWorkerTemplate;

  const selector: Record<string, string> = {
    [LABEL_GROUP_INDEX]: leaderLabels[LABEL_GROUP_INDEX] ?? "",
    [LABEL_NAME]: lwsName,
    [LABEL_GROUP_KEY]: leaderLabels[LABEL_GROUP_KEY] ?? "",
  };
  const labels: Record<string, string> = {
    ...selector,
    [LABEL_TEMPLATE_REVISION_HASH]: leaderLabels[LABEL_TEMPLATE_REVISION_HASH] ?? "",
  };

  const podAnnotations: Record<string, string> = {
    [ANNOTATION_SIZE]: String(groupSize(currentLws)),
    [ANNOTATION_LEADER_NAME]: leaderName,
  };
  const exclusive = liveAnnotations[ANNOTATION_EXCLUSIVE_TOPOLOGY];
  if (exclusive !== undefined && exclusive !== "") podAnnotations[ANNOTATION_EXCLUSIVE_TOPOLOGY] = exclusive;
  const subGroupPolicy = lwt.subGroupPolicy;
  if (subGroupPolicy !== undefined) {
    if (subGroupPolicy.subGroupPolicyType !== undefined) {
      podAnnotations[ANNOTATION_SUBGROUP_POLICY_TYPE] = subGroupPolicy.subGroupPolicyType;
    }
    if (subGroupPolicy.subGroupSize !== undefined) {
      podAnnotations[ANNOTATION_SUBGROUP_SIZE] = String(subGroupPolicy.subGroupSize);
    }
    const subExclusive = liveAnnotations[ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY];
    if (subExclusive !== undefined && subExclusive !== "") {
      podAnnotations[ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY] = subExclusive;
    }
  }
  if (podRequestsTpus(leaderPod.spec)) podAnnotations[ANNOTATION_LEADER_REQUESTS_TPUS] = "true";

  const template = templateWith(lwt.workerTemplate, { labels, annotations: podAnnotations });
  if (exclusive !== undefined && options.leaderNodeTopologyValue !== undefined) {
    const spec = template.spec ?? { containers: [] };
    spec.nodeSelector = { ...spec.nodeSelector, [exclusive]: options.leaderNodeTopologyValue };
    template.spec = spec;
  }

  const metadata: NonNullable<StatefulSet["metadata"]> = {
    name: leaderName,
    namespace,
    labels: { ...liveLws.metadata.labels, ...labels },
    ownerReferences: [podOwnerReference(leaderPod)],
  };
  if (liveLws.metadata.annotations !== undefined) metadata.annotations = { ...liveAnnotations };

  const sts: StatefulSet = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata,
    spec: {
      serviceName: currentLws.spec.networkConfig?.subdomainPolicy === "UniquePerReplica" ? leaderName : lwsName,
      replicas: groupSize(currentLws) - 1,
      podManagementPolicy: "Parallel",
      ordinals: { start: 1 },
      selector: { matchLabels: selector },
      template,
    },
  };
  const claims = reducedVolumeClaimTemplates(lwt, currentLws.metadata.namespace ?? namespace);
  if (claims !== undefined) sts.spec!.volumeClaimTemplates = claims;
  const retention = retentionPolicy(lwt);
  if (retention !== undefined) sts.spec!.persistentVolumeClaimRetentionPolicy = retention;
  return sts;
}

/**
 * The per-replica headless Service of a leader pod (spec §6.5, subdomain policy `UniquePerReplica`), created only if
 * no Service of that name exists; never updated; garbage-collected with the leader pod.
 *
 * @param leaderPod The leader pod (its owner; its name is the Service's).
 * @param lws The live LeaderWorkerSet.
 * @returns A new Service: label `{name}`, selector `{name, group-index}`, `clusterIP: None`,
 *   `publishNotReadyAddresses: true`, no ports.
 */
export function desiredPerReplicaService(leaderPod: Pod, lws: LeaderWorkerSet): Service {
  const lwsName = lws.metadata.name ?? "";
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: leaderPod.metadata?.name ?? "",
      namespace: leaderPod.metadata?.namespace ?? lws.metadata.namespace ?? "",
      labels: { [LABEL_NAME]: lwsName },
      ownerReferences: [podOwnerReference(leaderPod)],
    },
    spec: {
      clusterIP: "None",
      selector: { [LABEL_NAME]: lwsName, [LABEL_GROUP_INDEX]: leaderPod.metadata?.labels?.[LABEL_GROUP_INDEX] ?? "" },
      publishNotReadyAddresses: true,
    },
  };
}

/** Result of {@linkcode podIdentity}: the LWS a pod belongs to, or the reconcile error. */
export type PodIdentity = { lwsName: string; workerIndex: string; isLeader: boolean } | { error: string };

/**
 * Step 2 of a pod reconcile (spec §8.2): the pod's LWS name and worker index from its labels.
 *
 * @param pod The pod being reconciled.
 * @returns The identity, or `{ error }` with upstream's text
 *   (`leaderworkerset.sigs.k8s.io/name label is unexpected missing`, resp. `…/worker-index label …`).
 */
export function podIdentity(pod: Pod): PodIdentity {
  const labels = pod.metadata?.labels ?? {};
  const lwsName = labels[LABEL_NAME];
  if (lwsName === undefined || lwsName === "") return { error: `${LABEL_NAME} label is unexpected missing` };
  const workerIndex = labels[LABEL_WORKER_INDEX];
  if (workerIndex === undefined) return { error: `${LABEL_WORKER_INDEX} label is unexpected missing` };
  return { lwsName, workerIndex, isLeader: workerIndex === "0" };
}

/** What the pod reconcile does after the restart policy (spec §8.2 steps 5–12). */
export type PodReconcilePlan =
  | {
    /** Nothing more to do for this pod. */
    action: "stop";
    /** Why: a worker pod (5), a leader with a `leader-name` annotation (6), a deleting leader (7). */
    reason: "workerPod" | "leaderNameAnnotation" | "leaderDeleting";
    /** The Warning event of step 6 (regarding the LWS, related: the leader pod; spec §7.11). */
    event?: PlannedEvent;
  }
  | {
    /** Ensure the leader's objects. */
    action: "reconcile";
    /** Step 8: create this per-replica Service if no Service of its name exists. */
    perReplicaService?: Service;
    /** Step 9: create the PodGroup if missing (gang scheduling configured). */
    podGroup: boolean;
    /** Steps 10–12: whether to build the worker StatefulSet, and from which revision. */
    workerStatefulSet:
      | { action: "skip"; reason: "sizeOne" | "leaderNotReady" }
      | { action: "build"; revisionKey: string };
  };

/** Options of {@linkcode podReconcilePlan}. */
export interface PodReconcilePlanOptions {
  /** Gang scheduling is configured (`gangSchedulingManagement.schedulerProvider`). */
  gangScheduling: boolean;
}

function podReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/**
 * Steps 5–12 of a pod reconcile (spec §8.2), after the restart policy (step 4) did not delete the leader:
 * 5. worker pods stop; 6. a leader carrying a non-empty `leader-name` annotation stops with a Warning `FailedCreate`
 * event; 7. a deleting leader stops; 8. live `UniquePerReplica` → per-replica Service; 9. gang scheduling → PodGroup;
 * 10. live size 1 → no worker sts; 11. `LeaderReady` and the leader not Ready → no worker sts yet; 12. otherwise build
 * the worker sts from the revision named by the leader's `template-revision-hash` label (the reconciler looks it up
 * and requeues after {@linkcode REVISION_MISSING_REQUEUE_MS} when absent).
 *
 * @param pod The pod being reconciled (labels checked by {@linkcode podIdentity}).
 * @param lws The live LeaderWorkerSet.
 * @param options Whether gang scheduling is configured.
 * @returns The plan.
 */
export function podReconcilePlan(pod: Pod, lws: LeaderWorkerSet, options: PodReconcilePlanOptions): PodReconcilePlan {
  const labels = pod.metadata?.labels ?? {};
  if (labels[LABEL_WORKER_INDEX] !== "0") return { action: "stop", reason: "workerPod" };
  const leaderNameAnnotation = pod.metadata?.annotations?.[ANNOTATION_LEADER_NAME];
  if (leaderNameAnnotation !== undefined && leaderNameAnnotation !== "") {
    return {
      action: "stop",
      reason: "leaderNameAnnotation",
      event: {
        type: EVENT_TYPE_WARNING,
        reason: EVENT_REASON_FAILED_CREATE,
        action: EVENT_ACTION_CREATE,
        note: `leader pod ${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""} contains mistake annotation ` +
          `'${ANNOTATION_LEADER_NAME}': requires Kubernetes ≥v1.27 or v1.26 with StatefulSetStartOrdinal feature`,
      },
    };
  }
  if (isDeleting(pod)) {
    return { action: "stop", reason: "leaderDeleting" };
  }
  const plan: Extract<PodReconcilePlan, { action: "reconcile" }> = {
    action: "reconcile",
    podGroup: options.gangScheduling,
    workerStatefulSet: { action: "build", revisionKey: labels[LABEL_TEMPLATE_REVISION_HASH] ?? "" },
  };
  if (lws.spec.networkConfig?.subdomainPolicy === "UniquePerReplica") {
    plan.perReplicaService = desiredPerReplicaService(pod, lws);
  }
  if (groupSize(lws) === 1) {
    plan.workerStatefulSet = { action: "skip", reason: "sizeOne" };
  } else if (lws.spec.startupPolicy === "LeaderReady" && !podReady(pod)) {
    plan.workerStatefulSet = { action: "skip", reason: "leaderNotReady" };
  }
  return plan;
}

/**
 * The `GroupsProgressing`/`Create` event after creating a worker StatefulSet (spec §8.2 step 16), regarding the
 * LWS, related: the leader pod.
 *
 * @param leaderPod The leader pod.
 * @returns `Created worker statefulset for leader pod <pod>`.
 */
export function workerStatefulSetCreatedEvent(leaderPod: Pod): PlannedEvent {
  return {
    type: EVENT_TYPE_NORMAL,
    reason: EVENT_REASON_GROUPS_PROGRESSING,
    action: EVENT_ACTION_CREATE,
    note: `Created worker statefulset for leader pod ${leaderPod.metadata?.name ?? ""}`,
  };
}

/**
 * The Warning `FailedCreate` event when creating a worker StatefulSet failed other than with AlreadyExists
 * (spec §8.2 step 16), regarding the LWS, related: the leader pod.
 *
 * @param leaderPod The leader pod.
 * @param error The error text.
 * @returns `Failed to create worker statefulset for leader pod <pod>: <error>`.
 */
export function workerStatefulSetFailedEvent(leaderPod: Pod, error: string): PlannedEvent {
  return {
    type: EVENT_TYPE_WARNING,
    reason: EVENT_REASON_FAILED_CREATE,
    action: EVENT_ACTION_CREATE,
    note: `Failed to create worker statefulset for leader pod ${leaderPod.metadata?.name ?? ""}: ${error}`,
  };
}
