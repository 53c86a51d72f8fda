/**
 * The store: an in-memory cache of one resource fed by one watcher (kube-rs `reflector/store.rs`). One writer
 * ({@linkcode StoreWriter}), many read-only {@linkcode Store} handles. A relist fills a fresh buffer that is swapped
 * in whole at `initDone`, so readers never see a half-listed cache, and objects deleted while the watch was down
 * disappear (subscribers are told with `delete` changes).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";
import { LABEL_NAME } from "../api/constants.ts";
import type { KubeObject } from "./types.ts";
import type { WatcherEvent } from "./watcher.ts";

const log = getLogger(["lws", "kube", "store"]);

/** Built-in index: the UIDs of every ownerReference. */
export const OWNER_UID_INDEX = "ownerUid";
/** Built-in index: the UID of the controlling ownerReference (`controller: true`), if any. */
export const CONTROLLER_UID_INDEX = "controllerUid";
/** Built-in index: the value of the {@linkcode LABEL_NAME} label (not namespaced: combine with `namespace`). */
export const LWS_NAME_INDEX = "lwsName";

/**
 * Computes the index values of one object. Must be pure and deterministic (the store calls it again to remove the
 * old values on update) and cheap (it runs on every change).
 */
export type Indexer<T> = (object: T) => readonly string[];

/** A change the store applied, as told to subscribers. For `delete`, `object` is the last state known. */
export interface StoreChange<T> {
  /** `apply`: added or changed; `delete`: gone. */
  type: "apply" | "delete";
  /** The object as cached now (`apply`) or as last known (`delete`); must not be mutated. */
  object: T;
}

/** Filters of {@linkcode Store.list}. */
export interface StoreListOptions {
  /** Only objects in this namespace (`""` or omitted: every namespace). */
  namespace?: string;
  /** Only objects whose index `name` has `value`, e.g. `[CONTROLLER_UID_INDEX, lws.metadata.uid]`. */
  index?: readonly [name: string, value: string];
}

/**
 * A read-only handle on a cache.
 *
 * Invariants: reads are synchronous and see one consistent snapshot; the data **may be stale** (the watch can lag
 * or be reconnecting) — reconcilers tolerate that by being level-triggered. **Returned objects must not be
 * mutated**: they are shared with every other reader (and frozen when the store was built with `freeze`); copy
 * before changing. `metadata.managedFields` is always stripped.
 */
export interface Store<T> {
  /** The cached object, or `undefined`. Use `""` as the namespace of cluster-scoped objects. */
  get(namespace: string, name: string): T | undefined;
  /** Cached objects matching the filters, in no particular order; a new array each call. */
  list(options?: StoreListOptions): readonly T[];
  /** Number of cached objects. */
  size(): number;
  /** Whether the first list has completed. Stays true across later relists (the old data is served meanwhile). */
  isSynced(): boolean;
  /** Resolves once the first list has completed; rejects with `signal.reason` if `signal` aborts first. */
  waitUntilSynced(signal: AbortSignal): Promise<void>;
  /**
   * Calls `listener` synchronously after each change is applied (the store already shows it). A relist is told as
   * the difference to the previous contents. Listener errors are logged and swallowed; listeners must be fast and
   * must not write to the store. The first list is told as one `apply` per object.
   *
   * @returns a function that unsubscribes
   */
  subscribe(listener: (change: StoreChange<T>) => void): () => void;
}

/** Options of a {@linkcode StoreWriter}. */
export interface StoreOptions<T> {
  /** Extra indexes by name, beside the built-in ones. */
  indexers?: Record<string, Indexer<T>>;
  /**
   * Deep-freeze every cached object, so a reader that mutates one throws (in strict mode) instead of corrupting
   * the cache for everyone. Default true; costs a walk of each object on apply (see kube/store_bench.ts).
   */
  freeze?: boolean;
  /** Names the store in logs. */
  name?: string;
}

interface Snapshot<T> {
  objects: Map<string, T>;
  byNamespace: Map<string, Set<string>>;
  indexes: Map<string, Map<string, Set<string>>>;
}

/** The key of an object in a store: `namespace/name`, or `name` when cluster-scoped. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Key of an object's own metadata. */
function keyOf(object: KubeObject): string {
  return objectKey(object.metadata?.namespace, object.metadata?.name ?? "");
}

/** The built-in indexers; {@linkcode StoreOptions.indexers} adds to them. */
export function builtinIndexers<T extends KubeObject>(): Record<string, Indexer<T>> {
  return {
    [OWNER_UID_INDEX]: (o) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid),
    [CONTROLLER_UID_INDEX]: (o) => (o.metadata?.ownerReferences ?? []).filter((r) => r.controller).map((r) => r.uid),
    [LWS_NAME_INDEX]: (o) => {
      const value = o.metadata?.labels?.[LABEL_NAME];
      return value ? [value] : [];
    },
  };
}

/**
 * The single writer of a store. Feed it a watcher's events in order with {@linkcode StoreWriter.apply}; hand
 * {@linkcode StoreWriter.store} to readers.
 *
 * Invariants: never two writers for one store; `apply()` takes ownership of the objects it is given (it does not
 * copy them; it strips `managedFields` and may freeze them); one copy of each object is kept — an object that a
 * relist returns unchanged (same uid and resourceVersion) keeps its existing reference.
 */
export class StoreWriter<T extends KubeObject> {
  #snapshot: Snapshot<T>;
  #buffer: Map<string, T> | undefined;
  #synced = false;
  #syncWaiters = new Set<() => void>();
  #listeners = new Set<(change: StoreChange<T>) => void>();
  readonly #indexers: Map<string, Indexer<T>>;
  readonly #freeze: boolean;
  readonly #name: string;

  /** The read-only handle (the writer's methods are not reachable from it). */
  readonly store: Store<T>;

  /**
   * Creates an empty, unsynced store.
   *
   * @param options extra indexers, freezing, log name
   */
  constructor(options: StoreOptions<T> = {}) {
    this.#indexers = new Map(Object.entries({ ...builtinIndexers<T>(), ...options.indexers }));
    this.#freeze = options.freeze ?? true;
    this.#name = options.name ?? "store";
    this.#snapshot = this.#build(new Map());
    this.store = {
      get: (namespace, name) => this.#snapshot.objects.get(objectKey(namespace, name)),
      list: (opts) => this.#list(opts),
      size: () => this.#snapshot.objects.size,
      isSynced: () => this.#synced,
      waitUntilSynced: (signal) => this.#waitUntilSynced(signal),
      subscribe: (listener) => {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
      },
    };
  }

  /**
   * Adds an index after construction (e.g. a second consumer of a shared cache needs one). Rebuilds it from the
   * current contents.
   *
   * @throws {Error} when an index of that name already exists with a different function
   */
  addIndexer(name: string, indexer: Indexer<T>): void {
    const existing = this.#indexers.get(name);
    if (existing === indexer) return;
    if (existing) throw new Error(`Cannot add indexer: an index named ${name} already exists`);
    this.#indexers.set(name, indexer);
    const index = new Map<string, Set<string>>();
    for (const [key, object] of this.#snapshot.objects) addValues(index, indexer(object), key);
    this.#snapshot.indexes.set(name, index);
  }

  /** Applies one watcher event. Never throws for a listener's error. */
  apply(event: WatcherEvent<T>): void {
    switch (event.type) {
      case "init":
        // A fresh buffer; a previous unfinished one (restarted list) is dropped.
        this.#buffer = new Map();
        return;
      case "initApply": {
        const key = keyOf(event.object);
        (this.#buffer ??= new Map()).set(key, this.#reuseOrPrepare(key, event.object));
        return;
      }
      case "initDone":
        this.#swap(this.#buffer ?? new Map());
        this.#buffer = undefined;
        return;
      case "apply": {
        const key = keyOf(event.object);
        const object = this.#prepare(event.object);
        if (this.#buffer) {
          this.#buffer.set(key, object);
          return;
        }
        const old = this.#snapshot.objects.get(key);
        if (old) this.#unindex(key, old);
        this.#snapshot.objects.set(key, object);
        this.#index(key, object);
        this.#notify({ type: "apply", object });
        return;
      }
      case "delete": {
        const key = keyOf(event.object);
        const object = this.#prepare(event.object);
        if (this.#buffer) {
          this.#buffer.delete(key);
          return;
        }
        const old = this.#snapshot.objects.get(key);
        if (old) {
          this.#unindex(key, old);
          this.#snapshot.objects.delete(key);
        }
        this.#notify({ type: "delete", object });
        return;
      }
    }
  }

  #reuseOrPrepare(key: string, object: T): T {
    const old = this.#snapshot.objects.get(key);
    return old && sameVersion(old.metadata, object.metadata) ? old : this.#prepare(object);
  }

  #prepare(object: T): T {
    const meta = object.metadata;
    if (meta && "managedFields" in meta) {
      const { managedFields: _, ...rest } = meta;
      object = { ...object, metadata: rest };
    }
    if (this.#freeze) deepFreeze(object);
    return object;
  }

  #swap(objects: Map<string, T>): void {
    const old = this.#snapshot.objects;
    this.#snapshot = this.#build(objects);
    const wasSynced = this.#synced;
    this.#synced = true;
    for (const resolve of this.#syncWaiters) resolve();
    this.#syncWaiters.clear();
    let deleted = 0, applied = 0;
    for (const [key, object] of old) {
      if (!objects.has(key)) {
        deleted++;
        this.#notify({ type: "delete", object });
      }
    }
    for (const [key, object] of objects) {
      if (old.get(key) !== object) {
        applied++;
        this.#notify({ type: "apply", object });
      }
    }
    log.debug("{name}: {what} swapped in {size} objects ({applied} changed, {deleted} gone)", {
      name: this.#name,
      what: wasSynced ? "relist" : "list",
      size: objects.size,
      applied,
      deleted,
    });
  }

  #build(objects: Map<string, T>): Snapshot<T> {
    const snapshot: Snapshot<T> = { objects, byNamespace: new Map(), indexes: new Map() };
    for (const name of this.#indexers.keys()) snapshot.indexes.set(name, new Map());
    for (const [key, object] of objects) this.#index(key, object, snapshot);
    return snapshot;
  }

  #index(key: string, object: T, snapshot = this.#snapshot): void {
    const { byNamespace, indexes } = snapshot;
    addValues(byNamespace, [object.metadata?.namespace ?? ""], key);
    for (const [name, indexer] of this.#indexers) addValues(indexes.get(name)!, indexer(object), key);
  }

  #unindex(key: string, object: T): void {
    const { byNamespace, indexes } = this.#snapshot;
    removeValues(byNamespace, [object.metadata?.namespace ?? ""], key);
    for (const [name, indexer] of this.#indexers) removeValues(indexes.get(name)!, indexer(object), key);
  }

  #list(options: StoreListOptions = {}): readonly T[] {
    const { objects, byNamespace, indexes } = this.#snapshot;
    const namespace = options.namespace || undefined;
    let keys: Iterable<string> | undefined;
    if (options.index) {
      const [name, value] = options.index;
      const index = indexes.get(name);
      if (!index) {
        throw new Error(`Cannot list ${this.#name}: no index named ${name} (have ${[...indexes.keys()].join(", ")})`);
      }
      keys = index.get(value) ?? [];
    } else if (namespace !== undefined) {
      keys = byNamespace.get(namespace) ?? [];
    }
    if (keys === undefined) return [...objects.values()];
    const result: T[] = [];
    for (const key of keys) {
      const object = objects.get(key);
      if (object && (namespace === undefined || object.metadata?.namespace === namespace)) result.push(object);
    }
    return result;
  }

  #waitUntilSynced(signal: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#syncWaiters.delete(done);
        reject(signal.reason);
      };
      const done = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      this.#syncWaiters.add(done);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #notify(change: StoreChange<T>): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (err) {
        log.error("{name}: a store listener threw: {error}", { name: this.#name, error: err });
      }
    }
  }
}

function sameVersion(a: ObjectMeta | undefined, b: ObjectMeta | undefined): boolean {
  // Equality only: resourceVersion is opaque and never compared for order.
  return a?.uid === b?.uid && !!a?.resourceVersion && a.resourceVersion === b?.resourceVersion;
}

function addValues(index: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const value of values) {
    let keys = index.get(value);
    if (!keys) index.set(value, keys = new Set());
    keys.add(key);
  }
}

function removeValues(index: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const value of values) {
    const keys = index.get(value);
    if (!keys) continue;
    keys.delete(key);
    if (keys.size === 0) index.delete(value);
  }
}

/** Freezes `value` and everything reachable from it (plain JSON data: objects and arrays). */
function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const item of value) deepFreeze(item);
  } else {
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
}
