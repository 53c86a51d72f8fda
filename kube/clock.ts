/**
 * Time as a dependency: every loop and timer in kube/ takes a {@linkcode Clock}, so tests drive time with a
 * {@linkcode ManualClock} instead of sleeping.
 *
 * @module
 */

/** A scheduled callback; `cancel()` is idempotent and safe after the timer fired. */
export interface Timer {
  /** Stops the timer from firing; idempotent. */
  cancel(): void;
}

/**
 * Wall-clock time, sleeps and timers.
 *
 * Invariants: `now()` never goes backwards on a {@linkcode ManualClock}; on the real clock it is `Date.now()` and
 * may. A sleep or timer never fires before its due time.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Waits `ms` milliseconds.
   *
   * @returns `true` when the time elapsed, `false` when `signal` aborted first (or was already aborted). Never
   *   rejects, so a loop can say `if (!(await clock.sleep(ms, signal))) return;`.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
  /** Calls `callback` once after `ms` milliseconds unless cancelled first. */
  setTimer(ms: number, callback: () => void): Timer;
}

/** The process's clock: `Date.now()` and `setTimeout`. */
export const realClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return sleepWith(this, ms, signal);
  },
  setTimer(ms, callback) {
    const id = setTimeout(callback, Math.max(0, ms));
    return { cancel: () => clearTimeout(id) };
  },
};

/** `sleep()` built from `setTimer()`: resolves `true` when the timer fires, `false` on abort. */
function sleepWith(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

interface ManualTimer {
  due: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * A clock for tests: time moves only when the test calls {@linkcode ManualClock.advance}. Timers fire in due
 * order (ties in creation order), and `advance()` lets pending promise reactions run after each firing, so code
 * that awaits a sleep resumes before the next timer fires.
 *
 * @example
 * const clock = new ManualClock();
 * const slept = clock.sleep(1000);
 * await clock.advance(1000); // slept resolves true
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];
  #waiters: { count: number; resolve: () => void }[] = [];

  /**
   * Creates a stopped clock.
   *
   * @param start the initial `now()`, in milliseconds since the epoch
   */
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  /** The manual time. */
  now(): number {
    return this.#now;
  }

  /** See {@linkcode Clock.sleep}. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return sleepWith(this, ms, signal);
  }

  /** See {@linkcode Clock.setTimer}. */
  setTimer(ms: number, callback: () => void): Timer {
    const timer: ManualTimer = { due: this.#now + Math.max(0, ms), seq: this.#seq++, callback, cancelled: false };
    this.#timers.push(timer);
    this.#notifyWaiters();
    return {
      cancel: () => {
        timer.cancelled = true;
        this.#timers = this.#timers.filter((t) => t !== timer);
      },
    };
  }

  /** Delays (from now) of the pending timers, soonest first; handy to assert a backoff. */
  pendingDelays(): number[] {
    return this.#sorted().map((t) => t.due - this.#now);
  }

  /**
   * Resolves once at least `count` timers are pending; lets a test wait until the code under test reaches its
   * next sleep without sleeping itself.
   */
  waitForTimers(count = 1): Promise<void> {
    if (this.#timers.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /**
   * Moves time forward by `ms`, firing every timer due on the way (in order, at its due time), and flushes promise
   * reactions after each one. Timers created by callbacks fire too if they fall within the window.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + Math.max(0, ms);
    await flush();
    for (;;) {
      const next = this.#sorted()[0];
      if (!next || next.due > end) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.due;
      if (!next.cancelled) next.callback();
      await flush();
    }
    this.#now = end;
    await flush();
  }

  #sorted(): ManualTimer[] {
    return [...this.#timers].sort((a, b) => a.due - b.due || a.seq - b.seq);
  }

  #notifyWaiters(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#timers.length < w.count) return true;
      w.resolve();
      return false;
    });
  }
}

/**
 * Lets every pending promise reaction (and the chains they start) run: yields one macrotask turn. Not a sleep —
 * it takes no time on any clock. For tests that need the code under test to reach its next await.
 */
export function flush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
