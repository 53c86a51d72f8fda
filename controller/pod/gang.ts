/**
 * Gang scheduling (spec §10, issue #10): one PodGroup per group and revision, named by the leader pod's
 * `scheduling.k8s.io/group-name` annotation (`<lws>-<g>-<revision key>`, set by the pod webhook on every LWS pod),
 * owned by the leader pod (so it is garbage-collected with the group, and a rolling update or resize, which
 * recreates leaders with a new revision key, produces new PodGroups), created once and never updated.
 *
 * Two providers, chosen by `gangSchedulingManagement.schedulerProvider`:
 * - `volcano`: a `scheduling.volcano.sh/v1beta1` PodGroup exactly as upstream (spec §10's table); the pods must also
 *   name `schedulerName: volcano`.
 * - `workload`: a `scheduling.k8s.io/v1beta1` PodGroup of the Kubernetes Workload API (Kubernetes ≥ 1.37, feature
 *   gate `GenericWorkload`, `--runtime-config=scheduling.k8s.io/v1beta1=true`) with a gang policy; the pod webhook
 *   also sets `spec.schedulingGroup.podGroupName` on every pod of the group, and the default kube-scheduler places
 *   the group all-or-nothing. No Workload object is created: standalone PodGroups (`spec.workloadRef` unset) are
 *   what the API offers for controllers that manage their own groups.
 *
 * Pure: every result is a new object.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";
import {
  ANNOTATION_SCHEDULING_GROUP_NAME,
  ANNOTATION_VOLCANO_QUEUE_NAME,
  LABEL_GROUP_INDEX,
  LABEL_NAME,
  LABEL_TEMPLATE_REVISION_HASH,
  VOLCANO_ANNOTATION_PREFIX,
} from "../../api/constants.ts";
import { addTimes, podRequests, type PodSpecWithResources, toResourceList } from "../../api/pod_requests.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { apiVersionOf, SCHEDULING_POD_GROUPS, VOLCANO_POD_GROUPS } from "../../kube/resources.ts";
import type { KubeObject, ResourceType } from "../../kube/types.ts";
import { groupSize } from "../leaderworkerset/desired.ts";
import { podOwnerReference } from "./desired.ts";

/** `gangSchedulingManagement.schedulerProvider` of upstream's Volcano integration. */
export const PROVIDER_VOLCANO = "volcano";
/** `gangSchedulingManagement.schedulerProvider` of the Kubernetes Workload API (default kube-scheduler). */
export const PROVIDER_WORKLOAD = "workload";
/** Every supported provider. */
export type SchedulerProviderName = typeof PROVIDER_VOLCANO | typeof PROVIDER_WORKLOAD;

/** A gang-scheduling provider: which PodGroup resource to create and how to build it. */
export interface GangProvider {
  /** The configured name. */
  readonly name: SchedulerProviderName;
  /** The PodGroup resource. */
  readonly resource: ResourceType;
  /** What the user must do when {@linkcode GangProvider.resource} is not served (ends the not-served message). */
  readonly notServedHint: string;
  /**
   * The PodGroup of a leader pod's group.
   *
   * @param leaderPod The leader pod (carries the group-name annotation, group-index and revision labels, UID).
   * @param lws The live LeaderWorkerSet.
   * @returns A new object, ready to `create`.
   */
  desired(leaderPod: Pod, lws: LeaderWorkerSet): KubeObject;
}

/** The Volcano PodGroup (the fields of volcano.sh/apis v1beta1 that LWS sets). */
export interface VolcanoPodGroup extends KubeObject {
  metadata: ObjectMeta;
  spec: { minMember: number; minResources: Record<string, string>; queue?: string };
}

/** The Kubernetes Workload API PodGroup (the fields of scheduling.k8s.io/v1beta1 that LWS sets). */
export interface SchedulingPodGroup extends KubeObject {
  metadata: ObjectMeta;
  spec: { schedulingPolicy: { gang: { minCount: number } } };
}

/**
 * Name of a leader's PodGroup: its `scheduling.k8s.io/group-name` annotation (spec §10).
 *
 * @param leaderPod The leader pod.
 * @returns The name, or `undefined` when the annotation is missing or empty (the pod was created before gang
 *   scheduling was configured; upstream then looks up and creates a PodGroup named `""`, which fails — we skip it).
 */
export function podGroupNameOf(leaderPod: Pod): string | undefined {
  return leaderPod.metadata?.annotations?.[ANNOTATION_SCHEDULING_GROUP_NAME] || undefined;
}

/**
 * `minMember` / `minCount` of a group: the live size, or 1 with `startupPolicy: LeaderReady` (the workers are
 * only created once the leader runs, so a gang of the whole group could never form).
 *
 * @param lws The live LeaderWorkerSet.
 * @returns The minimum number of pods.
 */
export function gangMinMember(lws: LeaderWorkerSet): number {
  return lws.spec.startupPolicy === "LeaderReady" ? 1 : groupSize(lws);
}

/**
 * `minResources` of a group (spec §10): `podRequests(leader template, or worker template without one) +
 * (S − 1) × podRequests(worker template)`, from the live LWS, exactly.
 *
 * @param lws The live LeaderWorkerSet.
 * @returns A new `ResourceList` (canonical quantities, keys sorted); `{}` when nothing is requested.
 */
export function gangMinResources(lws: LeaderWorkerSet): Record<string, string> {
  const lwt = lws.spec.leaderWorkerTemplate;
  const worker = podRequests(lwt.workerTemplate?.spec as PodSpecWithResources | undefined);
  const leader = lwt.leaderTemplate ? podRequests(lwt.leaderTemplate.spec as PodSpecWithResources | undefined) : worker;
  return toResourceList(addTimes(leader, worker, groupSize(lws) - 1));
}

function podGroupMetadata(leaderPod: Pod, lws: LeaderWorkerSet): ObjectMeta {
  const labels = leaderPod.metadata?.labels ?? {};
  return {
    name: podGroupNameOf(leaderPod) ?? "",
    namespace: leaderPod.metadata?.namespace ?? lws.metadata.namespace ?? "",
    labels: {
      [LABEL_NAME]: lws.metadata.name ?? "",
      [LABEL_GROUP_INDEX]: labels[LABEL_GROUP_INDEX] ?? "",
      [LABEL_TEMPLATE_REVISION_HASH]: labels[LABEL_TEMPLATE_REVISION_HASH] ?? "",
    },
    ownerReferences: [podOwnerReference(leaderPod)],
  };
}

/**
 * The Volcano PodGroup of a leader's group (spec §10's table): labels `name`, `group-index`,
 * `template-revision-hash`; the LWS annotations starting with `volcano.sh/` (none: no `annotations`); controller
 * reference to the leader pod; `minMember` ({@linkcode gangMinMember}), `minResources`
 * ({@linkcode gangMinResources}), `queue` from the LWS annotation `scheduling.volcano.sh/queue-name` when present.
 *
 * @param leaderPod The leader pod.
 * @param lws The live LeaderWorkerSet.
 * @returns A new PodGroup.
 */
export function desiredVolcanoPodGroup(leaderPod: Pod, lws: LeaderWorkerSet): VolcanoPodGroup {
  const metadata = podGroupMetadata(leaderPod, lws);
  const lwsAnnotations = lws.metadata.annotations ?? {};
  const inherited = Object.entries(lwsAnnotations).filter(([k]) => k.startsWith(VOLCANO_ANNOTATION_PREFIX));
  if (inherited.length > 0) metadata.annotations = Object.fromEntries(inherited);
  const spec: VolcanoPodGroup["spec"] = { minMember: gangMinMember(lws), minResources: gangMinResources(lws) };
  const queue = lwsAnnotations[ANNOTATION_VOLCANO_QUEUE_NAME];
  if (queue !== undefined) spec.queue = queue;
  return { apiVersion: apiVersionOf(VOLCANO_POD_GROUPS), kind: VOLCANO_POD_GROUPS.kind, metadata, spec };
}

/**
 * The Kubernetes Workload API PodGroup of a leader's group: same name, namespace, labels and owner as the Volcano
 * one; `spec.schedulingPolicy.gang.minCount` = {@linkcode gangMinMember}. The kube-scheduler keeps every pod of
 * the group out of scheduling until `minCount` pods referencing it exist, then binds them all or none.
 *
 * @param leaderPod The leader pod.
 * @param lws The live LeaderWorkerSet.
 * @returns A new PodGroup.
 */
export function desiredSchedulingPodGroup(leaderPod: Pod, lws: LeaderWorkerSet): SchedulingPodGroup {
  return {
    apiVersion: apiVersionOf(SCHEDULING_POD_GROUPS),
    kind: SCHEDULING_POD_GROUPS.kind,
    metadata: podGroupMetadata(leaderPod, lws),
    spec: { schedulingPolicy: { gang: { minCount: gangMinMember(lws) } } },
  };
}

const PROVIDERS: Record<SchedulerProviderName, GangProvider> = {
  [PROVIDER_VOLCANO]: {
    name: PROVIDER_VOLCANO,
    resource: VOLCANO_POD_GROUPS,
    notServedHint: "install Volcano (its PodGroup CRD podgroups.scheduling.volcano.sh)",
    desired: desiredVolcanoPodGroup,
  },
  [PROVIDER_WORKLOAD]: {
    name: PROVIDER_WORKLOAD,
    resource: SCHEDULING_POD_GROUPS,
    notServedHint: "it needs Kubernetes ≥ 1.37 with the feature gate GenericWorkload=true on kube-apiserver and " +
      "kube-scheduler and --runtime-config=scheduling.k8s.io/v1beta1=true on kube-apiserver",
    desired: desiredSchedulingPodGroup,
  },
};

/** Every supported `schedulerProvider` value. */
export const SCHEDULER_PROVIDER_NAMES: readonly SchedulerProviderName[] = [PROVIDER_VOLCANO, PROVIDER_WORKLOAD];

/**
 * The provider of a configured name.
 *
 * @param name `gangSchedulingManagement.schedulerProvider`.
 * @returns The provider, or `undefined` for an unknown name (configuration validation rejects those).
 */
export function gangProvider(name: string | undefined): GangProvider | undefined {
  return name !== undefined && Object.hasOwn(PROVIDERS, name) ? PROVIDERS[name as SchedulerProviderName] : undefined;
}

/**
 * The message of the Warning event (and reconcile error) when a provider's PodGroup resource is not served.
 *
 * @param provider The provider.
 * @param podGroupName The PodGroup that could not be created.
 * @returns `Cannot create PodGroup <name>: scheduling.k8s.io/v1beta1 podgroups is not served by the API server; …`.
 */
export function podGroupNotServedMessage(provider: GangProvider, podGroupName: string): string {
  return `Cannot create PodGroup ${podGroupName}: ${apiVersionOf(provider.resource)} ${provider.resource.plural} ` +
    `is not served by the API server (gang scheduling provider ${provider.name}); ${provider.notServedHint}`;
}
