/**
 * Micro-benchmark of the dashboard at scale: one LWS with 1,000 groups × 8 pods, read through the real kube/ store
 * adapter.
 *
 *     deno run -A ui/render_bench.ts [groups] [size] [clients]
 *
 * Reports:
 * - server render time of the detail page (view model + Preact SSR, through `app.request()`), its size, and the
 *   same for the JSON API, the overview and the view model alone;
 * - SSE fan-out: `clients` SSE clients (80 % on the detail page, 20 % on the overview) during a burst of 1,000 pod
 *   events delivered at once, and during 1,000 events spread over 2 s: changes in, flushes, view renders, messages
 *   and bytes sent, and the CPU time of the flushes.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import { ManualClock } from "../kube/clock.ts";
import { StoreWriter } from "../kube/store.ts";
import { collect } from "./_testing.ts";
import { createDashboardApp } from "./app.ts";
import { FIXTURE_NOW, podFixture, worldFixture } from "./fixtures.ts";
import { EVENT_INDEXERS, kubeDashboardSource } from "./kube_source.ts";
import type { DashboardEvent } from "./source.ts";
import { createStreamCounters } from "./stream.ts";
import { buildDetail } from "./view_model.ts";

const groups = Number(Deno.args[0] ?? 1000);
const size = Number(Deno.args[1] ?? 8);
const clientCount = Number(Deno.args[2] ?? 50);

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, min ${sorted[0]!.toFixed(1)} ms`;
}

async function time(label: string, runs: number, fn: () => Promise<number> | number): Promise<void> {
  for (let i = 0; i < 5; i++) await fn(); // warm up the JIT
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    bytes = await fn();
    samples.push(performance.now() - t0);
  }
  console.log(`${label.padEnd(44)} ${stats(samples)}${bytes ? `, ${(bytes / 1024).toFixed(0)} KiB` : ""}`);
}

// -------------------------------------------------------------------------------------------------- the world
const world = worldFixture({
  name: "fleet",
  namespace: "scale",
  replicas: groups,
  size,
  conditions: "updating",
  stsPartition: Math.floor(groups * 0.4),
  updated: (g) => g >= groups * 0.4,
  podState: (g, w) => (g % 97 === 5 && w === 3 ? "crashloop" : g % 211 === 7 ? "pending" : "ready"),
});
const lwsStore = new StoreWriter<LeaderWorkerSet>({ name: "lws" });
const podStore = new StoreWriter<Pod>({ name: "pods" });
const stsStore = new StoreWriter<StatefulSet>({ name: "sts" });
const eventStore = new StoreWriter<DashboardEvent>({ name: "events", indexers: EVENT_INDEXERS });
for (const w of [lwsStore, podStore, stsStore, eventStore]) w.apply({ type: "init" });
lwsStore.apply({ type: "initApply", object: world.lws });
for (const p of world.pods) podStore.apply({ type: "initApply", object: p });
for (const s of world.statefulSets) stsStore.apply({ type: "initApply", object: s });
for (const w of [lwsStore, podStore, stsStore, eventStore]) w.apply({ type: "initDone" });
const source = kubeDashboardSource({
  leaderWorkerSets: lwsStore.store,
  pods: podStore.store,
  statefulSets: stsStore.store,
  events: eventStore.store,
});

const clock = new ManualClock(FIXTURE_NOW);
const counters = createStreamCounters();
const app = createDashboardApp(source, { clock, counters });

console.log(`LWS with ${groups} groups × ${size} pods (${world.pods.length} pods), Deno ${Deno.version.deno}`);

// -------------------------------------------------------------------------------------------------- render time
const get = async (path: string) => (await (await app.request(path)).text()).length;
await time("detail page SSR (GET /lws/…, page 1 of 50)", 30, () => get("/lws/scale/fleet"));
await time("detail page SSR, page 12", 30, () => get("/lws/scale/fleet?page=12"));
await time("detail page SSR with pod drawer", 30, () => get("/lws/scale/fleet?pod=fleet-5-3"));
await time("detail JSON (GET /api/lws/…)", 30, () => get("/api/lws/scale/fleet"));
await time("overview page SSR", 30, () => get("/"));
await time("view model only (buildDetail)", 30, () => {
  buildDetail(
    { lws: world.lws, pods: source.podsOf("scale", "fleet"), statefulSets: source.statefulSetsOf("scale", "fleet") },
    { now: FIXTURE_NOW },
  );
  return 0;
});

// -------------------------------------------------------------------------------------------------- SSE fan-out
const detailClients = Math.round(clientCount * 0.8);
const streams = [];
for (let i = 0; i < clientCount; i++) {
  const path = i < detailClients
    ? "/api/stream?view=detail&ns=scale&name=fleet&page=1&pageSize=50&filter=all"
    : "/api/stream?view=overview&ns=&q=";
  streams.push(collect((await app.request(path)).body!));
}
await clock.advance(0);

function podChange(i: number, phase: "Failed" | "Running"): Pod {
  const g = i % groups;
  const pod = podFixture({
    lwsName: "fleet",
    namespace: "scale",
    group: g,
    worker: i % size,
    size,
    revision: g >= groups * 0.4 ? "5b9c7d4f6b" : "7f8d6c5b4a",
    state: phase === "Failed" ? "failed" : "ready",
  });
  return pod;
}

async function burst(label: string, events: number, spreadMs: number, phase: "Failed" | "Running"): Promise<void> {
  const before = { ...counters };
  const steps = spreadMs === 0 ? 1 : spreadMs / 10;
  const perStep = Math.ceil(events / steps);
  let sent = 0;
  for (let step = 0; step < steps; step++) {
    for (let k = 0; k < perStep && sent < events; k++, sent++) {
      podStore.apply({ type: "apply", object: podChange(sent * 7, phase) });
    }
    await clock.advance(spreadMs === 0 ? 0 : 10);
  }
  await clock.advance(1000);
  const d = (k: keyof typeof counters) => counters[k] - before[k];
  console.log(
    `${label}: ${d("changes")} changes → ${d("flushes")} flushes, ${d("renders")} view renders, ` +
      `${d("messages")} messages to ${clientCount} clients (${(d("messages") / clientCount).toFixed(1)} per client), ` +
      `${(d("bytes") / 1024 / 1024).toFixed(1)} MiB, ${d("flushMs").toFixed(0)} ms in flushes`,
  );
}

await burst("burst of 1,000 pod events at once   ", 1000, 0, "Failed");
await burst("1,000 pod events spread over 2 s    ", 1000, 2000, "Running");
for (const s of streams) await s.stop();
console.log(`clients after disconnect: ${counters.clients}`);
