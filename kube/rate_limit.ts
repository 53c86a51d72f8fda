/**
 * Client-side rate limiting: a token bucket like client-go's `flowcontrol.NewTokenBucketRateLimiter`.
 *
 * @module
 */
import { type Clock, realClock } from "./clock.ts";

/** A rate limiter that requests wait on before they are sent. */
export interface RateLimiter {
  /**
   * Takes one token, waiting until it is available. Waiters are served in arrival order (a token is reserved
   * at call time, like `golang.org/x/time/rate`). Rejects with `signal.reason` when `signal` aborts; the reserved
   * token is then given back.
   */
  wait(signal?: AbortSignal): Promise<void>;
  /** Takes one token if one is available now; never waits. */
  tryAccept(): boolean;
}

/** Options of {@linkcode createRateLimiter}. */
export interface RateLimiterOptions {
  /** Sustained rate in tokens per second. `0`, a negative number or `Infinity` disables limiting. */
  qps: number;
  /** Bucket size: how many requests may go at once after a quiet period. Must be ≥ 1 when limiting. */
  burst: number;
  /** Clock to use (default {@linkcode realClock}). */
  clock?: Clock;
}

/**
 * Creates a token-bucket rate limiter. The bucket starts full (`burst` tokens) and refills at `qps` per second.
 *
 * @param options qps, burst and the clock
 * @returns the limiter
 * @throws {RangeError} when limiting with a burst below 1
 * @example
 * const limiter = createRateLimiter({ qps: 500, burst: 500 });
 * await limiter.wait(signal);
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { qps, burst } = options;
  if (!(qps > 0) || qps === Infinity) {
    return {
      wait: (signal) => signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve(),
      tryAccept: () => true,
    };
  }
  if (!(burst >= 1)) throw new RangeError(`Cannot create rate limiter: burst must be >= 1, got ${burst}`);
  const clock = options.clock ?? realClock;
  let tokens = burst;
  let last = clock.now();

  const refill = (): number => {
    const now = clock.now();
    if (now > last) {
      tokens = Math.min(burst, tokens + ((now - last) / 1000) * qps);
      last = now;
    }
    return now;
  };

  return {
    tryAccept() {
      refill();
      if (tokens >= 1) {
        tokens -= 1;
        return true;
      }
      return false;
    },
    async wait(signal) {
      if (signal?.aborted) throw signal.reason;
      refill();
      tokens -= 1;
      if (tokens >= 0) return;
      const delayMs = (-tokens / qps) * 1000;
      if (!(await clock.sleep(delayMs, signal))) {
        refill();
        tokens = Math.min(burst, tokens + 1);
        throw signal?.reason;
      }
    },
  };
}
