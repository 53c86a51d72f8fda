/**
 * What the dashboard reads: a small, read-only view of the informer cache. The binary adapts the shared kube/ stores
 * to it (`ui/kube_source.ts`); tests and benchmarks use the in-memory `ui/memory_source.ts`.
 *
 * Nothing here can reach a Secret: the dashboard only ever sees LeaderWorkerSets, the Pods and StatefulSets that
 * carry the `leaderworkerset.sigs.k8s.io/name` label, and events.
 *
 * @module
 */
import type { Event } from "kubernetes-types/events/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import type { PodFailure } from "./failures.ts";

/** An events.k8s.io/v1 Event, as the dashboard reads it. */
export type DashboardEvent = Event;

/**
 * One change the dashboard must react to, reduced to the LWS it concerns.
 *
 * `lwsName` is the LeaderWorkerSet's name (from the object itself, from the `leaderworkerset.sigs.k8s.io/name`
 * label of a Pod or StatefulSet, or from an event's `regarding`); `undefined` when the object cannot be tied to one
 * (such changes are ignored).
 */
export interface DashboardChange {
  /** Kind of the object that changed. */
  kind: "LeaderWorkerSet" | "Pod" | "StatefulSet" | "Event";
  /** Namespace of the object. */
  namespace: string;
  /** Name of the LeaderWorkerSet the object belongs to. */
  lwsName: string | undefined;
}

/**
 * The read-only data the dashboard needs. Every method is synchronous and cheap except {@linkcode podEvents}.
 *
 * Invariants: the data **may be stale** (it is the controller's cache); returned objects are shared and **must not be
 * mutated**; lists are in no particular order. The source never exposes Secrets.
 */
export interface DashboardSource {
  /** LeaderWorkerSets in `namespace`, or in every namespace when `namespace` is omitted or `""`. */
  listLeaderWorkerSets(namespace?: string): readonly LeaderWorkerSet[];
  /** One LeaderWorkerSet, or `undefined`. */
  getLeaderWorkerSet(namespace: string, name: string): LeaderWorkerSet | undefined;
  /** Pods in `namespace` labelled `leaderworkerset.sigs.k8s.io/name=<lwsName>` (leaders and workers). */
  podsOf(namespace: string, lwsName: string): readonly Pod[];
  /** One LWS pod by name (only pods carrying the LWS name label are cached), or `undefined`. */
  getPod(namespace: string, name: string): Pod | undefined;
  /** StatefulSets in `namespace` labelled `leaderworkerset.sigs.k8s.io/name=<lwsName>` (leader and worker sets). */
  statefulSetsOf(namespace: string, lwsName: string): readonly StatefulSet[];
  /** Cached events whose `regarding` is the LeaderWorkerSet (may be empty when no event cache is configured). */
  eventsOf(namespace: string, lwsName: string): readonly DashboardEvent[];
  /**
   * Pod failures of the LeaderWorkerSet recorded from the cache's change stream (`ui/failures.ts`), oldest first:
   * they outlive the failed pods. Empty when the source keeps no record.
   */
  failuresOf(namespace: string, lwsName: string): readonly PodFailure[];
  /**
   * Events regarding one pod, fetched on demand for the pod drawer (not cached: pod events are the bulk of a
   * cluster's events). Resolves to `[]` when the source has no way to fetch them.
   */
  podEvents(namespace: string, podName: string, signal?: AbortSignal): Promise<readonly DashboardEvent[]>;
  /**
   * Calls `listener` after every change of a LeaderWorkerSet, LWS Pod, LWS StatefulSet or cached event. The
   * listener runs synchronously inside the store's notification and must be fast (the dashboard only marks keys
   * dirty there).
   *
   * @returns a function that unsubscribes
   */
  subscribe(listener: (change: DashboardChange) => void): () => void;
  /** Whether every underlying store finished its first list; pages say "loading" until then. */
  isSynced(): boolean;
}
