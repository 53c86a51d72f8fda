/**
 * The product's metrics: the registry and families (`registry.ts`), the LWS metrics (`lws.ts`), process metrics
 * (`process.ts`) and the secure metrics endpoint (`server.ts`).
 *
 * @module
 */
export {
  type ControllerMetricHooks,
  createProductMetrics,
  LATENCY_BUCKETS,
  type ProductMetrics,
  type ScrapeSources,
} from "./registry.ts";
export { createLwsMetrics, type LwsMetrics, type LwsMetricsOptions, recreationReason } from "./lws.ts";
export { type ProcessUsage, readProcessUsage, registerProcessMetrics } from "./process.ts";
export {
  type AccessDecision,
  createMetricsApp,
  type MetricsAuthorizer,
  type MetricsServer,
  type MetricsServerOptions,
  startMetricsServer,
  tokenReviewAuthorizer,
} from "./server.ts";
