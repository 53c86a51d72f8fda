/**
 * Child process of the engine benchmark (`bench/engine.ts` starts it): caches LWS pods from a fake API server through
 * the product's own path — HTTP client → watcher → `InformerCache` store (frozen, managedFields stripped) — and
 * prints one JSON line:
 *
 * - `baseRssBytes`: resident memory with the modules loaded, before listing;
 * - `cacheRssBytes`: resident memory with every listed pod cached (after a GC);
 * - `listSeconds`: time to list them (pages of 500);
 * - `watchEventsPerSecond`: MODIFIED events per second from one watch stream into the store (first to last);
 * - `cacheStopSeconds`: time from aborting the cache to its `start()` promise settling; `null` when it had not
 *   settled after 5 s (the process then exits anyway).
 *
 *     deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc bench/engine_child.ts <server> <pods> <watchEvents>
 *
 * Run alone: nothing else runs in this process, so its RSS is what caching costs a Deno process.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { InformerCache, lwsOwnedSelector } from "../kube/cache.ts";
import { createClient } from "../kube/client.ts";
import type { ClusterConfig } from "../kube/kubeconfig.ts";
import { PODS } from "../kube/resources.ts";

declare const gc: (() => void) | undefined;

function rssAfterGc(): number {
  if (typeof gc === "function") {
    gc();
    gc();
  }
  return Deno.memoryUsage().rss;
}

if (import.meta.main) {
  const [server, podsText, eventsText] = Deno.args;
  const pods = Number(podsText);
  const events = Number(eventsText);
  if (!server || !(pods > 0) || !(events >= 0)) {
    throw new Error(`Usage: engine_child.ts <server> <pods> <watchEvents>, got ${Deno.args.join(" ")}`);
  }
  const config: ClusterConfig = {
    server,
    namespace: "default",
    insecureSkipTLSVerify: false,
    credentials: { get: () => Promise.resolve({}), invalidate: () => {}, refreshable: false },
    source: "engine benchmark",
  };
  const client = createClient(config, { qps: 0, burst: 1, userAgent: "lws-bench/1" });
  const baseRssBytes = rssAfterGc();
  const stop = new AbortController();
  const cache = new InformerCache(client);
  const store = cache.store<Pod>(PODS, { labelSelector: lwsOwnedSelector() });
  let applied = 0;
  let firstApplied = 0;
  let lastApplied = 0;
  let synced = false;
  const allApplied = Promise.withResolvers<void>();
  store.subscribe(() => {
    if (!synced) return;
    applied++;
    if (applied === 1) firstApplied = performance.now();
    if (applied === events) {
      lastApplied = performance.now();
      allApplied.resolve();
    }
  });
  const listStarted = performance.now();
  const running = cache.start(stop.signal);
  await cache.waitUntilSynced(AbortSignal.timeout(300_000));
  synced = true;
  const listed = performance.now();
  const cacheRssBytes = rssAfterGc();
  if (store.size() !== pods) throw new Error(`Engine benchmark bug: cached ${store.size()} pods, expected ${pods}`);
  // The server streams the events as soon as the watch opens; the rate is taken from the first to the last event
  // applied, so the GC above and the connection set-up do not count.
  if (events > 0) await allApplied.promise;
  // Stopping: the cache should stop within moments of the abort. It does not always (the watch connection stays
  // open although its signal aborted; seen about once in ten runs), so wait a bounded time, report it, and exit.
  const stopping = performance.now();
  stop.abort();
  const stopped = await Promise.race([
    running.then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), 5_000)),
  ]);
  console.log(JSON.stringify({
    baseRssBytes,
    cacheRssBytes,
    listSeconds: (listed - listStarted) / 1000,
    watchEventsPerSecond: events > 1 ? (events - 1) / ((lastApplied - firstApplied) / 1000) : null,
    cacheStopSeconds: stopped ? (performance.now() - stopping) / 1000 : null,
  }));
  client.close();
  Deno.exit(0);
}
