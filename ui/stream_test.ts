import assert from "node:assert/strict";
import { ManualClock } from "../kube/clock.ts";
import { podFixture, worldFixture } from "./fixtures.ts";
import { MemoryDashboardSource } from "./memory_source.ts";
import { LiveHub, type LiveView } from "./stream.ts";
import { collect, type SseMessage } from "./_testing.ts";

function views(messages: SseMessage[]): SseMessage[] {
  return messages.filter((m) => m.event === "view");
}

function countingView(source: MemoryDashboardSource, id: string, ns: string, name: string) {
  const stats = { renders: 0 };
  const view: LiveView = {
    id,
    concerns: (n, l) => n === ns && l === name,
    render: () => {
      stats.renders++;
      return { pods: source.podsOf(ns, name).map((p) => [p.metadata?.name, p.status?.phase]) };
    },
  };
  return { view, stats };
}

function setup() {
  const clock = new ManualClock(1_000_000);
  const source = new MemoryDashboardSource();
  source.load(worldFixture({ name: "a", replicas: 10, size: 4 }));
  source.load(worldFixture({ name: "b", replicas: 1, size: 2 }));
  const hub = new LiveHub(source, { clock, intervalMs: 250, heartbeatMs: 15_000 });
  return { clock, source, hub };
}

function burst(source: MemoryDashboardSource, count: number, phase = "Pending") {
  for (let i = 0; i < count; i++) {
    const pod = podFixture({ lwsName: "a", group: i % 10, worker: i % 4, size: 4, revision: "r", state: "ready" });
    pod.status!.phase = i === count - 1 ? phase : "Running";
    source.apply({ kind: "Pod", object: pod });
  }
}

Deno.test("LiveHub.open() sends hello and the current view at once", async () => {
  const { source, hub } = setup();
  const { view } = countingView(source, "v", "default", "a");
  const client = collect(hub.open(view));
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(client.messages.map((m) => m.event), ["hello", "view"]);
  assert.deepEqual(JSON.parse(client.messages[0]!.data), { heartbeatMs: 15_000 });
  assert.equal(JSON.parse(client.messages[1]!.data).pods.length, 40);
  await client.stop();
  assert.equal(source.listenerCount(), 0);
});

Deno.test("LiveHub coalesces a burst of 1,000 changes into one message per client", async () => {
  const { clock, source, hub } = setup();
  const a = countingView(source, "va", "default", "a");
  const clients = Array.from({ length: 5 }, () => collect(hub.open(a.view)));
  await clock.advance(0);
  const rendersBefore = a.stats.renders;
  burst(source, 1000);
  // The first change after a quiet period waits 25 ms for the rest of the burst.
  await clock.advance(24);
  for (const c of clients) assert.equal(views(c.messages).length, 1);
  await clock.advance(1);
  for (const c of clients) assert.equal(views(c.messages).length, 2, "initial view + one update");
  assert.equal(a.stats.renders - rendersBefore, 1, "one render shared by the five clients of the same view");
  assert.equal(hub.counters.changes, 1000);
  assert.equal(hub.counters.flushes, 1);
  // A second burst right after is held back until 250 ms have passed since the last flush.
  burst(source, 1000, "Failed");
  await clock.advance(249);
  for (const c of clients) assert.equal(views(c.messages).length, 2);
  await clock.advance(1);
  for (const c of clients) assert.equal(views(c.messages).length, 3);
  assert.equal(hub.counters.flushes, 2);
  for (const c of clients) await c.stop();
  assert.equal(source.listenerCount(), 0);
  assert.deepEqual(clock.pendingDelays(), [], "no timer left once the last client left");
});

Deno.test("LiveHub sends nothing to clients whose view the change does not concern or change", async () => {
  const { clock, source, hub } = setup();
  const a = countingView(source, "va", "default", "a");
  const b = countingView(source, "vb", "default", "b");
  const ca = collect(hub.open(a.view));
  const cb = collect(hub.open(b.view));
  await clock.advance(0);
  burst(source, 10);
  await clock.advance(300);
  assert.equal(views(ca.messages).length, 2);
  assert.equal(views(cb.messages).length, 1, "b is not concerned");
  assert.equal(b.stats.renders, 1);
  // Re-applying identical objects marks `a` dirty but renders the same payload: nothing is sent.
  for (const pod of source.podsOf("default", "a")) source.apply({ kind: "Pod", object: pod });
  await clock.advance(300);
  assert.equal(views(ca.messages).length, 2);
  await ca.stop();
  await cb.stop();
});

Deno.test("LiveHub sends a heartbeat every heartbeatMs while clients are connected", async () => {
  const { clock, source, hub } = setup();
  const a = countingView(source, "va", "default", "a");
  const client = collect(hub.open(a.view));
  await clock.advance(15_000);
  await clock.advance(15_000);
  assert.equal(client.messages.filter((m) => m.event === "ping").length, 2);
  assert.deepEqual(JSON.parse(client.messages.at(-1)!.data), { t: 1_030_000 });
  await client.stop();
  assert.deepEqual(clock.pendingDelays(), []);
});

Deno.test("LiveHub renders views again with each heartbeat and sends those that changed with time alone", async () => {
  const { clock, source, hub } = setup();
  let renders = 0;
  // A view that depends on the clock only, like an age: its text changes every 30 s.
  const aging: LiveView = {
    id: "aging",
    concerns: () => false,
    render: () => {
      renders++;
      return { halfMinutes: Math.floor(clock.now() / 30_000) };
    },
  };
  const client = collect(hub.open(aging));
  await clock.advance(0);
  assert.equal(views(client.messages).length, 1);
  await clock.advance(15_000); // 1,015,000: still the 33rd half-minute
  assert.equal(renders, 2);
  assert.equal(views(client.messages).length, 1, "an unchanged view is not sent again");
  await clock.advance(15_000); // 1,030,000: the 34th
  assert.equal(renders, 3);
  assert.deepEqual(views(client.messages).map((m) => JSON.parse(m.data).halfMinutes), [33, 34]);
  assert.equal(source.listenerCount(), 1);
  await client.stop();
  assert.deepEqual(clock.pendingDelays(), []);
});

Deno.test("LiveHub.close() ends every stream", async () => {
  const { clock, source, hub } = setup();
  const a = countingView(source, "va", "default", "a");
  const client = collect(hub.open(a.view));
  await clock.advance(0);
  hub.close();
  await client.stop();
  assert.equal(hub.counters.clients, 0);
  assert.equal(source.listenerCount(), 0);
});

Deno.test("LiveHub drops a client that falls too far behind", async () => {
  const { clock, source } = setup();
  const hub = new LiveHub(source, { clock, intervalMs: 250, maxBacklogBytes: 2_000 });
  const a = countingView(source, "va", "default", "a");
  const body = hub.open(a.view); // never read
  for (let i = 0; i < 5; i++) {
    burst(source, 1, i % 2 ? "Failed" : "Pending");
    await clock.advance(300);
  }
  assert.equal(hub.counters.dropped, 1);
  assert.equal(hub.counters.clients, 0);
  await body.cancel();
});
