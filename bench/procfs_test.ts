import assert from "node:assert/strict";
import { parseLoadAverage, parseStatCpuSeconds, parseStatusKb, readUsage, Sampler, summarizeLoad } from "./procfs.ts";

Deno.test("parseStatCpuSeconds() counts fields after the last parenthesis", () => {
  // A command name with spaces and a parenthesis; utime 250 and stime 50 ticks → 3 s.
  const stat = "1234 (deno (main) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
  assert.equal(parseStatCpuSeconds(stat), 3);
  assert.throws(() => parseStatCpuSeconds("1 (x) S"), /no utime\/stime/);
});

Deno.test("parseStatusKb() reads kB fields as bytes", () => {
  const status = "Name:\tdeno\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
  assert.equal(parseStatusKb(status, "VmRSS"), 1024 * 1024);
  assert.equal(parseStatusKb(status, "VmHWM"), 2048 * 1024);
  assert.equal(parseStatusKb(status, "VmSwap"), 0);
});

Deno.test("readUsage() reads this process and returns undefined for a missing one", async () => {
  const usage = await readUsage(Deno.pid);
  assert.ok(usage && usage.rssBytes > 0 && usage.peakRssBytes >= usage.rssBytes && usage.cpuSeconds >= 0);
  assert.equal(await readUsage(2 ** 22 + 1), undefined);
});

Deno.test("parseLoadAverage() reads the 1-minute field; summarizeLoad() gives min, mean and max", () => {
  assert.equal(parseLoadAverage("10.84 6.83 6.03 9/237 19319\n"), 10.84);
  assert.throws(() => parseLoadAverage(""), /no number first/);
  assert.deepEqual(summarizeLoad([1, 2.5, 4]), { min: 1, mean: 2.5, max: 4, samples: 3 });
  assert.equal(summarizeLoad([]), undefined);
});

Deno.test("Sampler samples record the machine's load average", async () => {
  const sampler = new Sampler();
  sampler.watch("self", Deno.pid);
  const sample = await sampler.sample();
  assert.ok(sample.load >= 0 && sample.usage.self!.rssBytes > 0);
});
