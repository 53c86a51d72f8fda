/**
 * An events.k8s.io/v1 event recorder in the manner of client-go's `tools/events` broadcaster.
 *
 * - `record()` never blocks and never throws: it updates an in-memory cache and queues a write; a single worker
 *   sends the writes in order. Failures are logged.
 * - Repeats aggregate: an event identical to one recorded within the window (default 6 minutes since its last
 *   occurrence) — same `regarding`, `related`, `reason`, `action`, `type` and `note` — does not create a new Event
 *   but patches the existing one's `series` (`{count, lastObservedTime}`). Several repeats that arrive while a write
 *   is queued collapse into one write carrying the latest count.
 * - Memory is bounded: the cache is an LRU of at most `maxEntries` keys, and the queue holds at most
 *   `maxQueue` writes (a write that does not fit is dropped and logged; the count stays correct in the cache and
 *   the next repeat writes it).
 *
 * Differences from client-go, on purpose: the de-duplication key also includes `type` and `note` (client-go's
 * omits them, so a repeat with a different note would be swallowed), and every repeat is written (coalesced),
 * rather than only the first repeat plus a 30-minute heartbeat.
 *
 * @module
 */
import type { Event, EventSeries } from "kubernetes-types/events/v1.d.ts";
import type { ObjectReference } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import type { Clock } from "./clock.ts";
import { realClock } from "./clock.ts";
import type { KubeClient } from "./client.ts";
import { isAlreadyExists, isNotFound } from "./errors.ts";
import { apiVersionOf, EVENTS } from "./resources.ts";
import type { KubeObject, ResourceType } from "./types.ts";

const log = getLogger(["lws", "kube", "events"]);

/** `reportingController` of every event the product records (spec §7.11). */
export const REPORTING_CONTROLLER = "leaderworkerset";

/** Default aggregation window: client-go's events broadcaster finishes a series after 6 minutes. */
export const DEFAULT_EVENT_WINDOW_MS = 6 * 60_000;

/** The events/v1 API rejects notes longer than this many bytes; longer notes are truncated. */
export const NOTE_LENGTH_LIMIT = 1024;

/** Where the recorder writes events: the API, or an in-memory fake in unit tests. */
export interface EventSink {
  /**
   * Creates an event.
   *
   * @throws an `ApiError` (AlreadyExists, Forbidden, …) or a transport error
   */
  create(namespace: string, event: Event, signal?: AbortSignal): Promise<Event>;
  /**
   * Merge-patches an existing event's `series`.
   *
   * @throws an `ApiError` with reason NotFound when the event is gone (expired or deleted)
   */
  patchSeries(namespace: string, name: string, series: EventSeries, signal?: AbortSignal): Promise<Event>;
}

/**
 * An {@linkcode EventSink} that writes through a client (`events.k8s.io/v1`).
 *
 * @param client the API client
 * @returns the sink
 */
export function clientEventSink(client: KubeClient): EventSink {
  return {
    create: (namespace, event, signal) => client.create<Event>(EVENTS, event, { namespace, signal }),
    patchSeries: (namespace, name, series, signal) =>
      client.patch<Event>(EVENTS, name, { namespace, patch: { series }, patchType: "merge", signal }),
  };
}

/** What one event says. */
export interface EventInput {
  /** `Normal` or `Warning`. */
  type: "Normal" | "Warning";
  /** Machine-readable reason, e.g. `GroupsProgressing`. */
  reason: string;
  /** What was done, e.g. `Create`, `Update`, `Delete`. */
  action: string;
  /** Human-readable note; truncated to {@linkcode NOTE_LENGTH_LIMIT} bytes. */
  note: string;
  /** A second object the event is about (a revision, a leader pod). */
  related?: ObjectReference;
}

/** Records events; see the module documentation for the semantics. */
export interface EventRecorder {
  /**
   * Records an event about `regarding`. Returns at once; never throws. Ignored after `close()`.
   *
   * @param regarding the object the event is about (its namespace is the event's namespace; `default` if none)
   * @param event type, reason, action, note and an optional related object
   */
  record(regarding: ObjectReference, event: EventInput): void;
  /** Resolves when every queued write has been attempted. */
  flush(): Promise<void>;
  /**
   * Stops accepting events and waits for the queue to drain. When `signal` aborts first, the in-flight write is
   * aborted and the rest of the queue is dropped.
   */
  close(signal?: AbortSignal): Promise<void>;
}

/** Options of {@linkcode createEventRecorder}. */
export interface EventRecorderOptions {
  /** `reportingController` (default {@linkcode REPORTING_CONTROLLER}). */
  reportingController?: string;
  /** `reportingInstance`, e.g. the pod name (default `<reportingController>-<hostname>`, like client-go). */
  reportingInstance?: string;
  /** Clock; `eventTime` keeps the sub-millisecond part of `now()` (the default clock has microseconds). */
  clock?: Clock;
  /** Aggregation window since the last occurrence (default {@linkcode DEFAULT_EVENT_WINDOW_MS}). */
  windowMs?: number;
  /** Maximum number of distinct events remembered for aggregation (default 4096). */
  maxEntries?: number;
  /** Maximum number of queued writes (default 1000, like client-go's broadcaster queue). */
  maxQueue?: number;
}

/** The real clock, with microseconds in `now()` (for MicroTime). */
const microClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) => realClock.sleep(ms, signal),
  setTimer: (ms, callback) => realClock.setTimer(ms, callback),
};

/**
 * Formats a time as a Kubernetes MicroTime (RFC 3339 with exactly six fractional digits, UTC).
 *
 * @param ms milliseconds since the epoch, possibly with a fraction
 * @returns e.g. `2026-11-25T17:40:00.123456Z`
 */
export function formatMicroTime(ms: number): string {
  const micros = Math.floor(ms * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  const iso = new Date(seconds * 1000).toISOString(); // …:SS.000Z
  return `${iso.slice(0, 19)}.${String(fraction).padStart(6, "0")}Z`;
}

/**
 * An ObjectReference to an object, like client-go's `reference.GetReference` (includes `uid` and
 * `resourceVersion`, so events about different versions of an object do not aggregate — as upstream).
 *
 * @param object the object (needs `metadata.name`)
 * @param type its resource type, when `apiVersion`/`kind` are not set on the object (objects from the cache have
 *   them)
 * @returns the reference
 */
export function objectReference(object: KubeObject, type?: ResourceType): ObjectReference {
  const ref: ObjectReference = {
    apiVersion: object.apiVersion ?? (type ? apiVersionOf(type) : undefined),
    kind: object.kind ?? type?.kind,
    name: object.metadata?.name,
  };
  if (object.metadata?.namespace) ref.namespace = object.metadata.namespace;
  if (object.metadata?.uid) ref.uid = object.metadata.uid;
  if (object.metadata?.resourceVersion) ref.resourceVersion = object.metadata.resourceVersion;
  return ref;
}

interface Entry {
  namespace: string;
  name: string;
  event: Event;
  /** Occurrences so far. */
  count: number;
  /** Time of the last occurrence (ms). */
  lastObserved: number;
  /** Count the server has (0: not created yet). */
  written: number;
  queued: boolean;
}

function refKey(ref: ObjectReference | undefined): unknown[] {
  if (!ref) return [];
  return [ref.apiVersion, ref.kind, ref.namespace, ref.name, ref.uid, ref.resourceVersion, ref.fieldPath];
}

function truncateNote(note: string): string {
  const bytes = new TextEncoder().encode(note);
  if (bytes.length <= NOTE_LENGTH_LIMIT) return note;
  // Cut on a UTF-8 boundary: drop continuation bytes at the cut.
  let end = NOTE_LENGTH_LIMIT;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

function defaultInstance(controller: string): string {
  try {
    return `${controller}-${Deno.hostname()}`;
  } catch {
    return controller;
  }
}

/**
 * Creates an event recorder writing to `sink`.
 *
 * @param sink where events go (see {@linkcode clientEventSink})
 * @param options reporting controller/instance, clock, window and bounds
 * @returns the recorder; call `close()` on shutdown
 * @example
 * const recorder = createEventRecorder(clientEventSink(client), { reportingInstance: podName });
 * recorder.record(objectReference(lws), { type: "Normal", reason: "GroupsProgressing", action: "Create", note: `Created leader statefulset ${name}` });
 */
export function createEventRecorder(sink: EventSink, options: EventRecorderOptions = {}): EventRecorder {
  const controller = options.reportingController ?? REPORTING_CONTROLLER;
  const instance = options.reportingInstance ?? defaultInstance(controller);
  const clock = options.clock ?? microClock;
  const windowMs = options.windowMs ?? DEFAULT_EVENT_WINDOW_MS;
  const maxEntries = options.maxEntries ?? 4096;
  const maxQueue = options.maxQueue ?? 1000;
  const cache = new Map<string, Entry>();
  const queue: Entry[] = [];
  let worker: Promise<void> | undefined;
  let closed = false;
  const stop = new AbortController();
  let lastNanos = 0n;
  let dropped = 0;

  const uniqueNanos = (ms: number): bigint => {
    let nanos = BigInt(Math.floor(ms * 1000)) * 1000n;
    if (nanos <= lastNanos) nanos = lastNanos + 1n;
    lastNanos = nanos;
    return nanos;
  };

  const write = async (entry: Entry): Promise<void> => {
    const count = entry.count;
    const series: EventSeries | undefined = count > 1
      ? { count, lastObservedTime: formatMicroTime(entry.lastObserved) }
      : undefined;
    const what = { reason: entry.event.reason, regarding: entry.event.regarding?.name, namespace: entry.namespace };
    if (entry.written > 0 && series) {
      try {
        await sink.patchSeries(entry.namespace, entry.name, series, stop.signal);
        entry.written = count;
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        log.debug("Event {name} is gone, creating it again", { name: entry.name, ...what });
      }
    }
    const body: Event = { ...entry.event, ...(series ? { series } : {}) };
    try {
      await sink.create(entry.namespace, body, stop.signal);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    entry.written = count;
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const entry = queue.shift()!;
      entry.queued = false;
      if (entry.written === entry.count) continue;
      try {
        await write(entry);
      } catch (err) {
        if (stop.signal.aborted) return;
        log.warn("Cannot record event {reason} about {namespace}/{regarding}: {error}", {
          reason: entry.event.reason,
          namespace: entry.namespace,
          regarding: entry.event.regarding?.name,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  };

  const enqueue = (entry: Entry) => {
    if (entry.queued) return;
    if (queue.length >= maxQueue) {
      dropped++;
      if (dropped === 1 || dropped % 100 === 0) {
        log.warn("Event queue is full ({max}), dropped {dropped} writes so far", { max: maxQueue, dropped });
      }
      return;
    }
    entry.queued = true;
    queue.push(entry);
    worker ??= drain().finally(() => {
      worker = undefined;
    });
  };

  return {
    record(regarding, input) {
      try {
        if (closed) {
          log.debug("Event recorder is closed, dropping {reason}", { reason: input.reason });
          return;
        }
        const now = clock.now();
        const note = truncateNote(input.note);
        const key = JSON.stringify([
          refKey(regarding),
          refKey(input.related),
          input.reason,
          input.action,
          input.type,
          note,
        ]);
        let entry = cache.get(key);
        if (entry && now - entry.lastObserved <= windowMs) {
          cache.delete(key); // LRU: move to the back
          cache.set(key, entry);
          entry.count++;
          entry.lastObserved = now;
          enqueue(entry);
          return;
        }
        const namespace = regarding.namespace || "default";
        const name = `${regarding.name ?? "unknown"}.${uniqueNanos(now).toString(16)}`;
        const event: Event = {
          apiVersion: "events.k8s.io/v1",
          kind: "Event",
          metadata: { name, namespace },
          eventTime: formatMicroTime(now),
          reportingController: controller,
          reportingInstance: instance,
          action: input.action,
          reason: input.reason,
          type: input.type,
          note,
          regarding: { ...regarding },
          ...(input.related ? { related: { ...input.related } } : {}),
        };
        entry = { namespace, name, event, count: 1, lastObserved: now, written: 0, queued: false };
        cache.delete(key);
        cache.set(key, entry);
        while (cache.size > maxEntries) {
          const oldest = cache.keys().next().value;
          if (oldest === undefined) break;
          cache.delete(oldest);
        }
        enqueue(entry);
      } catch (err) {
        log.error("Cannot record event: {error}", { error: String(err) });
      }
    },
    async flush() {
      while (worker) await worker;
    },
    async close(signal) {
      closed = true;
      const onAbort = () => {
        queue.length = 0;
        stop.abort(signal?.reason);
      };
      if (signal?.aborted) onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        while (worker) await worker;
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
    },
  };
}
