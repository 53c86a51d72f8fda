import assert from "node:assert/strict";
import type { OwnerReference } from "kubernetes-types/meta/v1.d.ts";
import { InformerCache, lwsOwnedSelector } from "./cache.ts";
import { flush, ManualClock } from "./clock.ts";
import { type Action, Controller, type ControllerOptions, type ObjectKey, TerminalError } from "./controller.ts";
import { FakeApiServer } from "./testing/fake_api.ts";
import { CONTROLLER_REVISIONS, LEADER_WORKER_SETS, SERVICES, STATEFUL_SETS } from "./resources.ts";
import type { KubeObject, ResourceType } from "./types.ts";

const LWS_LABEL = "leaderworkerset.sigs.k8s.io/name";

function lws(namespace: string, name: string): KubeObject {
  return { apiVersion: "leaderworkerset.x-k8s.io/v1", kind: "LeaderWorkerSet", metadata: { namespace, name } };
}

function child(
  namespace: string,
  name: string,
  options: { owners?: OwnerReference[]; labels?: Record<string, string> } = {},
): KubeObject {
  return { metadata: { namespace, name, ownerReferences: options.owners, labels: options.labels } };
}

const lwsOwner = (name: string, controller = true): OwnerReference => ({
  apiVersion: "leaderworkerset.x-k8s.io/v1",
  kind: "LeaderWorkerSet",
  name,
  uid: `uid-${name}`,
  controller,
});

/** A controller over a fake API server, with a reconcile that records keys and returns scripted actions. */
function setup(options: Partial<ControllerOptions> = {}) {
  const api = new FakeApiServer();
  const clock = new ManualClock(0);
  const cache = new InformerCache(api, { clock });
  const controller = new Controller<{ label: string }>(cache, { name: "test", clock, ...options });
  const reconciled: string[] = [];
  const seenCtx: string[] = [];
  let behaviour: (key: ObjectKey) => Promise<Action> = () => Promise.resolve("awaitChange");
  const abort = new AbortController();
  let cacheDone: Promise<void> | undefined;
  let runDone: Promise<void> | undefined;
  return {
    api,
    clock,
    cache,
    controller,
    reconciled,
    seenCtx,
    behave(fn: (key: ObjectKey) => Promise<Action>) {
      behaviour = fn;
    },
    async start() {
      runDone = controller.run(
        async (key, ctx) => {
          reconciled.push(`${key.namespace}/${key.name}`);
          seenCtx.push(ctx.label);
          return await behaviour(key);
        },
        { label: "ctx" },
        abort.signal,
      );
      cacheDone = cache.start(abort.signal);
      await flush();
    },
    async stop() {
      abort.abort();
      await runDone;
      await cacheDone;
    },
    drain() {
      return reconciled.splice(0).sort();
    },
  };
}

Deno.test("Controller.run() reconciles every primary key once the stores are synced", async () => {
  const t = setup();
  t.api.create(LEADER_WORKER_SETS, lws("ns", "a"));
  t.api.create(LEADER_WORKER_SETS, lws("ns2", "b"));
  t.controller.for(LEADER_WORKER_SETS);
  await t.start();
  assert.deepEqual(t.drain(), ["ns/a", "ns2/b"]);
  assert.deepEqual(t.seenCtx, ["ctx", "ctx"]);
  t.api.update(LEADER_WORKER_SETS, t.api.objects(LEADER_WORKER_SETS)[0]!);
  t.api.delete(LEADER_WORKER_SETS, "ns2", "b");
  await flush();
  assert.deepEqual(t.drain(), ["ns/a", "ns2/b"], "a change and a deletion both enqueue the key");
  assert.deepEqual(t.controller.stats().reconciles, { success: 4, requeue: 0, error: 0, terminal: 0 });
  await t.stop();
});

Deno.test("Controller.owns() enqueues the controlling owner of the primary kind", async (t) => {
  const cases: [string, OwnerReference[] | undefined, string[]][] = [
    ["controller owner", [lwsOwner("a")], ["ns/a"]],
    ["owner without controller: true", [lwsOwner("a", false)], []],
    ["controller of another kind", [{ ...lwsOwner("a"), kind: "Deployment", apiVersion: "apps/v1" }], []],
    ["same kind in another group", [{ ...lwsOwner("a"), apiVersion: "example.com/v1" }], []],
    ["other API version of the same group", [{ ...lwsOwner("a"), apiVersion: "leaderworkerset.x-k8s.io/v2" }], [
      "ns/a",
    ]],
    ["no owners", undefined, []],
  ];
  for (const [name, owners, want] of cases) {
    await t.step(name, async () => {
      const c = setup();
      c.controller.for(LEADER_WORKER_SETS).owns(STATEFUL_SETS, { labelSelector: lwsOwnedSelector() });
      await c.start();
      c.api.create(STATEFUL_SETS, child("ns", "sts", { owners, labels: { [LWS_LABEL]: "a" } }));
      c.api.create(STATEFUL_SETS, child("ns", "unlabelled", { owners: [lwsOwner("z")] }));
      await flush();
      assert.deepEqual(c.drain(), want);
      await c.stop();
    });
  }
});

Deno.test("Controller.watches() enqueues the keys its mapper returns", async () => {
  const t = setup();
  t.controller
    .for(LEADER_WORKER_SETS)
    .watches<KubeObject>(STATEFUL_SETS, (sts) => {
      const name = sts.metadata?.labels?.[LWS_LABEL];
      return name ? [{ namespace: sts.metadata?.namespace ?? "", name }] : [];
    }, { labelSelector: lwsOwnedSelector() })
    .watches(SERVICES, () => {
      throw new Error("mapper bug");
    });
  await t.start();
  t.api.create(STATEFUL_SETS, child("ns", "worker-0", { labels: { [LWS_LABEL]: "lws1" } }));
  t.api.create(SERVICES, child("ns", "svc"));
  await flush();
  assert.deepEqual(t.drain(), ["ns/lws1"], "a throwing mapper is logged and skipped");
  await t.stop();
});

Deno.test("Controller.run() retries errors with backoff but not a TerminalError", async () => {
  const t = setup();
  t.api.create(LEADER_WORKER_SETS, lws("ns", "flaky"));
  t.api.create(LEADER_WORKER_SETS, lws("ns", "broken"));
  let flakyFailures = 2;
  t.behave((key) => {
    if (key.name === "broken") return Promise.reject(new TerminalError("spec.size: must be ≥ 1, got 0"));
    if (flakyFailures-- > 0) return Promise.reject(new Error("conflict"));
    return Promise.resolve("awaitChange");
  });
  t.controller.for(LEADER_WORKER_SETS);
  await t.start();
  assert.deepEqual(t.drain(), ["ns/broken", "ns/flaky"]);
  await t.clock.advance(5);
  assert.deepEqual(t.drain(), ["ns/flaky"]);
  await t.clock.advance(10);
  assert.deepEqual(t.drain(), ["ns/flaky"]);
  await t.clock.advance(60_000);
  assert.deepEqual(t.drain(), [], "no more retries: flaky succeeded, broken is terminal");
  const stats = t.controller.stats();
  assert.deepEqual(stats.reconciles, { success: 1, requeue: 0, error: 2, terminal: 1 });
  assert.equal(stats.queue.retries, 2);
  await t.stop();
});

Deno.test("Controller.run() requeues after the delay a reconcile asks for", async () => {
  const t = setup();
  t.api.create(LEADER_WORKER_SETS, lws("ns", "a"));
  t.behave(() => Promise.resolve({ requeueAfterMs: 5000 }));
  t.controller.for(LEADER_WORKER_SETS);
  await t.start();
  assert.deepEqual(t.drain(), ["ns/a"]);
  await t.clock.advance(4999);
  assert.deepEqual(t.drain(), []);
  await t.clock.advance(1);
  assert.deepEqual(t.drain(), ["ns/a"]);
  assert.equal(t.controller.stats().reconciles.requeue, 2);
  await t.stop();
});

Deno.test("Controller.run() resyncs every primary key periodically", async () => {
  const t = setup({ resyncMs: 60_000 });
  t.api.create(LEADER_WORKER_SETS, lws("ns", "a"));
  t.api.create(LEADER_WORKER_SETS, lws("ns", "b"));
  t.controller.for(LEADER_WORKER_SETS);
  await t.start();
  t.drain();
  await t.clock.advance(60_000);
  assert.deepEqual(t.drain(), ["ns/a", "ns/b"]);
  await t.clock.advance(60_000);
  assert.deepEqual(t.drain(), ["ns/a", "ns/b"]);
  await t.stop();
});

Deno.test("Controller.run() reconciles nothing until every source store is synced", async () => {
  const api = new FakeApiServer();
  api.create(LEADER_WORKER_SETS, lws("ns", "a"));
  // The revisions' list hangs until the gate opens; the LWS list answers at once.
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => open = resolve);
  const cache = new InformerCache({
    listWatch<T extends KubeObject>(type: ResourceType, options?: { namespace?: string }) {
      const lw = api.listWatch<T>(type, options);
      if (type !== CONTROLLER_REVISIONS) return lw;
      return { ...lw, list: async (options, signal) => (await gate, lw.list(options, signal)) };
    },
  }, { clock: new ManualClock() });
  const reconciled: string[] = [];
  const abort = new AbortController();
  const running = new Controller(cache, { name: "test", clock: new ManualClock() })
    .for(LEADER_WORKER_SETS)
    .owns(CONTROLLER_REVISIONS)
    .run(
      (key) => {
        reconciled.push(key.name);
        return Promise.resolve("awaitChange");
      },
      {},
      abort.signal,
    );
  const cacheDone = cache.start(abort.signal);
  await flush();
  assert.equal(cache.store(LEADER_WORKER_SETS).isSynced(), true);
  assert.deepEqual(reconciled, []);
  open();
  await flush();
  assert.deepEqual(reconciled, ["a"]);
  abort.abort();
  await running;
  await cacheDone;
});

Deno.test("Controller.run() waits for a running reconcile on stop", async () => {
  const t = setup();
  t.api.create(LEADER_WORKER_SETS, lws("ns", "a"));
  let release: (() => void) | undefined;
  t.behave(() => new Promise((resolve) => release = () => resolve("awaitChange")));
  t.controller.for(LEADER_WORKER_SETS);
  await t.start();
  let stopped = false;
  const stopping = t.stop().then(() => stopped = true);
  await t.clock.advance(1000);
  assert.equal(stopped, false);
  release!();
  await stopping;
  assert.equal(t.controller.stats().reconciles.success, 1);
});

Deno.test("Controller.for() and owns() reject a wrong declaration order", () => {
  const cache = new InformerCache(new FakeApiServer());
  assert.throws(() => new Controller(cache, { name: "x" }).owns(STATEFUL_SETS), /call for\(\) first/);
  assert.throws(
    () => new Controller(cache, { name: "x" }).for(LEADER_WORKER_SETS).for(STATEFUL_SETS),
    /already LeaderWorkerSet/,
  );
});
