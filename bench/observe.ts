/**
 * How the benchmark sees the cluster: list+watch caches of the objects a workload waits on, built from the
 * product's own engine (`kube/watcher.ts` into `kube/store.ts`), and {@linkcode until}, which checks a condition
 * against those caches every 50 ms (no API calls per check, so waiting does not load the API server).
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { LEADER_WORKER_SETS, PODS, STATEFUL_SETS } from "../kube/resources.ts";
import type { Store } from "../kube/store.ts";
import { StoreWriter } from "../kube/store.ts";
import type { KubeObject, ResourceType } from "../kube/types.ts";
import { Watcher } from "../kube/watcher.ts";

/** Caches of one namespace, stopped together. */
export interface NamespaceView extends AsyncDisposable {
  readonly namespace: string;
  readonly pods: Store<Pod>;
  readonly statefulSets: Store<StatefulSet>;
  readonly leaderWorkerSets: Store<LeaderWorkerSet>;
  /** Distinct pod UIDs seen since the view started (the difference over a workload is the pods it created). */
  podsSeen(): number;
}

function cache<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  namespace: string,
  signal: AbortSignal,
): { store: Store<T>; done: Promise<void> } {
  const writer = new StoreWriter<T>({ freeze: false, name: `bench ${type.plural}` });
  const watcher = new Watcher<T>(client.listWatch<T>(type, { namespace }), { name: `bench ${type.plural}` });
  const done = (async () => {
    for await (const event of watcher.events(signal)) writer.apply(event);
  })();
  return { store: writer.store, done };
}

/**
 * Starts caching pods, StatefulSets and LeaderWorkerSets of a namespace and waits until all three are listed.
 *
 * @param client the benchmark's client
 * @param namespace the namespace
 * @returns the caches; `await using` stops them
 */
export async function watchNamespace(client: KubeClient, namespace: string): Promise<NamespaceView> {
  const stop = new AbortController();
  const pods = cache<Pod>(client, PODS, namespace, stop.signal);
  const statefulSets = cache<StatefulSet>(client, STATEFUL_SETS, namespace, stop.signal);
  const leaderWorkerSets = cache<LeaderWorkerSet>(client, LEADER_WORKER_SETS, namespace, stop.signal);
  const seen = new Set<string>();
  pods.store.subscribe((change) => {
    const uid = change.object.metadata?.uid;
    if (uid) seen.add(uid);
  });
  const synced = AbortSignal.timeout(60_000);
  await Promise.all([pods, statefulSets, leaderWorkerSets].map((c) => c.store.waitUntilSynced(synced)));
  return {
    namespace,
    pods: pods.store,
    statefulSets: statefulSets.store,
    leaderWorkerSets: leaderWorkerSets.store,
    podsSeen: () => seen.size,
    [Symbol.asyncDispose]: async () => {
      stop.abort();
      await Promise.all([pods.done, statefulSets.done, leaderWorkerSets.done]);
    },
  };
}

/** {@linkcode until} gave up; `at` is when (`performance.now()`), `missing` what was still missing. */
export class WaitTimeout extends Error {
  override name = "WaitTimeout";
  /**
   * @param message what was awaited, for how long, and what was missing
   * @param at `performance.now()` when it gave up
   */
  constructor(message: string, readonly at: number) {
    super(message);
  }
}

/**
 * Waits until `condition` holds, checking every `intervalMs`.
 *
 * @param what the awaited state, for the error message
 * @param condition checked against in-memory caches; returns true when done, or a string saying what is missing
 * @param options timeout and interval
 * @returns `performance.now()` when the condition was first seen true
 * @throws {WaitTimeout} on timeout, naming what was still missing
 */
export async function until(
  what: string,
  condition: () => true | string,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<number> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const result = condition();
    if (result === true) return performance.now();
    if (performance.now() > deadline) {
      throw new WaitTimeout(
        `Timed out after ${options.timeoutMs / 1000} s waiting for ${what}: ${result}`,
        performance.now(),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/**
 * Whether a pod is Ready (condition `Ready` True) and not being deleted.
 *
 * @param pod the pod
 * @returns true when ready
 */
export function podReady(pod: Pod): boolean {
  return !pod.metadata?.deletionTimestamp &&
    (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/**
 * Checks that a namespace holds exactly `expected` pods, all Ready, none being deleted, none in `gone`.
 *
 * @param pods the pod cache
 * @param expected the pod count
 * @param gone UIDs that must no longer exist (failed or replaced pods)
 * @returns true, or what is missing
 */
export function allPodsReady(pods: Store<Pod>, expected: number, gone: ReadonlySet<string> = new Set()): true | string {
  const all = pods.list();
  let ready = 0;
  let stale = 0;
  for (const pod of all) {
    if (podReady(pod)) ready++;
    if (gone.has(pod.metadata?.uid ?? "")) stale++;
  }
  if (ready === expected && all.length === expected && stale === 0) return true;
  return `${ready}/${expected} pods Ready (${all.length} exist, ${stale} of the ${gone.size} to replace remain)`;
}

/**
 * Checks that every StatefulSet rolled out: observed its generation, every replica on the update revision, ready
 * and available (what `kubectl rollout status` waits for).
 *
 * @param statefulSets the StatefulSet cache
 * @param expected how many StatefulSets there must be
 * @returns true, or how many are not done
 */
export function allStatefulSetsReady(statefulSets: Store<StatefulSet>, expected: number): true | string {
  const all = statefulSets.list();
  const done = all.filter((s) => {
    const replicas = s.spec?.replicas ?? 1;
    const status = s.status;
    return status !== undefined &&
      (status.observedGeneration ?? 0) >= (s.metadata?.generation ?? 0) &&
      status.readyReplicas === replicas && (status.availableReplicas ?? 0) === replicas &&
      status.updatedReplicas === replicas && status.currentRevision === status.updateRevision;
  }).length;
  return done === expected && all.length === expected ? true : `${done}/${expected} StatefulSets rolled out`;
}

/**
 * Checks that every LeaderWorkerSet is Available for its current generation with all groups updated and ready.
 *
 * @param leaderWorkerSets the LWS cache
 * @param expected how many LWS there must be
 * @returns true, or how many are not done
 */
export function allLeaderWorkerSetsAvailable(
  leaderWorkerSets: Store<LeaderWorkerSet>,
  expected: number,
): true | string {
  const all = leaderWorkerSets.list();
  const done = all.filter((lws) => {
    const replicas = lws.spec.replicas ?? 1;
    const status = lws.status;
    const condition = (type: string) => status?.conditions?.find((c) => c.type === type)?.status;
    // Upstream sets conditions[].observedGeneration; status.observedGeneration only since v0.9.0.
    const available = status?.conditions?.find((c) => c.type === "Available");
    const observed = Math.max(status?.observedGeneration ?? 0, available?.observedGeneration ?? 0);
    return status !== undefined && observed >= (lws.metadata.generation ?? 0) &&
      condition("Available") === "True" && condition("UpdateInProgress") !== "True" &&
      status.readyReplicas === replicas && status.updatedReplicas === replicas;
  }).length;
  return done === expected && all.length === expected ? true : `${done}/${expected} LeaderWorkerSets Available`;
}
