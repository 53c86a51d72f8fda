import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import { InformerCache } from "../kube/cache.ts";
import type { KubeClient } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import { LEADER_WORKER_SETS } from "../kube/resources.ts";
import { FakeApiServer } from "../kube/testing/fake_api.ts";
import { startControllers } from "./manager.ts";
import { FakeClient, FakeEvents } from "./testing/fakes.ts";

function lws(name: string, labels: Record<string, string> = {}): LeaderWorkerSet {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name, namespace: "ns", uid: `uid-${name}`, generation: 1, labels },
    spec: {
      replicas: 1,
      leaderWorkerTemplate: { size: 1, workerTemplate: { spec: { containers: [{ name: "c", image: "i" }] } } },
    },
  };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("startControllers() reconciles different LWS at once, never one LWS twice at once", async () => {
  const api = new FakeApiServer();
  const names = ["a", "b", "c", "d", "e", "f"];
  for (const name of names) api.create(LEADER_WORKER_SETS, lws(name));
  const client = new FakeClient();
  let inFlight = 0;
  let maxInFlight = 0;
  const perKey = new Map<string, number>();
  const applies = new Map<string, number>();
  let maxPerKey = 0;
  client.respond((call) => {
    if (call.verb !== "apply") return undefined;
    return (async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      perKey.set(call.name, (perKey.get(call.name) ?? 0) + 1);
      maxPerKey = Math.max(maxPerKey, perKey.get(call.name)!);
      const count = (applies.get(call.name) ?? 0) + 1;
      applies.set(call.name, count);
      // A change while this key's reconcile runs: it must run again afterwards, not alongside.
      if (count === 1) api.update(LEADER_WORKER_SETS, lws(call.name, { bumped: "yes" }));
      await delay(20);
      perKey.set(call.name, perKey.get(call.name)! - 1);
      inFlight--;
      const sts = call.object as StatefulSet;
      return { ...sts, metadata: { ...sts.metadata, uid: `sts-${call.name}`, generation: 1 } };
    })();
  });
  const abort = new AbortController();
  const cache = new InformerCache(api);
  const controllers = startControllers({
    client: client as unknown as KubeClient,
    cache,
    events: new FakeEvents() as unknown as EventRecorder,
    concurrency: { leaderWorkerSet: 3, pod: 2 },
    signal: abort.signal,
  });
  const cacheDone = cache.start(abort.signal);
  try {
    const deadline = Date.now() + 10_000;
    while (!names.every((n) => (applies.get(n) ?? 0) >= 2)) {
      assert.ok(Date.now() < deadline, `every LWS reconciled twice: ${JSON.stringify([...applies])}`);
      await delay(10);
    }
  } finally {
    abort.abort();
    await controllers.finished;
    await cacheDone;
  }
  assert.equal(maxInFlight, 3, "different LWS run concurrently, up to the configured 3");
  assert.equal(maxPerKey, 1, "one LWS is never reconciled twice at the same time");
  const stats = controllers.stats();
  assert.ok(stats.leaderWorkerSet.reconciles.success >= 12);
  assert.equal(stats.pod.reconciles.error, 0);
});
