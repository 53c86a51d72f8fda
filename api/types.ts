/**
 * TypeScript shapes of the `leaderworkerset.x-k8s.io/v1` API (spec §1.4, §1.5): plain JSON, types only.
 *
 * Optional fields mirror the wire: a field that the CRD defaults (e.g. `replicas`) is still optional here, because
 * objects built in code or read before admission may lack it. After the API server's CRD defaulting and the
 * mutating webhook (`api/defaults.ts`) the documented defaults are present.
 *
 * @module
 */
import type { Condition, ListMeta, ObjectMeta } from "kubernetes-types/meta/v1.d.ts";
import type { PersistentVolumeClaim, PodTemplateSpec } from "kubernetes-types/core/v1.d.ts";

/** An int-or-string value (`x-kubernetes-int-or-string`): an integer such as `1` or a percent such as `"50%"`. */
export type IntOrString = number | string;

/**
 * What happens to a group when one of its pods restarts (`spec.leaderWorkerTemplate.restartPolicy`).
 * `Default` is deprecated: the mutating webhook rewrites it to `None`.
 */
export type RestartPolicyType = "Default" | "RecreateGroupOnPodRestart" | "RecreateGroupAfterStart" | "None";

/** How subgroups are formed: with the leader in subgroup 0 (`LeaderWorker`) or without it (`LeaderExcluded`). */
export type SubGroupPolicyType = "LeaderWorker" | "LeaderExcluded";

/** The only rollout strategy upstream supports. */
export type RolloutStrategyType = "RollingUpdate";

/** When worker pods are created: right after the leader pod (`LeaderCreated`) or once it is ready (`LeaderReady`). */
export type StartupPolicyType = "LeaderCreated" | "LeaderReady";

/** One shared headless service (`Shared`) or one headless service per group (`UniquePerReplica`). */
export type SubdomainPolicy = "Shared" | "UniquePerReplica";

/** Condition types of `status.conditions` (spec §7.10). */
export type LeaderWorkerSetConditionType = "Available" | "Progressing" | "UpdateInProgress";

/** Subgroup settings of a group (`spec.leaderWorkerTemplate.subGroupPolicy`). */
export interface SubGroupPolicy {
  /** How the leader takes part in subgroups; CRD default `LeaderWorker`. */
  subGroupPolicyType?: SubGroupPolicyType;
  /** Pods per subgroup; the webhook requires it (≥ 1) when `subGroupPolicy` is present; immutable once set. */
  subGroupSize?: number;
}

/**
 * PVC retention of the StatefulSets (`apps/v1` StatefulSetPersistentVolumeClaimRetentionPolicy). The CRD has no enum;
 * the StatefulSet API accepts `Retain` or `Delete` and defaults empty strings to `Retain`.
 */
export interface PersistentVolumeClaimRetentionPolicy {
  /** What happens to PVCs when the StatefulSet is deleted. */
  whenDeleted?: string;
  /** What happens to PVCs when the StatefulSet is scaled down. */
  whenScaled?: string;
}

/** The template of one group: leader and worker pod templates and their count (`spec.leaderWorkerTemplate`). */
export interface LeaderWorkerTemplate {
  /** Template of the leader pod; when absent, leaders use `workerTemplate`. */
  leaderTemplate?: PodTemplateSpec;
  /** Template of the worker pods (and of the leader when `leaderTemplate` is absent). Required. */
  workerTemplate: PodTemplateSpec;
  /** Pods per group including the leader; CRD default 1; webhook requires ≥ 1; mutable (rolls the groups). */
  size?: number;
  /** Group restart behaviour; CRD default `RecreateGroupOnPodRestart`. */
  restartPolicy?: RestartPolicyType;
  /** Subgroup settings; absent means no subgrouping. */
  subGroupPolicy?: SubGroupPolicy;
  /** Volume claim templates given to the leader and worker StatefulSets (since v0.8.0). */
  volumeClaimTemplates?: PersistentVolumeClaim[];
  /** PVC retention policy given to the leader and worker StatefulSets (since v0.8.0). */
  persistentVolumeClaimRetentionPolicy?: PersistentVolumeClaimRetentionPolicy;
}

/** Parameters of a rolling update (`spec.rolloutStrategy.rollingUpdateConfiguration`). */
export interface RollingUpdateConfiguration {
  /** Groups with an index below the partition stay on the old revision; CRD default 0; webhook requires ≥ 0. */
  partition?: number;
  /** Groups that may be unavailable during the update (integer or percent of replicas, rounded down); default 1. */
  maxUnavailable?: IntOrString;
  /** Extra groups that may be created during the update (integer or percent of replicas, rounded up); default 0. */
  maxSurge?: IntOrString;
}

/** How groups are replaced when the template changes (`spec.rolloutStrategy`). */
export interface RolloutStrategy {
  /** Strategy type; required in the CRD schema when `rolloutStrategy` is present; default `RollingUpdate`. */
  type?: RolloutStrategyType;
  /** Rolling-update parameters; the webhook sets `{maxUnavailable: 1, maxSurge: 0, partition: 0}` when absent. */
  rollingUpdateConfiguration?: RollingUpdateConfiguration;
}

/** Network settings of the groups (`spec.networkConfig`). */
export interface NetworkConfig {
  /** Headless-service layout; required in the CRD schema; the webhook defaults it to `Shared`. */
  subdomainPolicy?: SubdomainPolicy;
}

/** Desired state of a LeaderWorkerSet (`spec`). */
export interface LeaderWorkerSetSpec {
  /** Number of groups; CRD default 1; range 0–1000000; target of the scale subresource. */
  replicas?: number;
  /** Template of one group. Required. */
  leaderWorkerTemplate: LeaderWorkerTemplate;
  /** Rollout settings; defaulted by the CRD and the mutating webhook. */
  rolloutStrategy?: RolloutStrategy;
  /** When workers start relative to their leader; CRD default `LeaderCreated`. */
  startupPolicy?: StartupPolicyType;
  /** Network settings; the webhook defaults it to `{subdomainPolicy: Shared}`. */
  networkConfig?: NetworkConfig;
}

/**
 * Observed state of a LeaderWorkerSet (`status`). All integers are `omitempty` on the wire: 0 is written as absent.
 */
export interface LeaderWorkerSetStatus {
  /** Standard conditions, a map keyed by `type` (`Available`, `Progressing`, `UpdateInProgress`). */
  conditions?: Condition[];
  /** Number of ready groups, surge groups included. */
  readyReplicas?: number;
  /** Number of groups on the current revision, surge groups included. */
  updatedReplicas?: number;
  /** Copied from the leader StatefulSet's `status.replicas`. */
  replicas?: number;
  /** Label selector string for leader pods, used by the scale subresource (HPA). */
  hpaPodSelector?: string;
  /** The `metadata.generation` this status was computed for (since v0.9.0). */
  observedGeneration?: number;
}

/**
 * A LeaderWorkerSet object (`leaderworkerset.x-k8s.io/v1`, kind `LeaderWorkerSet`).
 *
 * `spec` is optional in the CRD schema, but every object that passed admission has one (validation rejects a
 * missing spec because its size would be 0), so the type requires it. Code that handles unchecked input
 * (webhooks) must not rely on it; `validateLeaderWorkerSetCreate` accepts any shape.
 */
export interface LeaderWorkerSet {
  /** `leaderworkerset.x-k8s.io/v1`. */
  apiVersion?: string;
  /** `LeaderWorkerSet`. */
  kind?: string;
  /** Standard object metadata. */
  metadata: ObjectMeta;
  /** Desired state. */
  spec: LeaderWorkerSetSpec;
  /** Observed state, written by the controller through the status subresource. */
  status?: LeaderWorkerSetStatus;
}

/** A list of LeaderWorkerSets (kind `LeaderWorkerSetList`). */
export interface LeaderWorkerSetList {
  /** `leaderworkerset.x-k8s.io/v1`. */
  apiVersion?: string;
  /** `LeaderWorkerSetList`. */
  kind?: string;
  /** Standard list metadata. */
  metadata?: ListMeta;
  /** The LeaderWorkerSets. */
  items: LeaderWorkerSet[];
}

/**
 * Metadata plus spec of a LeaderWorkerSet, for embedding in other APIs (spec §1.7; not served as a resource).
 */
export interface LeaderWorkerSetTemplateSpec {
  /** Metadata of the LeaderWorkerSet to create. */
  metadata?: ObjectMeta;
  /** Spec of the LeaderWorkerSet to create. */
  spec?: LeaderWorkerSetSpec;
}
