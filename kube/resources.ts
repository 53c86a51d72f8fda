/**
 * Descriptors of every resource the product reads or writes.
 *
 * @module
 */
import type { ResourceType } from "./types.ts";

/** LeaderWorkerSet (leaderworkerset.x-k8s.io/v1). */
export const LEADER_WORKER_SETS: ResourceType = {
  group: "leaderworkerset.x-k8s.io",
  version: "v1",
  kind: "LeaderWorkerSet",
  plural: "leaderworkersets",
  namespaced: true,
};
/** core/v1 Pod. */
export const PODS: ResourceType = { group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true };
/** core/v1 Service. */
export const SERVICES: ResourceType = {
  group: "",
  version: "v1",
  kind: "Service",
  plural: "services",
  namespaced: true,
};
/** core/v1 Node. */
export const NODES: ResourceType = { group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false };
/** core/v1 Secret. */
export const SECRETS: ResourceType = { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true };
/** core/v1 ConfigMap. */
export const CONFIG_MAPS: ResourceType = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
};
/** core/v1 Namespace. */
export const NAMESPACES: ResourceType = {
  group: "",
  version: "v1",
  kind: "Namespace",
  plural: "namespaces",
  namespaced: false,
};
/** apps/v1 StatefulSet. */
export const STATEFUL_SETS: ResourceType = {
  group: "apps",
  version: "v1",
  kind: "StatefulSet",
  plural: "statefulsets",
  namespaced: true,
};
/** apps/v1 ControllerRevision. */
export const CONTROLLER_REVISIONS: ResourceType = {
  group: "apps",
  version: "v1",
  kind: "ControllerRevision",
  plural: "controllerrevisions",
  namespaced: true,
};
/** coordination.k8s.io/v1 Lease. */
export const LEASES: ResourceType = {
  group: "coordination.k8s.io",
  version: "v1",
  kind: "Lease",
  plural: "leases",
  namespaced: true,
};
/** events.k8s.io/v1 Event. */
export const EVENTS: ResourceType = {
  group: "events.k8s.io",
  version: "v1",
  kind: "Event",
  plural: "events",
  namespaced: true,
};
/** admissionregistration.k8s.io/v1 MutatingWebhookConfiguration. */
export const MUTATING_WEBHOOK_CONFIGURATIONS: ResourceType = {
  group: "admissionregistration.k8s.io",
  version: "v1",
  kind: "MutatingWebhookConfiguration",
  plural: "mutatingwebhookconfigurations",
  namespaced: false,
};
/** admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration. */
export const VALIDATING_WEBHOOK_CONFIGURATIONS: ResourceType = {
  group: "admissionregistration.k8s.io",
  version: "v1",
  kind: "ValidatingWebhookConfiguration",
  plural: "validatingwebhookconfigurations",
  namespaced: false,
};
/** apiextensions.k8s.io/v1 CustomResourceDefinition. */
export const CUSTOM_RESOURCE_DEFINITIONS: ResourceType = {
  group: "apiextensions.k8s.io",
  version: "v1",
  kind: "CustomResourceDefinition",
  plural: "customresourcedefinitions",
  namespaced: false,
};
/** scheduling.volcano.sh/v1beta1 PodGroup (gang scheduling only). */
export const VOLCANO_POD_GROUPS: ResourceType = {
  group: "scheduling.volcano.sh",
  version: "v1beta1",
  kind: "PodGroup",
  plural: "podgroups",
  namespaced: true,
};
/**
 * scheduling.k8s.io/v1beta1 PodGroup of the Kubernetes Workload API (Kubernetes ≥ 1.37 with the `GenericWorkload`
 * feature gate and `--runtime-config=scheduling.k8s.io/v1beta1=true`; the `workload` gang-scheduling provider).
 */
export const SCHEDULING_POD_GROUPS: ResourceType = {
  group: "scheduling.k8s.io",
  version: "v1beta1",
  kind: "PodGroup",
  plural: "podgroups",
  namespaced: true,
};

/** `apiVersion` of a resource type: `v1` for the core group, `<group>/<version>` otherwise. */
export function apiVersionOf(type: ResourceType): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}
