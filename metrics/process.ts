/**
 * Process metrics with the names Go programs export (`process_*`) plus the V8 heap, so idle memory and CPU can be
 * watched like upstream's manager. Read through `Deno.memoryUsage()` and `node:process` rather than `/proc/self`,
 * which Deno only lets `--allow-all` programs read.
 *
 * @module
 */
import process from "node:process";
import { Gauge, type Registry } from "prom-client";

/** Memory and CPU time of this process. */
export interface ProcessUsage {
  /** Resident set size in bytes. */
  residentBytes: number;
  /** User + system CPU time in seconds. */
  cpuSeconds: number;
  /** V8 heap in use, in bytes. */
  heapUsedBytes: number;
  /** V8 heap allocated, in bytes. */
  heapTotalBytes: number;
}

/**
 * Reads the process's memory and CPU time (needs no permission).
 *
 * @returns The usage.
 */
export function readProcessUsage(): ProcessUsage {
  const memory = Deno.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    residentBytes: memory.rss,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
  };
}

/**
 * Registers `process_resident_memory_bytes`, `process_cpu_seconds_total`, `process_start_time_seconds`,
 * `deno_heap_used_bytes` and `deno_heap_total_bytes`; values are read at scrape time.
 *
 * @param registry The product's registry.
 * @param startTimeMs When the process started (ms since the epoch).
 */
export function registerProcessMetrics(registry: Registry, startTimeMs: number): void {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", () => readProcessUsage().residentBytes);
  // A gauge by type holding a monotonic value: prom-client counters cannot be set to an external total.
  gauge(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds.",
    () => readProcessUsage().cpuSeconds,
  );
  gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    () => Math.floor(startTimeMs / 1000),
  );
  gauge("deno_heap_used_bytes", "V8 heap in use, in bytes.", () => readProcessUsage().heapUsedBytes);
  gauge("deno_heap_total_bytes", "V8 heap allocated, in bytes.", () => readProcessUsage().heapTotalBytes);
}
