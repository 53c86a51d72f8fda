/**
 * Status of a LeaderWorkerSet (spec §7.9) and the condition algebra of spec §7.10, quirks included: assertions stop
 * after the first one that changes something, a condition set to False keeps the reason and message it had while
 * True, an existing condition is only replaced when its status or observedGeneration differs.
 *
 * Pure: the clock is the `now` argument; the result is a new status object (the input LWS is never mutated).
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Condition } from "kubernetes-types/meta/v1.d.ts";
import {
  CONDITION_AVAILABLE,
  CONDITION_PROGRESSING,
  CONDITION_UPDATE_IN_PROGRESS,
  EVENT_ACTION_UPDATE,
  EVENT_TYPE_NORMAL,
  LABEL_GROUP_INDEX,
  LABEL_NAME,
  LABEL_WORKER_INDEX,
  MESSAGE_ALL_GROUPS_READY,
  MESSAGE_GROUPS_PROGRESSING,
  MESSAGE_GROUPS_UPDATING,
  REASON_ALL_GROUPS_READY,
  REASON_GROUPS_PROGRESSING,
  REASON_GROUPS_UPDATING,
} from "../../api/constants.ts";
import { goAtoi } from "../../api/go_strconv.ts";
import type { LeaderWorkerSet, LeaderWorkerSetConditionType, LeaderWorkerSetStatus } from "../../api/types.ts";
import type { PlannedEvent } from "./desired.ts";
import { isPodRunningAndReady, isStatefulSetReady, revisionKeyOf } from "./rolling_update.ts";

/** Inputs of {@linkcode computeStatus} besides the objects. */
export interface ComputeStatusOptions {
  /** The current revision key. */
  revisionKey: string;
  /** The time of this reconcile, used as `lastTransitionTime` of changed conditions. */
  now: Date;
}

/** Result of {@linkcode computeStatus}. */
export interface ComputedStatus {
  /** The new status (a new object; integer fields that are 0 are absent, like Go's `omitempty`). */
  status: LeaderWorkerSetStatus;
  /** Whether any field or condition differs from `lws.status`: write the status subresource only if true. */
  changed: boolean;
  /** `P == 0` and every desired group is ready and updated: the caller truncates old revisions (spec §7.12). */
  updateDone: boolean;
  /** The conditions event (spec §7.10), when the condition list changed. */
  event?: PlannedEvent;
}

/** Worker StatefulSets by name: a map, or a lookup such as a store's `get`. */
export type StatefulSetLookup = ReadonlyMap<string, StatefulSet> | ((name: string) => StatefulSet | undefined);

/**
 * `status.hpaPodSelector` of an LWS: the selector string of `{name: <lws>, worker-index: "0"}`, requirements sorted by
 * key.
 *
 * @param lwsName The LWS name.
 * @returns `leaderworkerset.sigs.k8s.io/name=<lws>,leaderworkerset.sigs.k8s.io/worker-index=0`.
 */
export function hpaPodSelector(lwsName: string): string {
  return `${LABEL_NAME}=${lwsName},${LABEL_WORKER_INDEX}=0`;
}

/**
 * Formats a time like Kubernetes' `metav1.Time` (RFC 3339, UTC, whole seconds).
 *
 * @param now The time.
 * @returns E.g. `2026-01-02T03:04:05Z`.
 */
export function formatMetaTime(now: Date): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

const CONDITION_TEXT: Record<LeaderWorkerSetConditionType, { reason: string; message: string }> = {
  Available: { reason: REASON_ALL_GROUPS_READY, message: MESSAGE_ALL_GROUPS_READY },
  Progressing: { reason: REASON_GROUPS_PROGRESSING, message: MESSAGE_GROUPS_PROGRESSING },
  UpdateInProgress: { reason: REASON_GROUPS_UPDATING, message: MESSAGE_GROUPS_UPDATING },
};

/**
 * A True condition of the given type with its fixed reason and message (spec §7.10).
 *
 * @param type The condition type.
 * @param options Generation (omitted when 0, like Go's `omitempty`) and the formatted transition time.
 * @returns A new condition.
 */
export function makeCondition(
  type: LeaderWorkerSetConditionType,
  options: { generation: number; lastTransitionTime: string },
): Condition {
  const condition: Condition = {
    type,
    status: "True",
    lastTransitionTime: options.lastTransitionTime,
    reason: CONDITION_TEXT[type].reason,
    message: CONDITION_TEXT[type].message,
  };
  if (options.generation !== 0) condition.observedGeneration = options.generation;
  return condition;
}

/** Available excludes Progressing and UpdateInProgress (in both directions); those two coexist. */
function exclusive(a: string, b: string): boolean {
  return (a === CONDITION_AVAILABLE && (b === CONDITION_PROGRESSING || b === CONDITION_UPDATE_IN_PROGRESS)) ||
    (b === CONDITION_AVAILABLE && (a === CONDITION_PROGRESSING || a === CONDITION_UPDATE_IN_PROGRESS));
}

/**
 * Asserts one True condition on `conditions` in place (spec §7.10 steps 1–4).
 *
 * @returns Whether the list changed.
 */
function assertCondition(conditions: Condition[], wanted: Condition, generation: number): boolean {
  let found = false;
  let changed = false;
  for (let i = 0; i < conditions.length; i++) {
    const current = conditions[i]!;
    if (current.type === wanted.type) {
      found = true;
      if (current.status !== wanted.status || (current.observedGeneration ?? 0) !== (wanted.observedGeneration ?? 0)) {
        conditions[i] = { ...wanted };
        changed = true;
      }
    } else if (exclusive(current.type, wanted.type) && current.status === "True") {
      // Keeps its reason and message: tests look for e.g. Available False "All replicas are ready".
      const updated: Condition = { ...current, status: "False", lastTransitionTime: wanted.lastTransitionTime };
      if (generation !== 0) updated.observedGeneration = generation;
      else delete updated.observedGeneration;
      conditions[i] = updated;
      changed = true;
    }
  }
  if (!found) {
    conditions.push({ ...wanted });
    changed = true;
  }
  return changed;
}

/** Options of {@linkcode setConditions}. */
export interface SetConditionsOptions {
  /** `metadata.generation` of the LWS. */
  generation: number;
  /** Time of this reconcile. */
  now: Date;
}

/**
 * The condition algebra of spec §7.10: asserts `types` (each True) in order on a copy of `existing`, stopping after
 * the first assertion that changed something (upstream's short-circuiting OR), then sets every condition's
 * observedGeneration to the generation.
 *
 * @param existing The current `status.conditions` (not mutated).
 * @param types Condition types to assert, e.g. `["UpdateInProgress", "Progressing"]`.
 * @param options Generation and time.
 * @returns The new list and whether anything changed (including an observedGeneration refresh).
 */
export function setConditions(
  existing: readonly Condition[],
  types: readonly LeaderWorkerSetConditionType[],
  options: SetConditionsOptions,
): { conditions: Condition[]; changed: boolean } {
  const conditions = existing.map((c) => ({ ...c }));
  const lastTransitionTime = formatMetaTime(options.now);
  let changed = false;
  for (const type of types) {
    if (
      assertCondition(
        conditions,
        makeCondition(type, { generation: options.generation, lastTransitionTime }),
        options.generation,
      )
    ) {
      changed = true;
      break;
    }
  }
  for (const condition of conditions) {
    if ((condition.observedGeneration ?? 0) !== options.generation) {
      if (options.generation !== 0) condition.observedGeneration = options.generation;
      else delete condition.observedGeneration;
      changed = true;
    }
  }
  return { conditions, changed };
}

/** Counters of spec §7.9. */
interface GroupCounts {
  ready: number;
  updated: number;
  current: number;
  updatedInRange: number;
  readyUpdatedInRange: number;
  readyNonSurge: number;
}

function lookup(workers: StatefulSetLookup, name: string): StatefulSet | undefined {
  return typeof workers === "function" ? workers(name) : workers.get(name);
}

/**
 * Computes the LWS status after the leader sts apply (spec §7.9, §7.10):
 * - `replicas` from the leader sts's `status.replicas`; `observedGeneration` from `metadata.generation`;
 *   `hpaPodSelector` set once when empty;
 * - per leader pod (a group whose worker sts is missing, when S ≠ 1, is skipped entirely): ready/updated counts,
 *   surge groups included;
 * - conditions `[UpdateInProgress, Progressing]` while groups in `[P, N)` are not all updated, `[Available]` when all
 *   N desired groups are ready and those in `[P, N)` updated, else `[Progressing]`, applied by
 *   {@linkcode setConditions};
 * - `updateDone` = `P == 0` and all N groups ready and updated.
 *
 * @param lws The live LeaderWorkerSet with its current status.
 * @param leaderSts The leader StatefulSet, read again after the apply.
 * @param leaderPods Leader pods of the LWS (labels `name=<lws>`, `worker-index=0`).
 * @param workerStsByName Worker StatefulSets by name.
 * @param options Revision key and time.
 * @returns The new status, whether it changed, whether the update is done, and the conditions event.
 * @throws {Error} When a leader pod's `group-index` label is not an integer (Go's `strconv.Atoi` text).
 */
export function computeStatus(
  lws: LeaderWorkerSet,
  leaderSts: StatefulSet,
  leaderPods: readonly Pod[],
  workerStsByName: StatefulSetLookup,
  options: ComputeStatusOptions,
): ComputedStatus {
  const old = lws.status ?? {};
  const generation = lws.metadata.generation ?? 0;
  const n = lws.spec.replicas ?? 1;
  const p = lws.spec.rolloutStrategy?.rollingUpdateConfiguration?.partition ?? 0;
  const noWorkerSts = (lws.spec.leaderWorkerTemplate.size ?? 1) === 1;

  const counts: GroupCounts = {
    ready: 0,
    updated: 0,
    current: 0,
    updatedInRange: 0,
    readyUpdatedInRange: 0,
    readyNonSurge: 0,
  };
  for (const pod of leaderPods) {
    const parsed = goAtoi(pod.metadata?.labels?.[LABEL_GROUP_INDEX] ?? "");
    if ("error" in parsed) throw new Error(parsed.error);
    const index = parsed.value;
    let sts: StatefulSet | undefined;
    if (!noWorkerSts) {
      sts = lookup(workerStsByName, pod.metadata?.name ?? "");
      if (sts === undefined) continue;
    }
    const ready = (sts === undefined || isStatefulSetReady(sts)) && isPodRunningAndReady(pod);
    const updated = (sts === undefined || revisionKeyOf(sts) === options.revisionKey) &&
      revisionKeyOf(pod) === options.revisionKey;
    if (ready) counts.ready++;
    if (updated) counts.updated++;
    if (index >= p && index < n) {
      counts.current++;
      if (updated) counts.updatedInRange++;
      if (ready && updated) counts.readyUpdatedInRange++;
    }
    if (index < n && ready) counts.readyNonSurge++;
  }

  let types: LeaderWorkerSetConditionType[];
  if (counts.updatedInRange < counts.current) types = [CONDITION_UPDATE_IN_PROGRESS, CONDITION_PROGRESSING];
  else if (counts.readyNonSurge === n && counts.readyUpdatedInRange === counts.current) types = [CONDITION_AVAILABLE];
  else types = [CONDITION_PROGRESSING];

  const { conditions, changed: conditionsChanged } = setConditions(old.conditions ?? [], types, {
    generation,
    now: options.now,
  });

  const status: LeaderWorkerSetStatus = {};
  if (conditions.length > 0) status.conditions = conditions;
  if (counts.ready !== 0) status.readyReplicas = counts.ready;
  if (counts.updated !== 0) status.updatedReplicas = counts.updated;
  const stsReplicas = leaderSts.status?.replicas ?? 0;
  if (stsReplicas !== 0) status.replicas = stsReplicas;
  const selector = old.hpaPodSelector !== undefined && old.hpaPodSelector !== ""
    ? old.hpaPodSelector
    : hpaPodSelector(lws.metadata.name ?? "");
  status.hpaPodSelector = selector;
  if (generation !== 0) status.observedGeneration = generation;

  const fieldsChanged = (old.readyReplicas ?? 0) !== counts.ready ||
    (old.updatedReplicas ?? 0) !== counts.updated ||
    (old.replicas ?? 0) !== stsReplicas ||
    (old.observedGeneration ?? 0) !== generation ||
    (old.hpaPodSelector ?? "") !== selector;

  const result: ComputedStatus = {
    status,
    changed: fieldsChanged || conditionsChanged,
    updateDone: p === 0 && counts.readyUpdatedInRange === n,
  };
  if (conditionsChanged) {
    const first = CONDITION_TEXT[types[0]!];
    result.event = {
      type: EVENT_TYPE_NORMAL,
      reason: first.reason,
      action: EVENT_ACTION_UPDATE,
      note: `${first.message}, with ${counts.ready} groups ready of total ${n} groups`,
    };
  }
  return result;
}
