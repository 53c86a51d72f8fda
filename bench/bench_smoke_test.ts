/**
 * Smoke test of the benchmark harness: `deno task bench --small` against its own control plane (its own cluster
 * directory, started and stopped by the run) must complete and write a JSON file with every workload and figure.
 * No timing is asserted: the machine is shared and the figures are for people, not for CI.
 *
 * @module
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { REPO_ROOT } from "../tests/cluster/state.ts";
import { runDeno } from "./_run.ts";
import type { BenchResult, RunFigures } from "./results.ts";

/**
 * The smoke run's own cluster directory, derived from the suite's (`$LWS_CLUSTER_DIR=.cluster/test-run` →
 * `.cluster/test-run-bench-smoke`), so two engineers running the suite in one tree on their own clusters do not stop
 * each other's benchmark cluster.
 */
const CLUSTER_DIR = join(
  REPO_ROOT,
  ".cluster",
  Deno.env.get("LWS_CLUSTER_DIR") ? `${basename(Deno.env.get("LWS_CLUSTER_DIR")!)}-bench-smoke` : "bench-smoke",
);

function assertRun(figures: RunFigures | null | undefined, where: string, withController: boolean): void {
  assert.ok(figures, `${where}: missing`);
  assert.ok(figures.wallSeconds > 0, `${where}: wallSeconds ${figures.wallSeconds}`);
  assert.ok((figures.cpuSeconds["kube-apiserver"] ?? -1) >= 0, `${where}: no API server CPU`);
  assert.equal(typeof figures.kcm.rateLimiterWaitSeconds, "number", `${where}: kcm rate limiter`);
  assert.ok(figures.window.to >= figures.window.from, `${where}: window`);
  if (!withController) {
    assert.equal(figures.controller, null, `${where}: a raw run has no controller`);
    return;
  }
  const c = figures.controller;
  assert.ok(c, `${where}: controller figures missing`);
  assert.ok(c.cpuSeconds >= 0 && c.peakRssBytes > 0, `${where}: CPU ${c.cpuSeconds}, RSS ${c.peakRssBytes}`);
  assert.equal(typeof c.requests, "number", `${where}: requests`);
  assert.equal(typeof c.apiserverRequests, "number", `${where}: the API server's count (audit log) is missing`);
  assert.equal(typeof c.reconcileSeconds, "number", `${where}: reconcile seconds`);
  assert.ok(figures.podWebhook, `${where}: pod webhook figures missing`);
}

Deno.test({
  name: "deno task bench --small writes every workload and figure",
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "lws-bench-smoke-" });
    try {
      // Throws with the tail of its stderr when the run fails.
      const { stdout } = await runDeno(["task", "bench", "--small", "--out", out, "--cluster-dir", CLUSTER_DIR]);
      assert.match(stdout, /LWS\/raw/, "the table is printed");

      const result = JSON.parse(await Deno.readTextFile(join(out, "bench-small.json"))) as BenchResult;
      assert.equal(result.preset, "small");
      assert.ok(result.machine.nproc > 0 && result.machine.memoryBytes > 0 && result.machine.cpuModel !== "");
      assert.deepEqual(result.configs.map((c) => c.name), ["default", "raised"]);
      for (const config of result.configs) {
        const ids = config.workloads.map((w) => w.id);
        for (const id of ["W1", "W2", "W4"] as const) {
          const workload = config.workloads.find((w) => w.id === id);
          assert.ok(workload, `${config.name}: ${id} missing (got ${ids.join(", ")})`);
          assertRun(workload.lws, `${config.name} ${id} LWS`, true);
          assertRun(workload.raw, `${config.name} ${id} raw`, false);
          assert.equal(typeof workload.ratio, "number", `${config.name} ${id}: ratio`);
          const reconciles = Object.values(workload.lws.controller!.reconciles).reduce((a, b) => a + b, 0);
          assert.ok(reconciles > 0, `${config.name} ${id}: no reconciles`);
          assert.ok(workload.lws.podWebhook!.admissions > 0, `${config.name} ${id}: no pod admissions`);
        }
        assert.ok(config.controllerRss.length > 0, `${config.name}: no RSS samples`);
        assert.ok(config.controllerStartupSeconds > 0, `${config.name}: controller start-up`);
      }
      const steady = result.configs.at(-1)!.workloads.find((w) => w.id === "W3");
      assert.ok(steady, "W3 missing from the last configuration");
      assertRun(steady.lws, "W3", true);
      for (const key of ["fillerPods", "fillerCreateSeconds", "rssBeforeFillerBytes"]) {
        assert.equal(typeof steady.extra?.[key], "number", `W3: ${key}`);
      }

      const engine = result.engine;
      for (
        const key of ["storeBytesPerPod", "storeApplyPerSecond", "watcherEventsPerSecond", "cacheRssBytes"] as const
      ) {
        assert.equal(typeof engine[key], "number", `engine: ${key} is ${engine[key]}`);
      }
      assert.equal(typeof result.dashboard.detailRenderMs, "number", "dashboard: detail render");
      assert.ok(result.dashboard.fanOut.length > 0, "dashboard: SSE fan-out");
      assert.ok(result.bottleneck.summary.length > 0 && result.bottleneck.evidence.length > 0, "bottleneck");

      const html = await Deno.readTextFile(join(out, "bench-small.html"));
      assert.match(html, /<svg/);
      assert.doesNotMatch(html, /<script/i, "the report has no scripts");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
