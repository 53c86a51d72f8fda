/**
 * Rolling-update arithmetic of the LeaderWorkerSet controller (spec §7.4–§7.7, §7.11): the `(partition, replicas)`
 * pair applied to the leader StatefulSet, the per-group replica states it is computed from, partition progression,
 * surge sizing, and the notes of the events these steps emit. Pure: the caller passes the leader StatefulSet, the
 * leader pods and the StatefulSets it read (possibly stale: the algorithm tolerates it, the next reconcile corrects).
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  ANNOTATION_REPLICAS,
  EVENT_ACTION_CREATE,
  EVENT_ACTION_DELETE,
  EVENT_ACTION_UPDATE,
  EVENT_REASON_GROUPS_PROGRESSING,
  EVENT_REASON_GROUPS_UPDATING,
  EVENT_TYPE_NORMAL,
  LABEL_GROUP_INDEX,
  LABEL_TEMPLATE_REVISION_HASH,
} from "../../api/constants.ts";
import { goAtoi } from "../../api/go_strconv.ts";
import { leaderPodName, scaleIntOrPercent, workerStatefulSetName } from "../../api/naming.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { isDeleting } from "../../kube/meta.ts";
import type { PlannedEvent } from "./desired.ts";

/** The rollout numbers of an LWS (spec §7.4 "Derived"), all scaled against `N`. */
export interface RolloutBudget {
  /** `N` = `spec.replicas` (CRD default 1). */
  replicas: number;
  /** `P` = `rollingUpdateConfiguration.partition` (default 0). */
  partition: number;
  /** `mu` = maxUnavailable scaled against N, rounded down (default 1). */
  maxUnavailable: number;
  /** `ms` = maxSurge scaled against N, rounded up, then capped at N (default 0). */
  maxSurge: number;
  /** `burst` = N + ms: the most groups that may exist at once. */
  burst: number;
}

/**
 * The rollout numbers of an LWS (spec §7.4): `N`, `P`, `mu` (round down), `ms` (round up, capped at N), `burst`.
 * Absent fields take the CRD/webhook defaults (replicas 1, partition 0, maxUnavailable 1, maxSurge 0).
 *
 * @param lws The live LeaderWorkerSet.
 * @returns The budget.
 * @throws {Error} When maxUnavailable or maxSurge is not a valid int-or-percent (validation prevents it), with Go's
 *   text.
 */
export function rolloutBudget(lws: LeaderWorkerSet): RolloutBudget {
  const replicas = lws.spec.replicas ?? 1;
  const config = lws.spec.rolloutStrategy?.rollingUpdateConfiguration;
  const mu = scaleIntOrPercent(config?.maxUnavailable ?? 1, replicas, false);
  if ("error" in mu) throw new Error(mu.error);
  const ms = scaleIntOrPercent(config?.maxSurge ?? 0, replicas, true);
  if ("error" in ms) throw new Error(ms.error);
  const maxSurge = Math.min(ms.value, replicas);
  return {
    replicas,
    partition: config?.partition ?? 0,
    maxUnavailable: mu.value,
    maxSurge,
    burst: replicas + maxSurge,
  };
}

/** Readiness and revision of one group (spec §7.5). */
export interface ReplicaState {
  /** Leader pod Running and Ready, and (S ≠ 1) its worker StatefulSet ready. */
  ready: boolean;
  /** Leader pod and (S ≠ 1) worker StatefulSet carry the current revision key. */
  updated: boolean;
}

/**
 * Go's `podutils.PodRunningAndReady`: phase `Running` and condition `Ready` `True`.
 *
 * @param pod A pod.
 * @returns Whether the pod is running and ready.
 */
export function isPodRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === "Running" &&
    (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/**
 * Readiness of a worker StatefulSet (spec §7.5, since v0.9.0): `spec.replicas == status.availableReplicas` and
 * `status.currentRevision == status.updateRevision`. An absent `spec.replicas` counts as the API default 1.
 *
 * @param sts A worker StatefulSet.
 * @returns Whether all its pods are available on one revision.
 */
export function isStatefulSetReady(sts: StatefulSet): boolean {
  const status = sts.status;
  return (sts.spec?.replicas ?? 1) === (status?.availableReplicas ?? 0) &&
    (status?.currentRevision ?? "") === (status?.updateRevision ?? "");
}

/**
 * The value of an object's `template-revision-hash` label, or `""`.
 *
 * @param object A pod or StatefulSet.
 * @returns The revision key it was built from.
 */
export function revisionKeyOf(object: { metadata?: { labels?: Record<string, string> } }): string {
  return object.metadata?.labels?.[LABEL_TEMPLATE_REVISION_HASH] ?? "";
}

/** Indexes objects by their `group-index` label (Go `SortByIndex`): unparsable or out-of-range ones are skipped. */
function byGroupIndex<T extends { metadata?: { labels?: Record<string, string> } }>(
  items: readonly T[],
  length: number,
): (T | undefined)[] {
  const result: (T | undefined)[] = new Array(length).fill(undefined);
  for (const item of items) {
    const parsed = goAtoi(item.metadata?.labels?.[LABEL_GROUP_INDEX] ?? "");
    if ("error" in parsed || parsed.value < 0 || parsed.value >= length) continue;
    result[parsed.value] = item; // a later duplicate wins, like Go's slice assignment
  }
  return result;
}

/** Inputs of {@linkcode replicaStates}. */
export interface ReplicaStatesOptions {
  /** The leader StatefulSet's `spec.replicas`: states are computed for indexes `0..stsReplicas-1`. */
  stsReplicas: number;
  /** The current revision key. */
  revisionKey: string;
  /** Leader pods of the LWS (labels `name=<lws>`, `worker-index=0`). */
  leaderPods: readonly Pod[];
  /** StatefulSets with label `name=<lws>` (the leader sts, which has no group-index label, is skipped). */
  statefulSets: readonly StatefulSet[];
}

/**
 * Replica states for indexes `0..stsReplicas-1` (spec §7.5). A group whose leader pod is not named `<lws>-<i>`
 * (missing, or being rebuilt), or, when the live size S ≠ 1, whose worker StatefulSet is not named `<lws>-<i>`, is
 * neither ready nor updated.
 *
 * Deliberately stricter than spec §7.5 (and upstream): a group whose leader pod or worker StatefulSet is being
 * deleted is not ready, even while its pods still report Ready. Such a group is going down — its restart policy
 * deleted the leader, a node is drained, a user deleted it — and a terminating pod keeps its Ready condition until
 * its containers stop (for model servers, often minutes). Counting it as ready let the partition move on and take a
 * second group down next to it: more unavailable groups than maxUnavailable. Counted as unready, it holds the
 * partition (§7.6 step 3) until the group is back, and never blocks the rollout (§7.6 step 4).
 *
 * @param lws The live LeaderWorkerSet (name and live size).
 * @param options Leader sts replicas, revision key, leader pods and StatefulSets.
 * @returns One state per index.
 */
export function replicaStates(lws: LeaderWorkerSet, options: ReplicaStatesOptions): ReplicaState[] {
  const name = lws.metadata.name ?? "";
  const length = Math.max(0, options.stsReplicas);
  const pods = byGroupIndex(options.leaderPods, length);
  const sets = byGroupIndex(options.statefulSets, length);
  const noWorkerSts = (lws.spec.leaderWorkerTemplate.size ?? 1) === 1;
  const states: ReplicaState[] = [];
  for (let i = 0; i < length; i++) {
    const pod = pods[i];
    const sts = sets[i];
    if (
      pod === undefined || pod.metadata?.name !== leaderPodName(name, i) ||
      (!noWorkerSts && (sts === undefined || sts.metadata?.name !== workerStatefulSetName(name, i)))
    ) {
      states.push({ ready: false, updated: false });
      continue;
    }
    const leaderUpdated = revisionKeyOf(pod) === options.revisionKey;
    const leaderReady = isPodRunningAndReady(pod) && !isDeleting(pod);
    if (noWorkerSts || sts === undefined) {
      states.push({ ready: leaderReady, updated: leaderUpdated });
      continue;
    }
    states.push({
      ready: leaderReady && isStatefulSetReady(sts) && !isDeleting(sts),
      updated: leaderUpdated && revisionKeyOf(sts) === options.revisionKey,
    });
  }
  return states;
}

/**
 * Number of desired groups (indexes `< N`) that are beyond the state array or not both ready and updated
 * (spec §7.4 step 5). Groups below a non-zero spec partition count too: they never get updated.
 *
 * @param states Replica states (spec §7.5).
 * @param replicas `N`.
 * @returns The unready count `u`.
 */
export function unreadyReplicas(states: readonly ReplicaState[], replicas: number): number {
  let count = 0;
  for (let i = 0; i < replicas; i++) {
    const state = states[i];
    if (state === undefined || !state.ready || !state.updated) count++;
  }
  return count;
}

/** Inputs of {@linkcode nextPartition}. */
export interface NextPartitionOptions {
  /** `R`: the leader sts replicas (length of the state array). */
  replicas: number;
  /** The rolling step `mu + ms − (burst − R)`. */
  step: number;
  /** The leader sts's current partition; the result never exceeds it. */
  current: number;
}

/**
 * Partition progression (spec §7.6): skip the ready-and-updated tail, move `step` groups further down, shift back up
 * by the unready groups below that point (so existing unavailability uses up the budget), then lower the partition
 * over unready or already-updated groups at the boundary (so the rollout cannot get stuck), and never raise it.
 *
 * @param states Replica states for indexes `0..R-1`.
 * @param options `R`, step and current partition.
 * @returns The new partition (before the final `max(…, P)` of spec §7.4).
 * @example
 * nextPartition([ready, ready, ready, readyUpdated], { replicas: 4, step: 1, current: 3 }); // 2
 */
export function nextPartition(states: readonly ReplicaState[], options: NextPartitionOptions): number {
  const { replicas, step, current } = options;
  const at = (i: number): ReplicaState => states[i] ?? { ready: false, updated: false };
  let tail = 0;
  for (let i = replicas - 1; i >= 0; i--) {
    const s = at(i);
    if (!(s.ready && s.updated)) break;
    tail++;
  }
  const base = Math.max(0, replicas - tail - step);
  let partition = base;
  for (let i = 0; i < base; i++) if (!at(i).ready) partition++;
  for (let i = Math.min(partition, replicas - 1); i >= base; i--) {
    const s = at(i);
    if (!s.ready || s.updated) partition = i;
    else break;
  }
  return Math.min(partition, current);
}

/** Inputs of {@linkcode surgeReplicas}. */
export interface SurgeReplicasOptions {
  /** `N`, `ms` and `mu` of the LWS. */
  budget: Pick<RolloutBudget, "replicas" | "maxSurge" | "maxUnavailable">;
  /** The leader sts's current `spec.replicas`; a lower result comes with a "deleting surge replica" event. */
  stsReplicas: number;
  /** The LWS name, for the event note. */
  lwsName: string;
}

/** Result of {@linkcode surgeReplicas}. */
export interface SurgeReplicasResult {
  /** Leader sts replicas to apply. */
  replicas: number;
  /** `GroupsProgressing`/`Delete` event when the result is below `stsReplicas` (emitted before the apply). */
  event?: PlannedEvent;
}

/**
 * Surge sizing (spec §7.7, since v0.9.0): with `u ≤ ms` unready groups keep `N + max(0, u − mu)` groups (the surge
 * is released as groups become ready and updated), otherwise the full `burst = N + ms`.
 *
 * @param unready `u`, see {@linkcode unreadyReplicas}.
 * @param options Budget, current sts replicas and LWS name.
 * @returns The replicas and, when surge groups are removed, the event note `deleting surge replica <lws>-<n>` or
 *   `deleting surge replicas from <lws>-<n> to <lws>-<m>`.
 * @example
 * surgeReplicas(2, { budget: { replicas: 4, maxSurge: 2, maxUnavailable: 1 }, stsReplicas: 6, lwsName: "a" });
 * // { replicas: 5, event: { ..., note: "deleting surge replica a-5" } }
 */
export function surgeReplicas(unready: number, options: SurgeReplicasOptions): SurgeReplicasResult {
  const { replicas: n, maxSurge, maxUnavailable } = options.budget;
  const replicas = unready <= maxSurge ? n + Math.max(0, unready - maxUnavailable) : n + maxSurge;
  if (replicas >= options.stsReplicas) return { replicas };
  const last = options.stsReplicas - 1;
  const note = replicas === last
    ? `deleting surge replica ${options.lwsName}-${replicas}`
    : `deleting surge replicas from ${options.lwsName}-${replicas} to ${options.lwsName}-${last}`;
  return {
    replicas,
    event: { type: EVENT_TYPE_NORMAL, reason: EVENT_REASON_GROUPS_PROGRESSING, action: EVENT_ACTION_DELETE, note },
  };
}

/** Inputs of {@linkcode rollingUpdateParameters}. */
export interface RollingUpdateInputs {
  /** The leader StatefulSet as read before the apply, or `undefined` when it does not exist. */
  leaderStatefulSet: StatefulSet | undefined;
  /** The current revision key (after revision resolution, spec §7.3). */
  revisionKey: string;
  /** Whether this reconcile created a new revision because the template changed (spec §7.2 step 5). */
  lwsUpdated: boolean;
  /** Leader pods of the LWS (labels `name=<lws>`, `worker-index=0`). */
  leaderPods: readonly Pod[];
  /** StatefulSets with label `name=<lws>`. */
  statefulSets: readonly StatefulSet[];
}

/** Result of {@linkcode rollingUpdateParameters}. */
export interface RollingUpdateParameters {
  /** Leader sts `updateStrategy.rollingUpdate.partition`; always ≥ the spec partition P. */
  partition: number;
  /** Leader sts `spec.replicas`. */
  replicas: number;
  /** Events emitted while computing (the surge deletion note), to record before the apply. */
  events: PlannedEvent[];
}

/**
 * `(partition, replicas)` for the leader StatefulSet (spec §7.4), every branch:
 * 1. no leader sts → `(0, N)`;
 * 2. new revision this reconcile → partition `min(N, stsReplicas)`; replicas N when scaling up, else `surge(N)`;
 * 3. `curPartition == 0` and `stsReplicas == N` → `(0, N)` (steady state);
 * 4. `stsReplicas < N` → `(curPartition, N)` (scale-up first);
 * 6. `replicas` annotation ≠ N (replicas changed mid-rollout) → `(min(curPartition, burst), surge(u))`;
 * 7. otherwise → `(nextPartition(states, stsReplicas, mu + ms − (burst − stsReplicas), curPartition), surge(u))`;
 *
 * and the final partition is `max(result, P)`.
 *
 * @param lws The live LeaderWorkerSet.
 * @param inputs Leader sts, revision key, whether the template changed, leader pods and StatefulSets.
 * @returns Partition, replicas and the events emitted on the way.
 * @throws {Error} When the leader sts's `leaderworkerset.sigs.k8s.io/replicas` annotation is missing or not an
 *   integer (Go's `strconv.Atoi` text, e.g. `strconv.Atoi: parsing "": invalid syntax`), or when maxUnavailable /
 *   maxSurge cannot be scaled.
 */
export function rollingUpdateParameters(lws: LeaderWorkerSet, inputs: RollingUpdateInputs): RollingUpdateParameters {
  const budget = rolloutBudget(lws);
  const result = rollingUpdateParametersRaw(lws, budget, inputs);
  return { ...result, partition: Math.max(result.partition, budget.partition) };
}

function rollingUpdateParametersRaw(
  lws: LeaderWorkerSet,
  budget: RolloutBudget,
  inputs: RollingUpdateInputs,
): RollingUpdateParameters {
  const n = budget.replicas;
  const sts = inputs.leaderStatefulSet;
  // 1. No leader sts yet: create everything on the current revision.
  if (sts === undefined) return { partition: 0, replicas: n, events: [] };

  const stsReplicas = sts.spec?.replicas ?? 1;
  const surge = (unready: number): { replicas: number; events: PlannedEvent[] } => {
    const { replicas, event } = surgeReplicas(unready, {
      budget,
      stsReplicas,
      lwsName: lws.metadata.name ?? "",
    });
    return { replicas, events: event === undefined ? [] : [event] };
  };

  // 2. A new revision: start the rollout from the top; scale-up first (new groups start on the new template).
  if (inputs.lwsUpdated) {
    const partition = Math.min(n, stsReplicas);
    if (stsReplicas < n) return { partition, replicas: n, events: [] };
    return { partition, ...surge(n) };
  }

  const curPartition = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  // 3. Steady state.
  if (curPartition === 0 && stsReplicas === n) return { partition: 0, replicas: n, events: [] };
  // 4. Scale-up in the middle of a rollout: add the groups, keep the partition.
  if (stsReplicas < n) return { partition: curPartition, replicas: n, events: [] };

  // 5. Replica states and unready count.
  const states = replicaStates(lws, {
    stsReplicas,
    revisionKey: inputs.revisionKey,
    leaderPods: inputs.leaderPods,
    statefulSets: inputs.statefulSets,
  });
  const unready = unreadyReplicas(states, n);

  // 6. Replicas changed since the last apply.
  const recorded = goAtoi(sts.metadata?.annotations?.[ANNOTATION_REPLICAS] ?? "");
  if ("error" in recorded) throw new Error(recorded.error);
  if (recorded.value !== n) return { partition: Math.min(curPartition, budget.burst), ...surge(unready) };

  // 7. Move the partition down by at most the budget not already used by missing surge groups.
  const step = budget.maxUnavailable + budget.maxSurge - (budget.burst - stsReplicas);
  const partition = nextPartition(states, { replicas: stsReplicas, step, current: curPartition });
  return { partition, ...surge(unready) };
}

/** Inputs of {@linkcode leaderStatefulSetEvents}. */
export interface LeaderStatefulSetEventsOptions {
  /** The leader sts before the apply, or `undefined` when this reconcile created it. */
  previous: StatefulSet | undefined;
  /** Whether this reconcile created a new revision. */
  lwsUpdated: boolean;
  /** The partition just applied. */
  partition: number;
}

/**
 * Events after a successful leader sts apply (spec §7.2 step 8, §7.11): `GroupsProgressing`/`Create`
 * `Created leader statefulset <lws>` when it did not exist; otherwise, unless a new revision was created, a
 * `GroupsUpdating`/`Update` event when the partition moved (see {@linkcode partitionMovedNote}). The spec relates
 * both to the current revision; the reconciler adds that reference.
 *
 * @param lws The live LeaderWorkerSet.
 * @param options Previous sts, whether the template changed, and the applied partition.
 * @returns Zero or one event.
 */
export function leaderStatefulSetEvents(lws: LeaderWorkerSet, options: LeaderStatefulSetEventsOptions): PlannedEvent[] {
  if (options.previous === undefined) {
    return [{
      type: EVENT_TYPE_NORMAL,
      reason: EVENT_REASON_GROUPS_PROGRESSING,
      action: EVENT_ACTION_CREATE,
      note: `Created leader statefulset ${lws.metadata.name ?? ""}`,
    }];
  }
  const old = options.previous.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  if (options.lwsUpdated || options.partition === old) return [];
  return [{
    type: EVENT_TYPE_NORMAL,
    reason: EVENT_REASON_GROUPS_UPDATING,
    action: EVENT_ACTION_UPDATE,
    note: partitionMovedNote(old, options.partition),
  }];
}

/**
 * Note of the `GroupsUpdating` event when the leader sts partition moves from `old` to `partition` (since v0.9.0):
 * `Updating replica <p>` when it moved down by one, else `Updating replicas <p> to <old−1> (inclusive)` (also,
 * literally, when it moved up).
 *
 * @param old The partition before the apply.
 * @param partition The partition applied.
 * @returns The note.
 */
export function partitionMovedNote(old: number, partition: number): string {
  return partition === old - 1
    ? `Updating replica ${partition}`
    : `Updating replicas ${partition} to ${old - 1} (inclusive)`;
}
