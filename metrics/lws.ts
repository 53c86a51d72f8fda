/**
 * LeaderWorkerSet metrics upstream does not have (upstream issue #87), all derived from the shared informer cache
 * and the controllers' events — nothing here calls the API server:
 *
 * - `lws_groups_desired{namespace,name}`, `lws_groups_ready{namespace,name}`, `lws_groups_updated{namespace,name}`:
 *   `spec.replicas`, `status.readyReplicas`, `status.updatedReplicas` of every cached LWS, read at scrape time.
 * - `lws_group_recreations_total{namespace,name,reason}`: groups recreated by the restart policy (each `RecreateGroup`
 *   event), by what the triggering pod looked like: `PodFailed`, `PodDeleted`, `ContainerRestarted`, `Unknown`.
 * - `lws_rollout_duration_seconds`: from the `UpdateInProgress` condition turning True to it turning False.
 * - `lws_group_ready_duration_seconds`: from the leader pod's creation to every pod of the group being Ready, for
 *   groups this process saw not ready (a restart does not observe groups that were ready before it).
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { ObjectReference } from "kubernetes-types/core/v1.d.ts";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import {
  ANNOTATION_SIZE,
  CONDITION_UPDATE_IN_PROGRESS,
  EVENT_REASON_RECREATE_GROUP,
  LABEL_GROUP_INDEX,
  LABEL_NAME,
  LABEL_WORKER_INDEX,
} from "../api/constants.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import { type Clock, realClock } from "../kube/clock.ts";
import type { EventInput, EventRecorder } from "../kube/events.ts";
import { LWS_NAME_INDEX, type Store } from "../kube/store.ts";

/** Buckets of rollout and group start durations, in seconds (1 s to 1 h). */
export const DURATION_BUCKETS: readonly number[] = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/** Options of {@linkcode createLwsMetrics}. */
export interface LwsMetricsOptions {
  /** Time source for "now" (ready and rollout ends without a transition time). */
  clock?: Clock;
}

/** The LWS metrics; wire them to the cache with the `observe*` calls. */
export interface LwsMetrics {
  /**
   * Reads LWS objects at scrape time (groups gauges) and follows their `UpdateInProgress` condition.
   *
   * @returns Unsubscribes.
   */
  observeLeaderWorkerSets(store: Store<LeaderWorkerSet>): () => void;
  /**
   * Follows pods (the cache's LWS-owned pods store, with the `lwsName` index) to time groups becoming ready; also
   * the pods {@linkcode LwsMetrics.countRecreations} classifies.
   *
   * @returns Unsubscribes.
   */
  observePods(store: Store<Pod>): () => void;
  /**
   * Wraps an event recorder: every `RecreateGroup` event counts a recreation. The wrapped recorder behaves exactly
   * like the original.
   */
  countRecreations(recorder: EventRecorder): EventRecorder;
}

const isReady = (pod: Pod) => pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
const deleting = (pod: Pod) => pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;

/**
 * Classifies the pod that triggered a group recreation.
 *
 * @param pod The pod as cached (undefined when gone).
 * @returns `PodFailed`, `PodDeleted`, `ContainerRestarted` or `Unknown`.
 */
export function recreationReason(pod: Pod | undefined): string {
  if (pod === undefined) return "PodDeleted";
  if (pod.status?.phase === "Failed") return "PodFailed";
  if (deleting(pod)) return "PodDeleted";
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  if (statuses.some((s) => (s.restartCount ?? 0) > 0)) return "ContainerRestarted";
  return "Unknown";
}

/**
 * Creates the LWS metric families in `registry`.
 *
 * @param registry The product's registry.
 * @param options Clock.
 * @returns The metrics.
 */
export function createLwsMetrics(registry: Registry, options: LwsMetricsOptions = {}): LwsMetrics {
  const clock = options.clock ?? realClock;
  const registers = [registry];
  let lwsStore: Store<LeaderWorkerSet> | undefined;
  let podStore: Store<Pod> | undefined;

  const perLws = (name: string, help: string, read: (lws: LeaderWorkerSet) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ["namespace", "name"],
      registers,
      collect() {
        this.reset(); // deleted LWS lose their series
        for (const lws of lwsStore?.list() ?? []) {
          this.set({ namespace: lws.metadata.namespace ?? "", name: lws.metadata.name }, read(lws) ?? 0);
        }
      },
    });
  perLws("lws_groups_desired", "Groups (replicas) a LeaderWorkerSet asks for (spec.replicas)", (l) => l.spec.replicas);
  perLws(
    "lws_groups_ready",
    "Groups of a LeaderWorkerSet whose pods are all ready (status.readyReplicas)",
    (l) => l.status?.readyReplicas,
  );
  perLws(
    "lws_groups_updated",
    "Groups of a LeaderWorkerSet on the current revision (status.updatedReplicas)",
    (l) => l.status?.updatedReplicas,
  );
  const recreations = new Counter({
    name: "lws_group_recreations_total",
    help: "Groups recreated by the restart policy, by what the triggering pod looked like",
    labelNames: ["namespace", "name", "reason"],
    registers,
  });
  const rollouts = new Histogram({
    name: "lws_rollout_duration_seconds",
    help: "Duration of rolling updates: UpdateInProgress True until it turns False",
    buckets: [...DURATION_BUCKETS],
    registers,
  });
  const groupReady = new Histogram({
    name: "lws_group_ready_duration_seconds",
    help: "Time from a group's leader pod creation to all pods of the group being ready",
    buckets: [...DURATION_BUCKETS],
    registers,
  });

  return {
    observeLeaderWorkerSets(store) {
      lwsStore = store;
      const started = new Map<string, number>();
      const unsubscribe = store.subscribe(({ type, object }) => {
        const uid = object.metadata.uid ?? `${object.metadata.namespace}/${object.metadata.name}`;
        if (type === "delete") {
          started.delete(uid);
          return;
        }
        const condition = object.status?.conditions?.find((c) => c.type === CONDITION_UPDATE_IN_PROGRESS);
        const at = (time: string | undefined) => (time ? Date.parse(time) : NaN);
        if (condition?.status === "True") {
          if (!started.has(uid)) {
            const since = at(condition.lastTransitionTime);
            started.set(uid, Number.isFinite(since) ? since : clock.now());
          }
          return;
        }
        const since = started.get(uid);
        if (since === undefined) return;
        started.delete(uid);
        const ended = condition?.status === "False" ? at(condition.lastTransitionTime) : NaN;
        rollouts.observe(Math.max(0, ((Number.isFinite(ended) ? ended : clock.now()) - since) / 1000));
      });
      return () => {
        unsubscribe();
        lwsStore = undefined;
      };
    },

    observePods(store) {
      podStore = store;
      /** Leader pod uid → creation time of groups seen not ready. */
      const pending = new Map<string, number>();
      /** Leader pod uids of groups that are ready (observed or first seen ready). */
      const done = new Set<string>();
      const unsubscribe = store.subscribe(({ type, object: pod }) => {
        const labels = pod.metadata?.labels ?? {};
        const lwsName = labels[LABEL_NAME];
        const group = labels[LABEL_GROUP_INDEX];
        const namespace = pod.metadata?.namespace ?? "";
        if (!lwsName || group === undefined) return;
        if (type === "delete" && labels[LABEL_WORKER_INDEX] === "0" && pod.metadata?.uid) {
          pending.delete(pod.metadata.uid);
          done.delete(pod.metadata.uid);
          return;
        }
        const leader = store.get(namespace, `${lwsName}-${group}`);
        const uid = leader?.metadata?.uid;
        if (!leader || !uid || deleting(leader) || done.has(uid)) return;
        const created = Date.parse(leader.metadata?.creationTimestamp ?? "");
        const size = Number(leader.metadata?.annotations?.[ANNOTATION_SIZE] ?? "1");
        const members = store.list({ namespace, index: [LWS_NAME_INDEX, lwsName] }).filter((p) =>
          p.metadata?.labels?.[LABEL_GROUP_INDEX] === group && !deleting(p) &&
          !(Date.parse(p.metadata?.creationTimestamp ?? "") < created)
        );
        const ready = members.length === size && members.every(isReady);
        if (!ready) {
          if (!pending.has(uid)) pending.set(uid, Number.isFinite(created) ? created : clock.now());
          return;
        }
        const since = pending.get(uid);
        pending.delete(uid);
        done.add(uid);
        if (since !== undefined) groupReady.observe(Math.max(0, (clock.now() - since) / 1000));
      });
      return () => {
        unsubscribe();
        podStore = undefined;
      };
    },

    countRecreations(recorder) {
      return {
        record(regarding: ObjectReference, event: EventInput) {
          if (event.reason === EVENT_REASON_RECREATE_GROUP) {
            const podName = /^Worker pod (\S+) failed/.exec(event.note)?.[1];
            const namespace = regarding.namespace ?? "";
            const pod = podName ? podStore?.get(namespace, podName) : undefined;
            recreations.inc({
              namespace,
              name: regarding.name ?? "",
              reason: podName ? recreationReason(pod) : "Unknown",
            });
          }
          recorder.record(regarding, event);
        },
        flush: () => recorder.flush(),
        close: (signal) => recorder.close(signal),
      };
    },
  };
}
