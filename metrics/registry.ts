/**
 * The product's Prometheus metrics (prom-client, one {@linkcode Registry} per process — never prom-client's global
 * one), named like controller-runtime and client-go so upstream's dashboards work (spec §11.3):
 *
 * - controllers: `controller_runtime_reconcile_total{controller,result}`, `controller_runtime_reconcile_errors_total`,
 *   `controller_runtime_terminal_reconcile_errors_total`, `controller_runtime_reconcile_time_seconds`,
 *   `controller_runtime_active_workers`, `controller_runtime_max_concurrent_reconciles`;
 * - work queues: `workqueue_depth`, `workqueue_adds_total`, `workqueue_queue_duration_seconds`,
 *   `workqueue_work_duration_seconds`, `workqueue_retries_total` (labels `name` and `controller`);
 * - webhooks: `controller_runtime_webhook_requests_total{webhook,code}` (200 and 500 pre-created at 0 for every
 *   path), `controller_runtime_webhook_requests_in_flight{webhook}`, `controller_runtime_webhook_latency_seconds`;
 * - API client: `rest_client_requests_total{code,host,method}`, `rest_client_request_duration_seconds{verb,host}`;
 * - informer cache: `lws_watch_relists_total`, `lws_watch_restarts_total`, `lws_watch_errors_total`,
 *   `lws_cache_objects`, `lws_cache_synced` (labels `resource`, `scope`);
 * - leader election: `leader_election_master_status{name}`;
 * - LWS (upstream issue #87, see `metrics/lws.ts`) and process metrics (`metrics/process.ts`).
 *
 * Counters that the engine keeps as snapshots (queue adds, watch relists) are turned into Prometheus counters at
 * scrape time by adding the growth since the previous scrape, so they stay monotonic across controller restarts
 * (a new leadership term starts new controllers whose own counters start at zero).
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ReflectorHealth } from "../kube/cache.ts";
import type { RequestInfo } from "../kube/client.ts";
import type { ControllerStats, ReconcileResult } from "../kube/controller.ts";
import type { SchedulerHooks } from "../kube/scheduler.ts";
import type { WebhookMetrics } from "../webhook/metrics.ts";

/** Buckets of reconcile and webhook latencies (controller-runtime's, in seconds). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.15,
  0.2,
  0.25,
  0.3,
  0.35,
  0.4,
  0.45,
  0.5,
  0.6,
  0.7,
  0.8,
  0.9,
  1,
  1.25,
  1.5,
  1.75,
  2,
  2.5,
  3,
  3.5,
  4,
  4.5,
  5,
  6,
  7,
  8,
  9,
  10,
  15,
  20,
  25,
  30,
  40,
  50,
  60,
];
/** Buckets of work-queue durations (client-go's: 1 µs to 10 s, ×10). */
export const QUEUE_BUCKETS: readonly number[] = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10];
/** Buckets of API request latencies (client-go's). */
export const REQUEST_BUCKETS: readonly number[] = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

/** Per-reconcile and work-queue callbacks of one controller (`ControllerOptions.hooks`). */
export type ControllerMetricHooks = SchedulerHooks & {
  onReconcile(result: ReconcileResult, durationMs: number): void;
};

/** Sources read at scrape time. Each may be absent (the part is off, or this replica does not lead). */
export interface ScrapeSources {
  /** Counters of every running controller by name. */
  controllers?: () => Record<string, ControllerStats> | undefined;
  /** Configured concurrency by controller name. */
  concurrency?: () => Record<string, number>;
  /** Health of every reflector of the cache. */
  reflectors?: () => ReflectorHealth[];
  /** Whether this replica holds the lease, by lease name. */
  leader?: () => { name: string; leading: boolean } | undefined;
}

/** Grows a counter to an externally kept total (which may restart from zero). */
class SnapshotCounter {
  readonly #last = new Map<string, number>();

  /**
   * @param counter The counter.
   * @param labels Its labels for this series.
   * @param total The current external total.
   */
  advance(counter: Counter<string>, labels: Record<string, string>, total: number): void {
    const key = JSON.stringify(labels);
    const last = this.#last.get(key) ?? 0;
    // A total below the last one means the source restarted (a new controller): all of it is new.
    const delta = total >= last ? total - last : total;
    this.#last.set(key, total);
    counter.inc(labels, delta);
  }
}

const RECONCILE_RESULTS: Record<ReconcileResult, string> = {
  success: "success",
  requeue: "requeue_after",
  error: "error",
  terminal: "error",
};

/** The product's metrics: one registry and the callbacks that feed it. */
export interface ProductMetrics {
  /** The registry; `metrics()` renders the Prometheus text format. */
  readonly registry: Registry;
  /** Callbacks for a controller's `hooks` option (reconcile results and durations, queue latencies, retries). */
  controllerHooks(controller: string): ControllerMetricHooks;
  /** Callbacks for the webhook app (`metrics` option of `startWebhook`). */
  readonly webhook: Required<WebhookMetrics>;
  /** The API client's `onRequest` hook. */
  onRequest(info: RequestInfo): void;
  /** Sets what is read at scrape time; later calls replace the given parts. */
  setSources(sources: ScrapeSources): void;
}

/**
 * Creates the registry and every metric family named in the module documentation.
 *
 * @param options `host` labels `rest_client_*` (the API server's host:port).
 * @returns The metrics.
 * @example
 * const metrics = createProductMetrics({ host: "10.0.0.1:443" });
 * const client = createClient(config, { ...limits, onRequest: (info) => metrics.onRequest(info) });
 * const text = await metrics.registry.metrics();
 */
export function createProductMetrics(options: { host: string }): ProductMetrics {
  const registry = new Registry();
  const registers = [registry];
  let sources: ScrapeSources = {};
  const snapshots = new SnapshotCounter();

  // ---- controllers
  const reconcileTotal = new Counter({
    name: "controller_runtime_reconcile_total",
    help: "Total number of reconciliations per controller",
    labelNames: ["controller", "result"],
    registers,
  });
  const reconcileErrors = new Counter({
    name: "controller_runtime_reconcile_errors_total",
    help: "Total number of reconciliation errors per controller",
    labelNames: ["controller"],
    registers,
  });
  const terminalErrors = new Counter({
    name: "controller_runtime_terminal_reconcile_errors_total",
    help: "Total number of terminal reconciliation errors per controller",
    labelNames: ["controller"],
    registers,
  });
  const reconcileTime = new Histogram({
    name: "controller_runtime_reconcile_time_seconds",
    help: "Length of time per reconciliation per controller",
    labelNames: ["controller"],
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  new Gauge({
    name: "controller_runtime_active_workers",
    help: "Number of currently used workers per controller",
    labelNames: ["controller"],
    registers,
    collect() {
      for (const [controller, stats] of Object.entries(sources.controllers?.() ?? {})) {
        this.set({ controller }, stats.queue.inFlight);
      }
    },
  });
  new Gauge({
    name: "controller_runtime_max_concurrent_reconciles",
    help: "Maximum number of concurrent reconciles per controller",
    labelNames: ["controller"],
    registers,
    collect() {
      for (const [controller, n] of Object.entries(sources.concurrency?.() ?? {})) this.set({ controller }, n);
    },
  });

  // ---- work queues (controller-runtime labels them with both `name` and `controller`)
  new Gauge({
    name: "workqueue_depth",
    help: "Current depth of workqueue",
    labelNames: ["name", "controller"],
    registers,
    collect() {
      for (const [name, stats] of Object.entries(sources.controllers?.() ?? {})) {
        this.set({ name, controller: name }, stats.queue.depth);
      }
    },
  });
  const queueAdds = new Counter({
    name: "workqueue_adds_total",
    help: "Total number of adds handled by workqueue",
    labelNames: ["name", "controller"],
    registers,
    collect() {
      for (const [name, stats] of Object.entries(sources.controllers?.() ?? {})) {
        snapshots.advance(queueAdds, { name, controller: name }, stats.queue.adds);
      }
    },
  });
  const queueDuration = new Histogram({
    name: "workqueue_queue_duration_seconds",
    help: "How long in seconds an item stays in workqueue before being requested",
    labelNames: ["name", "controller"],
    buckets: [...QUEUE_BUCKETS],
    registers,
  });
  const workDuration = new Histogram({
    name: "workqueue_work_duration_seconds",
    help: "How long in seconds processing an item from workqueue takes",
    labelNames: ["name", "controller"],
    buckets: [...QUEUE_BUCKETS],
    registers,
  });
  const retries = new Counter({
    name: "workqueue_retries_total",
    help: "Total number of retries handled by workqueue",
    labelNames: ["name", "controller"],
    registers,
  });

  // ---- webhooks
  const webhookRequests = new Counter({
    name: "controller_runtime_webhook_requests_total",
    help: "Total number of admission requests by HTTP status code",
    labelNames: ["webhook", "code"],
    registers,
  });
  const webhookInFlight = new Gauge({
    name: "controller_runtime_webhook_requests_in_flight",
    help: "Current number of admission requests being served",
    labelNames: ["webhook"],
    registers,
  });
  const webhookLatency = new Histogram({
    name: "controller_runtime_webhook_latency_seconds",
    help: "Histogram of the latency of processing admission requests",
    labelNames: ["webhook"],
    buckets: [...LATENCY_BUCKETS],
    registers,
  });

  // ---- API client
  const restRequests = new Counter({
    name: "rest_client_requests_total",
    help: "Number of HTTP requests, partitioned by status code, method, and host",
    labelNames: ["code", "host", "method"],
    registers,
  });
  const restLatency = new Histogram({
    name: "rest_client_request_duration_seconds",
    help: "Request latency in seconds. Broken down by verb, and host",
    labelNames: ["verb", "host"],
    buckets: [...REQUEST_BUCKETS],
    registers,
  });

  // ---- informer cache
  const reflectorLabels = (r: ReflectorHealth) => ({
    resource: r.resource,
    scope: [r.namespace ? `namespace=${r.namespace}` : "", r.labelSelector ? `selector=${r.labelSelector}` : ""]
      .filter(Boolean).join(",") || "all",
  });
  const relists = new Counter({
    name: "lws_watch_relists_total",
    help: "Lists of a watched resource after the first one (410 Gone, expired continue token)",
    labelNames: ["resource", "scope"],
    registers,
    collect() {
      for (const r of sources.reflectors?.() ?? []) snapshots.advance(relists, reflectorLabels(r), r.relists);
    },
  });
  const watchRestarts = new Counter({
    name: "lws_watch_restarts_total",
    help: "Watches opened again after a stream ended or failed",
    labelNames: ["resource", "scope"],
    registers,
    collect() {
      for (const r of sources.reflectors?.() ?? []) {
        snapshots.advance(watchRestarts, reflectorLabels(r), r.watchRestarts);
      }
    },
  });
  const watchErrors = new Counter({
    name: "lws_watch_errors_total",
    help: "Failed list or watch calls and error events of a watched resource",
    labelNames: ["resource", "scope"],
    registers,
    collect() {
      for (const r of sources.reflectors?.() ?? []) snapshots.advance(watchErrors, reflectorLabels(r), r.errors);
    },
  });
  new Gauge({
    name: "lws_cache_objects",
    help: "Objects held in the informer cache",
    labelNames: ["resource", "scope"],
    registers,
    collect() {
      for (const r of sources.reflectors?.() ?? []) this.set(reflectorLabels(r), r.objects);
    },
  });
  new Gauge({
    name: "lws_cache_synced",
    help: "1 once the first list of a watched resource completed",
    labelNames: ["resource", "scope"],
    registers,
    collect() {
      for (const r of sources.reflectors?.() ?? []) this.set(reflectorLabels(r), r.synced ? 1 : 0);
    },
  });

  // ---- leader election
  new Gauge({
    name: "leader_election_master_status",
    help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master",
    labelNames: ["name"],
    registers,
    collect() {
      const leader = sources.leader?.();
      if (leader) this.set({ name: leader.name }, leader.leading ? 1 : 0);
    },
  });

  return {
    registry,
    controllerHooks(controller) {
      const queue = { name: controller, controller };
      for (const result of ["success", "error", "requeue", "requeue_after"]) {
        reconcileTotal.inc({ controller, result }, 0);
      }
      reconcileErrors.inc({ controller }, 0);
      terminalErrors.inc({ controller }, 0);
      retries.inc(queue, 0);
      return {
        onReconcile(result, durationMs) {
          reconcileTotal.inc({ controller, result: RECONCILE_RESULTS[result] });
          if (result === "error" || result === "terminal") reconcileErrors.inc({ controller });
          if (result === "terminal") terminalErrors.inc({ controller });
          reconcileTime.observe({ controller }, durationMs / 1000);
        },
        onQueueLatency: (ms) => queueDuration.observe(queue, ms / 1000),
        onWorkDuration: (ms) => workDuration.observe(queue, ms / 1000),
        onRetry: () => retries.inc(queue),
      };
    },
    webhook: {
      registerPath(webhook) {
        webhookRequests.inc({ webhook, code: "200" }, 0);
        webhookRequests.inc({ webhook, code: "500" }, 0);
        webhookInFlight.set({ webhook }, 0);
      },
      requestStarted: (webhook) => webhookInFlight.inc({ webhook }),
      requestFinished(webhook, code, seconds) {
        webhookInFlight.dec({ webhook });
        webhookRequests.inc({ webhook, code: String(code) });
        webhookLatency.observe({ webhook }, seconds);
      },
    },
    onRequest(info) {
      restRequests.inc({
        code: info.code === 0 ? "<error>" : String(info.code),
        host: options.host,
        method: info.method,
      });
      restLatency.observe({ verb: info.method, host: options.host }, info.durationMs / 1000);
    },
    setSources(next) {
      sources = { ...sources, ...next };
    },
  };
}
