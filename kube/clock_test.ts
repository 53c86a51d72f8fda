import assert from "node:assert/strict";
import { ManualClock, realClock } from "./clock.ts";

Deno.test("ManualClock.advance() fires due timers in order at their due time", async () => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.setTimer(30, () => fired.push(`b@${clock.now()}`));
  clock.setTimer(10, () => {
    fired.push(`a@${clock.now()}`);
    clock.setTimer(5, () => fired.push(`c@${clock.now()}`));
  });
  const late = clock.setTimer(100, () => fired.push("late"));
  const cancelled = clock.setTimer(20, () => fired.push("cancelled"));
  cancelled.cancel();
  await clock.advance(50);
  assert.deepEqual(fired, ["a@10", "c@15", "b@30"]);
  assert.equal(clock.now(), 50);
  assert.deepEqual(clock.pendingDelays(), [50]);
  late.cancel();
  assert.deepEqual(clock.pendingDelays(), []);
});

Deno.test("ManualClock.sleep() resolves true when the time passed and false on abort", async () => {
  const clock = new ManualClock(0);
  const slept = clock.sleep(1000);
  await clock.advance(1000);
  assert.equal(await slept, true);

  const controller = new AbortController();
  const interrupted = clock.sleep(1000, controller.signal);
  await clock.waitForTimers(1);
  controller.abort();
  assert.equal(await interrupted, false);
  assert.deepEqual(clock.pendingDelays(), [], "an aborted sleep cancels its timer");
  assert.equal(await clock.sleep(5, controller.signal), false, "already aborted");
});

Deno.test("ManualClock.advance() lets code awaiting a sleep resume before the next timer", async () => {
  const clock = new ManualClock(0);
  const steps: number[] = [];
  const loop = (async () => {
    for (let i = 0; i < 3; i++) {
      await clock.sleep(10);
      steps.push(clock.now());
    }
  })();
  await clock.advance(30);
  await loop;
  assert.deepEqual(steps, [10, 20, 30]);
});

Deno.test("realClock.sleep() returns false at once when aborted", async () => {
  const controller = new AbortController();
  const sleeping = realClock.sleep(60_000, controller.signal);
  controller.abort();
  assert.equal(await sleeping, false);
  assert.ok(Math.abs(realClock.now() - Date.now()) < 1000);
});
