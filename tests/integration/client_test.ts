/**
 * kube/client.ts, kube/errors.ts and kube/events.ts against the real API server: CRUD, server-side apply,
 * subresources, preconditions, typed errors, watch, pagination and event aggregation.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConfigMap, Pod } from "kubernetes-types/core/v1.d.ts";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Event } from "kubernetes-types/events/v1.d.ts";
import { clusterTest, eventually, type TestCluster } from "../cluster/harness.ts";
import { buildUserAgent, type ClientOptions, createClient, type KubeClient } from "../../kube/client.ts";
import { isAlreadyExists, isConflict, isInvalid, isNotFound } from "../../kube/errors.ts";
import { clientEventSink, createEventRecorder, objectReference } from "../../kube/events.ts";
import { loadKubeConfig } from "../../kube/kubeconfig.ts";
import {
  CONFIG_MAPS,
  CONTROLLER_REVISIONS,
  EVENTS,
  LEADER_WORKER_SETS,
  PODS,
  STATEFUL_SETS,
} from "../../kube/resources.ts";
import type { RawWatchEvent } from "../../kube/types.ts";

const CRD_PATH = new URL("../../crds/leaderworkersets.leaderworkerset.x-k8s.io.yaml", import.meta.url).pathname;

/** A client for the test cluster's admin kubeconfig; closed when the scope ends. */
async function clientFor(cluster: TestCluster, extra: Partial<ClientOptions> = {}): Promise<KubeClient & Disposable> {
  const config = await loadKubeConfig({ path: cluster.kubeconfig });
  const client = createClient(config, {
    qps: 50,
    burst: 100,
    userAgent: buildUserAgent({ version: "v0.1.0-test", commit: "0123456789" }),
    ...extra,
  });
  return Object.assign(client, { [Symbol.dispose]: () => client.close() });
}

const configMap = (name: string, data: Record<string, string>): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name },
  data,
});

clusterTest("client: ConfigMap CRUD with typed errors and preconditions", async ({ cluster, namespace, t }) => {
  using client = await clientFor(cluster);
  const created = await client.create<ConfigMap>(CONFIG_MAPS, configMap("one", { a: "1" }), { namespace });
  assert.ok(created.metadata?.uid);
  assert.equal(created.data?.a, "1");
  assert.equal(created.metadata?.managedFields?.[0]?.manager, "lws", "field manager derived from the user agent");

  await t.step("AlreadyExists", async () => {
    await assert.rejects(client.create(CONFIG_MAPS, configMap("one", {}), { namespace }), isAlreadyExists);
  });
  await t.step("get, update, Conflict on a stale resourceVersion", async () => {
    const got = await client.get<ConfigMap>(CONFIG_MAPS, "one", { namespace });
    assert.equal(got.metadata?.resourceVersion, created.metadata?.resourceVersion);
    const updated = await client.update<ConfigMap>(CONFIG_MAPS, { ...got, data: { a: "2" } });
    assert.equal(updated.data?.a, "2");
    assert.notEqual(updated.metadata?.resourceVersion, got.metadata?.resourceVersion);
    await assert.rejects(client.update(CONFIG_MAPS, { ...got, data: { a: "3" } }), isConflict);
  });
  await t.step("merge, strategic and JSON patches", async () => {
    await client.patch(CONFIG_MAPS, "one", { namespace, patch: { data: { m: "merge" } } });
    await client.patch(CONFIG_MAPS, "one", { namespace, patch: { data: { s: "sm" } }, patchType: "strategic" });
    const patched = await client.patch<ConfigMap>(CONFIG_MAPS, "one", {
      namespace,
      patch: [{ op: "add", path: "/data/j", value: "json" }, { op: "remove", path: "/data/a" }],
      patchType: "json",
    });
    assert.deepEqual(patched.data, { m: "merge", s: "sm", j: "json" });
  });
  await t.step("NotFound and Invalid", async () => {
    await assert.rejects(client.get(CONFIG_MAPS, "absent", { namespace }), isNotFound);
    await assert.rejects(client.create(CONFIG_MAPS, configMap("Bad_Name", {}), { namespace }), (err: unknown) => {
      assert.ok(isInvalid(err));
      assert.equal(err.code, 422);
      assert.ok(err.details?.causes?.some((c) => c.field === "metadata.name"), JSON.stringify(err.details));
      return true;
    });
  });
  await t.step("delete with a wrong uid precondition is a Conflict; with the right one it deletes", async () => {
    await assert.rejects(
      client.delete(CONFIG_MAPS, "one", { namespace, preconditions: { uid: "00000000-0000-0000-0000-000000000000" } }),
      isConflict,
    );
    await client.delete(CONFIG_MAPS, "one", { namespace, preconditions: { uid: created.metadata?.uid } });
    await assert.rejects(client.get(CONFIG_MAPS, "one", { namespace }), isNotFound);
    await assert.rejects(client.delete(CONFIG_MAPS, "one", { namespace }), isNotFound);
  });
  await t.step("a string body is sent byte-exact (ControllerRevision data keeps its key order)", async () => {
    const body =
      `{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"rev-1","namespace":"${namespace}"},` +
      `"data":{"z":1,"a":{"y":"\\u003c\\u003e","b":[2,1]}},"revision":1}`;
    await client.create(CONTROLLER_REVISIONS, body);
    // Read it back with our client (JSON.parse keeps key order; kubectl -o json would sort the keys).
    const got = await client.get<ControllerRevision>(CONTROLLER_REVISIONS, "rev-1", { namespace });
    assert.deepEqual(Object.keys(got.data as Record<string, unknown>), ["z", "a"], "key order as sent");
    assert.deepEqual(got.data, { z: 1, a: { y: "<>", b: [2, 1] } });
  });
});

clusterTest("client: Pods create, list by label, delete with grace period 0", async ({ cluster, namespace }) => {
  using client = await clientFor(cluster);
  const pod = (name: string, app: string): Pod => ({
    metadata: { name, labels: { app } },
    spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] },
  });
  await client.create(PODS, pod("p1", "x"), { namespace });
  await client.create(PODS, pod("p2", "x"), { namespace });
  await client.create(PODS, pod("p3", "y"), { namespace });
  const listed = await client.list<Pod>(PODS, { namespace, labelSelector: "app=x" });
  assert.deepEqual(listed.items.map((p) => p.metadata?.name).sort(), ["p1", "p2"]);
  assert.ok(listed.metadata.resourceVersion);
  assert.equal(listed.items[0]?.kind, "Pod");
  await client.delete(PODS, "p1", { namespace, gracePeriodSeconds: 0, propagationPolicy: "Background" });
  await eventually("p1 gone", async () => {
    try {
      await client.get(PODS, "p1", { namespace });
      return false;
    } catch (err) {
      return isNotFound(err);
    }
  });
});

function statefulSet(name: string, labels: Record<string, string>, replicas = 0): StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, labels },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] },
      },
    },
  };
}

clusterTest(
  "client: server-side apply creates, updates, drops removed fields and honours force",
  async ({ cluster, namespace, t }) => {
    using client = await clientFor(cluster);
    const applied = await client.apply<StatefulSet>(
      STATEFUL_SETS,
      statefulSet("web", { keep: "1", drop: "1" }),
      { namespace, fieldManager: "lws", force: true },
    );
    assert.equal(applied.metadata?.labels?.drop, "1");
    assert.ok(applied.metadata?.managedFields?.some((f) => f.manager === "lws" && f.operation === "Apply"));

    await t.step("a field removed from the applied config is dropped", async () => {
      const again = await client.apply<StatefulSet>(STATEFUL_SETS, statefulSet("web", { keep: "2" }), {
        namespace,
        fieldManager: "lws",
        force: true,
      });
      assert.deepEqual(again.metadata?.labels, { keep: "2" });
    });
    await t.step("a field owned by another manager conflicts without force and is taken with force", async () => {
      await client.patch(STATEFUL_SETS, "web", {
        namespace,
        patch: { metadata: { labels: { keep: "other" } } },
        fieldManager: "someone-else",
      });
      await assert.rejects(
        client.apply(STATEFUL_SETS, statefulSet("web", { keep: "3" }), { namespace, fieldManager: "lws" }),
        isConflict,
      );
      const forced = await client.apply<StatefulSet>(STATEFUL_SETS, statefulSet("web", { keep: "3" }), {
        namespace,
        fieldManager: "lws",
        force: true,
      });
      assert.equal(forced.metadata?.labels?.keep, "3");
    });
    await t.step("scale subresource", async () => {
      const scale = await client.getScale(STATEFUL_SETS, "web", { namespace });
      assert.equal(scale.spec?.replicas ?? 0, 0);
      const updated = await client.updateScale(STATEFUL_SETS, { ...scale, spec: { replicas: 2 } });
      assert.equal(updated.spec?.replicas, 2);
      assert.equal((await client.get<StatefulSet>(STATEFUL_SETS, "web", { namespace })).spec?.replicas, 2);
    });
    await t.step("dry run does not persist", async () => {
      await client.create(STATEFUL_SETS, statefulSet("dry", {}), { namespace, dryRun: true });
      await assert.rejects(client.get(STATEFUL_SETS, "dry", { namespace }), isNotFound);
    });
  },
);

clusterTest("client: status subresource patch and update leave spec alone", async ({ cluster, namespace }) => {
  await cluster.kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", CRD_PATH]);
  await cluster.kubectlOk([
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    "crd/leaderworkersets.leaderworkerset.x-k8s.io",
  ]);
  using client = await clientFor(cluster);
  type Lws = {
    metadata?: { name?: string; namespace?: string; resourceVersion?: string };
    spec?: { replicas?: number };
    status?: { readyReplicas?: number; replicas?: number };
  };
  const lws = {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: "status", namespace },
    spec: {
      replicas: 2,
      leaderWorkerTemplate: { workerTemplate: { spec: { containers: [{ name: "w", image: "nginx:1.27" }] } } },
    },
  };
  await client.create(LEADER_WORKER_SETS, lws);
  const patched = await client.patchStatus<Lws>(LEADER_WORKER_SETS, "status", {
    namespace,
    patch: { status: { readyReplicas: 1 }, spec: { replicas: 9 } },
  });
  assert.equal(patched.status?.readyReplicas, 1);
  assert.equal(patched.spec?.replicas, 2, "spec is ignored on the status subresource");
  const updated = await client.updateStatus<Lws>(LEADER_WORKER_SETS, {
    ...patched,
    status: { readyReplicas: 2, replicas: 2 },
  });
  assert.deepEqual({ ready: updated.status?.readyReplicas, replicas: updated.status?.replicas }, {
    ready: 2,
    replicas: 2,
  });
  await assert.rejects(
    client.updateStatus(LEADER_WORKER_SETS, { ...patched, status: { readyReplicas: 3 } }),
    isConflict,
    "a stale resourceVersion conflicts",
  );
});

clusterTest("client: a watch sees ADDED, MODIFIED and DELETED and ends on abort", async ({ cluster, namespace }) => {
  using client = await clientFor(cluster);
  const lw = client.listWatch<ConfigMap>(CONFIG_MAPS, { namespace });
  const initial = await lw.list({});
  const controller = new AbortController();
  const seen: RawWatchEvent<ConfigMap>[] = [];
  const watching = (async () => {
    for await (
      const event of lw.watch(
        { resourceVersion: initial.metadata.resourceVersion, allowWatchBookmarks: true },
        controller.signal,
      )
    ) {
      if (event.type === "ERROR" || (event.type !== "BOOKMARK" && event.object.metadata?.name === "w")) {
        seen.push(event);
      }
    }
  })();
  await client.create(CONFIG_MAPS, configMap("w", { v: "1" }), { namespace });
  await client.patch(CONFIG_MAPS, "w", { namespace, patch: { data: { v: "2" } } });
  await client.delete(CONFIG_MAPS, "w", { namespace });
  await eventually("three watch events", () => Promise.resolve(seen.length >= 3));
  controller.abort();
  await watching;
  assert.deepEqual(
    seen.map((e) => [
      e.type,
      (e.object as ConfigMap).data?.v,
    ]),
    [["ADDED", "1"], ["MODIFIED", "2"], ["DELETED", "2"]],
  );
});

clusterTest(
  "client: a watch ends by itself when the server closes it (timeoutSeconds)",
  async ({ cluster, namespace }) => {
    using client = await clientFor(cluster);
    const started = performance.now();
    const events: string[] = [];
    for await (
      const event of client.watch<ConfigMap>(CONFIG_MAPS, {
        namespace,
        timeoutSeconds: 1,
        signal: new AbortController().signal,
      })
    ) {
      events.push(event.type);
    }
    const elapsed = performance.now() - started;
    // Without a resourceVersion the server first sends the current objects as ADDED (kube-root-ca.crt, maybe).
    assert.ok(events.every((e) => e === "ADDED"), events.join());
    assert.ok(elapsed >= 900 && elapsed < 10_000, `ended after ${elapsed.toFixed(0)} ms`);
  },
);

clusterTest("client: listAll follows continue tokens with a small limit", async ({ cluster, namespace }) => {
  const calls: string[] = [];
  using client = await clientFor(cluster, { onRequest: (i) => calls.push(`${i.verb} ${i.resource} ${i.code}`) });
  const names = Array.from({ length: 7 }, (_, i) => `cm-${i}`);
  for (const name of names) await client.create(CONFIG_MAPS, configMap(name, {}), { namespace });
  calls.length = 0;
  const all = await client.listAll<ConfigMap>(CONFIG_MAPS, { namespace, limit: 2 });
  // kube-root-ca.crt is published into every namespace by the controller manager.
  assert.deepEqual(all.items.map((c) => c.metadata?.name).filter((n) => n?.startsWith("cm-")), names);
  assert.ok(all.metadata.resourceVersion);
  assert.ok(calls.length >= 4, `paginated in ${calls.length} calls`);
  assert.ok(calls.every((c) => c === "list configmaps 200"));
});

clusterTest("client: the rate limiter paces requests at qps", async ({ cluster, namespace }) => {
  using client = await clientFor(cluster, { qps: 10, burst: 1 });
  const started = performance.now();
  for (let i = 0; i < 6; i++) await client.list(CONFIG_MAPS, { namespace, limit: 1 });
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 450, `6 requests at 10 qps with burst 1 took ${elapsed.toFixed(0)} ms`);
});

clusterTest(
  "events: created with events.k8s.io/v1 fields, a repeat aggregates into series.count 2",
  async ({ cluster, namespace }) => {
    using client = await clientFor(cluster);
    const regarding = await client.create<ConfigMap>(CONFIG_MAPS, configMap("regarding", {}), { namespace });
    const recorder = createEventRecorder(clientEventSink(client), { reportingInstance: "lws-test-instance" });
    const ref = objectReference(regarding, CONFIG_MAPS);
    const input = {
      type: "Normal" as const,
      reason: "GroupsProgressing",
      action: "Create",
      note: "Created leader statefulset x",
    };
    recorder.record(ref, input);
    await recorder.flush();
    const first = (await client.list<Event>(EVENTS, { namespace })).items;
    assert.equal(first.length, 1);
    const event = first[0]!;
    assert.equal(event.reportingController, "leaderworkerset");
    assert.equal(event.reportingInstance, "lws-test-instance");
    assert.equal(event.action, "Create");
    assert.equal(event.reason, "GroupsProgressing");
    assert.equal(event.type, "Normal");
    assert.equal(event.note, "Created leader statefulset x");
    assert.equal(event.regarding?.uid, regarding.metadata?.uid);
    assert.match(event.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(event.metadata?.name ?? "", /^regarding\.[0-9a-f]+$/);
    assert.equal(event.series, undefined);

    recorder.record(ref, input);
    recorder.record(ref, { ...input, type: "Warning", reason: "FailedCreate", note: "Failed to create" });
    await recorder.close();
    const after = (await client.list<Event>(EVENTS, { namespace })).items;
    assert.equal(after.length, 2);
    const repeated = after.find((e) => e.metadata?.name === event.metadata?.name);
    assert.equal(repeated?.series?.count, 2);
    assert.match(repeated?.series?.lastObservedTime ?? "", /\.\d{6}Z$/);
    // kubectl sees it the way users and upstream's e2e do.
    const kubectl = await cluster.kubectlOk(["get", "events.events.k8s.io", "-o", "json"], { namespace });
    const reasons = (JSON.parse(kubectl) as { items: Event[] }).items.map((e) => `${e.type}/${e.reason}`).sort();
    assert.deepEqual(reasons, ["Normal/GroupsProgressing", "Warning/FailedCreate"]);
  },
);
