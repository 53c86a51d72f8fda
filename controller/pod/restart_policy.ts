/**
 * Group restart on pod restart (spec §8.3), as a pure decision: given the pod, its LWS, the pods of its group, the
 * leader pod and the worker's owning StatefulSet (as read from the cache), decide whether to delete the leader (with
 * `propagationPolicy: Foreground`) so that the whole group is recreated.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  ANNOTATION_EXPERIMENTAL_RECREATE_GROUP_AFTER_START,
  EVENT_ACTION_DELETE,
  EVENT_REASON_RECREATE_GROUP,
  EVENT_TYPE_NORMAL,
  LABEL_GROUP_INDEX,
  LABEL_WORKER_INDEX,
} from "../../api/constants.ts";
import { parseParentAndOrdinal } from "../../api/naming.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { controllerOf, isDeleting } from "../../kube/meta.ts";
import { groupSize, type PlannedEvent } from "../leaderworkerset/desired.ts";
import { revisionKeyOf } from "../leaderworkerset/rolling_update.ts";

/** Inputs of {@linkcode restartPolicyDecision}, as read by the reconciler (see {@linkcode restartLookups}). */
export interface RestartPolicyInputs {
  /** The live LeaderWorkerSet. */
  lws: LeaderWorkerSet;
  /** Pods with labels `name=<lws>` and `group-index=<pod's group-index>`. */
  groupPods: readonly Pod[];
  /** For a worker pod: the pod named by the parent of its name, or `undefined` when it does not exist. */
  leader?: Pod;
  /** For a worker pod: the StatefulSet named by its controller owner reference, or `undefined` when absent. */
  workerStatefulSet?: StatefulSet;
}

/** Outcome of {@linkcode restartPolicyDecision}. */
export type RestartDecision =
  /** Nothing to do; the reconcile continues (spec §8.2 step 5 onwards). */
  | { action: "none" }
  /** The leader is already being deleted: stop without a new delete. */
  | { action: "alreadyDeleting"; leader: Pod }
  /** Delete `leader` with `propagationPolicy: Foreground`, record `event` (regarding the LWS, related: `leader`), stop. */
  | { action: "deleteLeader"; leader: Pod; event: PlannedEvent; eventNote: string }
  /** The worker's name cannot be parsed: a reconcile error with this text. */
  | { action: "error"; message: string };

/** Names the reconciler reads before calling {@linkcode restartPolicyDecision}. */
export interface RestartLookups {
  /** Name of the leader pod (the pod itself for a leader; the parent of the name for a worker; `""` if unparsable). */
  leaderName: string;
  /** Name of the StatefulSet that controls the worker pod, when its controller owner is a StatefulSet. */
  ownerStatefulSetName?: string;
}

function isLeaderPod(pod: Pod): boolean {
  return pod.metadata?.labels?.[LABEL_WORKER_INDEX] === "0";
}

/**
 * The objects {@linkcode restartPolicyDecision} needs for `pod`.
 *
 * @param pod The pod being reconciled.
 * @returns The leader name and the owning StatefulSet name to read.
 */
export function restartLookups(pod: Pod): RestartLookups {
  if (isLeaderPod(pod)) return { leaderName: pod.metadata?.name ?? "" };
  const owner = controllerOf(pod);
  const lookups: RestartLookups = { leaderName: parseParentAndOrdinal(pod.metadata?.name ?? "").parent };
  if (owner !== undefined && owner.kind === "StatefulSet") lookups.ownerStatefulSetName = owner.name;
  return lookups;
}

/**
 * Spec §8.3 step 2: the pod is being deleted, or it is `Running`/`Pending` and a container or init container has
 * restarted.
 *
 * @param pod A pod.
 * @returns Whether the pod triggers a group restart.
 */
export function restartTriggered(pod: Pod): boolean {
  if (isDeleting(pod)) return true;
  const phase = pod.status?.phase;
  if (phase !== "Running" && phase !== "Pending") return false;
  return [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
    .some((s) => (s.restartCount ?? 0) > 0);
}

/**
 * Spec §8.3 step 5 (since v0.9.0): a worker may only restart the group of the leader that created it — its controller
 * owner is the leader pod itself, or an existing StatefulSet (same UID as the reference) controlled by the leader.
 */
function belongsToLeader(worker: Pod, leader: Pod, sts: StatefulSet | undefined): boolean {
  const owner = controllerOf(worker);
  if (owner === undefined) return false;
  const leaderName = leader.metadata?.name;
  const leaderUid = leader.metadata?.uid;
  if (owner.name === leaderName && owner.uid === leaderUid) return true;
  if (sts === undefined || sts.metadata?.uid !== owner.uid || sts.metadata?.name !== owner.name) return false;
  const stsOwner = controllerOf(sts);
  return stsOwner !== undefined && stsOwner.name === leaderName && stsOwner.uid === leaderUid;
}

/**
 * The restart-policy decision of spec §8.3, for leader and worker pods:
 * 1. only `RecreateGroupOnPodRestart` and `RecreateGroupAfterStart` act (`None` and the deprecated `Default` don't);
 * 2. trigger: see {@linkcode restartTriggered};
 * 3–4. a pending group (pod count ≠ live S, or any pod `Pending`) is left alone under `RecreateGroupAfterStart` or
 *    with the `experimental-recreate-group-after-start` annotation;
 * 5. the leader: the pod itself, or for a worker the pod named by its parent name (missing → nothing; another
 *    revision → nothing, the worker is about to be replaced; the worker not belonging to it → nothing);
 * 6. a leader already being deleted → `alreadyDeleting`;
 * 7. otherwise `deleteLeader` with the `RecreateGroup` note
 *    `Worker pod <pod> failed, deleted leader pod <leader> to recreate group <group-index>`.
 *
 * @param pod The pod being reconciled.
 * @param inputs The LWS, the group's pods, the leader and the worker's owning StatefulSet.
 * @returns The decision.
 */
export function restartPolicyDecision(pod: Pod, inputs: RestartPolicyInputs): RestartDecision {
  const { lws } = inputs;
  const policy = lws.spec.leaderWorkerTemplate.restartPolicy;
  if (policy !== "RecreateGroupOnPodRestart" && policy !== "RecreateGroupAfterStart") return { action: "none" };
  if (!restartTriggered(pod)) return { action: "none" };

  const pending = inputs.groupPods.length !== groupSize(lws) ||
    inputs.groupPods.some((p) => p.status?.phase === "Pending");
  const afterStart = policy === "RecreateGroupAfterStart" ||
    lws.metadata.annotations?.[ANNOTATION_EXPERIMENTAL_RECREATE_GROUP_AFTER_START] !== undefined;
  if (pending && afterStart) return { action: "none" };

  let leader: Pod;
  if (isLeaderPod(pod)) {
    leader = pod;
  } else {
    const name = pod.metadata?.name ?? "";
    if (parseParentAndOrdinal(name).ordinal === -1) {
      return { action: "error", message: `parsing pod name for pod ${name}` };
    }
    if (inputs.leader === undefined) return { action: "none" };
    leader = inputs.leader;
    if (revisionKeyOf(leader) !== revisionKeyOf(pod)) return { action: "none" };
    if (!belongsToLeader(pod, leader, inputs.workerStatefulSet)) return { action: "none" };
  }

  if (isDeleting(leader)) {
    return { action: "alreadyDeleting", leader };
  }
  const eventNote = `Worker pod ${pod.metadata?.name ?? ""} failed, deleted leader pod ${
    leader.metadata?.name ?? ""
  } to recreate group ${leader.metadata?.labels?.[LABEL_GROUP_INDEX] ?? ""}`;
  return {
    action: "deleteLeader",
    leader,
    eventNote,
    event: {
      type: EVENT_TYPE_NORMAL,
      reason: EVENT_REASON_RECREATE_GROUP,
      action: EVENT_ACTION_DELETE,
      note: eventNote,
    },
  };
}
