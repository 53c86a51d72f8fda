/**
 * The LeaderWorkerSet reconciler (spec §7.2): a thin shell around the pure core. It reads the LWS and its objects
 * from the shared cache, resolves the revision (§7.3), computes the rolling-update parameters (§7.4), server-side
 * applies the leader StatefulSet, creates the shared headless Service if missing, writes the status (§7.9) and
 * truncates old revisions (§7.12). It never branches on "create or update" except where the spec names an event
 * for it.
 *
 * Cache staleness is tolerated, and the one place where it could do harm is covered by {@linkcode RecentWrites}:
 * a leader StatefulSet or ControllerRevision this process just wrote is read back from memory until the watch
 * delivers it, so a quick second reconcile never mistakes an old revision label for a template change (which would
 * create a duplicate revision and restart the rollout from the top).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod, Service } from "kubernetes-types/core/v1.d.ts";
import {
  EVENT_ACTION_CREATE,
  EVENT_ACTION_UPDATE,
  EVENT_REASON_CREATING_REVISION,
  EVENT_REASON_FAILED_CREATE,
  EVENT_REASON_FAILED_UPDATE,
  EVENT_TYPE_NORMAL,
  EVENT_TYPE_WARNING,
  FIELD_MANAGER,
  LABEL_NAME,
  LABEL_WORKER_INDEX,
} from "../../api/constants.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import type { Clock } from "../../kube/clock.ts";
import type { KubeClient } from "../../kube/client.ts";
import type { Action, ObjectKey, ReconcileInfo } from "../../kube/controller.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../../kube/errors.ts";
import { type EventRecorder, objectReference } from "../../kube/events.ts";
import { CONTROLLER_REVISIONS, LEADER_WORKER_SETS, SERVICES, STATEFUL_SETS } from "../../kube/resources.ts";
import { LWS_NAME_INDEX, type Store } from "../../kube/store.ts";
import { desiredLeaderStatefulSet, desiredSharedService, type PlannedEvent, wantsSharedService } from "./desired.ts";
import {
  buildControllerRevision,
  controllerRevisionBody,
  isTemplateUnchanged,
  nextRevisionNumber,
  revisionKey,
  revisionsOf,
} from "./revision.ts";
import {
  isPodRunningAndReady,
  leaderStatefulSetEvents,
  revisionKeyOf,
  rollingUpdateParameters,
} from "./rolling_update.ts";
import { computeStatus } from "./status.ts";

const log = getLogger(["lws", "controller", "leaderworkerset"]);

/** Name of the LWS controller (logs, metrics `controller` label), as upstream. */
export const LEADER_WORKER_SET_CONTROLLER = "leaderworkerset";

/** Index of the pod store: `<namespace>/<lws>` for leader pods (labels `name=<lws>`, `worker-index=0`). */
export const LEADER_POD_INDEX = "lwsLeaderPod";

/** Indexer of {@linkcode LEADER_POD_INDEX}; one function instance, so every consumer shares the index. */
export function leaderPodIndexer(pod: Pod): string[] {
  const labels = pod.metadata?.labels;
  const name = labels?.[LABEL_NAME];
  return name && labels[LABEL_WORKER_INDEX] === "0" ? [`${pod.metadata?.namespace ?? ""}/${name}`] : [];
}

/** Requeue delay while the leader StatefulSet is being deleted (spec §7.2 step 3, since v0.8.0). */
export const LEADER_STS_DELETING_REQUEUE_MS = 5_000;
/** Requeue delay after a status write conflict (controller-runtime requeues at once, rate limited). */
export const STATUS_CONFLICT_REQUEUE_MS = 200;
/** Requeue delay when the leader sts status counts more ready leader pods than the pod cache shows yet. */
export const POD_CACHE_LAG_REQUEUE_MS = 1_000;

/** The cached objects the LWS reconciler reads. Every store may be stale. */
export interface LeaderWorkerSetStores {
  /** LeaderWorkerSets. */
  leaderWorkerSets: Store<LeaderWorkerSet>;
  /** StatefulSets with the `name` label, with {@linkcode LWS_NAME_INDEX}. */
  statefulSets: Store<StatefulSet>;
  /** Pods with the `name` label, with {@linkcode LEADER_POD_INDEX}. */
  pods: Store<Pod>;
  /** Services with the `name` label. */
  services: Store<Service>;
  /** ControllerRevisions with the `name` label, with {@linkcode LWS_NAME_INDEX}. */
  revisions: Store<ControllerRevision>;
}

/** What {@linkcode reconcileLeaderWorkerSet} needs; built once by `startControllers`. */
export interface LeaderWorkerSetContext {
  /** API writes (the only HTTP this reconciler does). */
  client: Pick<KubeClient, "apply" | "create" | "updateStatus" | "delete">;
  /** Event recorder (events.k8s.io, `reportingController: leaderworkerset`). */
  events: Pick<EventRecorder, "record">;
  /** Cached reads. */
  stores: LeaderWorkerSetStores;
  /** Time of condition transitions. */
  clock: Clock;
  /** Read-your-writes memory of this controller (one instance per controller). */
  recent: RecentWrites;
}

/**
 * Reconciles one LeaderWorkerSet (spec §7.2 steps 1–11). Never called concurrently for one key.
 *
 * @param key The LWS.
 * @param ctx Client, events, stores, clock, recent writes.
 * @param info The reconcile's abort signal.
 * @returns `"awaitChange"`, or a requeue (leader sts being deleted; status conflict; pod cache lagging).
 * @throws API errors other than the handled ones (retried with backoff).
 */
export async function reconcileLeaderWorkerSet(
  key: ObjectKey,
  ctx: LeaderWorkerSetContext,
  info: ReconcileInfo,
): Promise<Action> {
  const lws = ctx.stores.leaderWorkerSets.get(key.namespace, key.name);
  if (lws === undefined) {
    ctx.recent.forgetName(key);
    return "awaitChange";
  }
  if (lws.metadata.deletionTimestamp) return "awaitChange"; // 1. let foreground deletion complete
  const { signal } = info;
  const leaderSts = ctx.recent.leaderStatefulSet(lws, ctx.stores.statefulSets.get(key.namespace, key.name));
  if (leaderSts?.metadata?.deletionTimestamp) return { requeueAfterMs: LEADER_STS_DELETING_REQUEUE_MS }; // 3.

  const revisions = ctx.recent.revisions(lws, revisionsOf(lws, byLws(ctx.stores.revisions, key)));
  const { revision, lwsUpdated } = await resolveRevision(ctx, lws, leaderSts, revisions, signal); // 4.–5.
  const currentKey = revisionKey(revision);
  const related = objectReference(revision, CONTROLLER_REVISIONS);
  const leaderPods = ctx.stores.pods.list({ index: [LEADER_POD_INDEX, `${key.namespace}/${key.name}`] });
  const params = rollingUpdateParameters(lws, { // 6.
    leaderStatefulSet: leaderSts,
    revisionKey: currentKey,
    lwsUpdated,
    leaderPods,
    statefulSets: byLws(ctx.stores.statefulSets, key),
  });
  for (const event of params.events) record(ctx, lws, event);

  const { partition, replicas } = params;
  const desired = desiredLeaderStatefulSet(lws, { revisionKey: currentKey, partition, replicas });
  let applied: StatefulSet;
  try { // 7.
    applied = await ctx.client.apply(STATEFUL_SETS, desired, { fieldManager: FIELD_MANAGER, force: true, signal });
  } catch (err) {
    const [reason, action, verb] = leaderSts === undefined
      ? [EVENT_REASON_FAILED_CREATE, EVENT_ACTION_CREATE, "create"]
      : [EVENT_REASON_FAILED_UPDATE, EVENT_ACTION_UPDATE, "update"];
    record(ctx, lws, {
      type: EVENT_TYPE_WARNING,
      reason,
      action,
      note: `Failed to ${verb} leader statefulset ${key.name}: ${message(err)}`,
    });
    throw err;
  }
  ctx.recent.rememberLeaderStatefulSet(lws, applied);
  for (const event of leaderStatefulSetEvents(lws, { previous: leaderSts, lwsUpdated, partition })) {
    record(ctx, lws, event, related); // 8.
  }

  if (wantsSharedService(lws) && ctx.stores.services.get(key.namespace, key.name) === undefined) { // 9.
    await createSharedService(ctx, lws, signal);
  }

  const now = new Date(ctx.clock.now()); // 10.
  const workers = (name: string) => ctx.stores.statefulSets.get(key.namespace, name);
  const status = computeStatus(lws, applied, leaderPods, workers, { revisionKey: currentKey, now });
  if (status.changed) {
    try {
      await ctx.client.updateStatus(LEADER_WORKER_SETS, { ...lws, status: status.status }, { signal });
    } catch (err) {
      if (isConflict(err)) {
        log.debug("Status of {namespace}/{name} changed meanwhile, requeueing", { ...key });
        return { requeueAfterMs: STATUS_CONFLICT_REQUEUE_MS };
      }
      throw err;
    }
    if (status.event) record(ctx, lws, status.event);
  }
  if (status.updateDone) await truncateRevisions(ctx, revisions, currentKey, signal); // 11.
  // The leader sts (fresh from the apply) may count a leader pod as ready before the pod watch delivers it; no
  // later sts event would correct the status, so look again shortly.
  const readyInCache = leaderPods.filter(isPodRunningAndReady).length;
  if ((applied.status?.readyReplicas ?? 0) > readyInCache) return { requeueAfterMs: POD_CACHE_LAG_REQUEUE_MS };
  return "awaitChange";
}

/** Objects of a store labelled with the LWS name, in the LWS namespace. */
function byLws<T>(store: Store<T>, key: ObjectKey): T[] {
  return [...store.list({ namespace: key.namespace, index: [LWS_NAME_INDEX, key.name] })];
}

/**
 * Spec §7.3: the base revision (from the leader sts label, created when missing), and a new revision when the
 * template changed.
 */
async function resolveRevision(
  ctx: LeaderWorkerSetContext,
  lws: LeaderWorkerSet,
  leaderSts: StatefulSet | undefined,
  revisions: ControllerRevision[],
  signal: AbortSignal,
): Promise<{ revision: ControllerRevision; lwsUpdated: boolean }> {
  const stsKey = leaderSts === undefined ? "" : revisionKeyOf(leaderSts);
  let base = stsKey === "" ? undefined : highest(revisions.filter((r) => revisionKey(r) === stsKey));
  if (base === undefined) {
    const note = (key: string) =>
      stsKey === ""
        ? `Creating revision with key ${key} for a newly created LeaderWorkerSet`
        : `Creating missing revision with key ${key} for existing LeaderWorkerSet`;
    base = await createRevision(ctx, lws, revisions, stsKey, note, signal);
  }
  if (leaderSts === undefined || isTemplateUnchanged(lws, base)) return { revision: base, lwsUpdated: false };
  const revision = await createRevision(
    ctx,
    lws,
    [...revisions, base],
    "",
    (key) => `Creating revision with key ${key} for updated LWS`,
    signal,
  );
  return { revision, lwsUpdated: true };
}

/** The revision with the highest `revision` number, if any. */
function highest(revisions: readonly ControllerRevision[]): ControllerRevision | undefined {
  let best: ControllerRevision | undefined;
  for (const r of revisions) if (best === undefined || r.revision > best.revision) best = r;
  return best;
}

/** Creates a ControllerRevision of the live LWS with its exact canonical bytes and records `CreatingRevision`. */
async function createRevision(
  ctx: LeaderWorkerSetContext,
  lws: LeaderWorkerSet,
  existing: readonly ControllerRevision[],
  key: string,
  note: (key: string) => string,
  signal: AbortSignal,
): Promise<ControllerRevision> {
  const built = buildControllerRevision(lws, { revisionNumber: nextRevisionNumber(existing), key });
  const created = await ctx.client.create<ControllerRevision>(CONTROLLER_REVISIONS, controllerRevisionBody(built), {
    namespace: lws.metadata.namespace,
    fieldManager: FIELD_MANAGER,
    signal,
  });
  ctx.recent.rememberRevision(lws, created);
  log.info("Created revision {revision} of {namespace}/{name}", {
    revision: created.metadata?.name,
    namespace: lws.metadata.namespace,
    name: lws.metadata.name,
  });
  record(ctx, lws, {
    type: EVENT_TYPE_NORMAL,
    reason: EVENT_REASON_CREATING_REVISION,
    action: EVENT_ACTION_CREATE,
    note: note(built.key),
  }, objectReference(created, CONTROLLER_REVISIONS));
  return created;
}

/** Spec §7.2 step 9: the shared headless Service, created when missing (AlreadyExists: someone has one). */
async function createSharedService(ctx: LeaderWorkerSetContext, lws: LeaderWorkerSet, signal: AbortSignal) {
  try {
    await ctx.client.create(SERVICES, desiredSharedService(lws), { fieldManager: FIELD_MANAGER, signal });
  } catch (err) {
    if (isAlreadyExists(err)) return;
    record(ctx, lws, {
      type: EVENT_TYPE_WARNING,
      reason: EVENT_REASON_FAILED_CREATE,
      action: EVENT_ACTION_CREATE,
      note: `Failed to create headless service for error: ${message(err)}`,
    });
    throw err;
  }
}

/** Spec §7.12: once the update is done, every revision of another key goes. */
async function truncateRevisions(
  ctx: LeaderWorkerSetContext,
  revisions: readonly ControllerRevision[],
  currentKey: string,
  signal: AbortSignal,
): Promise<void> {
  for (const revision of revisions) {
    if (revisionKey(revision) === currentKey) continue;
    const { name, namespace } = revision.metadata ?? {};
    try {
      await ctx.client.delete(CONTROLLER_REVISIONS, name ?? "", { namespace, signal });
      log.info("Deleted revision {namespace}/{revision}: the update to {key} is done", {
        namespace,
        revision: name,
        key: currentKey,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function record(
  ctx: LeaderWorkerSetContext,
  lws: LeaderWorkerSet,
  event: PlannedEvent,
  related?: ReturnType<typeof objectReference>,
): void {
  ctx.events.record(objectReference(lws, LEADER_WORKER_SETS), related ? { ...event, related } : event);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Remembered<T> {
  object: T;
  at: number;
}

/**
 * Read-your-writes memory of the LWS reconciler: the leader StatefulSet it last applied and the ControllerRevisions it
 * created, per LWS UID, until the cache shows them (or a TTL passes, after which the cache is trusted again — e.g.
 * when someone deleted the object meanwhile).
 *
 * A cached leader sts counts as caught up when its `metadata.generation` is at least the applied one's: every field
 * the reconciler reads back (revision label with the template label, partition, replicas) changes the spec, hence
 * the generation. resourceVersions are never compared.
 */
export class RecentWrites {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #leaders = new Map<string, Remembered<StatefulSet>>();
  readonly #revisions = new Map<string, Map<string, Remembered<ControllerRevision>>>();
  readonly #uids = new Map<string, string>();

  /**
   * Creates an empty memory.
   *
   * @param clock Time source for the TTL.
   * @param ttlMs How long a write may be missing from the cache before the cache is trusted (default 30 s).
   */
  constructor(clock: Clock, ttlMs = 30_000) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  /**
   * The leader sts to reconcile against: the cached one, unless this process applied a newer generation that the
   * cache has not shown yet.
   *
   * @param lws The LWS.
   * @param cached The cached leader sts, if any.
   * @returns The fresher of the two.
   */
  leaderStatefulSet(lws: LeaderWorkerSet, cached: StatefulSet | undefined): StatefulSet | undefined {
    const uid = lws.metadata.uid ?? "";
    const mine = this.#leaders.get(uid);
    if (mine === undefined) return cached;
    const expired = this.#clock.now() - mine.at > this.#ttlMs;
    if (cached === undefined) {
      if (!expired) return mine.object;
    } else if (
      cached.metadata?.uid === mine.object.metadata?.uid &&
      (cached.metadata?.generation ?? 0) < (mine.object.metadata?.generation ?? 0) && !expired
    ) {
      return mine.object;
    }
    this.#leaders.delete(uid);
    return cached;
  }

  /**
   * Remembers an applied leader sts (the API's answer).
   *
   * @param lws Its LWS.
   * @param sts The applied object.
   */
  rememberLeaderStatefulSet(lws: LeaderWorkerSet, sts: StatefulSet): void {
    const uid = lws.metadata.uid ?? "";
    this.#uids.set(nameKey(lws), uid);
    this.#leaders.set(uid, { object: sts, at: this.#clock.now() });
  }

  /**
   * The revisions of an LWS: the cached ones plus those this process created that the cache lacks.
   *
   * @param lws The LWS.
   * @param cached Its cached revisions.
   * @returns A new list.
   */
  revisions(lws: LeaderWorkerSet, cached: ControllerRevision[]): ControllerRevision[] {
    const mine = this.#revisions.get(lws.metadata.uid ?? "");
    if (mine === undefined) return cached;
    const now = this.#clock.now();
    const names = new Set(cached.map((r) => r.metadata?.name));
    const result = [...cached];
    for (const [name, entry] of mine) {
      if (names.has(name) || now - entry.at > this.#ttlMs) mine.delete(name);
      else result.push(entry.object);
    }
    if (mine.size === 0) this.#revisions.delete(lws.metadata.uid ?? "");
    return result;
  }

  /**
   * Remembers a created revision.
   *
   * @param lws Its LWS.
   * @param revision The created object.
   */
  rememberRevision(lws: LeaderWorkerSet, revision: ControllerRevision): void {
    const uid = lws.metadata.uid ?? "";
    this.#uids.set(nameKey(lws), uid);
    let mine = this.#revisions.get(uid);
    if (mine === undefined) this.#revisions.set(uid, mine = new Map());
    mine.set(revision.metadata?.name ?? "", { object: revision, at: this.#clock.now() });
  }

  /**
   * Drops everything remembered for an LWS that is gone.
   *
   * @param key The LWS's namespace and name.
   */
  forgetName(key: ObjectKey): void {
    const k = `${key.namespace}/${key.name}`;
    const uid = this.#uids.get(k);
    if (uid === undefined) return;
    this.#uids.delete(k);
    this.#leaders.delete(uid);
    this.#revisions.delete(uid);
  }

  /** Number of LWS with something remembered (for tests and metrics). */
  get size(): number {
    return new Set([...this.#leaders.keys(), ...this.#revisions.keys()]).size;
  }
}

function nameKey(lws: LeaderWorkerSet): string {
  return `${lws.metadata.namespace ?? ""}/${lws.metadata.name ?? ""}`;
}
