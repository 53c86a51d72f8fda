/**
 * Measuring one workload: a snapshot at the start and at the end (CPU and RSS of every process from `/proc`, and
 * the `/metrics` of the controller, the API server and kube-controller-manager), the sampler's RSS samples in
 * between, and the figures computed from them.
 *
 * @module
 */
import { type BenchCluster, scrapeApiserver, scrapeKcm } from "./cluster.ts";
import type { RunningController } from "./controller.ts";
import { type ProcessUsage, readUsage, type Sampler } from "./procfs.ts";
import { bucketDelta, quantile, type Scrape, sum, sumBy } from "./prometheus.ts";
import type { ControllerFigures, RunFigures, WebhookLatency } from "./results.ts";
import { WEBHOOK_NAME_MUTATE_POD, WEBHOOK_NAME_VALIDATE_POD } from "../api/constants.ts";

/** What a measurement looks at. */
export interface Probe {
  cluster: BenchCluster;
  sampler: Sampler;
  /** The product, while it runs (LWS workloads); absent for raw runs. */
  controller?: RunningController;
}

interface Snapshot {
  /** `performance.now()` when the snapshot was complete (the workload starts right after). */
  perf: number;
  /** `Date.now()` before the counters were read. */
  epoch: number;
  samplerT: number;
  usage: Record<string, ProcessUsage>;
  controller: Scrape | undefined;
  apiserver: Scrape;
  kcm: Scrape;
}

/**
 * The PIDs whose CPU and memory the benchmark follows: the control plane's processes (as recorded now; they
 * change when a component is restarted), the controller and the benchmark itself.
 *
 * @param probe the cluster and the controller
 * @returns name → PID
 */
export function watchedPids(probe: Probe): Record<string, number> {
  const pids: Record<string, number> = { bench: Deno.pid };
  for (const [name, record] of Object.entries(probe.cluster.state.processes)) if (record) pids[name] = record.pid;
  if (probe.controller) pids.controller = probe.controller.pid;
  return pids;
}

async function snapshot(probe: Probe): Promise<Snapshot> {
  // The counters are read right after `epoch`: the audit window [before.epoch, after.epoch] matches them.
  const epoch = Date.now();
  const pids = watchedPids(probe);
  const [usageEntries, controller, apiserver, kcm] = await Promise.all([
    Promise.all(Object.entries(pids).map(async ([name, pid]) => [name, await readUsage(pid)] as const)),
    probe.controller?.scrape(),
    scrapeApiserver(probe.cluster),
    scrapeKcm(probe.cluster),
  ]);
  const usage: Record<string, ProcessUsage> = {};
  for (const [name, value] of usageEntries) if (value) usage[name] = value;
  return { perf: performance.now(), epoch, samplerT: probe.sampler.now(), usage, controller, apiserver, kcm };
}

function webhookLatency(before: Scrape, after: Scrape, name: string): WebhookLatency {
  const buckets = bucketDelta(before, after, "apiserver_admission_webhook_admission_duration_seconds", { name });
  const admissions = buckets.at(-1)?.count ?? 0;
  const ms = (q: number) => {
    const seconds = quantile(buckets, q);
    return seconds === undefined ? null : Math.round(seconds * 10_000) / 10;
  };
  return { admissions, p50Ms: ms(0.5), p99Ms: ms(0.99) };
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const d = value - (before[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}

/** A measurement in progress; {@linkcode Measurement.end} turns it into figures. */
export interface Measurement {
  /** `performance.now()` at the start. */
  readonly startedAt: number;
  /**
   * Ends the measurement.
   *
   * @param endedAt `performance.now()` when the workload was done (default: now), e.g. from `until()`
   * @returns the figures (controller requests as the API server saw them are filled in later from the audit log)
   */
  end(endedAt?: number): Promise<RunFigures>;
}

/**
 * Starts measuring a workload.
 *
 * @param probe what to look at
 * @returns the measurement
 */
export async function begin(probe: Probe): Promise<Measurement> {
  const before = await snapshot(probe);
  return {
    startedAt: before.perf,
    async end(endedAt?: number): Promise<RunFigures> {
      const after = await snapshot(probe);
      const end = endedAt ?? after.perf;
      const cpuSeconds: Record<string, number> = {};
      for (const [name, usage] of Object.entries(after.usage)) {
        const start = before.usage[name];
        if (start) cpuSeconds[name] = Math.round((usage.cpuSeconds - start.cpuSeconds) * 100) / 100;
      }
      let controller: ControllerFigures | null = null;
      if (before.controller && after.controller && after.usage.controller) {
        const b = before.controller;
        const a = after.controller;
        const rss = [
          before.usage.controller?.rssBytes ?? 0,
          after.usage.controller.rssBytes,
          ...probe.sampler.between(before.samplerT, after.samplerT).map((s) => s.usage.controller?.rssBytes ?? 0),
        ];
        const reconciles = delta(
          sumBy(a, "controller_runtime_reconcile_total", "controller"),
          sumBy(b, "controller_runtime_reconcile_total", "controller"),
        );
        controller = {
          cpuSeconds: cpuSeconds.controller ?? 0,
          peakRssBytes: Math.max(...rss),
          endRssBytes: after.usage.controller.rssBytes,
          requests: sum(a, "rest_client_requests_total") - sum(b, "rest_client_requests_total"),
          requestsByMethod: delta(
            sumBy(a, "rest_client_requests_total", "method"),
            sumBy(b, "rest_client_requests_total", "method"),
          ),
          apiserverRequests: null,
          apiserverRequestsByVerb: {},
          reconciles,
          groupRecreations: delta(
            sumBy(a, "lws_group_recreations_total", "reason"),
            sumBy(b, "lws_group_recreations_total", "reason"),
          ),
          reconcileErrors: sum(a, "controller_runtime_reconcile_total", { result: "error" }) -
            sum(b, "controller_runtime_reconcile_total", { result: "error" }),
          reconcileSeconds: round(
            sum(a, "controller_runtime_reconcile_time_seconds_sum") -
              sum(b, "controller_runtime_reconcile_time_seconds_sum"),
          ),
          requestSeconds: round(
            sum(a, "rest_client_request_duration_seconds_sum") - sum(b, "rest_client_request_duration_seconds_sum"),
          ),
        };
      }
      return {
        wallSeconds: round((end - before.perf) / 1000),
        cpuSeconds,
        controller,
        podWebhook: probe.controller
          ? webhookLatency(before.apiserver, after.apiserver, WEBHOOK_NAME_MUTATE_POD)
          : null,
        podValidatingWebhook: probe.controller
          ? webhookLatency(before.apiserver, after.apiserver, WEBHOOK_NAME_VALIDATE_POD)
          : null,
        kcm: {
          rateLimiterWaitSeconds: round(
            sum(after.kcm, "rest_client_rate_limiter_duration_seconds_sum") -
              sum(before.kcm, "rest_client_rate_limiter_duration_seconds_sum"),
          ),
          requests: sum(after.kcm, "rest_client_requests_total") - sum(before.kcm, "rest_client_requests_total"),
        },
        window: { from: before.epoch, to: after.epoch },
        podsCreated: null,
        samplerWindow: { from: before.samplerT, to: before.samplerT + (end - before.perf) / 1000 },
      };
    },
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
