/**
 * Names the current bottleneck from the counters of a run (pure): for every configuration and timed workload, who
 * used the CPU (cores busy per process), how long kube-controller-manager's requests waited in its client-side
 * rate limiter, and how busy the LWS controller was (its event loop is one thread: one core is its ceiling).
 *
 * @module
 */
import type { BenchResult, RunFigures } from "./results.ts";

/** Cores a process kept busy on average over a run. */
function cores(figures: RunFigures, name: string): number {
  return figures.wallSeconds > 0 ? (figures.cpuSeconds[name] ?? 0) / figures.wallSeconds : 0;
}

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

/** What limits one run, as a short label and the counters behind it. */
export interface Verdict {
  /** `kcm-rate-limit`, `machine-cpu:<process>`, `controller-cpu`, or `latency` (nothing saturated). */
  limit: string;
  /** The counters, in one line. */
  evidence: string;
}

/**
 * Classifies one run.
 *
 * @param figures the run's figures
 * @param nproc CPUs of the machine
 * @param kcmQps kube-controller-manager's `--kube-api-qps` in that configuration
 * @returns the verdict
 */
export function classify(figures: RunFigures, nproc: number, kcmQps: number): Verdict {
  const wall = figures.wallSeconds;
  const busy = Object.keys(figures.cpuSeconds).map((name) => ({ name, cores: cores(figures, name) }))
    .sort((a, b) => b.cores - a.cores);
  const total = busy.reduce((n, b) => n + b.cores, 0);
  const top = busy.slice(0, 3).map((b) => `${b.name} ${fmt(b.cores)}`).join(", ");
  const kcmRate = wall > 0 ? figures.kcm.requests / wall : 0;
  const parts = [
    `${fmt(wall, 1)} s wall${figures.timedOut ? " (timed out)" : ""}, ${figures.podsCreated ?? "?"} pods created`,
    `CPU ${fmt(total)} of ${nproc} cores busy (${top})`,
    `kube-controller-manager: ${figures.kcm.requests} requests (${fmt(kcmRate, 1)}/s, qps limit ${kcmQps}), ` +
    `${fmt(figures.kcm.rateLimiterWaitSeconds, 1)} s waited in its rate limiter`,
  ];
  const controller = figures.controller;
  if (controller) {
    parts.push(
      `LWS controller: ${fmt(cores(figures, "controller"))} cores, ${controller.requests} requests, ` +
        `${Object.values(controller.reconciles).reduce((a, b) => a + b, 0)} reconciles ` +
        `(${fmt(controller.reconcileSeconds, 1)} s in reconciles, ${
          fmt(controller.requestSeconds, 1)
        } s awaiting the API), ` +
        `${
          Object.values(controller.groupRecreations).reduce((a, b) => a + b, 0)
        } groups recreated by the restart policy`,
    );
  }
  let limit = "latency";
  if (controller && cores(figures, "controller") > 0.8) limit = "controller-cpu";
  else if (total > nproc * 0.8) limit = `machine-cpu:${busy[0]?.name ?? "?"}`;
  else if (
    figures.kcm.rateLimiterWaitSeconds > wall * 0.5 ||
    (kcmRate > kcmQps * 0.8 && figures.kcm.rateLimiterWaitSeconds > wall * 0.1)
  ) limit = "kcm-rate-limit";
  return { limit, evidence: parts.join("; ") };
}

const EXPLAIN: Record<string, string> = {
  "kcm-rate-limit": "kube-controller-manager's client rate limit (its requests queue in the limiter)",
  "controller-cpu": "the LWS controller's CPU (its single event-loop thread is saturated)",
  latency: "request latency and the chain of dependent steps (no process saturated, no limiter queueing)",
};

function explain(limit: string): string {
  if (limit.startsWith("machine-cpu:")) {
    return `the machine's CPU (all cores busy; the largest consumer is ${limit.slice("machine-cpu:".length)})`;
  }
  return EXPLAIN[limit] ?? limit;
}

/**
 * Names the bottleneck of each configuration from W1 and W2 (the throughput workloads) and lists the evidence.
 *
 * @param result a complete run
 * @returns a summary sentence and one evidence line per configuration, workload and side
 */
export function findBottleneck(result: BenchResult): { summary: string; evidence: string[] } {
  const evidence: string[] = [];
  const summaries: string[] = [];
  for (const config of result.configs) {
    const verdicts: Record<string, number> = {};
    for (const workload of config.workloads) {
      for (const [side, figures] of [["LWS", workload.lws], ["raw", workload.raw]] as const) {
        if (!figures || figures.skipped || workload.id === "W3") continue;
        const verdict = classify(figures, result.machine.nproc, config.kcm.qps);
        evidence.push(`${config.name} ${workload.id} ${side}: ${verdict.evidence} → ${verdict.limit}`);
        if (side === "LWS" && (workload.id === "W1" || workload.id === "W2")) {
          verdicts[verdict.limit] = (verdicts[verdict.limit] ?? 0) + 1;
        }
      }
    }
    const main = Object.entries(verdicts).sort((a, b) => b[1] - a[1])[0]?.[0];
    if (main) summaries.push(`${config.name} limits: ${explain(main)}`);
  }
  return { summary: summaries.join(". ") + (summaries.length ? "." : ""), evidence };
}
