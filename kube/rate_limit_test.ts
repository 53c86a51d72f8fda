import assert from "node:assert/strict";
import { ManualClock } from "./clock.ts";
import { createRateLimiter } from "./rate_limit.ts";

Deno.test("createRateLimiter() lets a burst through at once, then paces at qps", async () => {
  const clock = new ManualClock();
  const limiter = createRateLimiter({ qps: 10, burst: 3, clock });
  const start = clock.now();
  const done: number[] = [];
  const waits = Array.from({ length: 6 }, () => limiter.wait().then(() => done.push(clock.now() - start)));
  await clock.advance(0);
  assert.deepEqual(done, [0, 0, 0]);
  await clock.advance(100);
  assert.deepEqual(done, [0, 0, 0, 100]);
  await clock.advance(200);
  await Promise.all(waits);
  assert.deepEqual(done, [0, 0, 0, 100, 200, 300]);
});

Deno.test("createRateLimiter() refills up to burst after a quiet period", async () => {
  const clock = new ManualClock();
  const limiter = createRateLimiter({ qps: 2, burst: 2, clock });
  assert.ok(limiter.tryAccept());
  assert.ok(limiter.tryAccept());
  assert.ok(!limiter.tryAccept());
  await clock.advance(500);
  assert.ok(limiter.tryAccept());
  assert.ok(!limiter.tryAccept());
  await clock.advance(60_000);
  assert.ok(limiter.tryAccept());
  assert.ok(limiter.tryAccept());
  assert.ok(!limiter.tryAccept());
});

Deno.test("createRateLimiter() wait() rejects on abort and gives the token back", async () => {
  const clock = new ManualClock();
  const limiter = createRateLimiter({ qps: 1, burst: 1, clock });
  await limiter.wait();
  const controller = new AbortController();
  const waiting = limiter.wait(controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, /stop/);
  // The aborted waiter's reservation is returned: the next token is due after 1 s, not 2 s.
  let got = false;
  const next = limiter.wait().then(() => got = true);
  await clock.advance(999);
  assert.equal(got, false);
  await clock.advance(1);
  await next;
  assert.equal(got, true);
  await assert.rejects(limiter.wait(AbortSignal.abort(new Error("already"))), /already/);
});

Deno.test("createRateLimiter() with qps 0 or Infinity does not limit", async () => {
  for (const qps of [0, -1, Infinity]) {
    const limiter = createRateLimiter({ qps, burst: 0 });
    for (let i = 0; i < 1000; i++) await limiter.wait();
    assert.ok(limiter.tryAccept());
  }
  assert.throws(() => createRateLimiter({ qps: 5, burst: 0 }), /burst must be >= 1, got 0/);
});
