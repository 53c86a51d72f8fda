/**
 * Adapts the shared kube/ informer cache to the dashboard's {@linkcode DashboardSource}: the dashboard reads the
 * very stores the controllers use, so a page view costs no API traffic.
 *
 * What the binary wires (see the module example):
 * - LeaderWorkerSets: the controller's store.
 * - Pods and StatefulSets: the selective stores (label selector `leaderworkerset.sigs.k8s.io/name`); looked up by
 *   the built-in `lwsName` index, never scanned.
 * - LWS events (optional): a small store of events.k8s.io/v1 Events with the field selector
 *   {@linkcode LWS_EVENTS_FIELD_SELECTOR} (`regarding.kind=LeaderWorkerSet`), indexed by
 *   {@linkcode EVENT_INDEXERS}. A handful of events per LWS (condition changes, partition moves, failures).
 * - Pod events (optional): fetched on demand when a pod drawer opens ({@linkcode podEventsFetcher}: one LIST with
 *   `regarding.kind=Pod,regarding.name=<pod>`), because pod events are most of a cluster's events and caching
 *   them would grow memory with pod churn.
 * - Pod failures: a {@linkcode PodFailureLog} subscribed to the pod store from the start (not only while a page is
 *   open), so a failure that lasted a second is still shown minutes later. It reads the same notifications the
 *   store delivers anyway: no extra API traffic.
 *
 * @example
 * const lws = cache.store<LeaderWorkerSet>(LEADER_WORKER_SETS);
 * const pods = cache.store<Pod>(PODS, { labelSelector: lwsOwnedSelector() });
 * const sts = cache.store<StatefulSet>(STATEFUL_SETS, { labelSelector: lwsOwnedSelector() });
 * const source = kubeDashboardSource(
 *   { leaderWorkerSets: lws, pods, statefulSets: sts, events: lwsEventStore },
 *   { fetchPodEvents: podEventsFetcher(client) },
 * );
 * serveDashboard(source, { port: 8081, signal });
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { KIND, LABEL_NAME } from "../api/constants.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { EVENTS } from "../kube/resources.ts";
import { type Indexer, LWS_NAME_INDEX, type Store } from "../kube/store.ts";
import { PodFailureLog, type PodFailureLogOptions } from "./failures.ts";
import type { DashboardChange, DashboardEvent, DashboardSource } from "./source.ts";

/** Field selector of the LWS events store: events whose `regarding` is a LeaderWorkerSet. */
export const LWS_EVENTS_FIELD_SELECTOR = `regarding.kind=${KIND}`;

/** Index of the LWS events store: the name of the LWS an event regards (combine with the namespace). */
export const REGARDING_LWS_INDEX = "regardingLws";

/** Indexers the LWS events store needs (pass them to the cache or the store writer). */
export const EVENT_INDEXERS: Record<string, Indexer<DashboardEvent>> = {
  [REGARDING_LWS_INDEX]: (event) =>
    event.regarding?.kind === KIND && event.regarding.name ? [event.regarding.name] : [],
};

/** The stores the dashboard reads. */
export interface KubeSourceStores {
  /** LeaderWorkerSets (all namespaces or the operator's scope). */
  leaderWorkerSets: Store<LeaderWorkerSet>;
  /** Pods carrying the `leaderworkerset.sigs.k8s.io/name` label, with the built-in `lwsName` index. */
  pods: Store<Pod>;
  /** StatefulSets carrying the `leaderworkerset.sigs.k8s.io/name` label, with the built-in `lwsName` index. */
  statefulSets: Store<StatefulSet>;
  /** events.k8s.io Events regarding LeaderWorkerSets, with {@linkcode EVENT_INDEXERS}; optional. */
  events?: Store<DashboardEvent>;
}

/** Options of {@linkcode kubeDashboardSource}. */
export interface KubeSourceOptions {
  /** Fetches the events of one pod for the drawer (see {@linkcode podEventsFetcher}); absent: no pod events. */
  fetchPodEvents?: (namespace: string, podName: string, signal?: AbortSignal) => Promise<readonly DashboardEvent[]>;
  /** Clock and bounds of the pod failure record (defaults: `Date.now`, 15 min, 50 per LWS). */
  failures?: PodFailureLogOptions;
}

function lwsNameOf(object: { metadata?: { labels?: Record<string, string> } }): string | undefined {
  return object.metadata?.labels?.[LABEL_NAME] || undefined;
}

/**
 * A {@linkcode DashboardSource} over kube/ stores. Reads are synchronous lookups in the stores (by index), so they
 * are as fresh as the cache and **may be stale**; nothing here calls the API server except `podEvents`.
 *
 * @param stores The shared stores.
 * @param options Optional on-demand pod events.
 * @returns The source.
 */
export function kubeDashboardSource(stores: KubeSourceStores, options: KubeSourceOptions = {}): DashboardSource {
  const byLws = (namespace: string, lwsName: string) => ({ namespace, index: [LWS_NAME_INDEX, lwsName] as const });
  // The failure record follows the pod store for as long as the stores live (the binary's lifetime); pods already
  // cached are its first sightings.
  const failures = new PodFailureLog(options.failures);
  stores.pods.subscribe(({ type, object }) => failures.observe(type, object));
  stores.leaderWorkerSets.subscribe(({ type, object }) => {
    if (type === "delete") failures.forget(object.metadata.namespace ?? "", object.metadata.name ?? "");
  });
  for (const pod of stores.pods.list()) failures.observe("apply", pod);
  return {
    listLeaderWorkerSets: (namespace) => stores.leaderWorkerSets.list(namespace ? { namespace } : {}),
    getLeaderWorkerSet: (namespace, name) => stores.leaderWorkerSets.get(namespace, name),
    podsOf: (namespace, lwsName) => stores.pods.list(byLws(namespace, lwsName)),
    getPod: (namespace, name) => stores.pods.get(namespace, name),
    statefulSetsOf: (namespace, lwsName) => stores.statefulSets.list(byLws(namespace, lwsName)),
    failuresOf: (namespace, lwsName) => failures.failuresOf(namespace, lwsName),
    eventsOf: (namespace, lwsName) => stores.events?.list({ namespace, index: [REGARDING_LWS_INDEX, lwsName] }) ?? [],
    podEvents: (namespace, podName, signal) =>
      options.fetchPodEvents ? options.fetchPodEvents(namespace, podName, signal) : Promise.resolve([]),
    subscribe(listener: (change: DashboardChange) => void) {
      const unsubscribes = [
        stores.leaderWorkerSets.subscribe(({ object }) =>
          listener({
            kind: "LeaderWorkerSet",
            namespace: object.metadata.namespace ?? "",
            lwsName: object.metadata.name,
          })
        ),
        stores.pods.subscribe(({ object }) =>
          listener({ kind: "Pod", namespace: object.metadata?.namespace ?? "", lwsName: lwsNameOf(object) })
        ),
        stores.statefulSets.subscribe(({ object }) =>
          listener({ kind: "StatefulSet", namespace: object.metadata?.namespace ?? "", lwsName: lwsNameOf(object) })
        ),
      ];
      if (stores.events) {
        unsubscribes.push(stores.events.subscribe(({ object }) =>
          listener({
            kind: "Event",
            namespace: object.metadata?.namespace ?? "",
            lwsName: object.regarding?.kind === KIND ? object.regarding.name : undefined,
          })
        ));
      }
      return () => {
        for (const unsubscribe of unsubscribes) unsubscribe();
      };
    },
    isSynced: () =>
      stores.leaderWorkerSets.isSynced() && stores.pods.isSynced() && stores.statefulSets.isSynced() &&
      (stores.events?.isSynced() ?? true),
  };
}

/**
 * Fetches the events of one pod on demand: one `LIST events.k8s.io/v1 Events` in the pod's namespace with the field
 * selector `regarding.kind=Pod,regarding.name=<pod>` (the API server maps it to `involvedObject.*`), newest 50.
 *
 * @param client Anything with the kube/ client's `list`.
 * @param options `limit` of the list (default 50).
 * @returns A fetcher for {@linkcode KubeSourceOptions.fetchPodEvents}.
 */
export function podEventsFetcher(
  client: Pick<KubeClient, "list">,
  options: { limit?: number } = {},
): (namespace: string, podName: string, signal?: AbortSignal) => Promise<readonly DashboardEvent[]> {
  return async (namespace, podName, signal) => {
    const list = await client.list<DashboardEvent>(EVENTS, {
      namespace,
      fieldSelector: `regarding.kind=Pod,regarding.name=${podName}`,
      limit: options.limit ?? 50,
      signal,
    });
    return list.items;
  };
}
