import assert from "node:assert/strict";
import type { OwnerReference } from "kubernetes-types/meta/v1.d.ts";
import { CONTROLLER_UID_INDEX, LWS_NAME_INDEX, OWNER_UID_INDEX, type StoreChange, StoreWriter } from "./store.ts";
import type { KubeObject } from "./types.ts";
import type { WatcherEvent } from "./watcher.ts";

interface Obj extends KubeObject {
  data?: Record<string, string>;
}

function obj(
  name: string,
  rv: string,
  extra: { namespace?: string; labels?: Record<string, string>; owners?: OwnerReference[]; managed?: boolean } = {},
): Obj {
  return {
    metadata: {
      namespace: extra.namespace ?? "ns",
      name,
      uid: `uid-${name}`,
      resourceVersion: rv,
      labels: extra.labels,
      ownerReferences: extra.owners,
      ...(extra.managed ? { managedFields: [{ manager: "kubectl", operation: "Apply" }] } : {}),
    },
    data: { v: rv },
  };
}

const owner = (uid: string, controller = false): OwnerReference => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  name: uid,
  uid,
  controller,
});

function feed(writer: StoreWriter<Obj>, ...events: WatcherEvent<Obj>[]): void {
  for (const event of events) writer.apply(event);
}

function listed(writer: StoreWriter<Obj>, ...objects: Obj[]): void {
  feed(writer, { type: "init" }, ...objects.map((object) => ({ type: "initApply" as const, object })), {
    type: "initDone",
  });
}

const names = (objects: readonly Obj[]) => objects.map((o) => o.metadata?.name).sort();
const describe = (c: StoreChange<Obj>) => `${c.type}:${c.object.metadata?.name}@${c.object.metadata?.resourceVersion}`;

Deno.test("StoreWriter.apply() shows a list only when it is complete", () => {
  const writer = new StoreWriter<Obj>();
  const { store } = writer;
  feed(writer, { type: "init" }, { type: "initApply", object: obj("a", "1") });
  assert.equal(store.isSynced(), false);
  assert.equal(store.size(), 0);
  assert.equal(store.get("ns", "a"), undefined);
  feed(writer, { type: "initApply", object: obj("b", "2") }, { type: "initDone" });
  assert.equal(store.isSynced(), true);
  assert.deepEqual(names(store.list()), ["a", "b"]);
  assert.equal(store.get("ns", "a")?.metadata?.resourceVersion, "1");
});

Deno.test("StoreWriter.apply() serves the old contents during a relist and swaps at initDone", () => {
  const writer = new StoreWriter<Obj>();
  const { store } = writer;
  listed(writer, obj("a", "1"), obj("b", "2"), obj("c", "3"));
  const a = store.get("ns", "a");
  const changes: string[] = [];
  store.subscribe((c) => changes.push(describe(c)));

  feed(writer, { type: "init" }, { type: "initApply", object: obj("a", "1") }, {
    type: "initApply",
    object: obj("c", "9"),
  });
  assert.deepEqual(names(store.list()), ["a", "b", "c"], "readers still see the old list");
  assert.equal(store.get("ns", "c")?.metadata?.resourceVersion, "3");
  assert.deepEqual(changes, []);
  assert.equal(store.isSynced(), true, "still synced while relisting");

  feed(writer, { type: "initApply", object: obj("d", "10") }, { type: "initDone" });
  assert.deepEqual(names(store.list()), ["a", "c", "d"], "b was deleted while disconnected");
  assert.equal(store.get("ns", "b"), undefined);
  assert.deepEqual(changes, ["delete:b@2", "apply:c@9", "apply:d@10"], "unchanged a is not told");
  assert.equal(store.get("ns", "a"), a, "an unchanged object keeps its one copy");
});

Deno.test("StoreWriter.apply() drops an unfinished list when a new one starts", () => {
  const writer = new StoreWriter<Obj>();
  listed(writer, obj("a", "1"));
  feed(
    writer,
    { type: "init" },
    { type: "initApply", object: obj("x", "5") },
    { type: "init" },
    { type: "initApply", object: obj("y", "6") },
    { type: "initDone" },
  );
  assert.deepEqual(names(writer.store.list()), ["y"]);
});

Deno.test("StoreWriter.apply() applies watch events and tells subscribers after the store changed", () => {
  const writer = new StoreWriter<Obj>();
  const { store } = writer;
  const seen: string[] = [];
  store.subscribe((c) => {
    // The store already shows the change when a listener runs.
    const current = store.get("ns", c.object.metadata!.name!);
    seen.push(`${describe(c)} store=${current?.metadata?.resourceVersion ?? "none"}`);
  });
  listed(writer, obj("a", "1"));
  feed(
    writer,
    { type: "apply", object: obj("b", "2") },
    { type: "apply", object: obj("a", "3") },
    { type: "delete", object: obj("b", "4") },
    { type: "delete", object: obj("zz", "5") },
  );
  assert.deepEqual(seen, [
    "apply:a@1 store=1",
    "apply:b@2 store=2",
    "apply:a@3 store=3",
    "delete:b@4 store=none",
    "delete:zz@5 store=none",
  ]);
  assert.deepEqual(names(store.list()), ["a"]);
});

Deno.test("Store.subscribe() returns an unsubscribe and isolates a throwing listener", () => {
  const writer = new StoreWriter<Obj>();
  const seen: string[] = [];
  writer.store.subscribe(() => {
    throw new Error("listener bug");
  });
  const unsubscribe = writer.store.subscribe((c) => seen.push(describe(c)));
  listed(writer, obj("a", "1"));
  unsubscribe();
  feed(writer, { type: "apply", object: obj("a", "2") });
  assert.deepEqual(seen, ["apply:a@1"]);
  assert.equal(writer.store.get("ns", "a")?.metadata?.resourceVersion, "2");
});

Deno.test("StoreWriter.apply() strips managedFields and freezes what it caches", () => {
  const writer = new StoreWriter<Obj>();
  listed(writer, obj("a", "1", { managed: true }));
  feed(writer, { type: "apply", object: obj("b", "2", { managed: true }) });
  for (const name of ["a", "b"]) {
    const cached = writer.store.get("ns", name)!;
    assert.equal("managedFields" in cached.metadata!, false);
    assert.ok(Object.isFrozen(cached) && Object.isFrozen(cached.metadata) && Object.isFrozen(cached.data));
    assert.throws(() => {
      cached.data!.v = "mutated";
    }, TypeError);
  }
  const unfrozen = new StoreWriter<Obj>({ freeze: false });
  listed(unfrozen, obj("a", "1"));
  assert.equal(Object.isFrozen(unfrozen.store.get("ns", "a")), false);
});

Deno.test("Store.list() filters by namespace and by index", async (t) => {
  const writer = new StoreWriter<Obj>({
    indexers: { byData: (o) => (o.data?.v ? [o.data.v] : []) },
  });
  const { store } = writer;
  listed(
    writer,
    obj("p1", "1", { labels: { "leaderworkerset.sigs.k8s.io/name": "lws1" }, owners: [owner("sts1", true)] }),
    obj("p2", "2", {
      labels: { "leaderworkerset.sigs.k8s.io/name": "lws1" },
      owners: [owner("sts1", true), owner("other")],
    }),
    obj("p3", "3", { namespace: "ns2", labels: { "leaderworkerset.sigs.k8s.io/name": "lws1" } }),
    obj("p4", "4", { owners: [owner("other")] }),
  );
  const cases: [string, Parameters<typeof store.list>[0], string[]][] = [
    ["everything", undefined, ["p1", "p2", "p3", "p4"]],
    ["namespace", { namespace: "ns2" }, ["p3"]],
    ["empty namespace means all", { namespace: "" }, ["p1", "p2", "p3", "p4"]],
    ["unknown namespace", { namespace: "nope" }, []],
    ["owner uid", { index: [OWNER_UID_INDEX, "other"] }, ["p2", "p4"]],
    ["controller uid", { index: [CONTROLLER_UID_INDEX, "sts1"] }, ["p1", "p2"]],
    ["controller uid excludes non-controller owners", { index: [CONTROLLER_UID_INDEX, "other"] }, []],
    ["lws name across namespaces", { index: [LWS_NAME_INDEX, "lws1"] }, ["p1", "p2", "p3"]],
    ["lws name in a namespace", { namespace: "ns", index: [LWS_NAME_INDEX, "lws1"] }, ["p1", "p2"]],
    ["custom index", { index: ["byData", "3"] }, ["p3"]],
  ];
  for (const [name, options, want] of cases) {
    await t.step(name, () => assert.deepEqual(names(store.list(options)), want));
  }
  await t.step("unknown index throws", () => {
    assert.throws(() => store.list({ index: ["nope", "x"] }), /no index named nope/);
  });
});

Deno.test("StoreWriter.apply() keeps indexes current on update, delete and relist", () => {
  const writer = new StoreWriter<Obj>();
  const { store } = writer;
  const lws = (name: string) => ({ labels: { "leaderworkerset.sigs.k8s.io/name": name } });
  listed(writer, obj("p1", "1", lws("a")), obj("p2", "2", lws("a")));
  feed(writer, { type: "apply", object: obj("p1", "3", lws("b")) });
  assert.deepEqual(names(store.list({ index: [LWS_NAME_INDEX, "a"] })), ["p2"]);
  assert.deepEqual(names(store.list({ index: [LWS_NAME_INDEX, "b"] })), ["p1"]);
  feed(writer, { type: "delete", object: obj("p2", "4", lws("a")) });
  assert.deepEqual(names(store.list({ index: [LWS_NAME_INDEX, "a"] })), []);
  assert.deepEqual(names(store.list({ namespace: "ns" })), ["p1"]);
  listed(writer, obj("p9", "9", lws("a")));
  assert.deepEqual(names(store.list({ index: [LWS_NAME_INDEX, "a"] })), ["p9"]);
  assert.deepEqual(names(store.list({ index: [LWS_NAME_INDEX, "b"] })), []);
});

Deno.test("StoreWriter.addIndexer() indexes existing objects and rejects a clashing name", () => {
  const writer = new StoreWriter<Obj>();
  listed(writer, obj("a", "1"), obj("b", "2"));
  const byRv = (o: Obj) => [o.metadata?.resourceVersion ?? ""];
  writer.addIndexer("rv", byRv);
  writer.addIndexer("rv", byRv);
  assert.deepEqual(names(writer.store.list({ index: ["rv", "2"] })), ["b"]);
  feed(writer, { type: "apply", object: obj("c", "3") });
  assert.deepEqual(names(writer.store.list({ index: ["rv", "3"] })), ["c"]);
  assert.throws(() => writer.addIndexer("rv", () => []), /already exists/);
});

Deno.test("Store.get() finds cluster-scoped objects under the empty namespace", () => {
  const writer = new StoreWriter<Obj>();
  listed(writer, { metadata: { name: "node1", resourceVersion: "1" } });
  assert.equal(writer.store.get("", "node1")?.metadata?.name, "node1");
  assert.deepEqual(names(writer.store.list({ namespace: "" })), ["node1"]);
});

Deno.test("Store.waitUntilSynced() resolves at the first initDone and rejects on abort", async () => {
  const writer = new StoreWriter<Obj>();
  const controller = new AbortController();
  const waiting = writer.store.waitUntilSynced(controller.signal);
  const aborting = new AbortController();
  const abandoned = writer.store.waitUntilSynced(aborting.signal);
  aborting.abort(new Error("shutting down"));
  await assert.rejects(abandoned, /shutting down/);
  listed(writer);
  await waiting;
  await writer.store.waitUntilSynced(controller.signal);
  await assert.rejects(new StoreWriter().store.waitUntilSynced(aborting.signal), /shutting down/);
});
