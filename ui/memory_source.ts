/**
 * An in-memory {@linkcode DashboardSource}: what tests, the render benchmark, the browser test and a demo serve the
 * dashboard from. Writes go through {@linkcode MemoryDashboardSource.apply} / {@linkcode MemoryDashboardSource.remove}
 * and notify subscribers synchronously, like the kube/ store does.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { KIND, LABEL_NAME } from "../api/constants.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import { type PodFailure, PodFailureLog, type PodFailureLogOptions } from "./failures.ts";
import type { DashboardChange, DashboardEvent, DashboardSource } from "./source.ts";
import type { LwsObjects } from "./view_model.ts";

/** An object the memory source holds. */
export type MemoryObject =
  | { kind: "LeaderWorkerSet"; object: LeaderWorkerSet }
  | { kind: "Pod"; object: Pod }
  | { kind: "StatefulSet"; object: StatefulSet }
  | { kind: "Event"; object: DashboardEvent };

type Kind = MemoryObject["kind"];
type Meta = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };

/**
 * A mutable in-memory source. Not thread-safe (there are no threads); listeners run synchronously inside
 * `apply`/`remove`.
 *
 * @example
 * const source = new MemoryDashboardSource();
 * source.load(worldFixture({ replicas: 3, size: 4 }));
 */
export class MemoryDashboardSource implements DashboardSource {
  // kind → "<ns>/<lws>" → "<name>" → object; LWS are grouped under their own key.
  readonly #objects = new Map<Kind, Map<string, Map<string, unknown>>>();
  readonly #listeners = new Set<(change: DashboardChange) => void>();
  readonly #podEvents = new Map<string, DashboardEvent[]>();
  readonly #podsByName = new Map<string, Pod>();
  readonly #failures: PodFailureLog;
  #synced = true;

  /**
   * Creates an empty source.
   *
   * @param options The pod failure record's clock and bounds (pass the app's clock in tests).
   */
  constructor(options: { failures?: PodFailureLogOptions } = {}) {
    this.#failures = new PodFailureLog(options.failures);
  }

  /**
   * Adds a whole LWS world (the object, its pods, StatefulSets and events).
   *
   * @param objects What {@linkcode worldFixture} returns.
   */
  load(objects: LwsObjects): void {
    this.apply({ kind: "LeaderWorkerSet", object: objects.lws });
    for (const object of objects.statefulSets) this.apply({ kind: "StatefulSet", object });
    for (const object of objects.pods) this.apply({ kind: "Pod", object });
    for (const object of objects.events ?? []) this.apply({ kind: "Event", object });
  }

  /**
   * Adds or replaces an object and notifies subscribers.
   *
   * @param entry The object with its kind.
   */
  apply(entry: MemoryObject): void {
    const at = this.#where(entry);
    if (!at) return;
    let group = this.#objects.get(entry.kind);
    if (!group) this.#objects.set(entry.kind, group = new Map());
    let byName = group.get(at.key);
    if (!byName) group.set(at.key, byName = new Map());
    byName.set(at.name, entry.object);
    if (entry.kind === "Pod") {
      this.#podsByName.set(`${at.namespace}/${at.name}`, entry.object);
      this.#failures.observe("apply", entry.object);
    }
    this.#notify({ kind: entry.kind, namespace: at.namespace, lwsName: at.lwsName });
  }

  /**
   * Removes an object (if present) and notifies subscribers.
   *
   * @param entry The object with its kind (only its metadata is read).
   */
  remove(entry: MemoryObject): void {
    const at = this.#where(entry);
    if (!at) return;
    this.#objects.get(entry.kind)?.get(at.key)?.delete(at.name);
    if (entry.kind === "Pod") {
      this.#podsByName.delete(`${at.namespace}/${at.name}`);
      this.#failures.observe("delete", entry.object);
    }
    if (entry.kind === "LeaderWorkerSet") this.#failures.forget(at.namespace, at.lwsName);
    this.#notify({ kind: entry.kind, namespace: at.namespace, lwsName: at.lwsName });
  }

  /**
   * Sets what {@linkcode podEvents} returns for one pod.
   *
   * @param namespace Pod namespace.
   * @param podName Pod name.
   * @param events The events.
   */
  setPodEvents(namespace: string, podName: string, events: DashboardEvent[]): void {
    this.#podEvents.set(`${namespace}/${podName}`, events);
  }

  /**
   * Sets what {@linkcode isSynced} reports.
   *
   * @param synced Whether the (pretend) first list completed.
   */
  setSynced(synced: boolean): void {
    this.#synced = synced;
  }

  /** Number of subscribed listeners (tests check that streams unsubscribe). */
  listenerCount(): number {
    return this.#listeners.size;
  }

  listLeaderWorkerSets(namespace?: string): readonly LeaderWorkerSet[] {
    const out: LeaderWorkerSet[] = [];
    for (const [key, byName] of this.#objects.get("LeaderWorkerSet") ?? []) {
      if (namespace && !key.startsWith(`${namespace}/`)) continue;
      for (const lws of byName.values()) out.push(lws as LeaderWorkerSet);
    }
    return out;
  }

  getLeaderWorkerSet(namespace: string, name: string): LeaderWorkerSet | undefined {
    return this.#objects.get("LeaderWorkerSet")?.get(`${namespace}/${name}`)?.get(name) as LeaderWorkerSet | undefined;
  }

  podsOf(namespace: string, lwsName: string): readonly Pod[] {
    return this.#list<Pod>("Pod", namespace, lwsName);
  }

  getPod(namespace: string, name: string): Pod | undefined {
    return this.#podsByName.get(`${namespace}/${name}`);
  }

  statefulSetsOf(namespace: string, lwsName: string): readonly StatefulSet[] {
    return this.#list<StatefulSet>("StatefulSet", namespace, lwsName);
  }

  failuresOf(namespace: string, lwsName: string): readonly PodFailure[] {
    return this.#failures.failuresOf(namespace, lwsName);
  }

  eventsOf(namespace: string, lwsName: string): readonly DashboardEvent[] {
    return this.#list<DashboardEvent>("Event", namespace, lwsName);
  }

  podEvents(namespace: string, podName: string): Promise<readonly DashboardEvent[]> {
    return Promise.resolve(this.#podEvents.get(`${namespace}/${podName}`) ?? []);
  }

  subscribe(listener: (change: DashboardChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  isSynced(): boolean {
    return this.#synced;
  }

  #list<T>(kind: Kind, namespace: string, lwsName: string): T[] {
    return [...(this.#objects.get(kind)?.get(`${namespace}/${lwsName}`)?.values() ?? [])] as T[];
  }

  #where(entry: MemoryObject): { key: string; name: string; namespace: string; lwsName: string } | undefined {
    const meta = (entry.object as Meta).metadata;
    const name = meta?.name;
    const namespace = meta?.namespace ?? "";
    if (!name) return undefined;
    let lwsName: string | undefined;
    if (entry.kind === "LeaderWorkerSet") lwsName = name;
    else if (entry.kind === "Event") {
      const regarding = entry.object.regarding;
      lwsName = regarding?.kind === KIND ? regarding.name : undefined;
    } else lwsName = meta?.labels?.[LABEL_NAME];
    if (!lwsName) return undefined;
    return { key: `${namespace}/${lwsName}`, name, namespace, lwsName };
  }

  #notify(change: DashboardChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}
