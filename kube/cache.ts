/**
 * The informer cache: one reflector (a {@linkcode Watcher} feeding a {@linkcode StoreWriter}) per resource type,
 * namespace scope and label selector, shared by every consumer in the process — controllers, webhook and
 * dashboard read the same objects from the same memory.
 *
 * Be selective: watch Pods and StatefulSets only with {@linkcode lwsOwnedSelector} so that memory follows LWS
 * workloads, not the size of the cluster.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { LABEL_NAME } from "../api/constants.ts";
import { Backoff } from "./backoff.ts";
import { type Clock, realClock } from "./clock.ts";
import { type Indexer, type Store, StoreWriter } from "./store.ts";
import type { KubeObject, ListWatch, ResourceType } from "./types.ts";
import { Watcher, type WatcherHealth, type WatcherOptions } from "./watcher.ts";

const log = getLogger(["lws", "kube", "cache"]);

/** Where reflectors get their list/watch calls: the HTTP client implements it (`client.listWatch()`). */
export interface ListWatchSource {
  /**
   * A {@linkcode ListWatch} for `type`, across all namespaces or in `options.namespace`. The cache passes only the
   * namespace; the watcher adds the label selector to every call.
   */
  listWatch<T extends KubeObject>(type: ResourceType, options?: { namespace?: string }): ListWatch<T>;
}

/** Which objects of a type a shared store holds. Two calls with equal scopes share one reflector. */
export interface CacheScope {
  /** Only this namespace; omitted or `""`: all namespaces. */
  namespace?: string;
  /** A label selector as the API takes it. Compared as a string: use the same string for the same scope. */
  labelSelector?: string;
}

/** Options of {@linkcode InformerCache.store}. */
export interface CacheStoreOptions<T> extends CacheScope {
  /** Indexes this consumer needs; merged into the shared store (a name must not clash with a different function). */
  indexers?: Record<string, Indexer<T>>;
}

/** Health of one reflector, for metrics and `/readyz`. */
export interface ReflectorHealth extends WatcherHealth {
  /** `group/version/plural`. */
  resource: string;
  /** The reflector's namespace, or undefined for all namespaces. */
  namespace: string | undefined;
  /** The reflector's label selector, if any. */
  labelSelector: string | undefined;
  /** Whether the first list has completed. */
  synced: boolean;
  /** Objects cached now. */
  objects: number;
}

/** Options of an {@linkcode InformerCache}. */
export interface InformerCacheOptions {
  /** Time source of every watcher; default the real clock. */
  clock?: Clock;
  /** Passed to every watcher (page size, watch timeout, backoff). */
  watcher?: Pick<WatcherOptions, "pageSize" | "timeoutSeconds" | "backoff">;
  /** Deep-freeze cached objects (default true); see {@linkcode StoreOptions.freeze}. */
  freeze?: boolean;
}

/**
 * The label selector of everything LWS creates (leader and worker StatefulSets, pods, services, revisions):
 * existence of `leaderworkerset.sigs.k8s.io/name`. The default scope for Pods and StatefulSets.
 *
 * @example
 * const pods = cache.store<Pod>(PODS, { labelSelector: lwsOwnedSelector() });
 */
export function lwsOwnedSelector(): string {
  return LABEL_NAME;
}

interface Reflector {
  key: string;
  type: ResourceType;
  scope: CacheScope;
  writer: StoreWriter<KubeObject>;
  watcher: Watcher<KubeObject>;
  running: Promise<void> | undefined;
}

/**
 * One shared cache of watched resources.
 *
 * Invariants: at most one reflector (one list + watch connection, one copy of each object) per
 * (type, namespace, label selector); stores **may be stale** and their objects **must not be mutated**; a
 * reflector runs from its first `store()` call after `start()` until the start signal aborts, and never stops on
 * API errors.
 *
 * @example
 * const cache = new InformerCache(client);
 * const lws = cache.store<LeaderWorkerSet>(LEADER_WORKER_SETS);
 * const sts = cache.store<StatefulSet>(STATEFUL_SETS, { labelSelector: lwsOwnedSelector() });
 * const stopped = cache.start(signal);
 * await cache.waitUntilSynced(signal);
 */
export class InformerCache {
  readonly #source: ListWatchSource;
  readonly #options: InformerCacheOptions;
  readonly #clock: Clock;
  readonly #reflectors = new Map<string, Reflector>();
  #signal: AbortSignal | undefined;

  /**
   * Creates an empty cache; reflectors appear with {@linkcode InformerCache.store} calls.
   *
   * @param source the list/watch calls, typically the HTTP client
   * @param options clock, watcher tuning, freezing
   */
  constructor(source: ListWatchSource, options: InformerCacheOptions = {}) {
    this.#source = source;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  /**
   * The shared read handle for `type` in `scope`, creating its reflector on first use (and starting it if the
   * cache is started). Same scope → same store object.
   *
   * @throws {Error} when `indexers` names an index the shared store already has with a different function
   */
  store<T extends KubeObject>(type: ResourceType, options: CacheStoreOptions<T> = {}): Store<T> {
    const scope: CacheScope = {
      namespace: options.namespace || undefined,
      labelSelector: options.labelSelector?.trim() || undefined,
    };
    const key = reflectorKey(type, scope);
    let reflector = this.#reflectors.get(key);
    if (!reflector) {
      reflector = this.#create(key, type, scope);
      this.#reflectors.set(key, reflector);
      if (this.#signal) this.#run(reflector, this.#signal);
    }
    for (const [name, indexer] of Object.entries(options.indexers ?? {})) {
      reflector.writer.addIndexer(name, indexer as Indexer<KubeObject>);
    }
    return reflector.writer.store as Store<T>;
  }

  /**
   * Starts every reflector created so far, and each later one at creation.
   *
   * @returns a promise that settles once `signal` aborted and every reflector stopped
   * @throws {Error} when called twice
   */
  start(signal: AbortSignal): Promise<void> {
    if (this.#signal) throw new Error("Cannot start the informer cache: it is already started");
    this.#signal = signal;
    for (const reflector of this.#reflectors.values()) this.#run(reflector, signal);
    return new Promise<void>((resolve) => {
      const stopped = async () => {
        // Reflectors created while stopping start and stop at once; loop until none is left running.
        for (;;) {
          const running = [...this.#reflectors.values()].map((r) => r.running);
          await Promise.all(running);
          if ([...this.#reflectors.values()].every((r, i) => r.running === running[i])) break;
        }
        resolve();
      };
      if (signal.aborted) stopped();
      else signal.addEventListener("abort", stopped, { once: true });
    });
  }

  /** Resolves once every store created so far has completed its first list; rejects when `signal` aborts. */
  async waitUntilSynced(signal: AbortSignal): Promise<void> {
    await Promise.all([...this.#reflectors.values()].map((r) => r.writer.store.waitUntilSynced(signal)));
  }

  /** Whether every store created so far has completed its first list. */
  isSynced(): boolean {
    return [...this.#reflectors.values()].every((r) => r.writer.store.isSynced());
  }

  /** Health of every reflector (snapshots). */
  health(): ReflectorHealth[] {
    return [...this.#reflectors.values()].map((r) => ({
      ...r.watcher.health(),
      resource: resourceName(r.type),
      namespace: r.scope.namespace,
      labelSelector: r.scope.labelSelector,
      synced: r.writer.store.isSynced(),
      objects: r.writer.store.size(),
    }));
  }

  #create(key: string, type: ResourceType, scope: CacheScope): Reflector {
    const name = describe(type, scope);
    const writer = new StoreWriter<KubeObject>({ freeze: this.#options.freeze, name });
    const lw = this.#source.listWatch<KubeObject>(type, { namespace: scope.namespace });
    const watcher = new Watcher(lw, {
      ...this.#options.watcher,
      labelSelector: scope.labelSelector,
      clock: this.#clock,
      name,
    });
    return { key, type, scope, writer, watcher, running: undefined };
  }

  #run(reflector: Reflector, signal: AbortSignal): void {
    reflector.running = this.#loop(reflector, signal);
  }

  async #loop(reflector: Reflector, signal: AbortSignal): Promise<void> {
    // The watcher retries API failures itself; this loop only survives bugs (a throwing indexer) by restarting
    // the watcher, which relists.
    const backoff = new Backoff(this.#clock, this.#options.watcher?.backoff);
    while (!signal.aborted) {
      try {
        for await (const event of reflector.watcher.events(signal)) reflector.writer.apply(event);
      } catch (err) {
        const delay = backoff.next();
        log.error("{name}: reflector failed, restarting in {delay} ms: {error}", {
          name: describe(reflector.type, reflector.scope),
          delay,
          error: err,
        });
        if (!(await this.#clock.sleep(delay, signal))) return;
      }
    }
  }
}

function resourceName(type: ResourceType): string {
  return `${type.group || "core"}/${type.version}/${type.plural}`;
}

function reflectorKey(type: ResourceType, scope: CacheScope): string {
  return JSON.stringify([resourceName(type), scope.namespace ?? "", scope.labelSelector ?? ""]);
}

function describe(type: ResourceType, scope: CacheScope): string {
  return `${type.plural}${scope.namespace ? ` in ${scope.namespace}` : ""}${
    scope.labelSelector ? ` -l ${scope.labelSelector}` : ""
  }`;
}
