import assert from "node:assert/strict";
import { InformerCache, lwsOwnedSelector } from "./cache.ts";
import { flush, ManualClock } from "./clock.ts";
import { FakeApiServer } from "./testing/fake_api.ts";
import { PODS, STATEFUL_SETS } from "./resources.ts";
import { LWS_NAME_INDEX } from "./store.ts";
import type { KubeObject } from "./types.ts";

function pod(namespace: string, name: string, lws?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace, name, labels: lws ? { "leaderworkerset.sigs.k8s.io/name": lws } : { app: "other" } },
  };
}

const names = (objects: readonly KubeObject[]) => objects.map((o) => o.metadata?.name).sort();

function setup() {
  const api = new FakeApiServer();
  const clock = new ManualClock();
  const cache = new InformerCache(api, { clock, watcher: { backoff: { random: () => 0.5 } } });
  const controller = new AbortController();
  return { api, clock, cache, controller, signal: controller.signal };
}

Deno.test("lwsOwnedSelector() selects on the existence of the LWS name label", () => {
  assert.equal(lwsOwnedSelector(), "leaderworkerset.sigs.k8s.io/name");
});

Deno.test("InformerCache.store() shares one reflector per type, namespace and selector", async () => {
  const { api, cache, controller, signal } = setup();
  const a = cache.store(PODS, { labelSelector: lwsOwnedSelector() });
  const b = cache.store(PODS, { labelSelector: ` ${lwsOwnedSelector()} ` });
  const all = cache.store(PODS);
  const inNs = cache.store(PODS, { namespace: "ns1" });
  const sts = cache.store(STATEFUL_SETS, { labelSelector: lwsOwnedSelector() });
  assert.equal(a, b);
  assert.equal(new Set([a, all, inNs, sts]).size, 4);
  const stopped = cache.start(signal);
  await cache.waitUntilSynced(signal);
  assert.equal(api.watchCalls.length, 4, "one watch per distinct scope");
  assert.deepEqual(
    api.watchCalls.map((c) => `${c.resource} ns=${c.namespace ?? ""} ls=${c.labelSelector ?? ""}`).sort(),
    [
      "/v1/pods ns= ls=",
      "/v1/pods ns= ls=leaderworkerset.sigs.k8s.io/name",
      "/v1/pods ns=ns1 ls=",
      "apps/v1/statefulsets ns= ls=leaderworkerset.sigs.k8s.io/name",
    ],
  );
  controller.abort();
  await stopped;
});

Deno.test("InformerCache keeps a selective store in step with the API server", async () => {
  const { api, cache, controller, signal } = setup();
  api.create(PODS, pod("ns1", "owned-1", "lws-a"));
  api.create(PODS, pod("ns1", "unrelated"));
  const pods = cache.store(PODS, { labelSelector: lwsOwnedSelector() });
  assert.equal(cache.isSynced(), false);
  const stopped = cache.start(signal);
  await cache.waitUntilSynced(signal);
  assert.deepEqual(names(pods.list()), ["owned-1"]);

  api.create(PODS, pod("ns2", "owned-2", "lws-b"));
  api.create(PODS, pod("ns2", "unrelated-2"));
  const updated = api.objects(PODS).find((p) => p.metadata?.name === "owned-1")!;
  api.update(PODS, { ...updated, metadata: { ...updated.metadata, annotations: { touched: "yes" } } });
  await flush();
  assert.deepEqual(names(pods.list()), ["owned-1", "owned-2"]);
  assert.equal(pods.get("ns1", "owned-1")?.metadata?.annotations?.touched, "yes");
  assert.deepEqual(names(pods.list({ index: [LWS_NAME_INDEX, "lws-b"] })), ["owned-2"]);

  api.delete(PODS, "ns1", "owned-1");
  await flush();
  assert.deepEqual(names(pods.list()), ["owned-2"]);

  const [health] = cache.health();
  assert.equal(health?.resource, "core/v1/pods");
  assert.equal(health?.labelSelector, lwsOwnedSelector());
  assert.equal(health?.synced, true);
  assert.equal(health?.objects, 1);
  assert.equal(health?.state, "Watching");
  assert.equal(health?.resourceVersion, api.resourceVersion);
  controller.abort();
  await stopped;
  assert.equal(api.openWatches, 0);
});

Deno.test("InformerCache relists once after history was compacted and converges", async () => {
  const { api, clock, cache, controller, signal } = setup();
  api.create(PODS, pod("ns", "keep", "x"));
  api.create(PODS, pod("ns", "doomed", "x"));
  const pods = cache.store(PODS);
  const changes: string[] = [];
  pods.subscribe((c) => changes.push(`${c.type}:${c.object.metadata?.name}`));
  const stopped = cache.start(signal);
  await cache.waitUntilSynced(signal);
  changes.length = 0;

  // The watch drops; while it is down, objects change and etcd compacts past our resourceVersion.
  api.breakWatches();
  await flush();
  api.delete(PODS, "ns", "doomed");
  api.create(PODS, pod("ns", "new", "x"));
  api.compact();
  await clock.advance(800);
  assert.deepEqual(names(pods.list()), ["keep", "new"]);
  assert.deepEqual(names(pods.list()), names(api.objects(PODS)));
  assert.deepEqual(changes, ["delete:doomed", "apply:new"]);
  const [health] = cache.health();
  assert.deepEqual([health?.relists, health?.watchRestarts], [1, 1], "one re-watch (410), then one relist");
  controller.abort();
  await stopped;
});

Deno.test("InformerCache.store() after start() starts the new reflector at once", async () => {
  const { api, cache, controller, signal } = setup();
  api.create(PODS, pod("ns", "p", "x"));
  const stopped = cache.start(signal);
  const pods = cache.store(PODS);
  await cache.waitUntilSynced(signal);
  assert.deepEqual(names(pods.list()), ["p"]);
  assert.throws(() => cache.start(signal), /already started/);
  controller.abort();
  await stopped;
});

Deno.test("InformerCache.store() merges the indexers consumers ask for", async () => {
  const { api, cache, controller, signal } = setup();
  api.create(PODS, pod("ns", "p", "x"));
  const byName = (o: KubeObject) => [o.metadata?.name ?? ""];
  const first = cache.store(PODS, { indexers: { byName } });
  const second = cache.store(PODS, { indexers: { byNamespace: (o) => [o.metadata?.namespace ?? ""] } });
  assert.equal(first, second);
  assert.throws(() => cache.store(PODS, { indexers: { byName: () => [] } }), /already exists/);
  const stopped = cache.start(signal);
  await cache.waitUntilSynced(signal);
  assert.deepEqual(names(first.list({ index: ["byName", "p"] })), ["p"]);
  assert.deepEqual(names(first.list({ index: ["byNamespace", "ns"] })), ["p"]);
  controller.abort();
  await stopped;
});

Deno.test("InformerCache.waitUntilSynced() rejects when aborted before the stores sync", async () => {
  const { cache } = setup();
  cache.store(PODS);
  const controller = new AbortController();
  const waiting = cache.waitUntilSynced(controller.signal);
  controller.abort(new Error("gave up"));
  await assert.rejects(waiting, /gave up/);
});
