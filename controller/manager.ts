/**
 * Starts the two controllers of the product on one shared informer cache: the LeaderWorkerSet controller (spec §7)
 * and the pod controller (spec §8). This is what the binary calls once it holds the leader lease (and aborts when
 * it loses it); tests call it with a namespace.
 *
 * What is cached (all through the caller's {@linkcode InformerCache}, shared with the webhook and dashboard):
 * LeaderWorkerSets (all), and only objects carrying the `leaderworkerset.sigs.k8s.io/name` label of StatefulSets,
 * Pods, Services and ControllerRevisions — everything the controllers create carries it, so memory follows LWS
 * workloads, not the cluster. Nodes are **not** cached: the only node read is the leader's node for exclusive
 * placement, once per worker StatefulSet creation (a group start or restart), so one direct GET there costs far
 * less than a cluster-wide node watch, and it is never stale (spec: a missing node is a retried error).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod, Service } from "kubernetes-types/core/v1.d.ts";
import { LABEL_NAME } from "../api/constants.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import { type CacheScope, type InformerCache, lwsOwnedSelector } from "../kube/cache.ts";
import type { KubeClient } from "../kube/client.ts";
import { type Clock, realClock } from "../kube/clock.ts";
import { Controller, type ControllerOptions, type ControllerStats, type ObjectKey } from "../kube/controller.ts";
import type { EventRecorder } from "../kube/events.ts";
import { isNotFound } from "../kube/errors.ts";
import {
  apiVersionOf,
  CONTROLLER_REVISIONS,
  LEADER_WORKER_SETS,
  PODS,
  SERVICES,
  STATEFUL_SETS,
} from "../kube/resources.ts";
import {
  LEADER_POD_INDEX,
  LEADER_WORKER_SET_CONTROLLER,
  leaderPodIndexer,
  type LeaderWorkerSetContext,
  RecentWrites,
  reconcileLeaderWorkerSet,
} from "./leaderworkerset/reconciler.ts";
import { type GangProvider } from "./pod/gang.ts";
import {
  DeletedPods,
  ExpiringSet,
  POD_CONTROLLER,
  POD_GROUP_INDEX,
  type PodContext,
  podGroupIndexer,
  reconcilePod,
} from "./pod/reconciler.ts";

export { LEADER_WORKER_SET_CONTROLLER, POD_CONTROLLER };

const log = getLogger(["lws", "controller"]);

/** Default number of LWS reconciles at a time (different LWS only; one key never runs twice at once). */
export const DEFAULT_LWS_CONCURRENCY = 4;
/** Default number of pod reconciles at a time (different pods only). */
export const DEFAULT_POD_CONCURRENCY = 8;

/** Metrics callbacks of one controller (work queue + per-reconcile), see `ControllerOptions.hooks`. */
export type ControllerHooks = NonNullable<ControllerOptions["hooks"]>;

/** Options of {@linkcode startControllers}. */
export interface StartControllersOptions {
  /** API client (writes: SSA apply, create, status update, delete; the node GET). */
  client: KubeClient;
  /** The shared cache; the caller starts it (`cache.start(signal)`, before or after this call). */
  cache: InformerCache;
  /** Event recorder (`reportingController: leaderworkerset`); the caller closes it. */
  events: EventRecorder;
  /** Only this namespace (tests); default all namespaces. */
  namespace?: string;
  /**
   * Reconciles at a time: one number for both controllers, or per controller. Defaults
   * {@linkcode DEFAULT_LWS_CONCURRENCY} and {@linkcode DEFAULT_POD_CONCURRENCY}. Never two for one key.
   */
  concurrency?: number | { leaderWorkerSet?: number; pod?: number };
  /** Time source (queue, backoff, condition times); default the real clock. */
  clock?: Clock;
  /** Every key is enqueued this often as a safety net; default 10 minutes. */
  resyncMs?: number;
  /** Metrics callbacks per controller. */
  hooks?: { leaderWorkerSet?: ControllerHooks; pod?: ControllerHooks };
  /**
   * Gang scheduling provider (`gangSchedulingManagement.schedulerProvider`, see `pod/gang.ts`): the pod controller
   * creates a PodGroup per group and revision. Unset: gang scheduling off (no PodGroup reads or writes).
   */
  gang?: GangProvider;
  /** Stops both controllers (running reconciles finish, up to the shutdown timeout). */
  signal: AbortSignal;
}

/** Counters of both controllers, for metrics; a snapshot. */
export interface ControllersStats {
  /** The LeaderWorkerSet controller (`controller="leaderworkerset"`). */
  leaderWorkerSet: ControllerStats;
  /** The pod controller (`controller="pod"`). */
  pod: ControllerStats;
  /** Deleted pods whose last state waits for its reconcile. */
  pendingDeletedPods: number;
}

/** The running controllers. */
export interface RunningControllers {
  /** Resolves once both controllers stopped after `signal` aborted; rejects if one fails to run at all. */
  readonly finished: Promise<void>;
  /** Counters of both controllers. */
  stats(): ControllersStats;
}

/**
 * Starts the LeaderWorkerSet and pod controllers on the shared cache. Watches (spec §7.1, §8.1):
 * - LWS controller: LeaderWorkerSets; StatefulSets controlled by an LWS and every StatefulSet with the `name` label
 *   (→ the LWS of that name; worker sts status changes); Services controlled by an LWS. Pods are not watched.
 * - pod controller: Pods with the `name` label; StatefulSets controlled by a Pod (worker sts → its leader pod).
 *
 * Both controllers wait until every store the reconcilers read is synced (not only the ones they watch), then
 * reconcile every key once and whatever changes.
 *
 * @param options Client, cache, events, namespace, concurrency, clock, resync, hooks, signal.
 * @returns Stats and a promise of the end.
 * @example
 * const cache = new InformerCache(client);
 * const controllers = startControllers({ client, cache, events, signal });
 * const cacheStopped = cache.start(signal);
 * await controllers.finished;
 */
export function startControllers(options: StartControllersOptions): RunningControllers {
  const { client, cache, events, signal } = options;
  const clock = options.clock ?? realClock;
  const namespace = options.namespace || undefined;
  const owned: CacheScope = { namespace, labelSelector: lwsOwnedSelector() };
  const concurrency = typeof options.concurrency === "number"
    ? { leaderWorkerSet: options.concurrency, pod: options.concurrency }
    : options.concurrency ?? {};

  const pods = cache.store<Pod>(PODS, {
    ...owned,
    indexers: { [LEADER_POD_INDEX]: leaderPodIndexer, [POD_GROUP_INDEX]: podGroupIndexer },
  });
  const stores = {
    leaderWorkerSets: cache.store<LeaderWorkerSet>(LEADER_WORKER_SETS, { namespace }),
    statefulSets: cache.store<StatefulSet>(STATEFUL_SETS, owned),
    pods,
    services: cache.store<Service>(SERVICES, owned),
    revisions: cache.store<ControllerRevision>(CONTROLLER_REVISIONS, owned),
  };

  const common = { clock, resyncMs: options.resyncMs };
  const lwsController = new Controller<LeaderWorkerSetContext>(cache, {
    ...common,
    name: LEADER_WORKER_SET_CONTROLLER,
    concurrency: concurrency.leaderWorkerSet ?? DEFAULT_LWS_CONCURRENCY,
    hooks: options.hooks?.leaderWorkerSet,
  })
    .for(LEADER_WORKER_SETS, { namespace })
    .owns(STATEFUL_SETS, owned)
    .watches<StatefulSet>(STATEFUL_SETS, lwsOfNameLabel, owned)
    .owns(SERVICES, owned);
  const podController = new Controller<PodContext>(cache, {
    ...common,
    name: POD_CONTROLLER,
    concurrency: concurrency.pod ?? DEFAULT_POD_CONCURRENCY,
    hooks: options.hooks?.pod,
  })
    .for(PODS, owned)
    .owns(STATEFUL_SETS, owned);

  const lwsContext: LeaderWorkerSetContext = { client, events, stores, clock, recent: new RecentWrites(clock) };
  const deletedPods = new DeletedPods(clock);
  const podContext: PodContext = { client, events, stores, deletedPods, deletedLeaders: new ExpiringSet(clock) };
  if (options.gang !== undefined) {
    podContext.gang = { provider: options.gang, known: new ExpiringSet(clock) };
    void reportPodGroupApi(client, options.gang, namespace, signal);
  }
  // Subscribed before the controllers start, so a deletion is recorded before its reconcile can run.
  const unfollow = deletedPods.follow(pods);

  // A controller waits for the stores it watches; the reconcilers also read stores no controller watches
  // (revisions; LWS and services for the pod controller). Reconciling before those are listed reads them as empty:
  // the LWS reconciler would take the leader sts's revision for missing and create a duplicate ("Creating missing
  // revision"), and the pod reconciler would skip restart policies for want of the LWS. controller-runtime blocks
  // a read until its informer is synced; here both controllers start once every store they read is.
  const finished = (async () => {
    try {
      await Promise.all(Object.values(stores).map((store) => store.waitUntilSynced(signal)));
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    await Promise.all([
      lwsController.run(reconcileLeaderWorkerSet, lwsContext, signal),
      podController.run(reconcilePod, podContext, signal),
    ]);
  })().finally(unfollow);

  return {
    finished,
    stats: () => ({
      leaderWorkerSet: lwsController.stats(),
      pod: podController.stats(),
      pendingDeletedPods: deletedPods.size,
    }),
  };
}

/**
 * API discovery of the provider's PodGroup resource at start-up (a one-item list: 404 means the group/version
 * does not serve it), logged once. Informational only: the pod reconciler reports a missing API per group with a
 * Warning event when it cannot create a PodGroup, and keeps retrying, so a CRD installed later just works.
 */
async function reportPodGroupApi(
  client: KubeClient,
  provider: GangProvider,
  namespace: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  const api = `${apiVersionOf(provider.resource)} ${provider.resource.plural}`;
  try {
    await client.list(provider.resource, { namespace, limit: 1, signal });
    log.info("Gang scheduling with provider {provider}: {api} is served", { provider: provider.name, api });
  } catch (err) {
    if (signal.aborted) return;
    if (isNotFound(err)) {
      log.error("Gang scheduling with provider {provider}: {api} is not served by the API server; {hint}", {
        provider: provider.name,
        api,
        hint: provider.notServedHint,
      });
    } else {
      log.warn("Gang scheduling: cannot check {api}: {error}", { api, error: String(err) });
    }
  }
}

/** StatefulSets with a non-empty `name` label → the LWS of that name in their namespace (spec §7.1, v0.10.0). */
function lwsOfNameLabel(sts: StatefulSet): ObjectKey[] {
  const name = sts.metadata?.labels?.[LABEL_NAME];
  return name ? [{ namespace: sts.metadata?.namespace ?? "", name }] : [];
}
