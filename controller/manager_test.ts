import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import { ANNOTATION_REPLICAS, LABEL_NAME, LABEL_TEMPLATE_REVISION_HASH } from "../api/constants.ts";
import { InformerCache, type ListWatchSource } from "../kube/cache.ts";
import type { KubeClient } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import { CONTROLLER_REVISIONS, LEADER_WORKER_SETS, STATEFUL_SETS } from "../kube/resources.ts";
import { FakeApiServer } from "../kube/testing/fake_api.ts";
import type { KubeObject, ResourceType } from "../kube/types.ts";
import { buildControllerRevision } from "./leaderworkerset/revision.ts";
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

Deno.test("startControllers() reconciles only once the revisions are listed, so it never recreates an existing one", async () => {
  const api = new FakeApiServer();
  const live = lws("a");
  const built = buildControllerRevision({ ...live, metadata: { ...live.metadata } }, { revisionNumber: 1 });
  api.create(LEADER_WORKER_SETS, live);
  api.create(CONTROLLER_REVISIONS, built.revision);
  api.create(STATEFUL_SETS, {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: {
      name: "a",
      namespace: "ns",
      generation: 1,
      labels: { [LABEL_NAME]: "a", [LABEL_TEMPLATE_REVISION_HASH]: built.key },
      annotations: { [ANNOTATION_REPLICAS]: "1" },
      ownerReferences: [{
        apiVersion: "leaderworkerset.x-k8s.io/v1",
        kind: "LeaderWorkerSet",
        name: "a",
        uid: "uid-a",
        controller: true,
      }],
    },
    spec: {
      replicas: 1,
      selector: {},
      serviceName: "a",
      template: {},
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
    } as StatefulSet["spec"],
  });
  // The revisions list answers late (a big cluster, a slow API server); everything else at once.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const source: ListWatchSource = {
    listWatch: <T extends KubeObject>(type: ResourceType, fixed?: { namespace?: string }) => {
      const lw = api.listWatch<T>(type, fixed);
      if (type !== CONTROLLER_REVISIONS) return lw;
      return { list: async (options, signal) => (await gate, lw.list(options, signal)), watch: lw.watch };
    },
  };
  const client = new FakeClient();
  const abort = new AbortController();
  const cache = new InformerCache(source);
  const controllers = startControllers({
    client: client as unknown as KubeClient,
    cache,
    events: new FakeEvents() as unknown as EventRecorder,
    signal: abort.signal,
  });
  const cacheDone = cache.start(abort.signal);
  try {
    await delay(200);
    assert.deepEqual(client.calls, [], "nothing is reconciled while the revisions are not listed");
    release();
    const deadline = Date.now() + 10_000;
    while (client.of("apply").length === 0) {
      assert.ok(Date.now() < deadline, "the LWS is reconciled once the revisions are listed");
      await delay(10);
    }
  } finally {
    release();
    abort.abort();
    await controllers.finished;
    await cacheDone;
  }
  assert.deepEqual(client.of("create", "controllerrevisions"), [], "the existing revision is found");
  const applied = client.of("apply")[0]!.object as StatefulSet;
  assert.equal(applied.metadata?.labels?.[LABEL_TEMPLATE_REVISION_HASH], built.key);
});
