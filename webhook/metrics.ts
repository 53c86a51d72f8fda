/**
 * Metrics hooks of the webhook server, as plain callbacks so the metrics library can be wired in later (spec §11.3:
 * `controller_runtime_webhook_requests_total{webhook,code}`, `controller_runtime_webhook_requests_in_flight{webhook}`,
 * `controller_runtime_webhook_latency_seconds{webhook}`), plus a small in-memory recorder for tests and diagnostics.
 *
 * @module
 */

/**
 * Callbacks the webhook app calls. All optional; they must not throw (exceptions are caught and ignored).
 * `webhook` is the URL path (e.g. `/mutate--v1-pod`), as upstream labels it.
 */
export interface WebhookMetrics {
  /**
   * Called once per webhook path when the app is built, so the library can pre-create
   * `requests_total{webhook, code="200"}` and `{code="500"}` with value 0 on every replica.
   */
  registerPath?(webhook: string): void;
  /** A request to `webhook` started: in-flight + 1. */
  requestStarted?(webhook: string): void;
  /** A request finished with HTTP status `code` after `seconds`: in-flight − 1, counter + 1, latency observed. */
  requestFinished?(webhook: string, code: number, seconds: number): void;
}

/** A snapshot of {@linkcode WebhookMetricsRecorder}. */
export interface WebhookMetricsSnapshot {
  /** `requests_total` by `"<webhook> <code>"`. */
  requests: Record<string, number>;
  /** `requests_in_flight` by webhook path. */
  inFlight: Record<string, number>;
  /** Every observed latency in seconds, by webhook path. */
  latencies: Record<string, number[]>;
}

/** An in-memory {@linkcode WebhookMetrics}: counts requests by path and code, tracks in-flight and latencies. */
export interface WebhookMetricsRecorder extends Required<WebhookMetrics> {
  /** Current values (copies). */
  snapshot(): WebhookMetricsSnapshot;
}

/**
 * Creates an in-memory metrics recorder. Registered paths start with counters 0 for codes 200 and 500.
 *
 * @returns The recorder; pass it as `metrics` to `createWebhookApp`.
 * @example
 * const metrics = createWebhookMetricsRecorder();
 * const app = createWebhookApp({ metrics });
 * // ...
 * metrics.snapshot().requests["/mutate--v1-pod 200"];
 */
export function createWebhookMetricsRecorder(): WebhookMetricsRecorder {
  const requests = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const latencies = new Map<string, number[]>();
  return {
    registerPath(webhook) {
      for (const code of [200, 500]) {
        const key = `${webhook} ${code}`;
        if (!requests.has(key)) requests.set(key, 0);
      }
      if (!inFlight.has(webhook)) inFlight.set(webhook, 0);
    },
    requestStarted(webhook) {
      inFlight.set(webhook, (inFlight.get(webhook) ?? 0) + 1);
    },
    requestFinished(webhook, code, seconds) {
      inFlight.set(webhook, (inFlight.get(webhook) ?? 0) - 1);
      const key = `${webhook} ${code}`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
      const list = latencies.get(webhook) ?? [];
      list.push(seconds);
      latencies.set(webhook, list);
    },
    snapshot() {
      return {
        requests: Object.fromEntries(requests),
        inFlight: Object.fromEntries(inFlight),
        latencies: Object.fromEntries([...latencies].map(([k, v]) => [k, [...v]])),
      };
    },
  };
}
