import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { Registry } from "prom-client";
import type { LeaderWorkerSet } from "../api/types.ts";
import { ManualClock } from "../kube/clock.ts";
import type { ControllerStats } from "../kube/controller.ts";
import type { EventInput, EventRecorder } from "../kube/events.ts";
import { StoreWriter } from "../kube/store.ts";
import { parseMetrics } from "./_testing.ts";
import { createLwsMetrics, recreationReason } from "./lws.ts";
import { registerProcessMetrics } from "./process.ts";
import { createProductMetrics } from "./registry.ts";
import { createMetricsApp, tokenReviewAuthorizer } from "./server.ts";

function stats(adds: number, depth: number): ControllerStats {
  return {
    reconciles: { success: 0, requeue: 0, error: 0, terminal: 0 },
    queue: { depth, ready: 0, inFlight: 1, adds, processed: 0, failures: 0, retries: 0 },
  };
}

Deno.test("createProductMetrics() exports the controller-runtime and client-go families", async () => {
  const metrics = createProductMetrics({ host: "127.0.0.1:6443" });
  const hooks = metrics.controllerHooks("leaderworkerset");
  hooks.onReconcile("success", 12);
  hooks.onReconcile("requeue", 3);
  hooks.onReconcile("error", 5);
  hooks.onReconcile("terminal", 5);
  hooks.onQueueLatency?.(2);
  hooks.onWorkDuration?.(4, "success");
  hooks.onRetry?.("ns/a", 10);
  metrics.webhook.registerPath("/mutate--v1-pod");
  metrics.webhook.requestStarted("/mutate--v1-pod");
  metrics.webhook.requestFinished("/mutate--v1-pod", 200, 0.003);
  metrics.onRequest({ verb: "list", method: "GET", resource: "pods", code: 200, durationMs: 4 });
  metrics.onRequest({ verb: "get", method: "GET", resource: "pods", code: 0, durationMs: 4 });
  let adds = 5;
  metrics.setSources({
    controllers: () => ({ leaderworkerset: stats(adds, 2) }),
    concurrency: () => ({ leaderworkerset: 4 }),
    reflectors: () => [{
      resource: "core/v1/pods",
      namespace: undefined,
      labelSelector: "leaderworkerset.sigs.k8s.io/name",
      synced: true,
      objects: 3,
      state: "Watching",
      resourceVersion: "1",
      lastEventAt: 0,
      relists: 2,
      watchRestarts: 1,
      errors: 0,
      lastError: undefined,
    }],
    leader: () => ({ name: "b8b2488c.x-k8s.io", leading: true }),
  });
  const s = parseMetrics(await metrics.registry.metrics());
  const c = 'controller="leaderworkerset"';
  assert.equal(s.get(`controller_runtime_reconcile_total{${c},result="success"}`), 1);
  assert.equal(s.get(`controller_runtime_reconcile_total{${c},result="requeue_after"}`), 1);
  assert.equal(s.get(`controller_runtime_reconcile_total{${c},result="error"}`), 2);
  assert.equal(s.get(`controller_runtime_reconcile_total{${c},result="requeue"}`), 0);
  assert.equal(s.get(`controller_runtime_reconcile_errors_total{${c}}`), 2);
  assert.equal(s.get(`controller_runtime_terminal_reconcile_errors_total{${c}}`), 1);
  assert.equal(s.get(`controller_runtime_reconcile_time_seconds_count{${c}}`), 4);
  assert.equal(s.get(`controller_runtime_active_workers{${c}}`), 1);
  assert.equal(s.get(`controller_runtime_max_concurrent_reconciles{${c}}`), 4);
  const q = 'name="leaderworkerset",controller="leaderworkerset"';
  assert.equal(s.get(`workqueue_depth{${q}}`), 2);
  assert.equal(s.get(`workqueue_adds_total{${q}}`), 5);
  assert.equal(s.get(`workqueue_queue_duration_seconds_count{${q}}`), 1);
  assert.equal(s.get(`workqueue_work_duration_seconds_count{${q}}`), 1);
  assert.equal(s.get(`workqueue_retries_total{${q}}`), 1);
  assert.equal(s.get('controller_runtime_webhook_requests_total{webhook="/mutate--v1-pod",code="200"}'), 1);
  assert.equal(s.get('controller_runtime_webhook_requests_total{webhook="/mutate--v1-pod",code="500"}'), 0);
  assert.equal(s.get('controller_runtime_webhook_requests_in_flight{webhook="/mutate--v1-pod"}'), 0);
  assert.equal(s.get('controller_runtime_webhook_latency_seconds_count{webhook="/mutate--v1-pod"}'), 1);
  assert.equal(s.get('rest_client_requests_total{code="200",host="127.0.0.1:6443",method="GET"}'), 1);
  assert.equal(s.get('rest_client_requests_total{code="<error>",host="127.0.0.1:6443",method="GET"}'), 1);
  assert.equal(s.get('rest_client_request_duration_seconds_count{verb="GET",host="127.0.0.1:6443"}'), 2);
  const r = 'resource="core/v1/pods",scope="selector=leaderworkerset.sigs.k8s.io/name"';
  assert.equal(s.get(`lws_watch_relists_total{${r}}`), 2);
  assert.equal(s.get(`lws_watch_restarts_total{${r}}`), 1);
  assert.equal(s.get(`lws_cache_objects{${r}}`), 3);
  assert.equal(s.get(`lws_cache_synced{${r}}`), 1);
  assert.equal(s.get('leader_election_master_status{name="b8b2488c.x-k8s.io"}'), 1);

  // Snapshot counters grow by the difference, and a restarted source (new leadership term) adds all of its count.
  adds = 8;
  assert.equal(parseMetrics(await metrics.registry.metrics()).get(`workqueue_adds_total{${q}}`), 8);
  adds = 2;
  assert.equal(parseMetrics(await metrics.registry.metrics()).get(`workqueue_adds_total{${q}}`), 10);
});

Deno.test("registerProcessMetrics() reports memory, CPU and start time", async () => {
  const registry = new Registry();
  registerProcessMetrics(registry, 1_700_000_000_000);
  const s = parseMetrics(await registry.metrics());
  assert.ok(s.get("process_resident_memory_bytes")! > 1e6);
  assert.ok(s.get("process_cpu_seconds_total")! > 0);
  assert.equal(s.get("process_start_time_seconds"), 1_700_000_000);
  assert.ok(s.get("deno_heap_used_bytes")! > 0);
});

function lws(name: string, replicas: number, ready: number, update?: { status: "True" | "False"; at: string }) {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name, namespace: "ns", uid: `uid-${name}` },
    spec: { replicas, leaderWorkerTemplate: { size: 2, workerTemplate: {} } },
    status: {
      readyReplicas: ready,
      updatedReplicas: ready,
      conditions: update
        ? [{ type: "UpdateInProgress", status: update.status, lastTransitionTime: update.at, reason: "", message: "" }]
        : [],
    },
  } as unknown as LeaderWorkerSet;
}

function pod(name: string, group: string, worker: string, ready: boolean, created: string, uid = `uid-${name}`): Pod {
  return {
    metadata: {
      name,
      namespace: "ns",
      uid,
      creationTimestamp: created,
      labels: {
        "leaderworkerset.sigs.k8s.io/name": "web",
        "leaderworkerset.sigs.k8s.io/group-index": group,
        "leaderworkerset.sigs.k8s.io/worker-index": worker,
      },
      annotations: worker === "0" ? { "leaderworkerset.sigs.k8s.io/size": "2" } : {},
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

Deno.test("createLwsMetrics() reports groups, rollouts, group start times and recreations", async () => {
  const registry = new Registry();
  const clock = new ManualClock(Date.parse("2026-01-01T00:01:00Z"));
  const metrics = createLwsMetrics(registry, { clock });
  const lwsWriter = new StoreWriter<LeaderWorkerSet>();
  const podWriter = new StoreWriter<Pod>();
  const stop = [metrics.observeLeaderWorkerSets(lwsWriter.store), metrics.observePods(podWriter.store)];

  lwsWriter.apply({ type: "init" });
  lwsWriter.apply({ type: "initApply", object: lws("web", 3, 1, { status: "True", at: "2026-01-01T00:00:00Z" }) });
  lwsWriter.apply({ type: "initApply", object: lws("done", 1, 1) });
  lwsWriter.apply({ type: "initDone" });
  let s = parseMetrics(await registry.metrics());
  assert.equal(s.get('lws_groups_desired{namespace="ns",name="web"}'), 3);
  assert.equal(s.get('lws_groups_ready{namespace="ns",name="web"}'), 1);
  assert.equal(s.get('lws_groups_updated{namespace="ns",name="done"}'), 1);
  assert.equal(s.get("lws_rollout_duration_seconds_count"), 0);
  lwsWriter.apply({ type: "apply", object: lws("web", 3, 3, { status: "False", at: "2026-01-01T00:02:30Z" }) });
  lwsWriter.apply({ type: "delete", object: lws("done", 1, 1) });
  s = parseMetrics(await registry.metrics());
  assert.equal(s.get("lws_rollout_duration_seconds_count"), 1);
  assert.equal(s.get("lws_rollout_duration_seconds_sum"), 150);
  assert.equal(s.has('lws_groups_desired{namespace="ns",name="done"}'), false, "deleted LWS lose their series");

  // Group 0 was ready before this process looked: not observed. Group 1 becomes ready while watched.
  podWriter.apply({ type: "init" });
  podWriter.apply({ type: "initApply", object: pod("web-0", "0", "0", true, "2026-01-01T00:00:00Z") });
  podWriter.apply({ type: "initApply", object: pod("web-0-1", "0", "1", true, "2026-01-01T00:00:01Z") });
  podWriter.apply({ type: "initApply", object: pod("web-1", "1", "0", false, "2026-01-01T00:00:40Z") });
  podWriter.apply({ type: "initDone" });
  podWriter.apply({ type: "apply", object: pod("web-1", "1", "0", true, "2026-01-01T00:00:40Z") });
  assert.equal(
    parseMetrics(await registry.metrics()).get("lws_group_ready_duration_seconds_count"),
    0,
    "worker missing",
  );
  await clock.advance(5_000);
  podWriter.apply({ type: "apply", object: pod("web-1-1", "1", "1", true, "2026-01-01T00:00:41Z") });
  s = parseMetrics(await registry.metrics());
  assert.equal(s.get("lws_group_ready_duration_seconds_count"), 1);
  assert.equal(s.get("lws_group_ready_duration_seconds_sum"), 25, "from the leader's creation to now");
  podWriter.apply({ type: "apply", object: pod("web-1-1", "1", "1", true, "2026-01-01T00:00:41Z") });
  assert.equal(
    parseMetrics(await registry.metrics()).get("lws_group_ready_duration_seconds_count"),
    1,
    "once per group",
  );

  const recorded: EventInput[] = [];
  const inner: EventRecorder = {
    record: (_r, e) => void recorded.push(e),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const worker = pod("web-0-1", "0", "1", false, "2026-01-01T00:00:01Z");
  const failed: Pod = { ...worker, status: { ...worker.status, phase: "Failed" } };
  podWriter.apply({ type: "apply", object: failed });
  const events = metrics.countRecreations(inner);
  const event = {
    type: "Normal" as const,
    reason: "RecreateGroup",
    action: "Delete",
    note: "Worker pod web-0-1 failed, deleted leader pod web-0 to recreate group 0",
  };
  events.record({ namespace: "ns", name: "web" }, event);
  events.record({ namespace: "ns", name: "web" }, { ...event, note: "Worker pod gone-1 failed, deleted leader pod" });
  events.record({ namespace: "ns", name: "web" }, { ...event, reason: "GroupsProgressing", note: "x" });
  assert.equal(recorded.length, 3, "every event reaches the real recorder");
  s = parseMetrics(await registry.metrics());
  assert.equal(s.get('lws_group_recreations_total{namespace="ns",name="web",reason="PodFailed"}'), 1);
  assert.equal(s.get('lws_group_recreations_total{namespace="ns",name="web",reason="PodDeleted"}'), 1);
  for (const unsubscribe of stop) unsubscribe();
});

Deno.test("recreationReason() classifies the triggering pod", () => {
  const base = pod("p", "0", "1", true, "2026-01-01T00:00:00Z");
  assert.equal(recreationReason(undefined), "PodDeleted");
  assert.equal(recreationReason({ ...base, status: { phase: "Failed" } }), "PodFailed");
  assert.equal(
    recreationReason({ ...base, metadata: { ...base.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } }),
    "PodDeleted",
  );
  assert.equal(
    recreationReason({
      ...base,
      status: { phase: "Running", containerStatuses: [{ name: "c", restartCount: 1 } as never] },
    }),
    "ContainerRestarted",
  );
  assert.equal(recreationReason(base), "Unknown");
});

Deno.test("createMetricsApp() answers 401, 403 and 200 by the authorizer's decision", async () => {
  const registry = new Registry();
  createProductMetrics({ host: "h" });
  const decisions: Record<string, "allowed" | "unauthenticated" | "forbidden"> = {
    good: "allowed",
    bad: "unauthenticated",
    other: "forbidden",
  };
  const app = createMetricsApp(registry, (token) => {
    if (token === "boom") return Promise.reject(new Error("API down"));
    return Promise.resolve(decisions[token] ?? "unauthenticated");
  });
  const get = (token?: string) =>
    app.request("/metrics", { headers: token ? { authorization: `Bearer ${token}` } : {} });
  assert.equal((await get()).status, 401);
  assert.equal((await get("bad")).status, 401);
  assert.equal((await get("other")).status, 403);
  assert.equal((await get("boom")).status, 500);
  const ok = await get("good");
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get("content-type")!, /text\/plain; version=0\.0\.4/);
  await ok.text();
  assert.equal((await app.request("/other")).status, 404);
  assert.equal((await createMetricsApp(registry).request("/metrics")).status, 200, "no authorizer: open");
});

Deno.test("tokenReviewAuthorizer() asks TokenReview then SubjectAccessReview, and caches", async () => {
  const calls: { kind: string; body: Record<string, unknown> }[] = [];
  const client = {
    create<T>(type: { kind: string }, body: unknown): Promise<T> {
      const b = body as { spec: Record<string, unknown> };
      calls.push({ kind: type.kind, body: b.spec });
      if (type.kind === "TokenReview") {
        const known = b.spec.token === "reader" || b.spec.token === "stranger";
        return Promise.resolve({
          status: known ? { authenticated: true, user: { username: `system:serviceaccount:x:${b.spec.token}` } } : {},
        } as T);
      }
      return Promise.resolve({ status: { allowed: String(b.spec.user).endsWith(":reader") } } as T);
    },
  };
  const clock = new ManualClock(0);
  const authorize = tokenReviewAuthorizer(client as never, { ttlMs: 1000, clock });
  assert.equal(await authorize("reader"), "allowed");
  assert.equal(await authorize("stranger"), "forbidden");
  assert.equal(await authorize("nobody"), "unauthenticated");
  assert.deepEqual(calls.find((c) => c.kind === "SubjectAccessReview")?.body.nonResourceAttributes, {
    path: "/metrics",
    verb: "get",
  });
  const before = calls.length;
  assert.equal(await authorize("reader"), "allowed");
  assert.equal(calls.length, before, "cached");
  await clock.advance(1001);
  await authorize("reader");
  assert.equal(calls.length, before + 2, "asked again after the TTL");
});
