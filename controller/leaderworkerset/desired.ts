/**
 * Desired objects of the LeaderWorkerSet controller (spec §6.3, §6.3.1, §6.5): the leader StatefulSet apply
 * configuration and the shared headless Service. Pure: objects in, objects out; every result is a new object that
 * shares nothing with its inputs.
 *
 * Also the small pieces the pod controller's desired objects share with these (owner references, reduced volume
 * claim templates, PVC retention policy, the planned-event shape).
 *
 * @module
 */
import type { StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy } from "kubernetes-types/apps/v1.d.ts";
import type { PersistentVolumeClaim, PodTemplateSpec, Service } from "kubernetes-types/core/v1.d.ts";
import type { OwnerReference } from "kubernetes-types/meta/v1.d.ts";
import {
  ANNOTATION_EXCLUSIVE_TOPOLOGY,
  ANNOTATION_REPLICAS,
  ANNOTATION_SIZE,
  ANNOTATION_SUBDOMAIN_POLICY,
  ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY,
  ANNOTATION_SUBGROUP_POLICY_TYPE,
  ANNOTATION_SUBGROUP_SIZE,
  API_VERSION,
  KIND,
  LABEL_NAME,
  LABEL_TEMPLATE_REVISION_HASH,
  LABEL_WORKER_INDEX,
} from "../../api/constants.ts";
import { leaderStatefulSetName, sharedServiceName } from "../../api/naming.ts";
import type { LeaderWorkerSet, LeaderWorkerTemplate } from "../../api/types.ts";
import { rolloutBudget } from "./rolling_update.ts";

/**
 * An event a pure function asks the reconciler to record. Structurally an `EventInput` of `kube/events.ts` without
 * the optional `related` object, which the reconciler adds when the spec names one (spec §7.11).
 */
export interface PlannedEvent {
  /** `Normal` or `Warning`. */
  type: "Normal" | "Warning";
  /** Event reason, e.g. `GroupsProgressing`. */
  reason: string;
  /** Event action: `Create`, `Update` or `Delete`. */
  action: string;
  /** Exact note text (spec §7.11). */
  note: string;
}

/** Options of {@linkcode desiredLeaderStatefulSet}. */
export interface LeaderStatefulSetOptions {
  /** Key of the current revision (spec §5.4.4): the `template-revision-hash` label of the sts and its template. */
  revisionKey: string;
  /** `spec.updateStrategy.rollingUpdate.partition`, from `rollingUpdateParameters` (spec §7.4). */
  partition: number;
  /** `spec.replicas`, from `rollingUpdateParameters` (spec §7.4). */
  replicas: number;
}

/**
 * Group size `S` of an LWS, with the CRD default (1) for an object that was never defaulted.
 *
 * @param lws The LeaderWorkerSet (live or revision-applied).
 * @returns `spec.leaderWorkerTemplate.size`.
 */
export function groupSize(lws: LeaderWorkerSet): number {
  return lws.spec.leaderWorkerTemplate.size ?? 1;
}

/**
 * Controller owner reference to a LeaderWorkerSet (spec §6.1): `controller` and `blockOwnerDeletion` are true.
 *
 * @param lws The owner.
 * @returns A new owner reference.
 */
export function lwsOwnerReference(lws: LeaderWorkerSet): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: lws.metadata.name ?? "",
    uid: lws.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * The volume claim templates of a StatefulSet built from `template` (spec §6.3.1): for each entry only the name, the
 * given namespace, `accessModes`, `storageClassName` / `volumeMode` when set, and `resources.requests` / `limits`
 * when set. Like upstream's `PersistentVolumeClaim(name, ns)` apply configuration, each entry carries
 * `apiVersion: v1` and `kind: PersistentVolumeClaim`.
 *
 * @param template The (live or revision-applied) leader/worker template.
 * @param namespace The namespace of the StatefulSet.
 * @returns A new list, or `undefined` when the template has no (or an empty list of) volume claim templates.
 */
export function reducedVolumeClaimTemplates(
  template: LeaderWorkerTemplate,
  namespace: string,
): PersistentVolumeClaim[] | undefined {
  const claims = template.volumeClaimTemplates;
  if (claims === undefined || claims.length === 0) return undefined;
  return claims.map((claim) => {
    const spec: NonNullable<PersistentVolumeClaim["spec"]> = {};
    const source = claim.spec ?? {};
    if (source.accessModes !== undefined && source.accessModes.length > 0) spec.accessModes = [...source.accessModes];
    if (source.storageClassName !== undefined) spec.storageClassName = source.storageClassName;
    if (source.volumeMode !== undefined) spec.volumeMode = source.volumeMode;
    const { requests, limits } = source.resources ?? {};
    if (requests !== undefined || limits !== undefined) {
      spec.resources = {};
      if (requests !== undefined) spec.resources.requests = { ...requests };
      if (limits !== undefined) spec.resources.limits = { ...limits };
    }
    return {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: claim.metadata?.name ?? "", namespace },
      spec,
    };
  });
}

/**
 * The PVC retention policy of a StatefulSet built from `template` (spec §6.3): both fields copied, an absent one
 * sent as `""` (Go's zero value; StatefulSet defaulting turns it into `Retain`).
 *
 * @param template The (live or revision-applied) leader/worker template.
 * @returns A new policy, or `undefined` when the template has none.
 */
export function retentionPolicy(
  template: LeaderWorkerTemplate,
): StatefulSetPersistentVolumeClaimRetentionPolicy | undefined {
  const policy = template.persistentVolumeClaimRetentionPolicy;
  if (policy === undefined) return undefined;
  return { whenDeleted: policy.whenDeleted ?? "", whenScaled: policy.whenScaled ?? "" };
}

/**
 * Deep copy of a pod template with `labels` and `annotations` merged in (the given keys win on conflict), like the
 * apply configuration's `WithLabels` / `WithAnnotations`.
 *
 * @param template The user's pod template.
 * @param additions Labels and annotations to add.
 * @returns A new pod template.
 */
export function templateWith(
  template: PodTemplateSpec,
  additions: { labels: Record<string, string>; annotations: Record<string, string> },
): PodTemplateSpec {
  const { labels, annotations } = additions;
  const copy = structuredClone(template);
  const metadata = copy.metadata ?? {};
  metadata.labels = { ...metadata.labels, ...labels };
  metadata.annotations = { ...metadata.annotations, ...annotations };
  copy.metadata = metadata;
  return copy;
}

/**
 * The leader StatefulSet apply configuration (spec §6.3), to be server-side applied with field manager `lws` and
 * `force`. Built from the *live* LWS (templates, size, subgroup policy, network config, volume claims), labelled
 * with the current revision key.
 *
 * - labels: the LWS labels, overridden by `name` and `template-revision-hash`;
 * - annotations: the LWS annotations, overridden by `replicas: "<N>"`;
 * - `serviceName` `<lws>` (also for `UniquePerReplica`), `podManagementPolicy: Parallel`, selector
 *   `{name, worker-index: "0"}`;
 * - `updateStrategy`: the LWS rollout type, `rollingUpdate.partition` as given and `maxUnavailable`
 *   `max(1, mu + ms)` (mu rounded down, ms rounded up and capped at N);
 * - template: `leaderTemplate` (or `workerTemplate`) plus the LWS labels/annotations of spec §6.3;
 * - reduced volume claim templates and the retention policy when set.
 *
 * @param lws The live, defaulted LeaderWorkerSet.
 * @param options Revision key, partition and replicas.
 * @returns A new StatefulSet object.
 * @throws {Error} When maxUnavailable/maxSurge cannot be scaled (validation prevents it).
 * @example
 * const sts = desiredLeaderStatefulSet(lws, { revisionKey, partition: 0, replicas: 2 });
 */
export function desiredLeaderStatefulSet(lws: LeaderWorkerSet, options: LeaderStatefulSetOptions): StatefulSet {
  const name = lws.metadata.name ?? "";
  const namespace = lws.metadata.namespace ?? "";
  const lwt = lws.spec.leaderWorkerTemplate;
  const budget = rolloutBudget(lws);
  const lwsAnnotations = lws.metadata.annotations ?? {};

  const podAnnotations: Record<string, string> = { [ANNOTATION_SIZE]: String(groupSize(lws)) };
  const exclusive = lwsAnnotations[ANNOTATION_EXCLUSIVE_TOPOLOGY];
  if (exclusive !== undefined && exclusive !== "") podAnnotations[ANNOTATION_EXCLUSIVE_TOPOLOGY] = exclusive;
  const subGroupPolicy = lwt.subGroupPolicy;
  if (subGroupPolicy !== undefined) {
    // Upstream dereferences the type here; the CRD defaults it to LeaderWorker.
    podAnnotations[ANNOTATION_SUBGROUP_POLICY_TYPE] = subGroupPolicy.subGroupPolicyType ?? "LeaderWorker";
    if (subGroupPolicy.subGroupSize !== undefined) {
      podAnnotations[ANNOTATION_SUBGROUP_SIZE] = String(subGroupPolicy.subGroupSize);
    }
    const subExclusive = lwsAnnotations[ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY];
    if (subExclusive !== undefined && subExclusive !== "") {
      podAnnotations[ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY] = subExclusive;
    }
  }
  if (lws.spec.networkConfig?.subdomainPolicy === "UniquePerReplica") {
    podAnnotations[ANNOTATION_SUBDOMAIN_POLICY] = "UniquePerReplica";
  }
  const template = templateWith(lwt.leaderTemplate ?? lwt.workerTemplate, {
    labels: { [LABEL_WORKER_INDEX]: "0", [LABEL_NAME]: name, [LABEL_TEMPLATE_REVISION_HASH]: options.revisionKey },
    annotations: podAnnotations,
  });

  const sts: StatefulSet = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: {
      name: leaderStatefulSetName(name),
      namespace,
      labels: { ...lws.metadata.labels, [LABEL_NAME]: name, [LABEL_TEMPLATE_REVISION_HASH]: options.revisionKey },
      annotations: { ...lwsAnnotations, [ANNOTATION_REPLICAS]: String(budget.replicas) },
      ownerReferences: [lwsOwnerReference(lws)],
    },
    spec: {
      serviceName: name,
      replicas: options.replicas,
      podManagementPolicy: "Parallel",
      selector: { matchLabels: { [LABEL_NAME]: name, [LABEL_WORKER_INDEX]: "0" } },
      updateStrategy: {
        type: lws.spec.rolloutStrategy?.type ?? "RollingUpdate",
        rollingUpdate: {
          partition: options.partition,
          maxUnavailable: Math.max(1, budget.maxUnavailable + budget.maxSurge),
        },
      },
      template,
    },
  };
  const claims = reducedVolumeClaimTemplates(lwt, namespace);
  if (claims !== undefined) sts.spec!.volumeClaimTemplates = claims;
  const retention = retentionPolicy(lwt);
  if (retention !== undefined) sts.spec!.persistentVolumeClaimRetentionPolicy = retention;
  return sts;
}

/**
 * The shared headless Service `<lws>` (spec §6.5), created by the LWS controller when the live
 * `networkConfig` is absent or `Shared`, only if no Service of that name exists; never updated.
 *
 * @param lws The live LeaderWorkerSet (its owner).
 * @returns A new Service: label and selector `{name: <lws>}`, `clusterIP: None`, `publishNotReadyAddresses: true`,
 *   no ports, controller reference to the LWS.
 */
export function desiredSharedService(lws: LeaderWorkerSet): Service {
  const name = lws.metadata.name ?? "";
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: sharedServiceName(name),
      namespace: lws.metadata.namespace ?? "",
      labels: { [LABEL_NAME]: name },
      ownerReferences: [lwsOwnerReference(lws)],
    },
    spec: {
      clusterIP: "None",
      selector: { [LABEL_NAME]: name },
      publishNotReadyAddresses: true,
    },
  };
}

/**
 * Whether the live LWS wants the shared headless Service (spec §7.2 step 9): `networkConfig` absent or `Shared`.
 *
 * @param lws The live LeaderWorkerSet.
 * @returns `true` when the reconciler should create {@linkcode desiredSharedService} if missing.
 */
export function wantsSharedService(lws: LeaderWorkerSet): boolean {
  const policy = lws.spec.networkConfig?.subdomainPolicy;
  return policy === undefined || policy === "Shared";
}
