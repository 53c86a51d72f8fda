/**
 * The pod reconciler (spec §8.2, §8.3): for every LWS pod, apply the restart policy; for a leader pod, create its
 * per-replica Service (UniquePerReplica) and, once (startup policy, revision and exclusive placement permitting),
 * its worker StatefulSet from the leader's revision. A thin shell around `desired.ts`, `restart_policy.ts` and
 * `exclusive.ts`.
 *
 * Two memories make the restart policy exact on a fast control plane:
 * - {@linkcode DeletedPods}: the last state of pods that vanished from the cache. A pod that is deleted at once
 *   (a Failed pod, which the StatefulSet controller deletes with grace period 0, or any pod on a node that confirms
 *   deletion instantly) is often gone before its reconcile runs; its last state is still judged, as a deleted pod,
 *   so a failed worker recreates its group exactly as a gracefully deleted one would.
 * - {@linkcode ExpiringSet} of leader UIDs this controller deleted: a second trigger for the same failure (another
 *   worker of the group, a stale cache that does not show the deletion yet) never deletes or reports twice. The
 *   delete itself carries a UID precondition, so a stale read can never delete the leader's replacement.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Node, Pod, Service } from "kubernetes-types/core/v1.d.ts";
import {
  EVENT_ACTION_CREATE,
  EVENT_REASON_FAILED_CREATE,
  EVENT_TYPE_WARNING,
  FIELD_MANAGER,
  LABEL_GROUP_INDEX,
  LABEL_NAME,
  LABEL_WORKER_INDEX,
} from "../../api/constants.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import type { Clock } from "../../kube/clock.ts";
import type { KubeClient } from "../../kube/client.ts";
import { type Action, type ObjectKey, type ReconcileInfo, TerminalError } from "../../kube/controller.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../../kube/errors.ts";
import { type EventRecorder, objectReference } from "../../kube/events.ts";
import { LEADER_WORKER_SETS, NODES, PODS, SERVICES, STATEFUL_SETS } from "../../kube/resources.ts";
import { LWS_NAME_INDEX, type Store } from "../../kube/store.ts";
import { groupSize, type PlannedEvent } from "../leaderworkerset/desired.ts";
import { applyRevision, revisionKey, revisionsOf } from "../leaderworkerset/revision.ts";
import {
  desiredWorkerStatefulSet,
  podIdentity,
  podReconcilePlan,
  PREVIOUS_WORKERS_REQUEUE_MS,
  previousWorkerPods,
  REVISION_MISSING_REQUEUE_MS,
  workerStatefulSetCreatedEvent,
  workerStatefulSetFailedEvent,
} from "./desired.ts";
import { exclusivePlacementStep, leaderTopologyValue } from "./exclusive.ts";
import { type GangProvider, podGroupNameOf, podGroupNotServedMessage } from "./gang.ts";
import { restartLookups, restartPolicyDecision } from "./restart_policy.ts";

const log = getLogger(["lws", "controller", "pod"]);

/** Name of the pod controller (logs, metrics `controller` label), as upstream. */
export const POD_CONTROLLER = "pod";

/** Index of the pod store: `<namespace>/<lws>/<group-index>` for every LWS pod. */
export const POD_GROUP_INDEX = "lwsGroup";

/** Indexer of {@linkcode POD_GROUP_INDEX}; one function instance, so every consumer shares the index. */
export function podGroupIndexer(pod: Pod): string[] {
  const labels = pod.metadata?.labels;
  const name = labels?.[LABEL_NAME];
  const group = labels?.[LABEL_GROUP_INDEX];
  return name && group !== undefined ? [`${pod.metadata?.namespace ?? ""}/${name}/${group}`] : [];
}

/** The cached objects the pod reconciler reads. Every store may be stale. */
export interface PodStores {
  /** LeaderWorkerSets. */
  leaderWorkerSets: Store<LeaderWorkerSet>;
  /** Pods with the `name` label, with {@linkcode POD_GROUP_INDEX}. */
  pods: Store<Pod>;
  /** StatefulSets with the `name` label. */
  statefulSets: Store<StatefulSet>;
  /** Services with the `name` label. */
  services: Store<Service>;
  /** ControllerRevisions with the `name` label, with {@linkcode LWS_NAME_INDEX}. */
  revisions: Store<ControllerRevision>;
}

/** What {@linkcode reconcilePod} needs; built once by `startControllers`. */
export interface PodContext {
  /** API calls: node reads (exclusive placement), creates, the leader delete. */
  client: Pick<KubeClient, "get" | "create" | "delete">;
  /** Event recorder (events.k8s.io, regarding the LWS). */
  events: Pick<EventRecorder, "record">;
  /** Cached reads. */
  stores: PodStores;
  /** Last states of deleted pods, fed from the pod store (see {@linkcode DeletedPods.follow}). */
  deletedPods: DeletedPods;
  /** UIDs of leader pods this controller deleted to recreate their group. */
  deletedLeaders: ExpiringSet;
  /** Gang scheduling, when `gangSchedulingManagement.schedulerProvider` is configured (spec §10). */
  gang?: GangScheduling;
}

/**
 * Gang scheduling state of the pod controller. PodGroups are not cached: one is created per group start, and the
 * only read is a GET before that create, remembered per leader pod, so a leader's later reconciles (status
 * changes) cost nothing. A cluster-wide PodGroup watch would cost more and would make the controllers' start-up
 * depend on the PodGroup API being served.
 */
export interface GangScheduling {
  /** The configured provider (`controller/pod/gang.ts`). */
  provider: GangProvider;
  /** `<leader pod uid>/<PodGroup name>` of PodGroups known to exist (found or created). */
  known: ExpiringSet;
}

/**
 * Reconciles one pod (spec §8.2). Never called concurrently for one key.
 *
 * @param key The pod.
 * @param ctx Client, events, stores and the two memories.
 * @param info The reconcile's abort signal.
 * @returns `"awaitChange"`, or a 1 s requeue while the leader's revision is missing.
 * @throws {TerminalError} When the pod lacks the `name` or `worker-index` label; API errors (retried).
 */
export async function reconcilePod(key: ObjectKey, ctx: PodContext, info: ReconcileInfo): Promise<Action> {
  const { signal } = info;
  const pod = ctx.stores.pods.get(key.namespace, key.name);
  const deleted = ctx.deletedPods.take(key.namespace, key.name);
  if (deleted !== undefined && deleted.metadata?.uid !== pod?.metadata?.uid) {
    const lws = liveLeaderWorkerSet(ctx, deleted);
    log.debug("Judging the last state of deleted pod {namespace}/{name} ({uid})", {
      ...key,
      uid: deleted.metadata?.uid,
    });
    if (lws !== undefined) await applyRestartPolicy(ctx, deleted, lws, signal);
  }
  if (pod === undefined) return "awaitChange"; // 1.
  const identity = podIdentity(pod); // 2.
  if ("error" in identity) throw new TerminalError(identity.error);
  const lws = liveLeaderWorkerSet(ctx, pod); // 3.
  if (lws === undefined) return "awaitChange";
  if (await applyRestartPolicy(ctx, pod, lws, signal) === "stop") return "awaitChange"; // 4.

  const plan = podReconcilePlan(pod, lws, { gangScheduling: ctx.gang !== undefined }); // 5.–12.
  if (plan.action === "stop") {
    if (plan.event) record(ctx, lws, plan.event, pod);
    return "awaitChange";
  }
  const service = plan.perReplicaService;
  if (service && !ctx.stores.services.get(key.namespace, service.metadata?.name ?? "")) {
    try {
      await ctx.client.create(SERVICES, service, { fieldManager: FIELD_MANAGER, signal });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  if (plan.podGroup && ctx.gang !== undefined) await ensurePodGroup(ctx, ctx.gang, pod, lws, signal); // 9.
  if (plan.workerStatefulSet.action === "skip") return "awaitChange";
  // Checked before the revision and node reads: an existing worker sts is never updated (16.).
  if (ctx.stores.statefulSets.get(key.namespace, key.name) !== undefined) return "awaitChange";

  const wanted = plan.workerStatefulSet.revisionKey; // 12.
  const revision = revisionsOf(lws, [...ctx.stores.revisions.list({
    namespace: key.namespace,
    index: [LWS_NAME_INDEX, identity.lwsName],
  })]).filter((r) => revisionKey(r) === wanted).reduce<ControllerRevision | undefined>(
    (best, r) => (best === undefined || r.revision > best.revision ? r : best),
    undefined,
  );
  if (revision === undefined) return { requeueAfterMs: REVISION_MISSING_REQUEUE_MS };
  const revised = applyRevision(lws, revision);
  // Not in the spec: let a previous worker sts's pods go before creating one under their names.
  const previous = previousWorkerPods(pod, groupSize(revised), (name) => ctx.stores.pods.get(key.namespace, name));
  if (previous.length > 0) {
    log.debug("Waiting for {count} pods of a previous worker statefulset of {namespace}/{name} to go ({first})", {
      ...key,
      count: previous.length,
      first: previous[0],
    });
    return { requeueAfterMs: PREVIOUS_WORKERS_REQUEUE_MS };
  }

  const placement = exclusivePlacementStep(lws, pod); // 14.
  if (placement.action === "waitForScheduling") return "awaitChange";
  let leaderNodeTopologyValue: string | undefined;
  if (placement.action === "readNode") {
    const node = await ctx.client.get<Node>(NODES, placement.nodeName, { signal });
    const value = leaderTopologyValue(node, placement.topologyKey);
    if ("error" in value) throw new Error(value.error);
    leaderNodeTopologyValue = value.value;
  }
  const sts = desiredWorkerStatefulSet(pod, lws, revised, { leaderNodeTopologyValue }); // 13., 15.
  try {
    await ctx.client.create(STATEFUL_SETS, sts, { fieldManager: FIELD_MANAGER, signal }); // 16.
  } catch (err) {
    if (isAlreadyExists(err)) return "awaitChange";
    record(ctx, lws, workerStatefulSetFailedEvent(pod, err instanceof Error ? err.message : String(err)), pod);
    throw err;
  }
  record(ctx, lws, workerStatefulSetCreatedEvent(pod), pod);
  log.debug("Created worker statefulset {namespace}/{name} from revision {revision}", {
    ...key,
    revision: revision.metadata?.name,
  });
  return "awaitChange";
}

/**
 * Spec §8.2 step 9: creates the leader's PodGroup unless it exists. A create answered 404 means the provider's
 * resource is not served (the namespace exists: the leader pod is in it): a Warning `FailedCreate` event on the LWS
 * names the missing API and what enables it, and the reconcile fails (retried with backoff).
 */
async function ensurePodGroup(
  ctx: PodContext,
  gang: GangScheduling,
  pod: Pod,
  lws: LeaderWorkerSet,
  signal: AbortSignal,
): Promise<void> {
  const name = podGroupNameOf(pod);
  if (name === undefined) return; // created before gang scheduling was configured: no group name to use
  const memo = `${pod.metadata?.uid ?? ""}/${name}`;
  if (gang.known.has(memo)) return;
  const namespace = pod.metadata?.namespace ?? "";
  const { resource } = gang.provider;
  try {
    await ctx.client.get(resource, name, { namespace, signal });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await ctx.client.create(resource, gang.provider.desired(pod, lws), { fieldManager: FIELD_MANAGER, signal });
      log.debug("Created PodGroup {namespace}/{name} ({provider})", { namespace, name, provider: gang.provider.name });
    } catch (createErr) {
      if (!isAlreadyExists(createErr)) {
        const message = isNotFound(createErr)
          ? podGroupNotServedMessage(gang.provider, name)
          : `Failed to create PodGroup ${name} for leader pod ${pod.metadata?.name ?? ""}: ${
            createErr instanceof Error ? createErr.message : String(createErr)
          }`;
        record(ctx, lws, {
          type: EVENT_TYPE_WARNING,
          reason: EVENT_REASON_FAILED_CREATE,
          action: EVENT_ACTION_CREATE,
          note: message,
        }, pod);
        throw isNotFound(createErr) ? new Error(message, { cause: createErr }) : createErr;
      }
    }
  }
  gang.known.add(memo);
}

/** The pod's LWS from the cache, unless it is missing or being deleted (then there is nothing to do). */
function liveLeaderWorkerSet(ctx: PodContext, pod: Pod): LeaderWorkerSet | undefined {
  const name = pod.metadata?.labels?.[LABEL_NAME];
  if (!name) return undefined;
  const lws = ctx.stores.leaderWorkerSets.get(pod.metadata?.namespace ?? "", name);
  return lws === undefined || lws.metadata.deletionTimestamp ? undefined : lws;
}

/**
 * Spec §8.3 with the cached group. Returns `"stop"` when the leader was deleted now or is being deleted already.
 * A deleted pod (from {@linkcode DeletedPods}) is judged as the group looked when it went: with it, without its
 * replacement.
 */
async function applyRestartPolicy(
  ctx: PodContext,
  pod: Pod,
  lws: LeaderWorkerSet,
  signal: AbortSignal,
): Promise<"continue" | "stop"> {
  const namespace = pod.metadata?.namespace ?? "";
  const labels = pod.metadata?.labels ?? {};
  if (labels[LABEL_WORKER_INDEX] === undefined) return "continue";
  const groupKey = `${namespace}/${labels[LABEL_NAME]}/${labels[LABEL_GROUP_INDEX]}`;
  let groupPods = ctx.stores.pods.list({ index: [POD_GROUP_INDEX, groupKey] });
  if (ctx.deletedPods.isTombstone(pod)) {
    groupPods = [...groupPods.filter((p) => p.metadata?.name !== pod.metadata?.name), pod];
  }
  const lookups = restartLookups(pod);
  const leaderOfWorker = labels[LABEL_WORKER_INDEX] === "0"
    ? undefined
    : ctx.stores.pods.get(namespace, lookups.leaderName);
  let decision = restartPolicyDecision(pod, {
    lws,
    groupPods,
    leader: leaderOfWorker,
    workerStatefulSet: lookups.ownerStatefulSetName === undefined
      ? undefined
      : ctx.stores.statefulSets.get(namespace, lookups.ownerStatefulSetName),
  });
  if (decision.action === "deleteLeader" && lookups.ownerStatefulSetName !== undefined) {
    // Deleting a leader restarts a whole group: before doing it for a worker, confirm with a live read that the
    // worker's StatefulSet still exists and belongs to that leader. A cache that has not yet seen the StatefulSet
    // go (a user deleted it, or its leader was replaced) would otherwise restart a group for workers that are only
    // being cleaned up.
    const live = await liveStatefulSet(ctx, namespace, lookups.ownerStatefulSetName, signal);
    decision = restartPolicyDecision(pod, { lws, groupPods, leader: leaderOfWorker, workerStatefulSet: live });
  }
  switch (decision.action) {
    case "none":
      return "continue";
    case "alreadyDeleting":
      return "stop";
    case "error":
      throw new Error(decision.message);
    case "deleteLeader": {
      const leader = decision.leader.metadata ?? {};
      if (leader.uid && ctx.deletedLeaders.has(leader.uid)) return "stop";
      try {
        await ctx.client.delete(PODS, leader.name ?? "", {
          namespace,
          propagationPolicy: "Foreground",
          preconditions: leader.uid ? { uid: leader.uid } : undefined,
          signal,
        });
      } catch (err) {
        // Gone, or replaced by a new leader (UID precondition): that group is being recreated already.
        if (isNotFound(err) || isConflict(err)) return "stop";
        throw err;
      }
      if (leader.uid) ctx.deletedLeaders.add(leader.uid);
      log.info("{note}", { note: decision.eventNote, namespace });
      record(ctx, lws, decision.event, decision.leader);
      return "stop";
    }
  }
}

function record(ctx: PodContext, lws: LeaderWorkerSet, event: PlannedEvent, pod: Pod): void {
  ctx.events.record(objectReference(lws, LEADER_WORKER_SETS), { ...event, related: objectReference(pod, PODS) });
}

/**
 * The last states of pods that disappeared from the pod store, kept until the pod's next reconcile takes them (or
 * a TTL passes). A taken state is marked deleted: it gets a `deletionTimestamp` if it had none (it is gone, so it
 * was deleted), which is the restart trigger of spec §8.3.
 */
export class DeletedPods {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #pods = new Map<string, { pod: Pod; at: number }>();
  readonly #tombstones = new WeakSet<Pod>();

  /**
   * Creates an empty memory.
   *
   * @param clock Time source of the TTL.
   * @param ttlMs How long an untaken state is kept (default 5 minutes).
   */
  constructor(clock: Clock, ttlMs = 300_000) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /**
   * Records every `delete` change of `store` from now on.
   *
   * @param store The pod store the controller reads.
   * @returns A function that stops recording.
   */
  follow(store: Store<Pod>): () => void {
    return store.subscribe((change) => {
      if (change.type === "delete") this.record(change.object);
    });
  }

  /**
   * Records the last state of a deleted pod (a later deletion of the same name replaces it).
   *
   * @param pod The pod as last seen.
   */
  record(pod: Pod): void {
    const now = this.#clock.now();
    if (this.#pods.size >= 1024) {
      for (const [key, entry] of this.#pods) if (now - entry.at > this.#ttlMs) this.#pods.delete(key);
    }
    this.#pods.set(`${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`, { pod, at: now });
  }

  /**
   * Takes (removes and returns) the recorded state of a pod name, as a deleted pod.
   *
   * @param namespace The pod's namespace.
   * @param name The pod's name.
   * @returns A new object with a `deletionTimestamp`, or `undefined` when none is recorded (or it expired).
   */
  take(namespace: string, name: string): Pod | undefined {
    const key = `${namespace}/${name}`;
    const entry = this.#pods.get(key);
    if (entry === undefined) return undefined;
    this.#pods.delete(key);
    if (this.#clock.now() - entry.at > this.#ttlMs) return undefined;
    const metadata = { ...entry.pod.metadata };
    metadata.deletionTimestamp ??= new Date(entry.at).toISOString().replace(/\.\d{3}Z$/, "Z");
    const pod: Pod = { ...entry.pod, metadata };
    this.#tombstones.add(pod);
    return pod;
  }

  /**
   * Whether a pod object was returned by {@linkcode DeletedPods.take}.
   *
   * @param pod A pod object.
   * @returns `true` for a taken deleted state.
   */
  isTombstone(pod: Pod): boolean {
    return this.#tombstones.has(pod);
  }

  /** Number of states recorded and not taken. */
  get size(): number {
    return this.#pods.size;
  }
}

/** A set of strings whose members expire after a TTL; bounded by pruning expired members as it grows. */
export class ExpiringSet {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #members = new Map<string, number>();

  /**
   * Creates an empty set.
   *
   * @param clock Time source.
   * @param ttlMs How long a member stays (default 10 minutes).
   */
  constructor(clock: Clock, ttlMs = 600_000) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /**
   * Adds a member (refreshing its time).
   *
   * @param member The member.
   */
  add(member: string): void {
    const now = this.#clock.now();
    if (this.#members.size >= 1024) {
      for (const [key, at] of this.#members) if (now - at > this.#ttlMs) this.#members.delete(key);
    }
    this.#members.set(member, now);
  }

  /**
   * Whether `member` was added less than the TTL ago.
   *
   * @param member The member.
   * @returns Membership.
   */
  has(member: string): boolean {
    const at = this.#members.get(member);
    return at !== undefined && this.#clock.now() - at <= this.#ttlMs;
  }

  /** Number of members, expired ones not yet pruned included. */
  get size(): number {
    return this.#members.size;
  }
}

/** A live GET of a StatefulSet; `undefined` when it does not exist. */
async function liveStatefulSet(
  ctx: PodContext,
  namespace: string,
  name: string,
  signal: AbortSignal,
): Promise<StatefulSet | undefined> {
  try {
    return await ctx.client.get<StatefulSet>(STATEFUL_SETS, name, { namespace, signal });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
