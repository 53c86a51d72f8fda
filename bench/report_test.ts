import assert from "node:assert/strict";
import { classify, findBottleneck } from "./analysis.ts";
import { renderHtml, renderTable } from "./report.ts";
import { type BenchResult, RESULT_SCHEMA, type RunFigures } from "./results.ts";

function figures(
  wallSeconds: number,
  options: { controller?: boolean; cpu?: Record<string, number>; kcmWait?: number },
) {
  const run: RunFigures = {
    wallSeconds,
    cpuSeconds: options.cpu ?? { "kube-apiserver": wallSeconds * 0.5, controller: wallSeconds * 0.1 },
    controller: options.controller
      ? {
        cpuSeconds: wallSeconds * 0.1,
        peakRssBytes: 100 * 2 ** 20,
        endRssBytes: 90 * 2 ** 20,
        requests: 400,
        requestsByMethod: { GET: 100, PATCH: 300 },
        apiserverRequests: 402,
        apiserverRequestsByVerb: { patch: 300, get: 102 },
        reconciles: { leaderworkerset: 50, pod: 200 },
        groupRecreations: {},
        reconcileErrors: 0,
        reconcileSeconds: 20,
        requestSeconds: 18,
      }
      : null,
    podWebhook: options.controller ? { admissions: 800, p50Ms: 12.5, p99Ms: 80 } : null,
    podValidatingWebhook: options.controller ? { admissions: 800, p50Ms: 3, p99Ms: 20 } : null,
    kcm: { rateLimiterWaitSeconds: options.kcmWait ?? 0, requests: wallSeconds * 19 },
    window: { from: 0, to: wallSeconds * 1000 },
    podsCreated: 800,
    samplerWindow: { from: 0, to: wallSeconds },
  };
  return run;
}

function result(): BenchResult {
  const workloads = (["W1", "W2", "W4"] as const).map((id) => ({
    id,
    title: `${id} <title>`,
    lws: figures(30, { controller: true, kcmWait: 40 }),
    raw: figures(25, { kcmWait: 35 }),
    ratio: 1.2,
  }));
  return {
    schema: RESULT_SCHEMA,
    preset: "small",
    sizes: { lws: 1, groups: 1, size: 2, pods: 2, fillerPods: 10, idleSeconds: 1, nodes: 1, podsPerNode: 110 },
    startedAt: "2026-01-01T00:00:00Z",
    durationSeconds: 100,
    machine: {
      nproc: 2,
      memoryBytes: 2 ** 34,
      cpuModel: "AMD <EPYC>",
      kernel: "6",
      deno: "2.9.6",
      loadAverageAtStart: 0.5,
    },
    commit: "abc1234",
    controlPlane: "k8s",
    configs: [{
      name: "default",
      description: "defaults",
      kcm: { qps: 20, burst: 30, statefulSetSyncs: 5 },
      workloads,
      controllerRss: [{ t: 0, bytes: 80 * 2 ** 20 }, { t: 10, bytes: 100 * 2 ** 20 }],
      phases: [{ id: "W1", from: 1, to: 5 }],
      controllerStartupSeconds: 1.5,
    }],
    engine: {
      storeBytesPerPod: 5600,
      storeApplyPerSecond: 70_000,
      storeParseApplyPerSecond: 27_000,
      watcherEventsPerSecond: 4000,
      cachedPods: 10_000,
      cacheRssBytes: 150 * 2 ** 20,
      baseRssBytes: 50 * 2 ** 20,
      cacheStopSeconds: null,
      output: ["line"],
    },
    dashboard: { groups: 1000, size: 8, clients: 50, detailRenderMs: 40, timings: [], fanOut: [], output: [] },
    profile: null,
    bottleneck: { summary: "", evidence: [] },
  };
}

Deno.test("classify() names the kube-controller-manager rate limit when its requests queue", () => {
  const verdict = classify(figures(30, { controller: true, kcmWait: 40 }), 2, 20);
  assert.equal(verdict.limit, "kcm-rate-limit");
  assert.match(verdict.evidence, /40\.0 s waited in its rate limiter/);
});

Deno.test("classify() names the machine's CPU and its largest consumer when every core is busy", () => {
  const verdict = classify(figures(10, { cpu: { "kube-apiserver": 12, etcd: 5, controller: 2 } }), 2, 1000);
  assert.equal(verdict.limit, "machine-cpu:kube-apiserver");
});

Deno.test("classify() names the controller when its event loop is saturated", () => {
  const verdict = classify(figures(10, { controller: true, cpu: { controller: 9.5 } }), 2, 1000);
  assert.equal(verdict.limit, "controller-cpu");
});

Deno.test("findBottleneck() summarises each configuration from W1 and W2", () => {
  const { summary, evidence } = findBottleneck(result());
  assert.match(summary, /^default limits: kube-controller-manager's client rate limit/);
  assert.equal(evidence.length, 6);
});

Deno.test("renderTable() marks timed-out and skipped workloads", () => {
  const r = result();
  const workloads = r.configs[0]!.workloads;
  workloads[1]!.lws = { ...workloads[1]!.lws, timedOut: "Timed out after 900 s waiting for LWS W2: 3/50 Available" };
  workloads[2]!.lws = { ...workloads[2]!.lws, skipped: "the workload before it did not finish" };
  const table = renderTable(r);
  assert.match(table, /default\s+W2\s+≥ 30\.0\s+25\.0\s+≥ 1\.20×/);
  assert.match(table, /default\s+W4\s+skipped\s+25\.0\s+—/);
  assert.match(table, /TIMED OUT default W2 LWS: Timed out after 900 s/);
});

Deno.test("renderTable() and renderHtml() show every workload; the HTML is escaped and has no scripts", () => {
  const r = result();
  r.bottleneck = findBottleneck(r);
  const table = renderTable(r);
  assert.match(table, /default\s+W2\s+30\.0\s+25\.0\s+1\.20×/);
  assert.match(table, /400 \/ 402/);
  const html = renderHtml(r);
  assert.match(html, /<svg/);
  assert.doesNotMatch(html, /<script/i);
  assert.match(html, /AMD &lt;EPYC&gt;/);
  assert.doesNotMatch(html, /<title>W1 <title>/);
});

Deno.test("renderTable() and renderHtml() give the load average during the workloads when it was sampled", () => {
  const r = result();
  assert.match(renderTable(r), /load 0\.5 at start; Deno/);
  r.machine.loadAverageDuring = { min: 3.2, mean: 9.87, max: 14.1, samples: 4000 };
  assert.match(renderTable(r), /load 0\.5 at start, 3\.2–14\.1 \(mean 9\.87\) during the workloads; Deno/);
  assert.match(renderHtml(r), /load average 0\.5 at start, 3\.2–14\.1 \(mean 9\.87\) during the workloads/);
});
