/**
 * An in-memory stand-in for the API server's list and watch, for unit tests of anything built on
 * {@linkcode ListWatch} (watcher, cache, controller runner, reconcilers). It keeps objects per resource, numbers
 * changes with a resourceVersion, serves paginated lists with continue tokens, replays history to watches and
 * can be told to misbehave: drop watches, fail the next watch, compact history (410), expire continue tokens.
 *
 * For kube/ unit tests only: never imported by product code, and never by integration tests, which always talk to
 * the real local control plane (`requireCluster()` in `tests/cluster/harness.ts`). It has no persistence, admission
 * or validation.
 *
 * @module
 */
import type { Status } from "kubernetes-types/meta/v1.d.ts";
import { ApiError } from "../errors.ts";
import type {
  KubeObject,
  ListOptions,
  ListWatch,
  ObjectList,
  RawWatchEvent,
  ResourceType,
  WatchOptions,
} from "../types.ts";

interface Change {
  rv: number;
  resource: string;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KubeObject;
}

interface OpenWatch {
  resource: string;
  options: WatchOptions;
  push(event: RawWatchEvent<KubeObject> | Error | "end"): void;
}

/**
 * A fake API server.
 *
 * Invariants: resourceVersions are increasing decimal strings here (the code under test must still treat them as
 * opaque); every stored object is a copy, and every object handed out is a fresh copy.
 *
 * @example
 * const api = new FakeApiServer();
 * api.create(PODS, pod("default", "p1"));
 * const watcher = new Watcher(api.listWatch(PODS));
 */
export class FakeApiServer {
  #rv = 1;
  #objects = new Map<string, Map<string, KubeObject>>();
  #history: Change[] = [];
  #compactedThrough = 0;
  #watches = new Set<OpenWatch>();
  #listGeneration = 0;
  #failNextWatch: unknown[] = [];
  /** Every list call, in order (for assertions about pagination). */
  readonly listCalls: (ListOptions & { resource: string })[] = [];
  /** Every watch call, in order. */
  readonly watchCalls: (WatchOptions & { resource: string })[] = [];

  /** A {@linkcode ListWatch} for one resource, optionally limited to a namespace, like `client.listWatch()`. */
  listWatch<T extends KubeObject>(type: ResourceType, fixed: { namespace?: string } = {}): ListWatch<T> {
    const resource = resourceKey(type);
    const namespace = fixed.namespace;
    return {
      list: (options) => Promise.resolve(this.#list(resource, { ...options, namespace }) as ObjectList<T>),
      watch: (options, signal) =>
        this.#watch(resource, { ...options, namespace: namespace ?? options.namespace }, signal) as AsyncIterable<
          RawWatchEvent<T>
        >,
    };
  }

  /** The current resourceVersion. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Number of watch streams open now. */
  get openWatches(): number {
    return this.#watches.size;
  }

  /** Stores a new object (replacing any with that name) and tells watchers `ADDED`; returns the stored copy. */
  create<T extends KubeObject>(type: ResourceType, object: T): T {
    return this.#write(type, object, "ADDED");
  }

  /** Replaces an object and tells watchers `MODIFIED`; returns the stored copy. */
  update<T extends KubeObject>(type: ResourceType, object: T): T {
    return this.#write(type, object, "MODIFIED");
  }

  /** Removes an object and tells watchers `DELETED`. No-op when absent. */
  delete(type: ResourceType, namespace: string | undefined, name: string): void {
    const resource = resourceKey(type);
    const key = namespace ? `${namespace}/${name}` : name;
    const existing = this.#objects.get(resource)?.get(key);
    if (!existing) return;
    this.#objects.get(resource)!.delete(key);
    const rv = ++this.#rv;
    const object = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(rv) } };
    this.#record({ rv, resource, type: "DELETED", object });
  }

  /** Current objects of a resource (fresh copies), for comparing a cache with the truth. */
  objects<T extends KubeObject>(type: ResourceType): T[] {
    return [...(this.#objects.get(resourceKey(type))?.values() ?? [])].map((o) => structuredClone(o) as T);
  }

  /** Forgets history up to now: watches from an older resourceVersion get a 410 `ERROR` event. */
  compact(): void {
    this.#compactedThrough = this.#rv;
    this.#history = [];
  }

  /** Makes every continue token handed out so far expire (the next page of those lists fails with 410). */
  expireContinueTokens(): void {
    this.#listGeneration++;
  }

  /** Ends every open watch stream normally (as the server's timeout does). */
  endWatches(): void {
    for (const watch of this.#watches) watch.push("end");
  }

  /** Fails every open watch stream with `error` (as a cut connection does). */
  breakWatches(error: unknown = new Error("Connection reset by fake API server")): void {
    for (const watch of this.#watches) watch.push(error instanceof Error ? error : new Error(String(error)));
  }

  /** Makes the next `count` watch calls reject at once with `error` (e.g. a 503 while the server restarts). */
  failNextWatches(error: unknown, count = 1): void {
    for (let i = 0; i < count; i++) this.#failNextWatch.push(error);
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that allows bookmarks. */
  bookmark(): void {
    for (const watch of this.#watches) {
      if (!watch.options.allowWatchBookmarks) continue;
      watch.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: String(this.#rv) } } });
    }
  }

  #write<T extends KubeObject>(type: ResourceType, object: T, type_: "ADDED" | "MODIFIED"): T {
    const resource = resourceKey(type);
    const rv = ++this.#rv;
    const meta = object.metadata ?? {};
    const stored = structuredClone({
      ...object,
      metadata: {
        ...meta,
        uid: meta.uid ?? `uid-${meta.namespace ?? ""}-${meta.name}-${rv}`,
        resourceVersion: String(rv),
      },
    });
    const key = meta.namespace ? `${meta.namespace}/${meta.name}` : `${meta.name}`;
    let objects = this.#objects.get(resource);
    if (!objects) this.#objects.set(resource, objects = new Map());
    objects.set(key, stored);
    this.#record({ rv, resource, type: type_, object: stored });
    return structuredClone(stored);
  }

  #record(change: Change): void {
    this.#history.push(change);
    for (const watch of this.#watches) {
      if (watch.resource !== change.resource) continue;
      if (!matches(change.object, watch.options)) continue;
      watch.push({ type: change.type, object: structuredClone(change.object) });
    }
  }

  #list(resource: string, options: ListOptions): ObjectList<KubeObject> {
    this.listCalls.push({ ...options, resource });
    let offset = 0;
    if (options.continue) {
      const [generation, at] = options.continue.split(":").map(Number);
      if (generation !== this.#listGeneration) {
        throw new ApiError({ code: 410, reason: "Expired", message: "The provided continue parameter is too old" });
      }
      offset = at ?? 0;
    }
    const all = [...(this.#objects.get(resource)?.values() ?? [])]
      .filter((o) => matches(o, options))
      .sort((a, b) =>
        `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`)
      );
    const limit = options.limit && options.limit > 0 ? options.limit : all.length;
    const items = all.slice(offset, offset + limit).map((o) => structuredClone(o));
    const more = offset + limit < all.length;
    return {
      items,
      metadata: {
        resourceVersion: String(this.#rv),
        ...(more
          ? { continue: `${this.#listGeneration}:${offset + limit}`, remainingItemCount: all.length - offset - limit }
          : {}),
      },
    };
  }

  async *#watch(
    resource: string,
    options: WatchOptions,
    signal: AbortSignal,
  ): AsyncGenerator<RawWatchEvent<KubeObject>> {
    this.watchCalls.push({ ...options, resource });
    const failure = this.#failNextWatch.shift();
    if (failure !== undefined) throw failure;
    const queue: (RawWatchEvent<KubeObject> | Error | "end")[] = [];
    let wake: (() => void) | undefined;
    const watch: OpenWatch = {
      resource,
      options,
      push(event) {
        queue.push(event);
        wake?.();
      },
    };
    const from = Number(options.resourceVersion ?? this.#rv);
    if (from < this.#compactedThrough) {
      const status: Status = {
        kind: "Status",
        status: "Failure",
        code: 410,
        reason: "Expired",
        message: `too old resource version: ${from} (${this.#compactedThrough})`,
      };
      yield { type: "ERROR", object: status };
      return;
    }
    for (const change of this.#history) {
      if (change.rv > from && change.resource === resource && matches(change.object, options)) {
        queue.push({ type: change.type, object: structuredClone(change.object) });
      }
    }
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    this.#watches.add(watch);
    try {
      for (;;) {
        while (queue.length === 0 && !signal.aborted) await new Promise<void>((resolve) => wake = resolve);
        if (signal.aborted) return;
        const next = queue.shift()!;
        if (next === "end") return;
        if (next instanceof Error) throw next;
        yield next;
      }
    } finally {
      this.#watches.delete(watch);
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/** `group/version/plural`, the map key of a resource. */
function resourceKey(type: ResourceType): string {
  return `${type.group}/${type.version}/${type.plural}`;
}

/** Namespace and label-selector filtering (`k`, `!k`, `k=v`, `k==v`, `k!=v`, comma-separated). */
function matches(object: KubeObject, options: { namespace?: string; labelSelector?: string }): boolean {
  if (options.namespace && object.metadata?.namespace !== options.namespace) return false;
  const labels = object.metadata?.labels ?? {};
  for (const raw of (options.labelSelector ?? "").split(",")) {
    const term = raw.trim();
    if (!term) continue;
    const ne = term.split("!=");
    if (ne.length === 2) {
      if (labels[ne[0]!.trim()] === ne[1]!.trim()) return false;
      continue;
    }
    const eq = term.split(/==?/);
    if (eq.length === 2) {
      if (labels[eq[0]!.trim()] !== eq[1]!.trim()) return false;
      continue;
    }
    if (term.startsWith("!")) {
      if (term.slice(1) in labels) return false;
    } else if (!(term in labels)) return false;
  }
  return true;
}
