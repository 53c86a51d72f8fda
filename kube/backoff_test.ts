import assert from "node:assert/strict";
import { Backoff, exponentialDelay } from "./backoff.ts";
import { ManualClock } from "./clock.ts";

Deno.test("exponentialDelay() doubles from the initial delay up to the cap", async (t) => {
  const cases: [number, number][] = [[0, 800], [1, 1600], [2, 3200], [5, 25_600], [6, 30_000], [1000, 30_000]];
  for (const [attempt, want] of cases) {
    await t.step(`attempt ${attempt} → ${want} ms`, () => {
      assert.equal(exponentialDelay(attempt, { initialMs: 800, maxMs: 30_000 }), want);
    });
  }
});

Deno.test("exponentialDelay() jitters within ±jitter and never beyond the cap", async (t) => {
  const options = { initialMs: 1000, maxMs: 30_000, jitter: 0.5 };
  const cases: [string, number, () => number, number][] = [
    ["lowest draw", 0, () => 0, 500],
    ["middle draw", 0, () => 0.5, 1000],
    ["highest draw", 0, () => 0.999999, 1500],
    ["capped", 10, () => 0.999999, 30_000],
  ];
  for (const [name, attempt, random, want] of cases) {
    await t.step(name, () => assert.equal(exponentialDelay(attempt, options, random), want));
  }
});

Deno.test("Backoff.next() grows per failure and starts over after a stable period", async () => {
  const clock = new ManualClock();
  const backoff = new Backoff(clock, { random: () => 0.5 });
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [800, 1600, 3200]);
  await clock.advance(119_999);
  assert.equal(backoff.next(), 6400, "less than the stable period since the last failure");
  await clock.advance(120_000);
  assert.equal(backoff.next(), 800);
  assert.equal(backoff.attempts, 1);
  backoff.next();
  backoff.reset();
  assert.equal(backoff.next(), 800);
});

Deno.test("Backoff.next() honours its options", () => {
  const backoff = new Backoff(new ManualClock(), { initialMs: 5, maxMs: 12, factor: 3, jitter: 0 });
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [5, 12, 12]);
});
