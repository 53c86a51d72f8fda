import assert from "node:assert/strict";
import { flush, ManualClock } from "./clock.ts";
import { Scheduler, type SchedulerOptions, type WorkResult } from "./scheduler.ts";

/** A worker whose runs the test finishes by hand. */
class ScriptedWorker {
  readonly started: string[] = [];
  running = new Map<string, { resolve: (r?: WorkResult) => void; reject: (e: unknown) => void }>();
  maxConcurrent = 0;
  concurrentSameKey = false;
  signals: AbortSignal[] = [];
  constructor(readonly clock: ManualClock) {}

  work = (key: string, signal: AbortSignal): Promise<WorkResult | void> => {
    if (this.running.has(key)) this.concurrentSameKey = true;
    this.started.push(`${key}@${this.clock.now()}`);
    this.signals.push(signal);
    return new Promise((resolve, reject) => {
      this.running.set(key, {
        resolve: (r) => {
          this.running.delete(key);
          resolve(r);
        },
        reject: (e) => {
          this.running.delete(key);
          reject(e);
        },
      });
      this.maxConcurrent = Math.max(this.maxConcurrent, this.running.size);
    });
  };

  async finish(key: string, result?: WorkResult): Promise<void> {
    const run = this.running.get(key);
    assert.ok(run, `${key} is not running`);
    run.resolve(result);
    await flush();
  }

  async fail(key: string): Promise<void> {
    this.running.get(key)!.reject(new Error(`${key} failed`));
    await flush();
  }
}

function setup(options: SchedulerOptions = {}) {
  const clock = new ManualClock(0);
  const worker = new ScriptedWorker(clock);
  const scheduler = new Scheduler(worker.work, { clock, ...options });
  const controller = new AbortController();
  let done: Promise<void> | undefined;
  return {
    clock,
    worker,
    scheduler,
    async start() {
      done = scheduler.run(controller.signal);
      await flush();
    },
    async stop() {
      for (const run of worker.running.values()) run.resolve();
      controller.abort();
      await done;
    },
  };
}

Deno.test("Scheduler.enqueue() collapses duplicates of a waiting key", async () => {
  const s = setup({ concurrency: 4 });
  for (const key of ["a", "b", "a", "a", "b"]) s.scheduler.enqueue(key);
  assert.equal(s.scheduler.stats().depth, 2);
  await s.start();
  assert.deepEqual(s.worker.started, ["a@0", "b@0"]);
  await s.worker.finish("a");
  await s.worker.finish("b");
  assert.deepEqual(s.worker.started, ["a@0", "b@0"]);
  await s.stop();
});

Deno.test("Scheduler.enqueue() keeps the earliest due time", async () => {
  const s = setup({ concurrency: 4 });
  await s.start();
  s.scheduler.enqueue("later-then-sooner", 1000);
  s.scheduler.enqueue("later-then-sooner", 100);
  s.scheduler.enqueue("sooner-then-later", 200);
  s.scheduler.enqueue("sooner-then-later", 5000);
  assert.deepEqual([s.scheduler.stats().depth, s.scheduler.stats().ready], [2, 0]);
  await s.clock.advance(99);
  assert.deepEqual(s.worker.started, []);
  await s.clock.advance(1);
  assert.deepEqual(s.worker.started, ["later-then-sooner@100"]);
  await s.clock.advance(100);
  assert.deepEqual(s.worker.started, ["later-then-sooner@100", "sooner-then-later@200"]);
  await s.worker.finish("later-then-sooner");
  await s.worker.finish("sooner-then-later");
  await s.clock.advance(10_000);
  assert.equal(s.worker.started.length, 2, "the later due times were dropped");
  await s.stop();
});

Deno.test("Scheduler.run() processes due keys in due-time order", async () => {
  const s = setup();
  s.scheduler.enqueue("c", 30);
  s.scheduler.enqueue("a", 10);
  s.scheduler.enqueue("b", 20);
  s.scheduler.enqueue("now");
  await s.start();
  await s.clock.advance(50);
  for (const key of ["now", "a", "b", "c"]) await s.worker.finish(key);
  assert.deepEqual(s.worker.started, ["now@0", "a@50", "b@50", "c@50"]);
  await s.stop();
});

Deno.test("Scheduler.run() never runs one key twice at once and re-runs a key enqueued while it ran", async () => {
  const s = setup({ concurrency: 4 });
  s.scheduler.enqueue("a");
  await s.start();
  s.scheduler.enqueue("a");
  s.scheduler.enqueue("a");
  await flush();
  assert.deepEqual(s.worker.started, ["a@0"]);
  assert.deepEqual([s.scheduler.stats().depth, s.scheduler.stats().inFlight], [1, 1]);
  await s.worker.finish("a", { requeueAfterMs: 60_000 });
  assert.deepEqual(s.worker.started, ["a@0", "a@0"], "runs once more, at once (earliest wins over requeueAfter)");
  await s.worker.finish("a");
  assert.equal(s.worker.concurrentSameKey, false);
  assert.equal(s.scheduler.stats().depth, 0);
  await s.stop();
});

Deno.test("Scheduler.run() bounds concurrency", async () => {
  const s = setup({ concurrency: 2 });
  for (const key of ["a", "b", "c", "d"]) s.scheduler.enqueue(key);
  await s.start();
  assert.deepEqual(s.worker.started, ["a@0", "b@0"]);
  assert.deepEqual([s.scheduler.stats().inFlight, s.scheduler.stats().ready], [2, 2]);
  await s.worker.finish("b");
  assert.deepEqual(s.worker.started, ["a@0", "b@0", "c@0"]);
  await s.worker.finish("a");
  await s.worker.finish("c");
  await s.worker.finish("d");
  assert.equal(s.worker.maxConcurrent, 2);
  assert.equal(s.scheduler.stats().processed, 4);
  await s.stop();
});

Deno.test("Scheduler.run() requeues after the requested delay", async () => {
  const s = setup();
  s.scheduler.enqueue("a");
  await s.start();
  await s.worker.finish("a", { requeueAfterMs: 1000 });
  await s.clock.advance(999);
  assert.equal(s.worker.started.length, 1);
  await s.clock.advance(1);
  assert.deepEqual(s.worker.started, ["a@0", "a@1000"]);
  await s.stop();
});

Deno.test("Scheduler.run() backs off per key on errors and resets on success", async () => {
  const retries: [string, number][] = [];
  const s = setup({ hooks: { onRetry: (key, ms) => retries.push([key, ms]) } });
  s.scheduler.enqueue("a");
  await s.start();
  await s.worker.fail("a");
  await s.clock.advance(5);
  await s.worker.fail("a");
  await s.clock.advance(10);
  await s.worker.fail("a");
  await s.clock.advance(19);
  assert.equal(s.worker.started.length, 3, "the third retry waits 20 ms");
  await s.clock.advance(1);
  await s.worker.finish("a");
  s.scheduler.enqueue("a");
  await flush();
  await s.worker.fail("a");
  assert.deepEqual(s.worker.started, ["a@0", "a@5", "a@15", "a@35", "a@35"]);
  assert.deepEqual(retries, [["a", 5], ["a", 10], ["a", 20], ["a", 5]], "success reset the backoff");
  const stats = s.scheduler.stats();
  assert.deepEqual([stats.failures, stats.retries, stats.processed], [4, 4, 5]);
  await s.clock.advance(5);
  await s.stop();
});

Deno.test("Scheduler hooks report queue latency and work duration", async () => {
  const latencies: number[] = [];
  const durations: [number, string][] = [];
  const s = setup({
    hooks: { onQueueLatency: (ms) => latencies.push(ms), onWorkDuration: (ms, o) => durations.push([ms, o]) },
  });
  s.scheduler.enqueue("a");
  s.scheduler.enqueue("b");
  await s.start();
  await s.clock.advance(40);
  await s.worker.finish("a");
  await s.clock.advance(2);
  await s.worker.fail("b");
  assert.deepEqual(latencies, [0, 40]);
  assert.deepEqual(durations, [[40, "success"], [2, "error"]]);
  await s.stop();
});

Deno.test("Scheduler.run() stops taking work on abort and waits for running keys", async () => {
  const s = setup({ concurrency: 2 });
  s.scheduler.enqueue("a");
  s.scheduler.enqueue("b", 10);
  const controller = new AbortController();
  const done = s.scheduler.run(controller.signal);
  await flush();
  controller.abort();
  let returned = false;
  done.then(() => returned = true);
  await s.clock.advance(100);
  assert.equal(returned, false, "waits for a");
  assert.deepEqual(s.worker.started, ["a@0"], "b is not started after the stop");
  await s.worker.finish("a");
  await done;
  assert.equal(s.worker.signals[0]?.aborted, false);
});

Deno.test("Scheduler.run() gives up waiting after the shutdown timeout and aborts the workers' signal", async () => {
  const s = setup({ shutdownTimeoutMs: 1000 });
  s.scheduler.enqueue("a");
  const controller = new AbortController();
  const done = s.scheduler.run(controller.signal);
  await flush();
  controller.abort();
  await s.clock.advance(1000);
  await done;
  assert.equal(s.worker.signals[0]?.aborted, true);
  await s.worker.finish("a");
});
