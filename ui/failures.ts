/**
 * A lasting trace of pod failures: a bounded in-memory record, per LeaderWorkerSet, of the failures the dashboard saw
 * in the shared informer cache's change stream, kept after the failed pod is gone.
 *
 * A failed pod is short-lived: the StatefulSet controller replaces a Failed pod within about a second, and with
 * `RecreateGroupOnPodRestart` the controller recreates the whole group (spec §8.3). A page that is not open at that
 * moment, or a coalesced live update, never shows the Failed state. The {@linkcode PodFailureLog} watches every pod
 * change (the same notifications the controllers' cache already delivers: no extra API traffic) and records:
 *
 * | kind | when |
 * |---|---|
 * | `failed` | the pod's phase became `Failed` (reason and exit code from the pod and its terminated container) |
 * | `exited` | a container terminated with a non-zero exit code while the pod had not failed |
 * | `restarted` | a container's `restartCount` went up (reason and exit code from its `lastState.terminated`) |
 * | `deleted` | a pod that had been Ready was marked for deletion (or deleted) while not Ready, with nothing else recorded |
 *
 * Records are keyed by the pod's **position** — group index and worker index (0: leader) — not by its UID, so they
 * survive the pod being replaced; the record then also tells what followed, as seen in the cache: `pod replaced` (a
 * new pod took the position) or `group recreated` (the group's leader was deleted soon after).
 *
 * Bounds: records older than `maxAgeMs` (15 min) are dropped, at most `maxPerLws` (50) are kept per LWS (newest
 * win) and at most `maxLws` (1,000) LeaderWorkerSets are tracked (the one with the oldest last failure goes first).
 * Per live pod a few numbers are kept to tell changes (restart counts, readiness), dropped when the pod is deleted
 * and capped at `maxPods`. The record is process-local: it starts empty when the process starts (a pod that is
 * already failed or restarted at start-up is recorded with the time from its status, when it has one).
 *
 * @module
 */
import type { ContainerStateTerminated, ContainerStatus, Pod } from "kubernetes-types/core/v1.d.ts";
import { LABEL_NAME } from "../api/constants.ts";
import { podPosition } from "./position.ts";

/** What kind of failure was seen (see the module table). */
export type FailureKind = "failed" | "exited" | "restarted" | "deleted";

/** What followed a failure, as seen in the cache. */
export type FailureOutcome = "pod replaced" | "group recreated";

/** One observed pod failure. Plain, immutable data (a changed outcome replaces the record). */
export interface PodFailure {
  /** When it was seen, in ms since the epoch (for a failure found in a pod's first sighting: its status time). */
  at: number;
  /** Group index. */
  group: number;
  /** Worker index; 0 for the leader. */
  worker: number;
  /** Pod name at the time. */
  pod: string;
  /** Pod UID at the time (tells a replacement pod from the failed one). */
  uid?: string;
  /** What was seen. */
  kind: FailureKind;
  /** The container concerned, when one is. */
  container?: string;
  /** Short machine-readable reason: the pod's or container's (`Error`, `OOMKilled`, `Evicted`, …). */
  reason?: string;
  /** Exit code of the terminated container, when known. */
  exitCode?: number;
  /** Human-readable message from the pod or container status (at most {@linkcode MAX_MESSAGE_LENGTH} characters). */
  message?: string;
  /** What followed, once seen. */
  outcome?: FailureOutcome;
}

/** Options of a {@linkcode PodFailureLog}. */
export interface PodFailureLogOptions {
  /** Current time in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** How long a record is kept, in ms. Default {@linkcode FAILURE_RETENTION_MS}. */
  maxAgeMs?: number;
  /** Records kept per LeaderWorkerSet (the newest). Default 50. */
  maxPerLws?: number;
  /** LeaderWorkerSets tracked at once. Default 1,000. */
  maxLws?: number;
  /** Live pods whose last state is remembered (to tell changes). Default 200,000. */
  maxPods?: number;
}

/** How long a failure is kept and shown: 15 minutes. */
export const FAILURE_RETENTION_MS = 15 * 60_000;

/** A leader deletion this soon after a failure in its group counts as the group's recreation. */
export const OUTCOME_WINDOW_MS = 2 * 60_000;

/** Longest message kept; longer ones are cut (with `…`). */
export const MAX_MESSAGE_LENGTH = 240;

/** Longest reason kept. */
const MAX_REASON_LENGTH = 80;

/** Sweep every LWS for expired records at most this often (reads prune their own LWS anyway). */
const SWEEP_INTERVAL_MS = 30_000;

/** What is remembered of a live pod between two notifications (small: one per cached LWS pod). */
interface Seen {
  /** Restart count per container (`init:` prefix for init containers) when not 0; created on the first restart. */
  restarts?: Map<string, number>;
  /** Identity of the last termination recorded per container; created on the first one. */
  terminations?: Map<string, string>;
  /** Ready when last seen without a deletionTimestamp. */
  ready: boolean;
  /** Was Ready at least once. */
  everReady: boolean;
  /** Why it was not Ready when last seen (Ready condition's reason). */
  notReadyReason?: string;
  /** A failure was recorded since it was last Ready. */
  recordedSinceReady: boolean;
  /** Phase Failed was recorded. */
  failed: boolean;
  /** Marked for deletion (seen with a deletionTimestamp). */
  deleting: boolean;
}

function clip(text: string | undefined, max: number): string | undefined {
  if (!text) return undefined;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function timeOf(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

function statuses(pod: Pod): [string, ContainerStatus][] {
  return [
    ...(pod.status?.initContainerStatuses ?? []).map((s): [string, ContainerStatus] => [`init:${s.name}`, s]),
    ...(pod.status?.containerStatuses ?? []).map((s): [string, ContainerStatus] => [s.name, s]),
  ];
}

function terminationId(t: ContainerStateTerminated): string {
  return `${t.containerID ?? ""}@${t.startedAt ?? ""}/${t.finishedAt ?? ""}#${t.exitCode}`;
}

function setTermination(seen: Seen, key: string, t: ContainerStateTerminated): void {
  (seen.terminations ??= new Map()).set(key, terminationId(t));
}

function containerName(key: string): string {
  return key.startsWith("init:") ? key.slice(5) : key;
}

/**
 * The bounded record of pod failures. Feed it every pod change with {@linkcode PodFailureLog.observe} (synchronous
 * and cheap: a few map lookups per container) and read it with {@linkcode PodFailureLog.failuresOf}.
 *
 * Invariants: at most `maxPerLws` records per LWS, `maxLws` LWS and `maxPods` remembered pods; no record older
 * than `maxAgeMs` is ever returned; returned records are never mutated afterwards.
 */
export class PodFailureLog {
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  readonly #maxPerLws: number;
  readonly #maxLws: number;
  readonly #maxPods: number;
  /** `<ns>/<lws>` → records, oldest first. */
  readonly #records = new Map<string, PodFailure[]>();
  /** Pod UID (or `<ns>/<name>`) → last state. */
  readonly #seen = new Map<string, Seen>();
  #lastSweep = -Infinity;

  /**
   * Creates an empty record.
   *
   * @param options Clock and bounds.
   */
  constructor(options: PodFailureLogOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxAgeMs = options.maxAgeMs ?? FAILURE_RETENTION_MS;
    this.#maxPerLws = Math.max(1, options.maxPerLws ?? 50);
    this.#maxLws = Math.max(1, options.maxLws ?? 1_000);
    this.#maxPods = Math.max(1, options.maxPods ?? 200_000);
  }

  /**
   * Takes one pod change from the cache: `apply` (added or changed) or `delete` (gone; `pod` is its last state).
   * Pods without the `leaderworkerset.sigs.k8s.io/name` label or a group/worker position are ignored.
   *
   * @param type The change.
   * @param pod The pod as cached now (or last known, for `delete`); only read.
   */
  observe(type: "apply" | "delete", pod: Pod): void {
    const lwsName = pod.metadata?.labels?.[LABEL_NAME];
    const at = lwsName ? podPosition(pod, lwsName) : undefined;
    if (!lwsName || !at) return;
    const namespace = pod.metadata?.namespace ?? "";
    const lwsKey = `${namespace}/${lwsName}`;
    const podKey = pod.metadata?.uid || `${namespace}/${pod.metadata?.name ?? ""}`;
    const now = this.#now();
    let seen = this.#seen.get(podKey);
    const first = seen === undefined;
    if (!seen) {
      seen = {
        ready: false,
        everReady: false,
        recordedSinceReady: false,
        failed: false,
        deleting: false,
      };
      this.#remember(podKey, seen);
      // A new pod at a position that failed before: the failed pod was replaced.
      if (!pod.metadata?.deletionTimestamp && type === "apply") this.#replaced(lwsKey, at, pod.metadata?.uid);
    }
    const record = (failure: Omit<PodFailure, "group" | "worker" | "pod" | "uid">) => {
      seen.recordedSinceReady = true;
      this.#add(lwsKey, {
        ...failure,
        group: at.group,
        worker: at.worker,
        pod: pod.metadata?.name ?? "",
        uid: pod.metadata?.uid,
        reason: clip(failure.reason, MAX_REASON_LENGTH),
        message: clip(failure.message, MAX_MESSAGE_LENGTH),
      }, now);
    };
    // First sighting (start-up, or a pod whose earlier states the cache coalesced away): a failure found in the
    // status is recorded at the time the status gives, or not at all when it gives none (it may be old).
    const when = (iso: string | undefined) => (first ? timeOf(iso) : now);

    const phase = pod.status?.phase;
    const all = statuses(pod);
    if (phase === "Failed" && !seen.failed) {
      seen.failed = true;
      const terminated = all.map(([key, s]) => [key, s.state?.terminated] as const)
        .find(([, t]) => t !== undefined && t.exitCode !== 0) ??
        all.map(([key, s]) => [key, s.state?.terminated] as const).find(([, t]) => t !== undefined);
      const [key, t] = terminated ?? [undefined, undefined];
      const failure = {
        kind: "failed" as const,
        container: key === undefined ? undefined : containerName(key),
        reason: clip(pod.status?.reason || t?.reason || "Failed", MAX_REASON_LENGTH),
        exitCode: t?.exitCode,
        message: clip(pod.status?.message || t?.message, MAX_MESSAGE_LENGTH),
      };
      // When its container's exit was recorded a moment ago, that record becomes the pod's failure.
      const exited = key !== undefined && t !== undefined && seen.terminations?.get(key) === terminationId(t);
      if (!exited || !this.#update(lwsKey, (f) => f.uid === pod.metadata?.uid && f.kind === "exited", failure)) {
        const readyCondition = pod.status?.conditions?.find((c) => c.type === "Ready");
        const time = first ? timeOf(t?.finishedAt) ?? timeOf(readyCondition?.lastTransitionTime) ?? now : now;
        record({ ...failure, at: time });
      }
      for (const [k, s] of all) if (s.state?.terminated) setTermination(seen, k, s.state.terminated);
    }
    for (const [key, s] of all) {
      const before = seen.restarts?.get(key) ?? 0;
      const count = s.restartCount ?? 0;
      if (count !== before) {
        if (count > 0) (seen.restarts ??= new Map()).set(key, count);
        else seen.restarts?.delete(key);
      }
      const last = s.lastState?.terminated;
      if (count > before) {
        const id = last ? terminationId(last) : undefined;
        const time = first ? timeOf(last?.finishedAt) : now;
        if (id !== undefined && seen.terminations?.get(key) === id) {
          // Recorded when it exited; now it restarted: say so on that record.
          const container = containerName(key);
          this.#update(lwsKey, (f) => f.uid === pod.metadata?.uid && f.kind === "exited" && f.container === container, {
            kind: "restarted",
          });
        } else if (time !== undefined) {
          if (last) setTermination(seen, key, last);
          record({
            at: time,
            kind: "restarted",
            container: containerName(key),
            reason: last?.reason,
            exitCode: last?.exitCode,
            message: last?.message,
          });
        }
      }
      const t = s.state?.terminated;
      if (t && t.exitCode !== 0 && !seen.failed && seen.terminations?.get(key) !== terminationId(t)) {
        setTermination(seen, key, t);
        const time = when(t.finishedAt);
        if (time !== undefined) {
          record({
            at: time,
            kind: "exited",
            container: containerName(key),
            reason: t.reason,
            exitCode: t.exitCode,
            message: t.message,
          });
        }
      }
    }

    const deleting = type === "delete" || pod.metadata?.deletionTimestamp !== undefined;
    if (!deleting) {
      const ready = phase === "Running" &&
        (pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false);
      seen.ready = ready;
      if (ready) {
        seen.everReady = true;
        seen.recordedSinceReady = false;
        seen.notReadyReason = undefined;
      } else {
        const condition = pod.status?.conditions?.find((c) => c.type === "Ready");
        const waiting = all.map(([, s]) => s.state?.waiting?.reason).find((r) => r);
        seen.notReadyReason = waiting || condition?.reason || undefined;
      }
    } else if (!seen.deleting) {
      seen.deleting = true;
      if (seen.everReady && !seen.ready && !seen.recordedSinceReady && !seen.failed) {
        record({ at: now, kind: "deleted", reason: seen.notReadyReason ?? "NotReady" });
      }
      // The group's leader goes: failures just before in its group led to the group's recreation.
      if (at.worker === 0) this.#recreated(lwsKey, at.group, now);
    }
    if (type === "delete") this.#seen.delete(podKey);
    if (now - this.#lastSweep >= SWEEP_INTERVAL_MS) this.#sweep(now);
  }

  /**
   * Forgets every record of one LeaderWorkerSet (it was deleted: a new one of the same name starts clean).
   *
   * @param namespace LWS namespace.
   * @param lwsName LWS name.
   */
  forget(namespace: string, lwsName: string): void {
    this.#records.delete(`${namespace}/${lwsName}`);
  }

  /**
   * The recent failures of one LeaderWorkerSet, oldest first (at most `maxPerLws`, none older than `maxAgeMs`).
   *
   * @param namespace LWS namespace.
   * @param lwsName LWS name.
   * @returns The records (shared: do not mutate).
   */
  failuresOf(namespace: string, lwsName: string): readonly PodFailure[] {
    const key = `${namespace}/${lwsName}`;
    const list = this.#records.get(key);
    if (!list) return [];
    this.#prune(key, list, this.#now());
    return this.#records.get(key) ?? [];
  }

  /** Sizes of the record, for tests and metrics: LWS tracked, records kept, pods remembered. */
  size(): { lws: number; failures: number; pods: number } {
    let failures = 0;
    for (const list of this.#records.values()) failures += list.length;
    return { lws: this.#records.size, failures, pods: this.#seen.size };
  }

  #remember(podKey: string, seen: Seen): void {
    this.#seen.set(podKey, seen);
    // Over the cap (delete notifications lost, or a huge cache): forget the longest-remembered pods.
    while (this.#seen.size > this.#maxPods) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
  }

  #add(lwsKey: string, failure: PodFailure, now: number): void {
    if (now - failure.at > this.#maxAgeMs) return;
    let list = this.#records.get(lwsKey);
    if (!list) {
      list = [];
      this.#records.set(lwsKey, list);
      if (this.#records.size > this.#maxLws) this.#evictLws(lwsKey);
    }
    // Keep the list in time order (a first sighting may carry an older status time).
    let i = list.length;
    while (i > 0 && list[i - 1]!.at > failure.at) i--;
    list.splice(i, 0, failure);
    if (list.length > this.#maxPerLws) list.splice(0, list.length - this.#maxPerLws);
  }

  /** Drops the LWS whose newest record is the oldest (never `keep`, the one being added to). */
  #evictLws(keep: string): void {
    let victim: string | undefined;
    let oldest = Infinity;
    for (const [key, list] of this.#records) {
      if (key === keep) continue;
      const newest = list[list.length - 1]?.at ?? -Infinity;
      if (newest < oldest) [victim, oldest] = [key, newest];
    }
    if (victim !== undefined) this.#records.delete(victim);
  }

  /** Replaces the newest record that matches with a changed copy; whether one matched. */
  #update(lwsKey: string, match: (f: PodFailure) => boolean, change: Partial<PodFailure>): boolean {
    const list = this.#records.get(lwsKey);
    if (!list) return false;
    for (let i = list.length - 1; i >= 0; i--) {
      if (match(list[i]!)) {
        list[i] = { ...list[i]!, ...change };
        return true;
      }
    }
    return false;
  }

  #replaced(lwsKey: string, at: { group: number; worker: number }, uid: string | undefined): void {
    const list = this.#records.get(lwsKey);
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      if (f.group === at.group && f.worker === at.worker && f.outcome === undefined && f.uid !== uid) {
        list[i] = { ...f, outcome: "pod replaced" };
      }
    }
  }

  #recreated(lwsKey: string, group: number, now: number): void {
    const list = this.#records.get(lwsKey);
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      // A recreation says more than a replacement (the worker's StatefulSet may replace the pod first).
      if (f.group === group && f.outcome !== "group recreated" && now - f.at <= OUTCOME_WINDOW_MS) {
        list[i] = { ...f, outcome: "group recreated" };
      }
    }
  }

  #prune(key: string, list: PodFailure[], now: number): void {
    let drop = 0;
    while (drop < list.length && now - list[drop]!.at > this.#maxAgeMs) drop++;
    if (drop === list.length) this.#records.delete(key);
    else if (drop > 0) list.splice(0, drop);
  }

  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [key, list] of [...this.#records]) this.#prune(key, list, now);
  }
}
