/**
 * kube/cache.ts at scale against the real API server: thousands of objects listed page by page into one shared
 * store.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import { clusterTest } from "../cluster/harness.ts";
import { buildUserAgent, createClient, type KubeClient } from "../../kube/client.ts";
import { isAlreadyExists } from "../../kube/errors.ts";
import { InformerCache, type ListWatchSource } from "../../kube/cache.ts";
import { loadKubeConfig } from "../../kube/kubeconfig.ts";
import { CONFIG_MAPS } from "../../kube/resources.ts";
import type { KubeObject, ListOptions, ResourceType } from "../../kube/types.ts";

const COUNT = 5000;
const PAGE = 500;

/** Creates one ConfigMap, retrying a few times on transport errors (setup must not flake on one dropped request). */
async function createWithRetry(client: KubeClient, cm: ConfigMap, namespace: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await client.create(CONFIG_MAPS, cm, { namespace });
      return;
    } catch (err) {
      if (isAlreadyExists(err)) return;
      if (attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

clusterTest("cache: 5,000 ConfigMaps are listed page by page into one shared store", async ({ cluster, namespace }) => {
  const config = await loadKubeConfig({ path: cluster.kubeconfig });
  using client = Object.assign(
    createClient(config, { qps: 0, burst: 0, userAgent: buildUserAgent({ version: "v0.1.0-cache-test" }) }),
    { [Symbol.dispose]: () => client.close() },
  );

  // Create them with 16 requests in flight.
  const created = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let i = next++; i < COUNT; i = next++) {
      const cm: ConfigMap = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `cm-${String(i).padStart(5, "0")}`, labels: { "cache-test": "yes" } },
        data: { index: String(i), payload: "x".repeat(200) },
      };
      await createWithRetry(client, cm, namespace);
    }
  }));
  console.log(`created ${COUNT} ConfigMaps in ${Date.now() - created} ms`);

  const pages: ListOptions[] = [];
  const source: ListWatchSource = {
    listWatch<T extends KubeObject>(type: ResourceType, options?: { namespace?: string }) {
      const lw = client.listWatch<T>(type, options);
      return { ...lw, list: (o, signal) => (pages.push(o), lw.list(o, signal)) };
    },
  };
  const controller = new AbortController();
  const cache = new InformerCache(source, { watcher: { pageSize: PAGE } });
  const store = cache.store<ConfigMap>(CONFIG_MAPS, { namespace, labelSelector: "cache-test" });
  const shared = cache.store<ConfigMap>(CONFIG_MAPS, { namespace, labelSelector: "cache-test" });
  const listed = Date.now();
  const stopped = cache.start(controller.signal);
  try {
    await cache.waitUntilSynced(controller.signal);
    console.log(`listed ${store.size()} ConfigMaps in ${pages.length} pages in ${Date.now() - listed} ms`);
    assert.equal(shared, store, "one store for both consumers");
    assert.equal(store.size(), COUNT);
    // The server may hand out a continue token with the last full page and answer an empty page after it.
    assert.ok(pages.length === COUNT / PAGE || pages.length === COUNT / PAGE + 1, `pages: ${pages.length}`);
    assert.ok(pages.every((p) => p.limit === PAGE));
    assert.equal(pages.filter((p) => p.continue).length, pages.length - 1, "every page after the first continues");
    assert.equal(store.get(namespace, "cm-04999")?.data?.index, "4999");
    assert.equal(cache.health().length, 1);
    const fresh = await client.listAll<ConfigMap>(CONFIG_MAPS, { namespace, labelSelector: "cache-test" });
    const byName = new Map(fresh.items.map((o) => [o.metadata?.name, o.metadata?.resourceVersion]));
    assert.ok(store.list().every((o) => byName.get(o.metadata?.name) === o.metadata?.resourceVersion));
  } finally {
    controller.abort();
    await stopped;
  }
});
