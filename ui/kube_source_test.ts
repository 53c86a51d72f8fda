import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import { EVENTS } from "../kube/resources.ts";
import { StoreWriter } from "../kube/store.ts";
import { eventFixture, FIXTURE_NOW, kwokFailedPod, worldFixture } from "./fixtures.ts";
import { EVENT_INDEXERS, kubeDashboardSource, LWS_EVENTS_FIELD_SELECTOR, podEventsFetcher } from "./kube_source.ts";
import type { DashboardChange, DashboardEvent } from "./source.ts";
import { loadDetail, loadOverview } from "./data.ts";

function stores() {
  const lws = new StoreWriter<LeaderWorkerSet>({ name: "lws" });
  const pods = new StoreWriter<Pod>({ name: "pods" });
  const sts = new StoreWriter<StatefulSet>({ name: "sts" });
  const events = new StoreWriter<DashboardEvent>({ name: "events", indexers: EVENT_INDEXERS });
  for (const w of [lws, pods, sts, events]) w.apply({ type: "init" });
  return { lws, pods, sts, events };
}

function fill(s: ReturnType<typeof stores>, world: ReturnType<typeof worldFixture>) {
  s.lws.apply({ type: "initApply", object: world.lws });
  for (const p of world.pods) s.pods.apply({ type: "initApply", object: p });
  for (const x of world.statefulSets) s.sts.apply({ type: "initApply", object: x });
  for (const e of world.events ?? []) s.events.apply({ type: "initApply", object: e });
}

Deno.test("kubeDashboardSource() reads LWS objects from kube/ stores by index", () => {
  const s = stores();
  const a = worldFixture({
    name: "a",
    namespace: "ns1",
    replicas: 2,
    size: 3,
    events: [eventFixture({ lwsName: "a", namespace: "ns1", reason: "GroupsProgressing", note: "n" })],
  });
  const b = worldFixture({ name: "a", namespace: "ns2", replicas: 1, size: 2 });
  fill(s, a);
  fill(s, b);
  const source = kubeDashboardSource({
    leaderWorkerSets: s.lws.store,
    pods: s.pods.store,
    statefulSets: s.sts.store,
    events: s.events.store,
  });
  assert.equal(source.isSynced(), false);
  for (const w of Object.values(s)) w.apply({ type: "initDone" });
  assert.equal(source.isSynced(), true);
  assert.equal(source.listLeaderWorkerSets().length, 2);
  assert.equal(source.listLeaderWorkerSets("ns1").length, 1);
  assert.equal(source.podsOf("ns1", "a").length, 6, "same LWS name in another namespace is not mixed in");
  assert.equal(source.statefulSetsOf("ns2", "a").length, 2);
  assert.equal(source.eventsOf("ns1", "a").length, 1);
  assert.equal(source.eventsOf("ns2", "a").length, 0);
  assert.equal(source.getPod("ns1", "a-1-2")?.metadata?.name, "a-1-2");
  const detail = loadDetail(source, { namespace: "ns1", name: "a", page: 1, pageSize: 50, filter: "all" }, FIXTURE_NOW);
  assert.equal(detail?.grid.rows.length, 2);
  assert.equal(loadOverview(source, { namespace: "", query: "" }, FIXTURE_NOW).rows.length, 2);
});

Deno.test("kubeDashboardSource().subscribe() maps store changes to the LWS they concern", () => {
  const s = stores();
  const world = worldFixture({ name: "a", namespace: "ns1", replicas: 1, size: 2 });
  const source = kubeDashboardSource({
    leaderWorkerSets: s.lws.store,
    pods: s.pods.store,
    statefulSets: s.sts.store,
    events: s.events.store,
  });
  for (const w of Object.values(s)) w.apply({ type: "initDone" });
  const changes: DashboardChange[] = [];
  const unsubscribe = source.subscribe((c) => changes.push(c));
  s.lws.apply({ type: "apply", object: world.lws });
  s.pods.apply({ type: "apply", object: world.pods[0]! });
  s.sts.apply({ type: "apply", object: world.statefulSets[0]! });
  s.events.apply({
    type: "apply",
    object: eventFixture({ lwsName: "a", namespace: "ns1", reason: "r", note: "n" }),
  });
  s.pods.apply({ type: "delete", object: world.pods[0]! });
  unsubscribe();
  s.pods.apply({ type: "apply", object: world.pods[1]! });
  assert.deepEqual(changes, [
    { kind: "LeaderWorkerSet", namespace: "ns1", lwsName: "a" },
    { kind: "Pod", namespace: "ns1", lwsName: "a" },
    { kind: "StatefulSet", namespace: "ns1", lwsName: "a" },
    { kind: "Event", namespace: "ns1", lwsName: "a" },
    { kind: "Pod", namespace: "ns1", lwsName: "a" },
  ]);
});

Deno.test("kubeDashboardSource() records pod failures from the pod store, with no page open", () => {
  const s = stores();
  const world = worldFixture({ name: "a", namespace: "ns1", replicas: 2, size: 2 });
  fill(s, world);
  for (const w of Object.values(s)) w.apply({ type: "initDone" });
  let now = FIXTURE_NOW;
  const source = kubeDashboardSource(
    { leaderWorkerSets: s.lws.store, pods: s.pods.store, statefulSets: s.sts.store, events: s.events.store },
    { failures: { now: () => now } },
  );
  // No subscriber: the record follows the store on its own. The worker of group 1 fails and is replaced.
  const pod = world.pods.find((p) => p.metadata?.name === "a-1-1")!;
  const failed = kwokFailedPod(pod);
  now += 1_000;
  s.pods.apply({ type: "apply", object: failed });
  s.pods.apply({ type: "delete", object: failed });
  s.pods.apply({ type: "apply", object: { ...pod, metadata: { ...pod.metadata, uid: "replacement" } } });
  assert.deepEqual(source.failuresOf("ns1", "a").map((f) => [f.at - FIXTURE_NOW, f.pod, f.kind, f.outcome]), [
    [1_000, "a-1-1", "failed", "pod replaced"],
  ]);
  const detail = loadDetail(source, { namespace: "ns1", name: "a", page: 1, pageSize: 50, filter: "all" }, now);
  assert.equal(detail?.grid.rows[1]?.failure?.latest.kind, "failed");
  // The LWS is deleted: its record goes with it.
  s.lws.apply({ type: "delete", object: world.lws });
  assert.deepEqual(source.failuresOf("ns1", "a"), []);
});

Deno.test("kubeDashboardSource() records failures the cache's first list holds, dated by their status", async (t) => {
  const world = worldFixture({
    name: "a",
    namespace: "ns1",
    replicas: 2,
    size: 2,
    podState: (g, w) => (g === 0 && w === 1 ? "restarted" : "ready"),
  });
  // The fixture's restarted pod: OOMKilled (exit 137), 6 s ago.
  const expected = [[-6_000, "a-0-1", "restarted", "OOMKilled", 137]];
  const recorded = (source: ReturnType<typeof kubeDashboardSource>) =>
    source.failuresOf("ns1", "a").map((f) => [f.at - FIXTURE_NOW, f.pod, f.kind, f.reason, f.exitCode]);
  for (const synced of [false, true]) {
    await t.step(synced ? "source created after the first list" : "source created before the first list", () => {
      const s = stores();
      fill(s, world);
      if (synced) { for (const w of Object.values(s)) w.apply({ type: "initDone" }); }
      const source = kubeDashboardSource(
        { leaderWorkerSets: s.lws.store, pods: s.pods.store, statefulSets: s.sts.store },
        { failures: { now: () => FIXTURE_NOW } },
      );
      if (!synced) { for (const w of Object.values(s)) w.apply({ type: "initDone" }); }
      assert.deepEqual(recorded(source), expected);
    });
  }
});

Deno.test("podEventsFetcher() lists one pod's events with a field selector", async () => {
  const calls: unknown[] = [];
  const fetcher = podEventsFetcher({
    list: (type, options) => {
      calls.push([type, options]);
      return Promise.resolve({ items: [], metadata: {} });
    },
  });
  assert.deepEqual(await fetcher("ns1", "a-0-1"), []);
  assert.deepEqual(calls, [[EVENTS, {
    namespace: "ns1",
    fieldSelector: "regarding.kind=Pod,regarding.name=a-0-1",
    limit: 50,
    signal: undefined,
  }]]);
  assert.equal(LWS_EVENTS_FIELD_SELECTOR, "regarding.kind=LeaderWorkerSet");
});
