/**
 * The webhook HTTP app (Hono): the four admission paths of spec §11.3, each a pure handler of the AdmissionRequest
 * behind one shared pipeline — body size limit, body read timeout, AdmissionReview decoding, uid echo, metrics
 * hooks, and a catch-all that turns a throwing handler into a refusal instead of a dropped connection.
 *
 * HTTP statuses: a decoded review is always answered with HTTP 200 and an AdmissionReview (denials included, as
 * the API server expects). A request that cannot be a review gets an AdmissionReview-shaped error body with a
 * matching HTTP status: 400 (empty, not JSON, not `application/json`, not an AdmissionReview), 413 (body over the
 * limit), 408 (body not received in time), 405 (not POST), 404 (unknown path). The API server treats any of those
 * as a failed call (`failurePolicy` applies), like it treats controller-runtime's 200-with-error answers that lack
 * a uid.
 *
 * @module
 */
import { Hono } from "hono";
import { getLogger } from "@logtape/logtape";
import {
  WEBHOOK_PATH_MUTATE_LWS,
  WEBHOOK_PATH_MUTATE_POD,
  WEBHOOK_PATH_VALIDATE_LWS,
  WEBHOOK_PATH_VALIDATE_POD,
} from "../api/constants.ts";
import { type Clock, realClock } from "../kube/clock.ts";
import {
  type AdmissionHandler,
  type AdmissionResult,
  decodeAdmissionReview,
  encodeAdmissionReview,
  errored,
} from "./admission.ts";
import { createLwsMutatingHandler, createLwsValidatingHandler } from "./lws.ts";
import { createPodMutatingHandler, createPodValidatingHandler } from "./pod.ts";
import type { WebhookMetrics } from "./metrics.ts";

const log = getLogger(["lws", "webhook"]);

/** Default body limit: controller-runtime's 7 MiB (an UPDATE review carries two objects of up to ~1.5 MiB each). */
export const DEFAULT_MAX_BODY_BYTES = 7 * 1024 * 1024;
/** Default time allowed to receive a request body (the API server's webhook timeout is at most 30 s). */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** Every admission path this app serves, in registration order. */
export const WEBHOOK_PATHS: readonly string[] = [
  WEBHOOK_PATH_MUTATE_LWS,
  WEBHOOK_PATH_VALIDATE_LWS,
  WEBHOOK_PATH_MUTATE_POD,
  WEBHOOK_PATH_VALIDATE_POD,
];

/** Options of {@linkcode createWebhookApp}. */
export interface WebhookAppOptions {
  /** Gang scheduling is configured: pods get `scheduling.k8s.io/group-name` (spec §10). Default false. */
  gangScheduling?: boolean;
  /** With `gangScheduling`, pods also get `spec.schedulingGroup.podGroupName` (provider `workload`). Default false. */
  schedulingGroup?: boolean;
  /** Largest accepted request body in bytes; larger → 413. Default {@linkcode DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
  /** Time allowed to receive the body, in ms; exceeded → 408. Default {@linkcode DEFAULT_BODY_TIMEOUT_MS}. */
  bodyTimeoutMs?: number;
  /** Metrics callbacks (requests by path and code, in-flight, latency). */
  metrics?: WebhookMetrics;
  /** Clock for the body timeout (tests pass a `ManualClock`). */
  clock?: Clock;
  /** Replaces the handler of a path (tests; e.g. one that throws). */
  handlers?: Partial<Record<string, AdmissionHandler>>;
}

type ReadResult = { text: string } | { status: number; message: string };

/**
 * Builds the webhook app. The handlers are pure and share nothing, so one app serves any number of concurrent
 * requests; the app itself holds no mutable state beyond what `metrics` records.
 *
 * @param options Handler options, limits, metrics hooks.
 * @returns A Hono app; serve it with `startWebhookServer` or test it with `app.request()`.
 * @example
 * const app = createWebhookApp({ gangScheduling: false });
 * const res = await app.request("/mutate--v1-pod", { method: "POST", body, headers: { "content-type": "application/json" } });
 */
export function createWebhookApp(options: WebhookAppOptions = {}): Hono {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const clock = options.clock ?? realClock;
  const metrics = options.metrics ?? {};
  const handlers: Record<string, AdmissionHandler> = {
    [WEBHOOK_PATH_MUTATE_LWS]: createLwsMutatingHandler(),
    [WEBHOOK_PATH_VALIDATE_LWS]: createLwsValidatingHandler(),
    [WEBHOOK_PATH_MUTATE_POD]: createPodMutatingHandler({
      gangScheduling: options.gangScheduling,
      schedulingGroup: options.schedulingGroup,
    }),
    [WEBHOOK_PATH_VALIDATE_POD]: createPodValidatingHandler(),
  };
  for (const [path, handler] of Object.entries(options.handlers ?? {})) if (handler) handlers[path] = handler;

  const app = new Hono();
  for (const path of WEBHOOK_PATHS) {
    const handler = handlers[path]!;
    safely(() => metrics.registerPath?.(path));
    app.all(path, async (c) => {
      const started = performance.now();
      safely(() => metrics.requestStarted?.(path));
      let status = 500;
      try {
        const { status: code, body } = await serve(c.req.raw, handler, path, { maxBodyBytes, bodyTimeoutMs, clock });
        status = code;
        return c.json(body, code as 200);
      } finally {
        const seconds = (performance.now() - started) / 1000;
        safely(() => metrics.requestFinished?.(path, status, seconds));
      }
    });
  }
  app.notFound((c) => c.json(encodeAdmissionReview("", errored(404, `No webhook at ${c.req.path}`)), 404));
  app.onError((err, c) => {
    log.error("Webhook request failed: {error}", { error: String(err) });
    return c.json(encodeAdmissionReview("", errored(500, String(err))), 500);
  });
  return app;
}

async function serve(
  request: Request,
  handler: AdmissionHandler,
  path: string,
  limits: { maxBodyBytes: number; bodyTimeoutMs: number; clock: Clock },
): Promise<{ status: number; body: unknown }> {
  const fail = (status: number, message: string) => {
    log.warn("Rejected webhook request to {path}: {message}", { path, message });
    return { status, body: encodeAdmissionReview("", errored(status, message)) };
  };
  if (request.method !== "POST") return fail(405, `Method ${request.method} not allowed, expected POST`);
  const contentType = request.headers.get("content-type") ?? "";
  if (contentType.split(";")[0]!.trim().toLowerCase() !== "application/json") {
    return fail(400, `contentType=${contentType}, expected application/json`);
  }
  const read = await readBody(request, limits);
  if ("status" in read) return fail(read.status, read.message);
  if (read.text.length === 0) return fail(400, "request body is empty");
  const decoded = decodeAdmissionReview(read.text);
  if ("error" in decoded) return fail(400, decoded.error);
  const { review } = decoded;
  let result: AdmissionResult;
  try {
    result = handler(review.request);
  } catch (err) {
    // controller-runtime recovers a panicking handler the same way: HTTP 200, allowed false, code 500.
    const text = err instanceof Error ? err.message : String(err);
    log.error("Webhook {path} handler threw for uid {uid}: {error}", { path, uid: review.request.uid, error: text });
    result = errored(500, `panic: ${text} [recovered]`);
  }
  if (!result.allowed) {
    log.debug("Webhook {path} refused uid {uid}: {message}", {
      path,
      uid: review.request.uid,
      message: result.message,
    });
  }
  return { status: 200, body: encodeAdmissionReview(review.request.uid, result, review.apiVersion) };
}

async function readBody(
  request: Request,
  limits: { maxBodyBytes: number; bodyTimeoutMs: number; clock: Clock },
): Promise<ReadResult> {
  const tooLarge = { status: 413, message: `request entity is too large; limit is ${limits.maxBodyBytes} bytes` };
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) return tooLarge;
  if (request.body === null) return { text: "" };
  const reader = request.body.getReader();
  let timedOut = false;
  let onTimeout: () => void = () => {};
  const timeout = new Promise<"timeout">((resolve) => {
    onTimeout = () => resolve("timeout");
  });
  const timer = limits.clock.setTimer(limits.bodyTimeoutMs, () => {
    timedOut = true;
    onTimeout();
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next === "timeout" || timedOut) {
        void reader.cancel().catch(() => {});
        return { status: 408, message: `request body not received within ${limits.bodyTimeoutMs} ms` };
      }
      if (next.done) break;
      total += next.value.byteLength;
      if (total > limits.maxBodyBytes) {
        void reader.cancel().catch(() => {});
        return tooLarge;
      }
      chunks.push(next.value);
    }
  } catch (err) {
    return { status: 400, message: `Cannot read request body: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    timer.cancel();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { text: new TextDecoder().decode(bytes) };
}

function safely(call: () => void): void {
  try {
    call();
  } catch (err) {
    log.warn("Webhook metrics hook threw: {error}", { error: String(err) });
  }
}
