/**
 * Rollouts on the real control plane, observed exactly.
 *
 * {@linkcode History} lists and watches the Pods, StatefulSets, LeaderWorkerSets and ControllerRevisions of a test
 * namespace and keeps every change. Watch streams of different resources arrive independently, so a naive "look at
 * the pods and the StatefulSet now" mixes moments. Instead the changes are merged in etcd order and replayed, which
 * gives the exact sequence of consistent states the cluster went through: every invariant is checked on every one
 * of them ({@linkcode checkRollout}), not on samples taken by polling.
 *
 * Test oracle only: this module reads `metadata.resourceVersion` as the etcd revision (an integer that grows with
 * every write of the cluster). That holds for the local control plane (one etcd) and is exactly what product code
 * must never rely on.
 *
 * Also here: a product whose controllers can be stopped and started again while its webhook keeps serving (a
 * controller restart in-process), the LWS budget arithmetic the invariants need, and waits on the live state.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  ANNOTATION_SIZE,
  LABEL_GROUP_INDEX,
  LABEL_NAME,
  LABEL_TEMPLATE_REVISION_HASH,
  LABEL_WORKER_INDEX,
} from "../../../api/constants.ts";
import type { LeaderWorkerSet } from "../../../api/types.ts";
import { type RunningControllers, startControllers } from "../../../controller/manager.ts";
import { rolloutBudget } from "../../../controller/leaderworkerset/rolling_update.ts";
import { InformerCache } from "../../../kube/cache.ts";
import { createClient, type KubeClient } from "../../../kube/client.ts";
import { isGone } from "../../../kube/errors.ts";
import { clientEventSink, createEventRecorder, type EventRecorder } from "../../../kube/events.ts";
import { loadKubeConfig } from "../../../kube/kubeconfig.ts";
import { CONTROLLER_REVISIONS, LEADER_WORKER_SETS, PODS, STATEFUL_SETS } from "../../../kube/resources.ts";
import type { KubeObject, ResourceType } from "../../../kube/types.ts";
import { eventually, type TestCluster } from "../../cluster/harness.ts";
import {
  assertAvailableStatus,
  assertGroups,
  conditionOf,
  getLws,
  installCrd,
  type Product,
  revisionsOfLws,
  waitAvailable,
} from "./product.ts";
import { type LocalWebhook, startLocalWebhook } from "./webhook_local.ts";

const REVISION = LABEL_TEMPLATE_REVISION_HASH;

// ---------------------------------------------------------------------------------------------------------------
// The recorded history

/** The kinds a {@linkcode History} records. */
export type Kind = "pod" | "sts" | "lws" | "revision";

const SOURCES: readonly [Kind, ResourceType][] = [
  ["pod", PODS],
  ["sts", STATEFUL_SETS],
  ["lws", LEADER_WORKER_SETS],
  ["revision", CONTROLLER_REVISIONS],
];

/** One change of one object. */
export interface Change {
  kind: Kind;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KubeObject;
  /** The etcd revision of the change (the object's resourceVersion; for a deletion, the deletion's). */
  rv: number;
  /** When this process received it (ms since the epoch). */
  at: number;
}

/** Objects of a namespace by kind and name, as they are at one moment. */
export class World {
  readonly pods = new Map<string, Pod>();
  readonly statefulSets = new Map<string, StatefulSet>();
  readonly leaderWorkerSets = new Map<string, LeaderWorkerSet>();
  readonly revisions = new Map<string, ControllerRevision>();

  /** Applies one change. */
  apply(change: Pick<Change, "kind" | "type" | "object">): void {
    const map = this.#map(change.kind);
    const name = change.object.metadata?.name ?? "";
    if (change.type === "DELETED") map.delete(name);
    else map.set(name, change.object);
  }

  #map(kind: Kind): Map<string, KubeObject> {
    switch (kind) {
      case "pod":
        return this.pods as Map<string, KubeObject>;
      case "sts":
        return this.statefulSets as Map<string, KubeObject>;
      case "lws":
        return this.leaderWorkerSets as unknown as Map<string, KubeObject>;
      case "revision":
        return this.revisions as Map<string, KubeObject>;
    }
  }
}

function rvOf(object: KubeObject): number {
  const rv = Number(object.metadata?.resourceVersion);
  if (!Number.isSafeInteger(rv)) {
    throw new Error(`Cannot order changes: resourceVersion ${object.metadata?.resourceVersion}`);
  }
  return rv;
}

/**
 * Every change of Pods, StatefulSets, LeaderWorkerSets and ControllerRevisions in one namespace from the moment it
 * starts, plus the live state. A watch that loses history (410 Gone) makes {@linkcode History.changes} throw rather
 * than replay a gap.
 */
export class History implements AsyncDisposable {
  /** The state as the streams delivered it so far (each kind current, kinds not necessarily at one moment). */
  readonly live = new World();
  /** Replay starts here: every stream has listed by this etcd revision, so later states are complete. */
  startRv = 0;
  readonly #log: Change[] = [];
  readonly #initial: Change[] = [];
  readonly #stop = new AbortController();
  readonly #client: KubeClient;
  readonly #namespace: string;
  #running: Promise<void>[] = [];
  #failure: unknown;

  private constructor(client: KubeClient, namespace: string) {
    this.#client = client;
    this.#namespace = namespace;
  }

  /**
   * Lists the four kinds and starts watching them.
   *
   * @param cluster The test cluster.
   * @param namespace The namespace to record.
   * @returns The recording history; `await using` stops it.
   */
  static async start(cluster: TestCluster, namespace: string): Promise<History> {
    const client = await testClient(cluster, "lws-rollout-observer/0");
    const history = new History(client, namespace);
    try {
      for (const [kind, type] of SOURCES) {
        const list = await client.listAll<KubeObject>(type, { namespace });
        const listRv = Number(list.metadata.resourceVersion);
        history.startRv = Math.max(history.startRv, listRv);
        for (const object of list.items) {
          const change: Change = { kind, type: "ADDED", object, rv: rvOf(object), at: Date.now() };
          history.#initial.push(change);
          history.live.apply(change);
        }
        history.#running.push(history.#watch(kind, type, list.metadata.resourceVersion ?? ""));
      }
    } catch (err) {
      await history[Symbol.asyncDispose]();
      throw err;
    }
    return history;
  }

  async #watch(kind: Kind, type: ResourceType, from: string): Promise<void> {
    let rv = from;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        const stream = this.#client.watch<KubeObject>(type, {
          namespace: this.#namespace,
          resourceVersion: rv,
          allowWatchBookmarks: true,
          timeoutSeconds: 120,
          signal,
        });
        for await (const event of stream) {
          if (event.type === "ERROR") {
            throw new Error(`Watch of ${type.plural} failed: ${JSON.stringify(event.object)}`);
          }
          rv = event.object.metadata?.resourceVersion ?? rv;
          if (event.type === "BOOKMARK") continue;
          const change: Change = {
            kind,
            type: event.type,
            object: event.object,
            rv: rvOf(event.object),
            at: Date.now(),
          };
          this.#log.push(change);
          this.live.apply(change);
        }
      } catch (err) {
        if (signal.aborted) return;
        if (isGone(err) || (err instanceof Error && err.message.includes('"code":410'))) {
          this.#failure = new Error(`The ${type.plural} history has a gap: ${(err as Error).message}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /**
   * Every recorded change in etcd order, the listed objects first (as changes at their own revision).
   *
   * @throws When a watch lost history.
   */
  changes(): Change[] {
    if (this.#failure) throw this.#failure;
    return [...this.#initial, ...[...this.#log].sort((a, b) => a.rv - b.rv)];
  }

  /**
   * Replays the changes: `visit` sees the world after each change at or after {@linkcode History.startRv} (and
   * `fromRv`).
   * The world is the same mutable object on every call (copy what you keep).
   */
  replay(visit: (world: World, change: Change) => void, fromRv = 0): void {
    const world = new World();
    const from = Math.max(this.startRv, fromRv);
    for (const change of this.changes()) {
      world.apply(change);
      if (change.rv >= from) visit(world, change);
    }
  }

  /** Stops watching. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled(this.#running);
    this.#client.close();
  }
}

/** A client of the test cluster with its own user agent (so its writes never count as the controller's `lws`). */
export async function testClient(cluster: TestCluster, userAgent = "lws-rollout-test/0"): Promise<KubeClient> {
  return createClient(await loadKubeConfig({ path: cluster.kubeconfig }), { qps: 100, burst: 200, userAgent });
}

// ---------------------------------------------------------------------------------------------------------------
// Groups as the pods show them

/** Go's `podutils.PodRunningAndReady`, and not being deleted. */
export function podAvailable(pod: Pod | undefined): boolean {
  return pod !== undefined && !pod.metadata?.deletionTimestamp && pod.status?.phase === "Running" &&
    (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** One group at one moment: its leader pod, the worker sts it controls, and that sts's pods. */
export interface GroupView {
  index: number;
  leader: Pod;
  /** The leader's revision key. */
  key: string;
  workerSts: StatefulSet | undefined;
  workers: Pod[];
  /** Leader and all S − 1 workers Running, Ready and not being deleted (S from the leader's size annotation). */
  available: boolean;
}

/**
 * The groups of an LWS, by leader pod (`<lws>-<i>`, worker-index 0): ownership decides membership (worker sts
 * controlled by the leader's UID, pods controlled by that sts's UID), never names or labels alone. A group's size is
 * its leader's `size` annotation (groups of an old and a new size coexist during a size change).
 *
 * @param world The state.
 * @param lws The LWS name.
 * @param size Pods per group when a leader lacks the `size` annotation.
 * @returns Groups by index.
 */
export function groupsOf(world: World, lws: string, size: number): Map<number, GroupView> {
  const stsByOwner = byController(world.statefulSets.values());
  const podsByOwner = byController(world.pods.values());
  const groups = new Map<number, GroupView>();
  const pattern = new RegExp(`^${lws}-(\\d+)$`);
  for (const pod of world.pods.values()) {
    const labels = pod.metadata?.labels ?? {};
    if (labels[LABEL_NAME] !== lws || labels[LABEL_WORKER_INDEX] !== "0") continue;
    const match = pattern.exec(pod.metadata?.name ?? "");
    if (!match) continue;
    const index = Number(match[1]);
    const workerSts = stsByOwner.get(pod.metadata?.uid ?? "")?.[0];
    const workers = workerSts === undefined ? [] : podsByOwner.get(workerSts.metadata?.uid ?? "") ?? [];
    const groupSize = Number(pod.metadata?.annotations?.[ANNOTATION_SIZE] ?? size);
    const available = podAvailable(pod) &&
      (groupSize === 1 || (workers.length === groupSize - 1 && workers.every(podAvailable)));
    groups.set(index, { index, leader: pod, key: labels[REVISION] ?? "", workerSts, workers, available });
  }
  return groups;
}

function byController<T extends KubeObject>(objects: Iterable<T>): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const object of objects) {
    const owner = object.metadata?.ownerReferences?.find((o) => o.controller)?.uid;
    if (owner === undefined) continue;
    const list = map.get(owner);
    if (list) list.push(object);
    else map.set(owner, [object]);
  }
  return map;
}

/** Revision mix-ups inside one group: the worker sts (labels, template labels) and its pods vs the leader. */
export function revisionMixups(group: GroupView): string[] {
  const out: string[] = [];
  const name = group.leader.metadata?.name;
  const sts = group.workerSts;
  if (sts !== undefined) {
    const stsKey = sts.metadata?.labels?.[REVISION];
    const templateKey = sts.spec?.template.metadata?.labels?.[REVISION];
    if (stsKey !== group.key) out.push(`worker sts of ${name} carries ${stsKey}, its leader ${group.key}`);
    if (templateKey !== group.key) {
      out.push(`worker sts template of ${name} carries ${templateKey}, leader ${group.key}`);
    }
  }
  for (const worker of group.workers) {
    const key = worker.metadata?.labels?.[REVISION];
    if (key !== group.key) out.push(`worker ${worker.metadata?.name} carries ${key}, its leader ${name} ${group.key}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Invariants of a rollout

/** What a rollout must respect. */
export interface RolloutRules {
  /** The LWS name. */
  lws: string;
  /** N. */
  replicas: number;
  /** S of the new revision (groups are judged by their own leader's `size` annotation). */
  size: number;
  /** mu (scaled, rounded down). */
  maxUnavailable: number;
  /** ms (scaled, rounded up, capped at N). */
  maxSurge: number;
  /** P (default 0). */
  partition?: number;
  /** The new revision key. */
  newKey: string;
  /**
   * Check "available groups ≥ N − mu" at every state and before every partition move (default true). Off when
   * groups are unavailable for reasons of their own (e.g. an old revision that never becomes ready).
   */
  availability?: boolean;
  /** Check only the states from this etcd revision on (default: from the start of the history). */
  fromRv?: number;
}

/**
 * The budget of an LWS as the invariants use it (spec §7.4): N, mu, ms, P.
 *
 * @param lws An LWS (defaults as the webhook applies them).
 * @returns The numbers for {@linkcode RolloutRules}.
 */
export function budgetOf(
  lws: LeaderWorkerSet,
): Pick<RolloutRules, "replicas" | "maxUnavailable" | "maxSurge" | "partition"> {
  const b = rolloutBudget(lws);
  return { replicas: b.replicas, maxUnavailable: b.maxUnavailable, maxSurge: b.maxSurge, partition: b.partition };
}

/** What {@linkcode checkRollout} saw. */
export interface RolloutReport {
  /** Leader sts partitions, each distinct consecutive value once, from its first state on the new revision. */
  partitions: number[];
  /** Leader sts `spec.replicas`, each distinct consecutive value once, over the whole history. */
  replicas: number[];
  /** Highest `spec.replicas` of the leader sts. */
  maxReplicas: number;
  /** Highest number of leader pods existing at once. */
  maxLeaders: number;
  /** Leader pod UIDs per group index, in order of appearance. */
  leaderUids: Map<number, string[]>;
  /** Worker StatefulSet UIDs per group index (by name), in order of appearance. */
  workerStsUids: Map<number, string[]>;
  /** Worker pod UIDs per pod name, in order of appearance. */
  workerPodUids: Map<string, string[]>;
  /** Fewest available groups at any state. */
  minAvailable: number;
  /** States checked. */
  states: number;
  /**
   * States in which non-terminating pods labelled with one group index carried two revisions: the previous
   * leader's workers waiting for garbage collection next to the new leader (they belong to no leader: never a
   * violation, measured to report).
   */
  orphanOverlapStates: number;
  /** Longest wall-clock span (receive times) of such an overlap, ms. */
  orphanOverlapMs: number;
  /**
   * Pods of the new revision deleted by someone other than the controllers, by group index: a deletion with grace
   * period 0 of a pod that had not terminated, or the removal of a pod that was never seen terminating. No product
   * code deletes that way; unpatched KWOK v0.8.0 does: a stale stage job deletes by *name* without a UID
   * precondition, so it sometimes killed the successor that a StatefulSet had just created under the same name.
   * `tests/cluster/build.sh` now builds KWOK with UID preconditions (`tests/cluster/kwok/`), which should leave this
   * empty; it stays counted for any other deleter. Under a group restart policy such a deletion rightly restarts the
   * group once more.
   */
  externalDeletions: Map<number, string[]>;
  /**
   * States in which fewer than N − mu groups were available but the shortfall was made of groups hit by an external
   * deletion that had not come back yet (tolerated: each such group costs itself, no more).
   */
  toleratedStates: number;
  /** Every broken invariant, with the etcd revision of the state. */
  violations: string[];
}

/**
 * Replays the history and checks at every state:
 * - the leader sts never has more than N + ms replicas, and never more than N + ms leader pods exist; none at an
 *   index ≥ N + ms;
 * - no group mixes revisions: the worker sts of a leader (labels and template) and that sts's pods carry the
 *   leader's revision;
 * - available groups (leader and all workers Running, Ready, not deleted) ≥ N − mu, and every partition move leaves
 *   enough: available − (available groups at or above the new partition still on an old revision) ≥ N − mu; a group
 *   hit by an external deletion (`externalDeletions`) counts as available until it is back, as the rollout
 *   simulation does with failures: it costs itself, no more (`toleratedStates` counts such states);
 * - from the first state of the leader sts on the new revision, the partition never rises and never goes below P;
 *   no leader below P is on the new revision.
 *
 * @param history The recorded history.
 * @param rules The rollout's budget and new key.
 * @returns What it saw (violations included; see {@linkcode assertRollout}).
 */
export function checkRollout(history: History, rules: RolloutRules): RolloutReport {
  const n = rules.replicas;
  const p = rules.partition ?? 0;
  const burst = n + rules.maxSurge;
  const minAvailable = n - rules.maxUnavailable;
  const checkAvailability = rules.availability ?? true;
  const report: RolloutReport = {
    partitions: [],
    replicas: [],
    maxReplicas: 0,
    maxLeaders: 0,
    leaderUids: new Map(),
    workerStsUids: new Map(),
    workerPodUids: new Map(),
    minAvailable: Number.POSITIVE_INFINITY,
    states: 0,
    orphanOverlapStates: 0,
    orphanOverlapMs: 0,
    externalDeletions: new Map(),
    toleratedStates: 0,
    violations: [],
  };
  const violation = (rv: number, text: string) => {
    if (report.violations.length < 50) report.violations.push(`@${rv}: ${text}`);
  };
  const push = <K>(map: Map<K, string[]>, key: K, uid: string | undefined) => {
    if (!uid) return;
    const list = map.get(key);
    if (list === undefined) map.set(key, [uid]);
    else if (!list.includes(uid)) list.push(uid);
  };
  let started = false;
  let lastPartition = Number.POSITIVE_INFINITY;
  let overlapSince: number | undefined;
  const workerPattern = new RegExp(`^${rules.lws}-(\\d+)-(\\d+)$`);

  const deleting = new Set<string>();
  const disrupted = new Set<number>();
  history.replay((world, change) => {
    report.states++;
    const rv = change.rv;
    if (change.kind === "pod") {
      const group = noteExternalDeletion(report, rules, world, change, deleting);
      if (group !== undefined) disrupted.add(group);
    }
    const sts = world.statefulSets.get(rules.lws);
    const groups = groupsOf(world, rules.lws, rules.size);
    for (const g of disrupted) if (groups.get(g)?.available) disrupted.delete(g);
    let available = 0;
    for (const g of groups.values()) {
      push(report.leaderUids, g.index, g.leader.metadata?.uid);
      if (g.workerSts) push(report.workerStsUids, g.index, g.workerSts.metadata?.uid);
      if (g.available) available++;
      for (const text of revisionMixups(g)) violation(rv, text);
      if (g.index >= burst) violation(rv, `leader ${g.leader.metadata?.name} at index ≥ N + ms = ${burst}`);
      if (started && g.index < p && g.key === rules.newKey) {
        violation(rv, `leader ${g.leader.metadata?.name} below the partition ${p} is on the new revision`);
      }
    }
    for (const pod of world.pods.values()) {
      const match = workerPattern.exec(pod.metadata?.name ?? "");
      if (match && pod.metadata?.labels?.[LABEL_NAME] === rules.lws) {
        push(report.workerPodUids, pod.metadata!.name!, pod.metadata?.uid);
      }
    }
    report.maxLeaders = Math.max(report.maxLeaders, groups.size);
    if (groups.size > burst) violation(rv, `${groups.size} groups exist, more than N + ms = ${burst}`);
    report.minAvailable = Math.min(report.minAvailable, available);
    // A group hit by an external deletion is down by no decision of the controllers: it costs itself, no more.
    if (checkAvailability && available + disrupted.size < minAvailable) {
      violation(rv, `${available} available groups < N − mu = ${minAvailable} (${describeGroups(groups)})`);
    }
    if (available < minAvailable && disrupted.size > 0) report.toleratedStates++;

    // Pods labelled with one group index on two revisions (not counting terminating ones).
    const keysByGroup = new Map<string, Set<string>>();
    for (const pod of world.pods.values()) {
      const labels = pod.metadata?.labels ?? {};
      if (labels[LABEL_NAME] !== rules.lws || pod.metadata?.deletionTimestamp) continue;
      const group = labels[LABEL_GROUP_INDEX] ?? "";
      const keys = keysByGroup.get(group) ?? new Set();
      keys.add(labels[REVISION] ?? "");
      keysByGroup.set(group, keys);
    }
    if ([...keysByGroup.values()].some((keys) => keys.size > 1)) {
      report.orphanOverlapStates++;
      overlapSince ??= change.at;
      report.orphanOverlapMs = Math.max(report.orphanOverlapMs, change.at - overlapSince);
    } else {
      overlapSince = undefined;
    }

    if (sts === undefined) return;
    const replicas = sts.spec?.replicas ?? 1;
    if (report.replicas.at(-1) !== replicas) report.replicas.push(replicas);
    report.maxReplicas = Math.max(report.maxReplicas, replicas);
    if (replicas > burst) violation(rv, `leader sts has ${replicas} replicas, more than N + ms = ${burst}`);
    const partition = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    if (!started && sts.metadata?.labels?.[REVISION] === rules.newKey) started = true;
    if (!started) return;
    if (partition < p) violation(rv, `partition ${partition} below P = ${p}`);
    if (partition > lastPartition) violation(rv, `partition rose from ${lastPartition} to ${partition}`);
    if (partition < lastPartition && lastPartition !== Number.POSITIVE_INFINITY && checkAvailability) {
      let doomed = 0;
      for (const g of groups.values()) {
        if (g.index >= partition && g.index < replicas && g.available && g.key !== rules.newKey) doomed++;
      }
      if (available - doomed + disrupted.size < minAvailable) {
        violation(
          rv,
          `partition ${lastPartition} → ${partition} would leave ${
            available - doomed
          } available groups < ${minAvailable} (${describeGroups(groups)})`,
        );
      }
    }
    lastPartition = partition;
    if (report.partitions.at(-1) !== partition) report.partitions.push(partition);
  }, rules.fromRv);
  return report;
}

/**
 * Records a pod of the new revision deleted the way only KWOK does (see `RolloutReport.externalDeletions`) and
 * returns its group index: with
 * grace period 0 while not terminated, or removed at once without ever terminating while nothing that owns it was
 * going (an unscheduled pod whose owner goes is removed at once by the garbage collector: not external).
 */
function noteExternalDeletion(
  report: RolloutReport,
  rules: RolloutRules,
  world: World,
  change: Change,
  deleting: Set<string>,
): number | undefined {
  const pod = change.object as Pod;
  const meta = pod.metadata ?? {};
  const uid = meta.uid ?? "";
  if (meta.labels?.[LABEL_NAME] !== rules.lws || meta.labels[REVISION] !== rules.newKey) return undefined;
  if (pod.status?.phase === "Failed" || pod.status?.phase === "Succeeded") return undefined;
  let external: boolean;
  if (change.type === "DELETED") {
    external = !deleting.has(uid) && !meta.deletionTimestamp && ownersAlive(world, pod);
  } else {
    external = !!meta.deletionTimestamp && !deleting.has(uid) && meta.deletionGracePeriodSeconds === 0;
  }
  if (meta.deletionTimestamp) deleting.add(uid);
  if (!external) return undefined;
  const group = Number(meta.labels[LABEL_GROUP_INDEX] ?? /-(\d+)(-\d+)?$/.exec(meta.name ?? "")?.[1]);
  const list = report.externalDeletions.get(group) ?? [];
  list.push(`${meta.name} (${uid.slice(0, 8)}) @${change.rv}`);
  report.externalDeletions.set(group, list);
  return group;
}

/** Whether a pod's controlling StatefulSet (and, for a worker, that sts's controlling pod) exist, not deleting. */
function ownersAlive(world: World, pod: Pod): boolean {
  const alive = (o: KubeObject | undefined) => o !== undefined && !o.metadata?.deletionTimestamp;
  const ownerName = (o: KubeObject) => o.metadata?.ownerReferences?.find((r) => r.controller)?.name ?? "";
  const sts = world.statefulSets.get(ownerName(pod));
  if (!alive(sts)) return false;
  const stsOwner = sts!.metadata?.ownerReferences?.find((r) => r.controller);
  if (stsOwner?.kind !== "Pod") {
    // A leader: its removal by a scale-down is the controllers' own doing.
    const index = Number(/-(\d+)$/.exec(pod.metadata?.name ?? "")?.[1]);
    return index < (sts!.spec?.replicas ?? 1);
  }
  return alive(world.pods.get(stsOwner.name));
}

function describeGroups(groups: Map<number, GroupView>): string {
  return [...groups.values()].sort((a, b) => a.index - b.index)
    .map((g) => `${g.index}:${g.key.slice(0, 4)}${g.available ? "+" : "-"}`).join(" ");
}

/**
 * {@linkcode checkRollout} and asserts there are no violations, and that the history is not trivially short. With
 * `LWS_ROLLOUT_DUMP=<dir>` a history with violations is written there (JSON, every change in etcd order).
 *
 * @returns The report.
 */
export function assertRollout(history: History, rules: RolloutRules): RolloutReport {
  const report = checkRollout(history, rules);
  const dump = Deno.env.get("LWS_ROLLOUT_DUMP");
  if (dump && report.violations.length > 0) {
    Deno.writeTextFileSync(`${dump}/${rules.lws}-${Date.now()}.json`, JSON.stringify(history.changes()));
  }
  assert.deepEqual(report.violations, [], `invariants of ${rules.lws}`);
  assert.ok(report.states > 0, "no state was observed");
  return report;
}

/**
 * Asserts that each group below N was restarted exactly `restarts` times (leader pod UIDs), that each of its worker
 * pods was replaced as often (S > 1), and that indexes ≥ N (surge groups) had at most one leader. A pod deletion
 * from outside the controllers (`RolloutReport.externalDeletions`, KWOK) may cost its group one more restart; such
 * groups may show up to one extra restart per deletion, and are logged.
 *
 * @param report What {@linkcode checkRollout} saw.
 * @param options The LWS name, N, S (worker pods `-1` … `-(S−1)` are counted), restarts per group (default 1, or a
 *   function of the group index).
 */
export function assertRestarts(
  report: RolloutReport,
  options: { replicas: number; size: number; restarts?: number | ((group: number) => number); lws: string },
): void {
  const expected = (g: number) => typeof options.restarts === "function" ? options.restarts(g) : options.restarts ?? 1;
  const counts: Record<string, number> = {};
  const wanted: Record<string, number> = {};
  for (let g = 0; g < options.replicas; g++) {
    const excused = report.externalDeletions.get(g)?.length ?? 0;
    const names = [`${options.lws}-${g}`];
    for (let w = 1; w < options.size; w++) names.push(`${options.lws}-${g}-${w}`);
    for (const name of names) {
      const uids = (name === names[0] ? report.leaderUids.get(g) : report.workerPodUids.get(name))?.length ?? 0;
      const want = expected(g) + 1;
      // An excused group may have been restarted once more per external deletion (or not, if they coincided); a
      // killed worker may also have been recreated by its StatefulSet before the group restart replaced it again.
      const slack = name === names[0] ? excused : 2 * excused;
      counts[name] = uids > want && uids <= want + slack ? want : uids;
      wanted[name] = want;
    }
    if (excused > 0) {
      console.log(`  (group ${g}: pods deleted outside the controllers: ${report.externalDeletions.get(g)})`);
    }
  }
  assert.deepEqual(
    counts,
    wanted,
    `pods (UIDs) per name: each group replaced exactly as often as expected; deleted outside the controllers: ${
      JSON.stringify([...report.externalDeletions])
    }`,
  );
  for (const [g, uids] of report.leaderUids) {
    const excused = report.externalDeletions.get(g)?.length ?? 0;
    if (g >= options.replicas) assert.ok(uids.length <= 1 + excused, `surge group ${g} created ${uids.length} times`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Waits on the live state

/**
 * Waits until the rollout to `rules.newKey` is complete in the live state: the LWS Available (True, generation
 * observed) with ready/updated/replicas = N; the leader sts at partition P with the expected replicas; every group
 * below N available with the new key at and above P; no leader at or above the final replicas.
 *
 * @param history The live state.
 * @param rules Name, N, S, P, key.
 * @param options Final leader sts replicas (default N) and timeout (default 120 s).
 * @returns The LWS.
 */
export async function waitRolledOut(
  history: History,
  rules: RolloutRules,
  options: { finalReplicas?: number; timeoutMs?: number } = {},
): Promise<LeaderWorkerSet> {
  const n = rules.replicas;
  const p = rules.partition ?? 0;
  const finalReplicas = options.finalReplicas ?? n;
  return await eventually(`${rules.lws} rolled out to ${rules.newKey}`, () => {
    const world = history.live;
    const lws = world.leaderWorkerSets.get(rules.lws);
    const sts = world.statefulSets.get(rules.lws);
    if (!lws || !sts) return Promise.resolve(undefined);
    const gen = lws.metadata.generation;
    const available = lws.status?.conditions?.find((c) => c.type === "Available");
    const updated = p === 0 ? n : Math.max(0, finalReplicas - p);
    const statusOk = available?.status === "True" && available.observedGeneration === gen &&
      lws.status?.observedGeneration === gen && lws.status?.readyReplicas === finalReplicas &&
      (lws.status?.updatedReplicas ?? 0) === updated && lws.status?.replicas === finalReplicas;
    const stsOk = sts.spec?.replicas === finalReplicas && sts.spec?.updateStrategy?.rollingUpdate?.partition === p &&
      sts.metadata?.labels?.[REVISION] === rules.newKey;
    const groups = groupsOf(world, rules.lws, rules.size);
    let groupsOk = groups.size === finalReplicas;
    for (let g = 0; g < finalReplicas && groupsOk; g++) {
      const group = groups.get(g);
      groupsOk = group !== undefined && group.available && (g < p || group.key === rules.newKey);
    }
    return Promise.resolve(statusOk && stsOk && groupsOk ? lws : undefined);
  }, { timeoutMs: options.timeoutMs ?? 120_000, intervalMs: 100 });
}

/**
 * Waits until the live LWS is Available with all N groups ready and returns its current revision key (from the
 * leader sts).
 */
export async function waitSettled(history: History, lws: string, timeoutMs = 90_000): Promise<string> {
  return await eventually(`${lws} to settle`, () => {
    const object = history.live.leaderWorkerSets.get(lws);
    const sts = history.live.statefulSets.get(lws);
    const n = object?.spec.replicas ?? 1;
    const available = object?.status?.conditions?.find((c) => c.type === "Available");
    const ok = available?.status === "True" && available.observedGeneration === object?.metadata.generation &&
      object?.status?.readyReplicas === n && object.status.updatedReplicas === n && object.status.replicas === n &&
      sts?.spec?.replicas === n;
    return Promise.resolve(ok ? sts?.metadata?.labels?.[REVISION] : undefined);
  }, { timeoutMs, intervalMs: 100 });
}

/**
 * Waits until an LWS revision with a key other than `oldKey` exists and returns its key.
 */
export async function waitNewKey(history: History, lws: string, oldKey: string): Promise<string> {
  return await eventually(`a new revision of ${lws}`, () => {
    const sts = history.live.statefulSets.get(lws);
    const key = sts?.metadata?.labels?.[REVISION];
    return Promise.resolve(key !== undefined && key !== oldKey ? key : undefined);
  }, { timeoutMs: 60_000, intervalMs: 50 });
}

/** The LWS's own ControllerRevisions (controlled by a LeaderWorkerSet) in the live state, by revision number. */
export function lwsRevisions(world: World, lws: string): ControllerRevision[] {
  return [...world.revisions.values()]
    .filter((r) =>
      r.metadata?.labels?.[LABEL_NAME] === lws &&
      r.metadata.ownerReferences?.some((o) => o.controller && o.kind === "LeaderWorkerSet")
    )
    .sort((a, b) => a.revision - b.revision);
}

// ---------------------------------------------------------------------------------------------------------------
// A product whose controllers restart while the webhook keeps serving

/**
 * The webhook for a test namespace plus the controllers on their own cache, which can be stopped and started again
 * (fresh cache, fresh memories: what a process restart gives the controllers). `product` is the current
 * generation, usable with the helpers of `product.ts`.
 */
export class RestartableProduct implements AsyncDisposable {
  /** Controller generations started so far. */
  generations = 0;
  readonly #cluster: TestCluster;
  readonly #namespace: string;
  readonly #webhook: LocalWebhook;
  readonly #client: KubeClient;
  #running:
    | {
      stop: AbortController;
      cache: InformerCache;
      controllers: RunningControllers;
      events: EventRecorder;
      cacheStopped: Promise<void>;
    }
    | undefined;

  private constructor(cluster: TestCluster, namespace: string, webhook: LocalWebhook, client: KubeClient) {
    this.#cluster = cluster;
    this.#namespace = namespace;
    this.#webhook = webhook;
    this.#client = client;
  }

  /**
   * Installs the CRD, starts the webhook and (unless `controllers: false`) the controllers.
   *
   * @param cluster The test cluster.
   * @param namespace The test namespace.
   * @param options Whether to start the controllers now (default true).
   * @returns The product.
   */
  static async start(
    cluster: TestCluster,
    namespace: string,
    options: { controllers?: boolean } = {},
  ): Promise<RestartableProduct> {
    await installCrd(cluster);
    const webhook = await startLocalWebhook(cluster, namespace);
    // The controllers' user agent: field manager `lws`, like the binary's.
    const client = await testClient(cluster, "lws/v0.1.0-test (linux/amd64) unknown");
    const product = new RestartableProduct(cluster, namespace, webhook, client);
    try {
      if (options.controllers ?? true) await product.startControllers();
    } catch (err) {
      await product[Symbol.asyncDispose]();
      throw err;
    }
    return product;
  }

  /** The current generation as a {@linkcode Product} (throws while the controllers are stopped). */
  get product(): Product {
    const running = this.#running;
    if (!running) throw new Error("The controllers are stopped");
    return {
      cluster: this.#cluster,
      namespace: this.#namespace,
      client: this.#client,
      cache: running.cache,
      controllers: running.controllers,
      webhook: this.#webhook,
      [Symbol.asyncDispose]: () => this[Symbol.asyncDispose](),
    };
  }

  /** Starts a new generation of controllers on a new cache and waits until the cache is synced. */
  async startControllers(): Promise<void> {
    if (this.#running) throw new Error("The controllers are running already");
    const stop = new AbortController();
    const events = createEventRecorder(clientEventSink(this.#client), { reportingInstance: "lws-rollout-test" });
    const cache = new InformerCache(this.#client);
    const controllers = startControllers({
      client: this.#client,
      cache,
      events,
      namespace: this.#namespace,
      signal: stop.signal,
    });
    const cacheStopped = cache.start(stop.signal);
    this.#running = { stop, cache, controllers, events, cacheStopped };
    this.generations++;
    await cache.waitUntilSynced(AbortSignal.timeout(30_000));
  }

  /** Stops the controllers (running reconciles are aborted) and their cache. */
  async stopControllers(): Promise<void> {
    const running = this.#running;
    if (!running) return;
    this.#running = undefined;
    running.stop.abort();
    try {
      await running.controllers.finished;
    } finally {
      await running.events.close(AbortSignal.timeout(10_000));
      await running.cacheStopped;
    }
  }

  /** Stops the controllers, the client and the webhook. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.stopControllers();
    } finally {
      this.#client.close();
      await this.#webhook[Symbol.asyncDispose]();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One rollout from start to end

/** Options of {@linkcode rollOut}. */
export interface RollOutOptions {
  /** The LWS as the user applies it (already created and Available, unless `create` is true). */
  lws: LeaderWorkerSet;
  /** The changed LWS (default: a new worker and leader image). */
  change?: LeaderWorkerSet;
  /** Create `lws` first and wait until it is Available (default true). */
  create?: boolean;
  /** Leader sts replicas at the end (default N). */
  finalReplicas?: number;
  /** See {@linkcode RolloutRules.availability}. */
  availability?: boolean;
  /** Called once the new revision exists (e.g. to disturb the rollout); the rollout is awaited afterwards. */
  during?: (history: History, newKey: string) => Promise<void>;
  /** Timeout of the rollout (default 120 s). */
  timeoutMs?: number;
}

/** What {@linkcode rollOut} returns. */
export interface RolledOut {
  report: RolloutReport;
  rules: RolloutRules;
  oldKey: string;
  /** From the template change until the rollout was complete, ms. */
  elapsedMs: number;
  /** The LWS at the end. */
  lws: LeaderWorkerSet;
  /** The recorded history (stopped; still readable, e.g. to check it against other rules). */
  history: History;
}

/**
 * A new image for every container of the LWS's templates (a revision change).
 *
 * @param lws The LWS.
 * @param image The new image.
 * @returns A new object.
 */
export function withImage(lws: LeaderWorkerSet, image: string): LeaderWorkerSet {
  const change = structuredClone(lws);
  const lwt = change.spec.leaderWorkerTemplate;
  for (const template of [lwt.workerTemplate, lwt.leaderTemplate]) {
    for (const c of template?.spec?.containers ?? []) c.image = image;
  }
  return change;
}

/**
 * Applies a template change and observes the rollout to the end: records the history from a settled LWS, waits
 * until the new revision is rolled out, then checks every invariant of {@linkcode checkRollout} on every state
 * and that each group was restarted exactly once.
 *
 * @param product The running product.
 * @param options The LWS, the change, expectations.
 * @returns The report and the rules it was checked against.
 */
export async function rollOut(product: Product, options: RollOutOptions): Promise<RolledOut> {
  const name = options.lws.metadata.name!;
  if (options.create ?? true) await kubectlApplyAll(product, options.lws);
  await waitAvailable(product, name);
  await using history = await History.start(product.cluster, product.namespace);
  const oldKey = await waitSettled(history, name);
  const started = Date.now();
  await kubectlApplyAll(product, options.change ?? withImage(options.lws, "nginx:1.28"));
  const newKey = await waitNewKey(history, name, oldKey);
  const live = history.live.leaderWorkerSets.get(name)!;
  const rules: RolloutRules = {
    lws: name,
    size: live.spec.leaderWorkerTemplate.size ?? 1,
    newKey,
    availability: options.availability,
    ...budgetOf(live),
  };
  if (options.during) await options.during(history, newKey);
  const lws = await waitRolledOut(history, rules, {
    finalReplicas: options.finalReplicas,
    timeoutMs: options.timeoutMs,
  });
  const elapsedMs = Date.now() - started;
  const report = assertRollout(history, rules);
  return { report, rules, oldKey, elapsedMs, lws, history };
}

async function kubectlApplyAll(product: Product, ...objects: unknown[]): Promise<void> {
  await product.cluster.kubectlOk(["apply", "-f", "-"], {
    namespace: product.namespace,
    stdin: objects.map((o) => JSON.stringify(o)).join("\n"),
  });
}

/**
 * Asserts the end of a complete rollout (partition 0) through the API: the old revision truncated, every object of
 * spec §6 on the new key (`assertGroups`), the status Available with `updatedReplicas` N, and UpdateInProgress and
 * Progressing False keeping their messages, every condition at the current generation.
 *
 * @param product The product.
 * @param rolled What {@linkcode rollOut} returned.
 */
export async function assertRolledOut(product: Product, rolled: RolledOut): Promise<void> {
  const { rules } = rolled;
  await eventually("the old revision to be truncated", async () => {
    const revisions = await revisionsOfLws(product, rules.lws);
    return revisions.length === 1 && revisions[0]!.metadata?.labels?.[REVISION] === rules.newKey;
  }, { timeoutMs: 30_000 });
  assert.equal(await assertGroups(product, rules.lws, { replicas: rules.replicas, size: rules.size }), rules.newKey);
  const lws = await getLws(product, rules.lws);
  assertAvailableStatus(lws);
  assert.equal(lws.status?.updatedReplicas, rules.replicas);
  const gen = lws.metadata.generation;
  const updating = conditionOf(lws, "UpdateInProgress");
  assert.deepEqual(
    [updating?.status, updating?.reason, updating?.message, updating?.observedGeneration],
    ["False", "GroupsUpdating", "Rolling Upgrade is in progress", gen],
  );
  const progressing = conditionOf(lws, "Progressing");
  assert.deepEqual([progressing?.status, progressing?.observedGeneration], ["False", gen]);
}
