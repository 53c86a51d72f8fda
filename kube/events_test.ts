import assert from "node:assert/strict";
import type { Event, EventSeries } from "kubernetes-types/events/v1.d.ts";
import type { ObjectReference } from "kubernetes-types/core/v1.d.ts";
import { ManualClock } from "./clock.ts";
import { ApiError } from "./errors.ts";
import {
  createEventRecorder,
  DEFAULT_EVENT_WINDOW_MS,
  type EventSink,
  formatMicroTime,
  NOTE_LENGTH_LIMIT,
  objectReference,
} from "./events.ts";
import { LEADER_WORKER_SETS } from "./resources.ts";

/** An in-memory events API: create (AlreadyExists on a duplicate name) and series patches (NotFound when gone). */
class FakeEventSink implements EventSink {
  readonly events = new Map<string, Event>();
  readonly calls: string[] = [];
  failNext: unknown[] = [];
  gate: Promise<void> | undefined;

  async create(namespace: string, event: Event, signal?: AbortSignal): Promise<Event> {
    await this.#wait(signal);
    this.calls.push(`create ${event.metadata?.name}${event.series ? ` count=${event.series.count}` : ""}`);
    if (this.failNext.length) throw this.failNext.shift();
    const key = `${namespace}/${event.metadata?.name}`;
    if (this.events.has(key)) {
      throw new ApiError({ kind: "Status", code: 409, reason: "AlreadyExists", message: "exists" });
    }
    this.events.set(key, structuredClone(event));
    return event;
  }

  async patchSeries(namespace: string, name: string, series: EventSeries, signal?: AbortSignal): Promise<Event> {
    await this.#wait(signal);
    this.calls.push(`patch ${name} count=${series.count}`);
    if (this.failNext.length) throw this.failNext.shift();
    const existing = this.events.get(`${namespace}/${name}`);
    if (!existing) throw new ApiError({ kind: "Status", code: 404, reason: "NotFound", message: "gone" });
    existing.series = series;
    return existing;
  }

  /** Waits for the gate, or rejects when `signal` aborts (like a real request). */
  #wait(signal?: AbortSignal): Promise<void> {
    if (!this.gate) return Promise.resolve();
    return new Promise((resolve, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      this.gate?.then(resolve);
    });
  }

  list(): Event[] {
    return [...this.events.values()];
  }
}

const lws: ObjectReference = {
  apiVersion: "leaderworkerset.x-k8s.io/v1",
  kind: "LeaderWorkerSet",
  namespace: "ns1",
  name: "sample",
  uid: "uid-1",
  resourceVersion: "5",
};
const progressing = {
  type: "Normal" as const,
  reason: "GroupsProgressing",
  action: "Create",
  note: "Created leader statefulset sample",
};

Deno.test("formatMicroTime() writes RFC 3339 with six fractional digits", () => {
  assert.equal(formatMicroTime(Date.parse("2026-11-25T17:40:00Z") + 123.456), "2026-11-25T17:40:00.123456Z");
  assert.equal(formatMicroTime(Date.parse("2026-01-01T00:00:00Z")), "2026-01-01T00:00:00.000000Z");
  assert.equal(formatMicroTime(Date.parse("2026-01-01T00:00:00Z") + 0.001), "2026-01-01T00:00:00.000001Z");
});

Deno.test("objectReference() copies identity fields like client-go's GetReference", () => {
  const ref = objectReference(
    { metadata: { name: "sample", namespace: "ns1", uid: "u", resourceVersion: "7", labels: { a: "b" } } },
    LEADER_WORKER_SETS,
  );
  assert.deepEqual(ref, {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    name: "sample",
    namespace: "ns1",
    uid: "u",
    resourceVersion: "7",
  });
});

Deno.test("createEventRecorder() creates an events.k8s.io/v1 Event with client-go's name and fields", async () => {
  const sink = new FakeEventSink();
  const clock = new ManualClock(Date.parse("2026-11-25T17:40:00Z") + 0.25);
  const recorder = createEventRecorder(sink, { reportingInstance: "lws-controller-abc", clock });
  const related: ObjectReference = { apiVersion: "apps/v1", kind: "ControllerRevision", namespace: "ns1", name: "r1" };
  recorder.record(lws, { ...progressing, related });
  await recorder.flush();
  const [event] = sink.list();
  assert.ok(event);
  const nanos = BigInt(Date.parse("2026-11-25T17:40:00Z")) * 1_000_000n + 250_000n;
  assert.deepEqual(event, {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: { name: `sample.${nanos.toString(16)}`, namespace: "ns1" },
    eventTime: "2026-11-25T17:40:00.000250Z",
    reportingController: "leaderworkerset",
    reportingInstance: "lws-controller-abc",
    action: "Create",
    reason: "GroupsProgressing",
    type: "Normal",
    note: "Created leader statefulset sample",
    regarding: lws,
    related,
  });
  await recorder.close();
});

Deno.test("createEventRecorder() aggregates repeats within the window into series", async (t) => {
  const sink = new FakeEventSink();
  const clock = new ManualClock();
  const recorder = createEventRecorder(sink, { reportingInstance: "i", clock });
  await t.step("a repeat patches series.count 2", async () => {
    recorder.record(lws, progressing);
    await recorder.flush();
    await clock.advance(1000);
    recorder.record(lws, progressing);
    await recorder.flush();
    const events = sink.list();
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]?.series, { count: 2, lastObservedTime: formatMicroTime(clock.now()) });
  });
  await t.step("repeats while a write is queued collapse into one write with the latest count", async () => {
    let open!: () => void;
    sink.gate = new Promise((resolve) => open = resolve);
    recorder.record(lws, progressing); // 3: in flight, blocked
    recorder.record(lws, progressing); // 4: queued
    recorder.record(lws, progressing); // 5: same queued write
    recorder.record(lws, progressing); // 6
    open();
    sink.gate = undefined;
    await recorder.flush();
    assert.equal(sink.list()[0]?.series?.count, 6);
    assert.deepEqual(sink.calls.slice(-2).map((c) => c.replace(/ .*count/, " count")), [
      "patch count=3",
      "patch count=6",
    ]);
  });
  await t.step("a different note, type, reason or regarding is a new event", async () => {
    recorder.record(lws, { ...progressing, note: "other note" });
    recorder.record(lws, { ...progressing, type: "Warning" });
    recorder.record(lws, { ...progressing, reason: "FailedCreate" });
    recorder.record({ ...lws, resourceVersion: "6" }, progressing);
    await recorder.flush();
    assert.equal(sink.list().length, 5);
  });
  await t.step("after the window a repeat starts a new event", async () => {
    await clock.advance(DEFAULT_EVENT_WINDOW_MS + 1);
    recorder.record(lws, progressing);
    await recorder.flush();
    assert.equal(sink.list().length, 6);
    assert.equal(sink.list()[5]?.series, undefined);
  });
  await recorder.close();
});

Deno.test("createEventRecorder() re-creates an event whose series patch finds it gone", async () => {
  const sink = new FakeEventSink();
  const recorder = createEventRecorder(sink, { reportingInstance: "i", clock: new ManualClock() });
  recorder.record(lws, progressing);
  await recorder.flush();
  sink.events.clear(); // expired by the API server's event TTL
  recorder.record(lws, progressing);
  await recorder.flush();
  const [event] = sink.list();
  assert.equal(event?.series?.count, 2);
  assert.deepEqual(sink.calls.map((c) => c.split(" ")[0]), ["create", "patch", "create"]);
  await recorder.close();
});

Deno.test("createEventRecorder() never throws into the caller and retries a failed create on the next repeat", async () => {
  const sink = new FakeEventSink();
  const recorder = createEventRecorder(sink, { reportingInstance: "i", clock: new ManualClock() });
  sink.failNext.push(new ApiError({ kind: "Status", code: 403, reason: "Forbidden", message: "no" }));
  recorder.record(lws, progressing);
  await recorder.flush();
  assert.equal(sink.list().length, 0);
  recorder.record(lws, progressing);
  await recorder.flush();
  assert.equal(sink.list().length, 1);
  assert.equal(sink.list()[0]?.series?.count, 2, "the count includes the occurrence whose write failed");
  // A broken sink that throws synchronously is contained too.
  const broken = createEventRecorder({
    create: () => {
      throw new Error("sync boom");
    },
    patchSeries: () => Promise.reject(new Error("boom")),
  }, { reportingInstance: "i" });
  broken.record(lws, progressing);
  await broken.flush();
  await broken.close();
  await recorder.close();
});

Deno.test("createEventRecorder() bounds memory: LRU of entries and a bounded queue", async (t) => {
  await t.step("LRU", async () => {
    const sink = new FakeEventSink();
    const recorder = createEventRecorder(sink, { reportingInstance: "i", clock: new ManualClock(), maxEntries: 2 });
    recorder.record(lws, { ...progressing, note: "a" });
    recorder.record(lws, { ...progressing, note: "b" });
    recorder.record(lws, { ...progressing, note: "a" }); // touches a → b is oldest
    recorder.record(lws, { ...progressing, note: "c" }); // evicts b
    recorder.record(lws, { ...progressing, note: "b" }); // b forgotten → new event; evicts a
    await recorder.flush();
    assert.deepEqual(sink.list().map((e) => `${e.note}:${e.series?.count ?? 1}`).sort(), ["a:2", "b:1", "b:1", "c:1"]);
    await recorder.close();
  });
  await t.step("queue", async () => {
    const sink = new FakeEventSink();
    let open!: () => void;
    sink.gate = new Promise((resolve) => open = resolve);
    const recorder = createEventRecorder(sink, { reportingInstance: "i", clock: new ManualClock(), maxQueue: 2 });
    for (const note of ["1", "2", "3", "4", "5"]) recorder.record(lws, { ...progressing, note });
    open();
    await recorder.flush();
    // "1" was taken by the worker at once, "2" and "3" queued, "4" and "5" dropped.
    assert.deepEqual(sink.list().map((e) => e.note), ["1", "2", "3"]);
    await recorder.close();
  });
});

Deno.test("createEventRecorder() truncates long notes and stops accepting after close()", async () => {
  const sink = new FakeEventSink();
  const recorder = createEventRecorder(sink, { reportingInstance: "i", clock: new ManualClock() });
  recorder.record(lws, { ...progressing, note: "é".repeat(NOTE_LENGTH_LIMIT) });
  await recorder.close();
  recorder.record(lws, { ...progressing, note: "after close" });
  await recorder.flush();
  const notes = sink.list().map((e) => e.note ?? "");
  assert.equal(notes.length, 1);
  assert.ok(new TextEncoder().encode(notes[0]).length <= NOTE_LENGTH_LIMIT);
  assert.equal(notes[0], "é".repeat(NOTE_LENGTH_LIMIT / 2));
});

Deno.test("createEventRecorder() close(signal) aborts the in-flight write and drops the queue", async () => {
  const sink = new FakeEventSink();
  sink.gate = new Promise(() => {}); // the API never answers
  const recorder = createEventRecorder(sink, { reportingInstance: "i", clock: new ManualClock() });
  recorder.record(lws, { ...progressing, note: "1" });
  recorder.record(lws, { ...progressing, note: "2" });
  const controller = new AbortController();
  const closing = recorder.close(controller.signal);
  controller.abort(new Error("shutdown"));
  await closing;
  assert.deepEqual(sink.list(), []);
  assert.equal(sink.calls.length, 0, "the in-flight write was aborted before it was counted, the queued one dropped");
});
