/**
 * The pod admission webhooks (spec §9): the mutating one gives every leader and worker pod its labels, subdomain,
 * exclusive placement terms, gang-scheduling annotation and env vars; the validating one admits everything.
 *
 * Pure: everything is derived from the pod's own labels, annotations and name (no cluster reads).
 *
 * @module
 */
import type { Affinity, EnvVar, Pod, PodAffinityTerm } from "kubernetes-types/core/v1.d.ts";
import {
  ANNOTATION_EXCLUSIVE_TOPOLOGY,
  ANNOTATION_LEADER_NAME,
  ANNOTATION_SCHEDULING_GROUP_NAME,
  ANNOTATION_SIZE,
  ANNOTATION_SUBDOMAIN_POLICY,
  ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY,
  ANNOTATION_SUBGROUP_POLICY_TYPE,
  ANNOTATION_SUBGROUP_SIZE,
  ENV_LWS_GROUP_SIZE,
  ENV_LWS_LEADER_ADDRESS,
  ENV_LWS_WORKER_INDEX,
  LABEL_GROUP_INDEX,
  LABEL_GROUP_KEY,
  LABEL_NAME,
  LABEL_SUBGROUP_INDEX,
  LABEL_SUBGROUP_KEY,
  LABEL_TEMPLATE_REVISION_HASH,
  LABEL_WORKER_INDEX,
} from "../api/constants.ts";
import { goAtoi } from "../api/go_strconv.ts";
import { groupKey, parseParentAndOrdinal, podGroupName, subGroupIndex, subGroupKey } from "../api/naming.ts";
import { type AdmissionHandler, allowed, denied, errored, patched } from "./admission.ts";
import { addTpuVariables } from "./tpu.ts";
import { allContainers, podRef } from "./_pod_util.ts";

/** Options of the pod mutating webhook. */
export interface PodWebhookOptions {
  /**
   * Gang scheduling is configured (`gangSchedulingManagement.schedulerProvider`, e.g. `volcano`): every LWS pod
   * gets the `scheduling.k8s.io/group-name` annotation (spec §10). Default off.
   */
  gangScheduling?: boolean;
  /**
   * The gang-scheduling provider is the Kubernetes Workload API (`schedulerProvider: workload`): every LWS pod also
   * gets `spec.schedulingGroup.podGroupName` = that same PodGroup name, so the kube-scheduler schedules the group as
   * one gang. Set at creation because the field is immutable. Only with `gangScheduling`. Default off.
   */
  schedulingGroup?: boolean;
}

/** Result of {@linkcode mutatePod}: the mutated copy, or the message that denies the pod. */
export type PodMutationResult = { pod: Pod } | { error: string };

type StringMap = Record<string, string>;

/**
 * Applies the pod mutation of spec §9.2 to an LWS pod (one carrying the `leaderworkerset.sigs.k8s.io/name` label).
 *
 * @param pod The pod of a CREATE request. Not mutated.
 * @param options `namespace` of the request (used when the object has none), and {@linkcode PodWebhookOptions}.
 * @returns A mutated deep copy, or an error message (the webhook denies the pod with it).
 * @example
 * const result = mutatePod(pod, { namespace: "default" });
 * if ("error" in result) deny(result.error);
 */
export function mutatePod(pod: Pod, options: PodWebhookOptions & { namespace?: string } = {}): PodMutationResult {
  const copy = structuredClone(pod);
  const metadata = copy.metadata ??= {};
  const labels: StringMap = metadata.labels ??= {};
  const annotations: StringMap = metadata.annotations ?? {};
  const name = metadata.name ?? "";
  const namespace = metadata.namespace || options.namespace || "";

  const sizeText = annotations[ANNOTATION_SIZE];
  if (sizeText === undefined) return { error: `size annotation is unexpectedly missing for pod ${name}` };
  const size = goAtoi(sizeText);
  if ("error" in size) return { error: size.error };

  if (labels[LABEL_WORKER_INDEX] === "0") {
    const error = mutateLeader(copy, labels, annotations, name, namespace);
    if (error !== undefined) return { error };
  } else {
    const error = mutateWorker(copy, labels, annotations, name, size.value);
    if (error !== undefined) return { error };
  }

  if (options.gangScheduling) {
    const group = podGroupName(
      labels[LABEL_NAME] ?? "",
      labels[LABEL_GROUP_INDEX] ?? "",
      labels[LABEL_TEMPLATE_REVISION_HASH] ?? "",
    );
    metadata.annotations = { ...annotations, [ANNOTATION_SCHEDULING_GROUP_NAME]: group };
    if (options.schedulingGroup) {
      // kubernetes-types 1.30 predates `schedulingGroup` (Kubernetes 1.36).
      const spec = (copy.spec ??= { containers: [] }) as Pod["spec"] & { schedulingGroup?: { podGroupName: string } };
      spec.schedulingGroup = { podGroupName: group };
    }
  }
  const tpuError = addTpuVariables(copy, size.value);
  if (tpuError !== undefined) return { error: tpuError };
  const envError = addLwsVariables(copy, namespace);
  if (envError !== undefined) return { error: envError };
  return { pod: copy };
}

function mutateLeader(
  pod: Pod,
  labels: StringMap,
  annotations: StringMap,
  name: string,
  namespace: string,
): string | undefined {
  if (labels[LABEL_GROUP_INDEX] === undefined) {
    const { ordinal } = parseParentAndOrdinal(name);
    if (ordinal === -1) return `parsing pod ordinal for pod ${name}`;
    labels[LABEL_GROUP_INDEX] = String(ordinal);
  }
  if (annotations[ANNOTATION_SUBDOMAIN_POLICY] === "UniquePerReplica") {
    (pod.spec ??= { containers: [] }).subdomain = name;
  }
  const key = labels[LABEL_GROUP_KEY] ?? groupKey(namespace, name);
  labels[LABEL_GROUP_KEY] = key;
  const topology = annotations[ANNOTATION_EXCLUSIVE_TOPOLOGY];
  if (topology !== undefined) addExclusiveAffinity(pod, key, { topologyKey: topology, labelKey: LABEL_GROUP_KEY });
  if (
    annotations[ANNOTATION_SUBGROUP_SIZE] !== undefined && !labels[LABEL_SUBGROUP_INDEX] &&
    annotations[ANNOTATION_SUBGROUP_POLICY_TYPE] !== "LeaderExcluded"
  ) {
    setSubGroup(pod, labels, annotations, name, 0);
  }
  return undefined;
}

function mutateWorker(
  pod: Pod,
  labels: StringMap,
  annotations: StringMap,
  name: string,
  size: number,
): string | undefined {
  const { ordinal } = parseParentAndOrdinal(name);
  if (ordinal === -1) return `parsing pod ordinal for pod ${name}`;
  labels[LABEL_WORKER_INDEX] = String(ordinal);
  const subGroupSizeText = annotations[ANNOTATION_SUBGROUP_SIZE];
  if (subGroupSizeText !== undefined && !labels[LABEL_SUBGROUP_INDEX]) {
    const subGroupSize = goAtoi(subGroupSizeText);
    if ("error" in subGroupSize) return subGroupSize.error;
    // Upstream divides by zero here (the handler panics); deny with Go's runtime error text instead.
    if (subGroupSize.value === 0) return "runtime error: integer divide by zero";
    if (subGroupSize.value < 0) return `subgroup-size annotation must be positive, got ${subGroupSize.value}`;
    const index = subGroupIndex(size, subGroupSize.value, ordinal);
    setSubGroup(pod, labels, annotations, annotations[ANNOTATION_LEADER_NAME] ?? "", index);
  }
  return undefined;
}

function setSubGroup(pod: Pod, labels: StringMap, annotations: StringMap, leaderName: string, index: number): void {
  const key = subGroupKey(leaderName, index);
  labels[LABEL_SUBGROUP_INDEX] = String(index);
  labels[LABEL_SUBGROUP_KEY] = key;
  const topology = annotations[ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY];
  if (topology !== undefined) addExclusiveAffinity(pod, key, { topologyKey: topology, labelKey: LABEL_SUBGROUP_KEY });
}

/**
 * Adds the exclusive placement terms of spec §9.6 to a pod: a required pod-affinity term selecting pods whose
 * `labelKey` equals `hashValue`, and a required anti-affinity term selecting pods whose `labelKey` exists with a
 * different value, both on `topologyKey`. Appends (never replaces). Skips when the pod already has both a required
 * affinity and a required anti-affinity term on `topologyKey`.
 *
 * @param pod The pod to modify in place.
 * @param hashValue The group or subgroup key of the pod.
 * @param options `topologyKey` (node label key) and `labelKey` (`group-key` or `subgroup-key` label).
 */
export function addExclusiveAffinity(
  pod: Pod,
  hashValue: string,
  options: { topologyKey: string; labelKey: string },
): void {
  const { topologyKey, labelKey } = options;
  const spec = pod.spec ??= { containers: [] };
  if (exclusiveAffinityApplied(spec.affinity, topologyKey)) return;
  const affinity = spec.affinity ??= {};
  const podAffinity = affinity.podAffinity ??= {};
  const podAntiAffinity = affinity.podAntiAffinity ??= {};
  (podAffinity.requiredDuringSchedulingIgnoredDuringExecution ??= []).push({
    labelSelector: { matchExpressions: [{ key: labelKey, operator: "In", values: [hashValue] }] },
    topologyKey,
  });
  (podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution ??= []).push({
    labelSelector: {
      matchExpressions: [
        { key: labelKey, operator: "Exists" },
        { key: labelKey, operator: "NotIn", values: [hashValue] },
      ],
    },
    topologyKey,
  });
}

function exclusiveAffinityApplied(affinity: Affinity | undefined, topologyKey: string): boolean {
  const has = (terms: PodAffinityTerm[] | undefined) => (terms ?? []).some((t) => t.topologyKey === topologyKey);
  return has(affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution) &&
    has(affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
}

/**
 * Injects `LWS_LEADER_ADDRESS`, `LWS_GROUP_SIZE` and `LWS_WORKER_INDEX` at the front of every container's and init
 * container's env (spec §9.4); user entries with those names and later duplicates of a name are dropped.
 *
 * @param pod The pod to modify in place (subdomain already final).
 * @param namespace The pod's namespace.
 * @returns An error message when a needed label or annotation is missing, else undefined.
 */
export function addLwsVariables(pod: Pod, namespace: string): string | undefined {
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  const ref = podRef(namespace, pod.metadata?.name ?? "");
  const fail = (what: string) => `Failure constructing environment variables, no ${what} found for pod ${ref}`;
  const lwsName = labels[LABEL_NAME];
  if (lwsName === undefined) return fail("name label");
  const groupIndex = labels[LABEL_GROUP_INDEX];
  if (groupIndex === undefined) return fail("group index label");
  const size = annotations[ANNOTATION_SIZE];
  if (size === undefined) return fail("size annotation");
  const workerIndex = labels[LABEL_WORKER_INDEX];
  if (workerIndex === undefined) return fail("worker index label");
  const injected = [
    { name: ENV_LWS_LEADER_ADDRESS, value: `${lwsName}-${groupIndex}.${pod.spec?.subdomain ?? ""}.${namespace}` },
    { name: ENV_LWS_GROUP_SIZE, value: size },
    { name: ENV_LWS_WORKER_INDEX, value: workerIndex },
  ];
  for (const container of allContainers(pod)) {
    const seen = new Set(injected.map((e) => e.name));
    const env: EnvVar[] = injected.map((e) => ({ ...e }));
    for (const entry of container.env ?? []) {
      if (seen.has(entry.name)) continue;
      seen.add(entry.name);
      env.push(entry);
    }
    container.env = env;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The pod mutating webhook (`/mutate--v1-pod`, `mpod.kb.io`): CREATE of a pod with the LWS name label is mutated
 * per spec §9.2; other operations and pods without the label are admitted untouched; a failed step denies (403).
 *
 * @param options Gang scheduling switch.
 * @returns The handler.
 */
export function createPodMutatingHandler(options: PodWebhookOptions = {}): AdmissionHandler {
  return (request) => {
    if (request.operation !== "CREATE") return allowed();
    const pod = request.object;
    if (!isObject(pod)) return errored(400, "there is no content to decode");
    const labels = isObject(pod.metadata) ? pod.metadata.labels : undefined;
    if (!isObject(labels) || labels[LABEL_NAME] === undefined) return allowed();
    const result = mutatePod(pod as Pod, { ...options, namespace: request.namespace });
    if ("error" in result) return denied(result.error);
    return patched(pod, result.pod);
  };
}

/**
 * The pod validating webhook (`/validate--v1-pod`, `vpod.kb.io`): admits everything (it exists for historical
 * reasons, spec §9.1).
 *
 * @returns The handler.
 */
export function createPodValidatingHandler(): AdmissionHandler {
  return () => allowed();
}
