/**
 * The objects the workloads create, as pure functions of the preset.
 *
 * - **LWS** `bench-<i>`: `groups` replicas of `size` pods, `RecreateGroupOnPodRestart`, rolling update with
 *   maxUnavailable 1 and maxSurge 1. The controller turns each into a leader StatefulSet `bench-<i>` (one pod per
 *   group) and per group a worker StatefulSet `bench-<i>-<g>` (pods `bench-<i>-<g>-1 …`).
 * - **raw**: the same pods as plain StatefulSets, no LWS controller: `raw-<i>` (the leaders, `groups` replicas) and
 *   `raw-<i>-<g>` (the workers, `size - 1` replicas from ordinal 1), plus the headless Service LWS would make.
 *   This is the kube-controller-manager path every LWS pod also takes.
 * - **filler**: pods that belong to no LWS and no controller, bound to a node up front (the scheduler is not
 *   what W3 measures), so KWOK makes them Running.
 *
 * Every pod template carries `BENCH_REVISION` in its env; W2 changes it to roll every pod.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Container, Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import type { Preset } from "./presets.ts";

/** Label on every object the benchmark creates (value: the workload family, `lws`, `raw` or `filler`). */
export const BENCH_LABEL = "bench.lws.x-k8s.io/family";
/** Label of the raw objects: which LWS index they mirror. */
export const RAW_SET_LABEL = "bench.lws.x-k8s.io/set";
/** Label of the raw objects: `leader` or `worker`. */
export const RAW_ROLE_LABEL = "bench.lws.x-k8s.io/role";
/** Label of the raw worker objects: the group index. */
export const RAW_GROUP_LABEL = "bench.lws.x-k8s.io/group";
/** The env var W2 changes. */
export const REVISION_ENV = "BENCH_REVISION";

/** Images are never pulled (KWOK fakes the kubelet); distinct names keep leader and worker apart. */
const IMAGE = "registry.invalid/lws-bench";

/**
 * A container of the benchmark's pods.
 *
 * @param name `leader`, `worker` or `app`
 * @param revision the value of `BENCH_REVISION`
 * @returns the container
 */
export function benchContainer(name: string, revision: number): Container {
  return {
    name,
    image: `${IMAGE}/${name}:1`,
    env: [{ name: REVISION_ENV, value: String(revision) }],
    ports: [{ containerPort: 8080, protocol: "TCP" }],
  };
}

/**
 * Name of LWS number `i`.
 *
 * @param i 0-based index
 * @returns `bench-<i>`
 */
export function lwsName(i: number): string {
  return `bench-${i}`;
}

/**
 * LeaderWorkerSet number `i` of a preset.
 *
 * @param i 0-based index
 * @param preset groups and size
 * @param namespace where it goes
 * @returns the object to create
 */
export function lwsManifest(i: number, preset: Pick<Preset, "groups" | "size">, namespace: string): LeaderWorkerSet {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: lwsName(i), namespace, labels: { [BENCH_LABEL]: "lws" } },
    spec: {
      replicas: preset.groups,
      rolloutStrategy: {
        type: "RollingUpdate",
        rollingUpdateConfiguration: { maxUnavailable: 1, maxSurge: 1 },
      },
      leaderWorkerTemplate: {
        size: preset.size,
        restartPolicy: "RecreateGroupOnPodRestart",
        leaderTemplate: {
          metadata: { labels: { [BENCH_LABEL]: "lws" } },
          spec: { containers: [benchContainer("leader", 1)] },
        },
        workerTemplate: {
          metadata: { labels: { [BENCH_LABEL]: "lws" } },
          spec: { containers: [benchContainer("worker", 1)] },
        },
      },
    },
  };
}

/**
 * The merge patch of W2 for an LWS: a new worker template (the env var changes), which rolls every group.
 *
 * @param revision the new `BENCH_REVISION`
 * @returns a JSON merge patch (CRDs take no strategic merge; the containers list is replaced whole)
 */
export function lwsRollPatch(revision: number): unknown {
  return {
    spec: { leaderWorkerTemplate: { workerTemplate: { spec: { containers: [benchContainer("worker", revision)] } } } },
  };
}

/** One raw StatefulSet and the role it mirrors. */
export interface RawStatefulSet {
  object: StatefulSet;
  role: "leader" | "worker";
}

function rawStatefulSet(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  replicas: number,
  container: string,
  options: { serviceName: string; startOrdinal?: number },
): StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace, labels: { ...labels, [BENCH_LABEL]: "raw" } },
    spec: {
      replicas,
      serviceName: options.serviceName,
      podManagementPolicy: "Parallel",
      ...(options.startOrdinal ? { ordinals: { start: options.startOrdinal } } : {}),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels: { ...labels, [BENCH_LABEL]: "raw" } },
        spec: { containers: [benchContainer(container, 1)] },
      },
    },
  };
}

/**
 * The raw mirror of LWS number `i`: a leader StatefulSet with `groups` replicas and one worker StatefulSet per
 * group with `size - 1` replicas starting at ordinal 1 — the same pod names and counts as the LWS.
 *
 * @param i 0-based index
 * @param preset groups and size
 * @param namespace where they go
 * @returns the headless Service and the StatefulSets
 */
export function rawManifests(
  i: number,
  preset: Pick<Preset, "groups" | "size">,
  namespace: string,
): { service: Service; statefulSets: RawStatefulSet[] } {
  const set = `raw-${i}`;
  const service: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: set, namespace, labels: { [BENCH_LABEL]: "raw" } },
    spec: { clusterIP: "None", selector: { [RAW_SET_LABEL]: set }, publishNotReadyAddresses: true },
  };
  const statefulSets: RawStatefulSet[] = [{
    role: "leader",
    object: rawStatefulSet(
      set,
      namespace,
      { [RAW_SET_LABEL]: set, [RAW_ROLE_LABEL]: "leader" },
      preset.groups,
      "leader",
      { serviceName: set },
    ),
  }];
  for (let g = 0; g < preset.groups; g++) {
    statefulSets.push({
      role: "worker",
      object: rawStatefulSet(
        `${set}-${g}`,
        namespace,
        { [RAW_SET_LABEL]: set, [RAW_ROLE_LABEL]: "worker", [RAW_GROUP_LABEL]: String(g) },
        preset.size - 1,
        "worker",
        { serviceName: set, startOrdinal: 1 },
      ),
    });
  }
  return { service, statefulSets };
}

/**
 * The merge patch of W2 for a raw StatefulSet: the same env change in its only container.
 *
 * @param role which container the StatefulSet has
 * @param revision the new `BENCH_REVISION`
 * @returns a JSON merge patch
 */
export function rawRollPatch(role: "leader" | "worker", revision: number): unknown {
  return { spec: { template: { spec: { containers: [benchContainer(role, revision)] } } } };
}

/**
 * The pod W4 fails for LWS number `i`: a worker (index 1) of group `i mod groups`, so the failures spread over
 * the groups. Raw and LWS use the same name.
 *
 * @param family `bench` (LWS) or `raw`
 * @param i 0-based index
 * @param groups groups per LWS
 * @returns the pod name and the group's leader pod name
 */
export function podToFail(family: "bench" | "raw", i: number, groups: number): { pod: string; leader: string } {
  const leader = `${family}-${i}-${i % groups}`;
  return { pod: `${leader}-1`, leader };
}

/**
 * Filler pod number `n`: no owner, bound to a fake node up front.
 *
 * @param n 0-based index
 * @param namespace where it goes
 * @param nodes how many fake nodes there are (`kwok-node-0 …`)
 * @returns the pod
 */
export function fillerPod(n: number, namespace: string, nodes: number): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `filler-${n}`, namespace, labels: { [BENCH_LABEL]: "filler", app: "filler" } },
    spec: {
      nodeName: `kwok-node-${n % nodes}`,
      containers: [benchContainer("app", 1)],
      terminationGracePeriodSeconds: 0,
    },
  };
}
