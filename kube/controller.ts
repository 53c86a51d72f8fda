/**
 * The controller runner: maps store changes to keys of a primary resource and runs a level-triggered
 * `reconcile(key)` for them through a {@linkcode Scheduler} (controller-runtime's builder + controller; kube-rs's
 * `Controller`). A reconcile gets a key, never an event: it reads the world from the stores.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { OwnerReference } from "kubernetes-types/meta/v1.d.ts";
import type { ExponentialOptions } from "./backoff.ts";
import type { CacheScope, InformerCache } from "./cache.ts";
import { type Clock, realClock } from "./clock.ts";
import { Scheduler, type SchedulerHooks, type SchedulerStats } from "./scheduler.ts";
import { objectKey, type Store } from "./store.ts";
import type { KubeObject, ResourceType } from "./types.ts";

const log = getLogger(["lws", "kube", "controller"]);

/** Names one object of the primary resource (`namespace` is `""` when cluster-scoped). */
export interface ObjectKey {
  /** Namespace, `""` for cluster-scoped objects. */
  namespace: string;
  /** Object name. */
  name: string;
}

/**
 * What a reconcile asks for: run again after a delay (also the way to say "retry soon" for a write conflict,
 * `{ requeueAfterMs: 0 }`), or wait until a watched object changes (or the periodic resync).
 */
export type Action = { requeueAfterMs: number } | "awaitChange";

/** Extra information for a reconcile. */
export interface ReconcileInfo {
  /** Aborts when a graceful stop runs out of time: pass it to API calls. */
  signal: AbortSignal;
}

/**
 * Reconciles one key: read from stores, compute, write, return an {@linkcode Action}.
 *
 * Invariants: **never called concurrently for one key**; may be called any number of times for a key, including
 * after the object is gone (then it should clean up or return `"awaitChange"`); the stores it reads **may be
 * stale**. Throw {@linkcode TerminalError} for failures that retrying cannot fix; any other error retries with
 * the key's backoff.
 */
export type Reconcile<Ctx> = (key: ObjectKey, ctx: Ctx, info: ReconcileInfo) => Promise<Action>;

/**
 * A reconcile failure that retrying will not fix (e.g. an invalid spec the webhook let through). Logged at error
 * level and not retried; the key runs again on the next change or resync.
 */
export class TerminalError extends Error {
  /**
   * Creates a terminal error.
   *
   * @param message what is wrong, in sentence case, with the offending value
   * @param options the `cause`, if any
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/** Result of one reconcile, as counted in {@linkcode ControllerStats}. */
export type ReconcileResult = "success" | "requeue" | "error" | "terminal";

/** Counters of a controller; a snapshot. */
export interface ControllerStats {
  /** Reconciles finished, by result. */
  reconciles: Record<ReconcileResult, number>;
  /** The work queue's counters. */
  queue: SchedulerStats;
}

/** Options of a {@linkcode Controller}. */
export interface ControllerOptions {
  /** Names the controller in logs and metrics, e.g. `leaderworkerset`. */
  name: string;
  /** Keys reconciled at the same time at most; default 1. */
  concurrency?: number;
  /** Every primary key is enqueued this often as a safety net; default 10 minutes; 0 disables. */
  resyncMs?: number;
  /** How long a graceful stop waits for running reconciles; default 30 s. */
  shutdownTimeoutMs?: number;
  /** Per-key retry delays after errors; default {@linkcode KEY_BACKOFF}. */
  backoff?: ExponentialOptions;
  /** Time source of the queue, resync and durations; default the real clock. */
  clock?: Clock;
  /** Metrics callbacks of the work queue, plus one per finished reconcile. */
  hooks?: SchedulerHooks & { onReconcile?(result: ReconcileResult, durationMs: number): void };
}

interface Source {
  type: ResourceType;
  scope: CacheScope;
  /** Keys of the primary resource to reconcile when `object` changes. */
  keys: (object: KubeObject) => Iterable<ObjectKey>;
}

/**
 * Runs one reconcile function for a primary resource, triggered by changes to it and to related resources, all
 * read from one shared {@linkcode InformerCache}.
 *
 * @example
 * await new Controller<Ctx>(cache, { name: "leaderworkerset" })
 *   .for(LEADER_WORKER_SETS)
 *   .owns(STATEFUL_SETS, { labelSelector: lwsOwnedSelector() })
 *   .watches(STATEFUL_SETS, lwsOfLabel, { labelSelector: lwsOwnedSelector() })
 *   .run(reconcileLws, ctx, signal);
 */
export class Controller<Ctx> {
  readonly #cache: InformerCache;
  readonly #options: ControllerOptions;
  readonly #clock: Clock;
  readonly #sources: Source[] = [];
  #primary: { type: ResourceType; scope: CacheScope } | undefined;
  #scheduler: Scheduler | undefined;
  #reconciles: Record<ReconcileResult, number> = { success: 0, requeue: 0, error: 0, terminal: 0 };

  /**
   * Creates a controller; declare its sources with `for()`, `owns()`, `watches()`, then `run()` it.
   *
   * @param cache the shared cache every source's store comes from
   * @param options name, concurrency, resync period, shutdown timeout, backoff, clock, hooks
   */
  constructor(cache: InformerCache, options: ControllerOptions) {
    this.#cache = cache;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  /**
   * Declares the primary resource: each of its objects is a key. Call exactly once, before `run()`.
   *
   * @throws {Error} when called twice
   */
  for(type: ResourceType, scope: CacheScope = {}): this {
    if (this.#primary) {
      throw new Error(
        `Cannot declare ${type.kind} as primary of ${this.#options.name}: already ${this.#primary.type.kind}`,
      );
    }
    this.#primary = { type, scope };
    this.#sources.push({ type, scope, keys: (o) => [keyOfObject(o)] });
    return this;
  }

  /**
   * Declares an owned resource: a change to one of its objects enqueues its controlling owner
   * (`ownerReferences[].controller: true`) when that owner is of the primary kind. Call after `for()`.
   *
   * @throws {Error} when no primary resource is declared yet
   */
  owns(type: ResourceType, scope: CacheScope = {}): this {
    const primary = this.#primary?.type;
    if (!primary) throw new Error(`Cannot declare ${type.kind} as owned by ${this.#options.name}: call for() first`);
    this.#sources.push({
      type,
      scope,
      keys: (o) => {
        const owner = o.metadata?.ownerReferences?.find((r) => r.controller && isKindOf(r, primary));
        return owner ? [{ namespace: o.metadata?.namespace ?? "", name: owner.name }] : [];
      },
    });
    return this;
  }

  /**
   * Declares a related resource with a custom mapping: a change to one of its objects enqueues the keys `mapper`
   * returns. The mapper must be pure and fast; it may read stores (which may be stale).
   */
  watches<T extends KubeObject>(
    type: ResourceType,
    mapper: (object: T) => Iterable<ObjectKey>,
    scope: CacheScope = {},
  ): this {
    this.#sources.push({ type, scope, keys: mapper as (object: KubeObject) => Iterable<ObjectKey> });
    return this;
  }

  /** Enqueues a key from outside (e.g. a webhook noticing something); no-op before `run()`. */
  enqueue(key: ObjectKey, delayMs = 0): void {
    this.#scheduler?.enqueue(objectKey(key.namespace, key.name), delayMs);
  }

  /** A snapshot of the counters. */
  stats(): ControllerStats {
    return {
      reconciles: { ...this.#reconciles },
      queue: this.#scheduler?.stats() ??
        { depth: 0, ready: 0, inFlight: 0, adds: 0, processed: 0, failures: 0, retries: 0 },
    };
  }

  /**
   * Subscribes to every source, waits until their stores are synced, enqueues every primary key, then reconciles
   * until `signal` aborts; then stops taking work and waits for running reconciles up to the shutdown timeout.
   * The cache must be started (by the caller) for the stores to sync. Call once.
   *
   * @throws {Error} when no primary resource was declared
   */
  async run(reconcile: Reconcile<Ctx>, ctx: Ctx, signal: AbortSignal): Promise<void> {
    const primary = this.#primary;
    if (!primary) throw new Error(`Cannot run controller ${this.#options.name}: no primary resource (call for())`);
    const { name } = this.#options;
    const scheduler = new Scheduler((key, workSignal) => this.#reconcile(reconcile, ctx, key, workSignal), {
      name,
      clock: this.#clock,
      concurrency: this.#options.concurrency,
      backoff: this.#options.backoff,
      shutdownTimeoutMs: this.#options.shutdownTimeoutMs,
      hooks: this.#options.hooks,
    });
    this.#scheduler = scheduler;
    const primaryStore = this.#cache.store(primary.type, primary.scope);
    const stores: Store<KubeObject>[] = [];
    const unsubscribes = this.#sources.map((source) => {
      const store = this.#cache.store(source.type, source.scope);
      stores.push(store);
      return store.subscribe((change) => {
        let keys: Iterable<ObjectKey>;
        try {
          keys = source.keys(change.object);
        } catch (err) {
          log.error("{name}: mapping a {kind} change to keys failed: {error}", {
            name,
            kind: source.type.kind,
            error: err,
          });
          return;
        }
        for (const key of keys) scheduler.enqueue(objectKey(key.namespace, key.name));
      });
    });
    try {
      try {
        await Promise.all(stores.map((store) => store.waitUntilSynced(signal)));
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      log.info("{name}: caches synced, starting with {count} keys", { name, count: primaryStore.size() });
      const enqueueAll = () => {
        for (const object of primaryStore.list()) scheduler.enqueue(keyString(object));
      };
      enqueueAll();
      const resyncMs = this.#options.resyncMs ?? 600_000;
      const resync = (async () => {
        while (resyncMs > 0 && await this.#clock.sleep(resyncMs, signal)) enqueueAll();
      })();
      await scheduler.run(signal);
      await resync;
      log.info("{name}: stopped", { name });
    } finally {
      for (const unsubscribe of unsubscribes) unsubscribe();
    }
  }

  async #reconcile(
    reconcile: Reconcile<Ctx>,
    ctx: Ctx,
    key: string,
    signal: AbortSignal,
  ): Promise<{ requeueAfterMs?: number }> {
    const started = this.#clock.now();
    let result: ReconcileResult = "error";
    try {
      const action = await reconcile(parseKey(key), ctx, { signal });
      if (action === "awaitChange") {
        result = "success";
        return {};
      }
      result = "requeue";
      return { requeueAfterMs: action.requeueAfterMs };
    } catch (err) {
      if (err instanceof TerminalError) {
        result = "terminal";
        log.error("{name}: reconcile of {key} failed terminally (not retried): {error}", {
          name: this.#options.name,
          key,
          error: err,
        });
        return {};
      }
      log.warn("{name}: reconcile of {key} failed, retrying with backoff: {error}", {
        name: this.#options.name,
        key,
        error: err,
      });
      throw err;
    } finally {
      this.#reconciles[result]++;
      this.#options.hooks?.onReconcile?.(result, this.#clock.now() - started);
    }
  }
}

function keyOfObject(object: KubeObject): ObjectKey {
  return { namespace: object.metadata?.namespace ?? "", name: object.metadata?.name ?? "" };
}

function keyString(object: KubeObject): string {
  return objectKey(object.metadata?.namespace, object.metadata?.name ?? "");
}

/** Inverse of {@linkcode objectKey}: names and namespaces never contain `/`. */
function parseKey(key: string): ObjectKey {
  const slash = key.indexOf("/");
  return slash < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Whether an ownerReference points at an object of `type` (same kind and API group; any version). */
function isKindOf(ref: OwnerReference, type: ResourceType): boolean {
  const slash = ref.apiVersion.indexOf("/");
  const group = slash < 0 ? "" : ref.apiVersion.slice(0, slash);
  return ref.kind === type.kind && group === type.group;
}
