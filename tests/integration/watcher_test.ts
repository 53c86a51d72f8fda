/**
 * kube/watcher.ts + kube/store.ts + kube/cache.ts against the real API server: changes reach the store, an API
 * server crash loses no update, an etcd compaction forces exactly one relist, and the store always converges to a
 * fresh list.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import { clusterTest, eventually, type TestCluster } from "../cluster/harness.ts";
import { buildUserAgent, createClient, type KubeClient } from "../../kube/client.ts";
import { InformerCache, type ListWatchSource } from "../../kube/cache.ts";
import { loadKubeConfig } from "../../kube/kubeconfig.ts";
import { CONFIG_MAPS } from "../../kube/resources.ts";
import type { Store } from "../../kube/store.ts";
import type { KubeObject, ListOptions, ListWatch, RawWatchEvent, WatchOptions } from "../../kube/types.ts";

/** A client for the test cluster; `using` closes it. */
async function testClient(cluster: TestCluster): Promise<KubeClient & Disposable> {
  const config = await loadKubeConfig({ path: cluster.kubeconfig });
  const client = createClient(config, {
    qps: 0,
    burst: 0,
    userAgent: buildUserAgent({ version: "v0.1.0-watcher-test" }),
    requestTimeoutMs: 10_000,
  });
  return Object.assign(client, { [Symbol.dispose]: () => client.close() });
}

/**
 * Wraps the client's list/watch: records list calls, and can cut every watch and refuse new ones (a network
 * partition between this process and the API server only).
 */
class Tap implements ListWatchSource {
  readonly lists: ListOptions[] = [];
  readonly watches: WatchOptions[] = [];
  #partitioned = false;
  readonly #open = new Set<AbortController>();
  constructor(readonly client: KubeClient) {}

  listWatch<T extends KubeObject>(type: typeof CONFIG_MAPS, options?: { namespace?: string }): ListWatch<T> {
    const lw = this.client.listWatch<T>(type, options);
    return {
      list: (o, signal) => {
        this.lists.push(o);
        if (this.#partitioned) return Promise.reject(new Error("Partitioned by the test"));
        return lw.list(o, signal);
      },
      watch: (o, signal) => this.#watch(lw, o, signal),
    };
  }

  partition(): void {
    this.#partitioned = true;
    for (const cut of this.#open) cut.abort();
  }

  heal(): void {
    this.#partitioned = false;
  }

  async *#watch<T>(lw: ListWatch<T>, o: WatchOptions, signal: AbortSignal): AsyncIterable<RawWatchEvent<T>> {
    this.watches.push(o);
    if (this.#partitioned) throw new Error("Partitioned by the test");
    const cut = new AbortController();
    this.#open.add(cut);
    try {
      yield* lw.watch(o, AbortSignal.any([signal, cut.signal]));
    } finally {
      this.#open.delete(cut);
    }
    if (cut.signal.aborted && !signal.aborted) throw new Error("Connection cut by the test");
  }
}

const configMap = (name: string, data: Record<string, string>): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels: { "watcher-test": "yes" } },
  data,
});

/** `name@resourceVersion=data` of every object, sorted: equal iff the store holds exactly what the server has. */
function fingerprint(objects: readonly ConfigMap[]): string[] {
  return objects.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}=${JSON.stringify(o.data ?? {})}`)
    .sort();
}

/** Waits until the store holds exactly what a fresh list from the server holds. */
async function converged(client: KubeClient, store: Store<ConfigMap>, namespace: string): Promise<void> {
  let last = { store: [] as string[], server: [] as string[] };
  try {
    await eventually("the store to match a fresh list", async () => {
      const fresh = await client.listAll<ConfigMap>(CONFIG_MAPS, { namespace, labelSelector: "watcher-test" });
      last = { store: fingerprint(store.list({ namespace })), server: fingerprint(fresh.items) };
      return JSON.stringify(last.store) === JSON.stringify(last.server);
    }, { timeoutMs: 90_000, intervalMs: 250 });
  } catch (err) {
    assert.deepEqual(last.store, last.server, String(err));
  }
}

/** A cache of the namespace's test ConfigMaps with a short backoff, started; stops when the scope ends. */
async function startCache(source: ListWatchSource, namespace: string) {
  const controller = new AbortController();
  const cache = new InformerCache(source, {
    watcher: { backoff: { initialMs: 100, maxMs: 1000 }, pageSize: 50 },
  });
  const store = cache.store<ConfigMap>(CONFIG_MAPS, { namespace, labelSelector: "watcher-test" });
  const stopped = cache.start(controller.signal);
  await cache.waitUntilSynced(controller.signal);
  return {
    cache,
    store,
    health: () => cache.health()[0]!,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await stopped;
    },
  };
}

clusterTest("watcher: creates, updates and deletes reach the store", async ({ cluster, namespace }) => {
  using client = await testClient(cluster);
  await client.create(CONFIG_MAPS, configMap("before", { v: "0" }), { namespace });
  await using cache = await startCache(client, namespace);
  assert.deepEqual(cache.store.list().map((o) => o.metadata?.name), ["before"]);

  const created = await client.create<ConfigMap>(CONFIG_MAPS, configMap("one", { v: "1" }), { namespace });
  await eventually("the create", () => Promise.resolve(cache.store.get(namespace, "one") !== undefined));
  const cached = cache.store.get(namespace, "one")!;
  assert.equal(cached.metadata?.resourceVersion, created.metadata?.resourceVersion);
  assert.equal(cached.metadata?.managedFields, undefined, "managedFields are stripped");
  assert.ok(Object.isFrozen(cached.data));

  await client.update<ConfigMap>(CONFIG_MAPS, { ...created, data: { v: "2" } });
  await eventually("the update", () => Promise.resolve(cache.store.get(namespace, "one")?.data?.v === "2"));
  await client.delete(CONFIG_MAPS, "one", { namespace });
  await eventually("the delete", () => Promise.resolve(cache.store.get(namespace, "one") === undefined));
  await client.create(CONFIG_MAPS, { ...configMap("unlabelled", {}), metadata: { name: "unlabelled" } }, {
    namespace,
  });
  await converged(client, cache.store, namespace);
  assert.equal(cache.store.get(namespace, "unlabelled"), undefined, "the label selector is applied");
  assert.equal(cache.cache.health().length, 1, "one reflector");
  assert.equal(cache.health().relists, 0);
});

clusterTest(
  "watcher: killing and restarting kube-apiserver mid-stream loses no update",
  async ({ cluster, namespace }) => {
    using client = await testClient(cluster);
    for (let i = 0; i < 5; i++) await client.create(CONFIG_MAPS, configMap(`cm-${i}`, { n: "0" }), { namespace });
    await using cache = await startCache(client, namespace);

    // Keep writing while the API server dies and comes back; writes that fail are simply not made.
    const writing = new AbortController();
    let writes = 0;
    const writer = (async () => {
      for (let n = 1; !writing.signal.aborted; n++) {
        try {
          const cm = await client.get<ConfigMap>(CONFIG_MAPS, `cm-${n % 5}`, { namespace, signal: writing.signal });
          await client.update(CONFIG_MAPS, { ...cm, data: { n: String(n) } }, { signal: writing.signal });
          writes++;
        } catch {
          if (!writing.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    })();
    await eventually("some writes", () => Promise.resolve(writes >= 10));
    await cluster.stopApiserver();
    const before = writes;
    await cluster.startApiserver();
    await eventually("writes after the restart", () => Promise.resolve(writes >= before + 10));
    writing.abort();
    await writer;
    await client.create(CONFIG_MAPS, configMap("after", { n: "x" }), { namespace });
    await client.delete(CONFIG_MAPS, "cm-0", { namespace });

    await converged(client, cache.store, namespace);
    const health = cache.health();
    assert.ok(health.errors >= 1, `the watcher saw the crash: ${JSON.stringify(health)}`);
    assert.ok(health.watchRestarts + health.relists >= 1);
  },
  { exclusive: true },
);

clusterTest(
  "watcher: a compacted resourceVersion (410) causes exactly one relist and convergence",
  async ({ cluster, namespace }) => {
    using client = await testClient(cluster);
    for (const name of ["keep", "doomed", "changed"]) {
      await client.create(CONFIG_MAPS, configMap(name, { v: "1" }), { namespace });
    }
    const tap = new Tap(client);
    await using cache = await startCache(tap, namespace);
    const changes: string[] = [];
    cache.store.subscribe((c) => changes.push(`${c.type}:${c.object.metadata?.name}`));
    const listsBefore = tap.lists.length;

    // Cut this process off, change things, compact etcd past our resourceVersion and restart the API server so
    // its watch cache cannot serve our old resourceVersion either.
    tap.partition();
    await eventually("the watcher to notice", () => Promise.resolve(cache.health().errors > 0));
    await client.delete(CONFIG_MAPS, "doomed", { namespace });
    const changed = await client.get<ConfigMap>(CONFIG_MAPS, "changed", { namespace });
    await client.update(CONFIG_MAPS, { ...changed, data: { v: "2" } });
    await client.create(CONFIG_MAPS, configMap("new", { v: "1" }), { namespace });
    await cluster.compactEtcd();
    await cluster.stopApiserver();
    await cluster.startApiserver();
    tap.heal();

    await converged(client, cache.store, namespace);
    assert.equal(cache.health().relists, 1, `exactly one relist: ${JSON.stringify(cache.health())}`);
    assert.equal(tap.lists.length - listsBefore, 1, "one list call (one page)");
    assert.deepEqual(changes.sort(), ["apply:changed", "apply:new", "delete:doomed"]);
  },
  { exclusive: true },
);
