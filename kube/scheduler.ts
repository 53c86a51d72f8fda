/**
 * The work queue of a controller: it holds **keys** (`namespace/name`), never events. Duplicates collapse, the
 * earliest due time wins, one key is never processed twice at the same time, concurrency is bounded, failures
 * back off per key (controller-runtime's workqueue, kube-rs's scheduler + runner).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { exponentialDelay, type ExponentialOptions } from "./backoff.ts";
import { type Clock, realClock, type Timer } from "./clock.ts";

const log = getLogger(["lws", "kube", "scheduler"]);

/** What a worker asks for after a successful run. */
export interface WorkResult {
  /** Run the key again after this many milliseconds (unless something enqueues it earlier). */
  requeueAfterMs?: number;
}

/**
 * Processes one key. Resolving is success (the key's backoff resets); throwing schedules a retry with the key's
 * backoff. `signal` aborts when a graceful stop runs out of time.
 */
export type Worker = (key: string, signal: AbortSignal) => Promise<WorkResult | void>;

/** Callbacks for metrics (wired to prom-client later); called synchronously, must be cheap and must not throw. */
export interface SchedulerHooks {
  /** Time a key waited between becoming due and starting. */
  onQueueLatency?(ms: number): void;
  /** Time a worker ran, with its outcome. */
  onWorkDuration?(ms: number, outcome: "success" | "error"): void;
  /** A failed key was scheduled again after `delayMs`. */
  onRetry?(key: string, delayMs: number): void;
}

/** Options of a {@linkcode Scheduler}. */
export interface SchedulerOptions {
  /** Keys processed at the same time at most; default 1. */
  concurrency?: number;
  /** Time source for due times, backoff and the shutdown deadline; default the real clock. */
  clock?: Clock;
  /** Per-key retry delays after failures; default 5 ms doubling to 1000 s (controller-runtime's). */
  backoff?: ExponentialOptions;
  /** How long a graceful stop waits for running workers; default 30 s. */
  shutdownTimeoutMs?: number;
  /** Metrics callbacks. */
  hooks?: SchedulerHooks;
  /** Names the queue in logs. */
  name?: string;
}

/** Counters of a scheduler; a snapshot. */
export interface SchedulerStats {
  /** Keys waiting (due now or later), not counting running ones. */
  depth: number;
  /** Keys waiting that are due now. */
  ready: number;
  /** Keys being processed now. */
  inFlight: number;
  /** `enqueue()` calls that added or advanced a key. */
  adds: number;
  /** Worker runs finished. */
  processed: number;
  /** Worker runs that threw. */
  failures: number;
  /** Keys scheduled again after a failure. */
  retries: number;
}

/** Default per-key backoff: 5 ms doubling to 1000 s, no jitter (controller-runtime's item rate limiter). */
export const KEY_BACKOFF: ExponentialOptions = { initialMs: 5, maxMs: 1_000_000, factor: 2 };

interface Entry {
  due: number;
  seq: number;
  key: string;
}

/**
 * A key-based work queue with bounded concurrency.
 *
 * Invariants: each key is waiting at most once (enqueueing again only moves its due time earlier); the worker is
 * **never called concurrently for one key** — a key enqueued while it runs runs again after it finishes; at most
 * `concurrency` workers run at once; a key's failure count resets on its next success.
 *
 * @example
 * const scheduler = new Scheduler(async (key) => { await reconcile(key); return { requeueAfterMs: 60_000 }; });
 * scheduler.enqueue("default/my-lws");
 * await scheduler.run(signal);
 */
export class Scheduler {
  readonly #worker: Worker;
  readonly #clock: Clock;
  readonly #concurrency: number;
  readonly #backoff: ExponentialOptions;
  readonly #shutdownTimeoutMs: number;
  readonly #hooks: SchedulerHooks;
  readonly #name: string;
  /** Waiting keys with their due time; `seq` tells the valid heap entry. */
  readonly #pending = new Map<string, Entry>();
  /** Min-heap by (due, seq) with lazily dropped stale entries. */
  readonly #heap: Entry[] = [];
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  #seq = 0;
  #wake: (() => void) | undefined;
  #idle: (() => void) | undefined;
  #stats = { adds: 0, processed: 0, failures: 0, retries: 0 };
  readonly #workAbort = new AbortController();

  /**
   * Creates an empty queue; keys may be enqueued before `run()`.
   *
   * @param worker processes one key
   * @param options concurrency, clock, per-key backoff, shutdown timeout, hooks
   */
  constructor(worker: Worker, options: SchedulerOptions = {}) {
    this.#worker = worker;
    this.#clock = options.clock ?? realClock;
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
    this.#backoff = options.backoff ?? KEY_BACKOFF;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.#hooks = options.hooks ?? {};
    this.#name = options.name ?? "scheduler";
  }

  /**
   * Schedules `key` to run after `delayMs` (default now). If the key is already waiting, the earlier due time
   * wins. Safe to call at any time, also before `run()` and while the key runs.
   */
  enqueue(key: string, delayMs = 0): void {
    const due = this.#clock.now() + Math.max(0, delayMs);
    const existing = this.#pending.get(key);
    if (existing && existing.due <= due) return;
    const entry = { due, seq: this.#seq++, key };
    this.#pending.set(key, entry);
    this.#stats.adds++;
    if (!this.#processing.has(key)) this.#push(entry);
    this.#wake?.();
  }

  /** A snapshot of the counters. */
  stats(): SchedulerStats {
    const now = this.#clock.now();
    let ready = 0;
    for (const entry of this.#pending.values()) if (entry.due <= now) ready++;
    return { depth: this.#pending.size, ready, inFlight: this.#processing.size, ...this.#stats };
  }

  /**
   * Processes keys until `signal` aborts, then stops taking work and waits for running workers up to the
   * shutdown timeout (after which their signal aborts and `run()` returns without waiting further).
   * Call once.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.#startReady();
      await this.#waitForWork(signal);
    }
    await this.#drain();
  }

  #startReady(): void {
    const now = this.#clock.now();
    while (this.#processing.size < this.#concurrency) {
      const entry = this.#peek();
      if (!entry || entry.due > now) return;
      this.#pop();
      this.#pending.delete(entry.key);
      this.#process(entry, now);
    }
  }

  async #process(entry: Entry, startedAt: number): Promise<void> {
    const { key } = entry;
    this.#processing.add(key);
    this.#hooks.onQueueLatency?.(startedAt - entry.due);
    let requeueAfterMs: number | undefined;
    let failed = false;
    try {
      const result = await this.#worker(key, this.#workAbort.signal);
      requeueAfterMs = result?.requeueAfterMs;
    } catch (err) {
      failed = true;
      log.debug("{name}: {key} failed: {error}", { name: this.#name, key, error: err });
    }
    const finishedAt = this.#clock.now();
    this.#hooks.onWorkDuration?.(finishedAt - startedAt, failed ? "error" : "success");
    this.#stats.processed++;
    // Still marked as processing, so these enqueues only record the due time; the heap entry comes below.
    if (failed) {
      const attempt = this.#failures.get(key) ?? 0;
      this.#failures.set(key, attempt + 1);
      const delay = exponentialDelay(attempt, this.#backoff);
      this.#stats.failures++;
      this.#stats.retries++;
      this.#hooks.onRetry?.(key, delay);
      this.enqueue(key, delay);
    } else {
      this.#failures.delete(key);
      if (requeueAfterMs !== undefined) this.enqueue(key, requeueAfterMs);
    }
    this.#processing.delete(key);
    // A key enqueued while it ran waits in #pending without a heap entry; give it one now.
    const waiting = this.#pending.get(key);
    if (waiting) this.#push(waiting);
    if (this.#processing.size === 0) this.#idle?.();
    this.#wake?.();
  }

  /** Waits until something may be startable: an enqueue, a finished worker, the next due time, or abort. */
  #waitForWork(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let timer: Timer | undefined;
      const done = () => {
        timer?.cancel();
        signal.removeEventListener("abort", done);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      signal.addEventListener("abort", done, { once: true });
      const next = this.#peek();
      if (next && this.#processing.size < this.#concurrency) {
        timer = this.#clock.setTimer(next.due - this.#clock.now(), done);
      }
    });
  }

  async #drain(): Promise<void> {
    if (this.#processing.size === 0) return;
    const idle = new Promise<void>((resolve) => this.#idle = resolve);
    const deadline = new AbortController();
    const finished = await Promise.race([
      idle.then(() => true),
      this.#clock.sleep(this.#shutdownTimeoutMs, deadline.signal).then(() => false),
    ]);
    deadline.abort();
    this.#idle = undefined;
    if (!finished) {
      log.warn("{name}: stopped waiting for {count} running keys after {ms} ms: {keys}", {
        name: this.#name,
        count: this.#processing.size,
        ms: this.#shutdownTimeoutMs,
        keys: [...this.#processing],
      });
      this.#workAbort.abort(new Error(`Scheduler ${this.#name} stopped`));
    }
  }

  /** The earliest valid heap entry (dropping stale ones on the way), or undefined. */
  #peek(): Entry | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (!top) return undefined;
      if (this.#pending.get(top.key) === top) return top;
      this.#pop();
    }
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let smallest = i;
      if (l < heap.length && before(heap[l]!, heap[smallest]!)) smallest = l;
      if (r < heap.length && before(heap[r]!, heap[smallest]!)) smallest = r;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
