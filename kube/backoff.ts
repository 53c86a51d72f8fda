/**
 * Exponential backoff with jitter: the watcher's retry policy (~0.8 s → 30 s, reset after a stable period, as in
 * kube-rs `DefaultBackoff`) and the scheduler's per-key policy share {@linkcode exponentialDelay}.
 *
 * @module
 */
import type { Clock } from "./clock.ts";

/** Shape of an exponential backoff. */
export interface ExponentialOptions {
  /** First delay in milliseconds. */
  initialMs: number;
  /** Upper bound of every delay in milliseconds (jitter included). */
  maxMs: number;
  /** Growth per attempt; default 2. */
  factor?: number;
  /**
   * Relative jitter in [0, 1]: the delay is drawn uniformly from `[d·(1−jitter), d·(1+jitter)]` (then capped at
   * `maxMs`), so many clients that failed together do not retry together. Default 0.
   */
  jitter?: number;
}

/**
 * The delay before retry number `attempt` (0 for the first retry): `initialMs · factor^attempt`, jittered, capped.
 * Pure given `random`.
 *
 * @param random a source of numbers in [0, 1); inject one for deterministic tests
 * @example
 * exponentialDelay(3, { initialMs: 800, maxMs: 30_000 }); // 6400
 */
export function exponentialDelay(
  attempt: number,
  options: ExponentialOptions,
  random: () => number = Math.random,
): number {
  const { initialMs, maxMs, factor = 2, jitter = 0 } = options;
  // Cap the exponent so factor^attempt cannot overflow to Infinity for absurd attempt counts.
  const base = Math.min(maxMs, initialMs * Math.pow(factor, Math.min(attempt, 64)));
  const jittered = jitter > 0 ? base * (1 - jitter + 2 * jitter * random()) : base;
  return Math.max(0, Math.min(maxMs, Math.round(jittered)));
}

/** Options of a {@linkcode Backoff}. */
export interface BackoffOptions extends Partial<ExponentialOptions> {
  /**
   * After this long without a failure the next failure starts again from `initialMs` (the "stable period").
   * Default 120 s.
   */
  resetAfterMs?: number;
  /** Source of jitter; default `Math.random`. */
  random?: () => number;
}

/** The watcher's default: 0.8 s doubling to 30 s, ±50 % jitter, reset after 2 minutes without failures. */
export const WATCHER_BACKOFF: Required<Omit<BackoffOptions, "random">> = {
  initialMs: 800,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.5,
  resetAfterMs: 120_000,
};

/**
 * A stateful backoff for one retrying loop. Not shared between loops; not thread-safe by design (one owner).
 *
 * @example
 * const backoff = new Backoff(clock);
 * // on failure:
 * await clock.sleep(backoff.next(), signal);
 */
export class Backoff {
  readonly #clock: Clock;
  readonly #options: Required<Omit<BackoffOptions, "random">>;
  readonly #random: () => number;
  #attempt = 0;
  #lastFailureAt: number | undefined;

  /**
   * Creates a backoff with no failures recorded.
   *
   * @param clock tells the time for the stable-period reset
   * @param options delays, growth, jitter, stable period, random source
   */
  constructor(clock: Clock, options: BackoffOptions = {}) {
    this.#clock = clock;
    this.#options = { ...WATCHER_BACKOFF, ...withoutUndefined(options) };
    this.#random = options.random ?? Math.random;
  }

  /**
   * Records a failure and returns how long to wait before retrying. Starts over from `initialMs` when the previous
   * failure was at least `resetAfterMs` ago.
   */
  next(): number {
    const now = this.#clock.now();
    if (this.#lastFailureAt !== undefined && now - this.#lastFailureAt >= this.#options.resetAfterMs) {
      this.#attempt = 0;
    }
    this.#lastFailureAt = now;
    return exponentialDelay(this.#attempt++, this.#options, this.#random);
  }

  /** Forgets all failures: the next delay is `initialMs` again. */
  reset(): void {
    this.#attempt = 0;
    this.#lastFailureAt = undefined;
  }

  /** Failures counted since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => v !== undefined && k !== "random")) as Partial<T>;
}
