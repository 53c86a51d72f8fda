/**
 * What the benchmark reads from `/proc` (Linux only): CPU time and resident memory of a process, the machine it
 * runs on, and a sampler that records both for several processes over time (the RSS chart of the report).
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`); 100 on every Linux the bench targets. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time and resident memory of one process at one moment. */
export interface ProcessUsage {
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number;
  /** Resident set size in bytes (`VmRSS`). */
  rssBytes: number;
  /** Peak resident set size in bytes since the process started (`VmHWM`). */
  peakRssBytes: number;
}

/**
 * Parses the CPU seconds (utime + stime) out of a `/proc/<pid>/stat` line. The command name in parentheses may
 * contain spaces and parentheses, so fields are counted from the last `)`.
 *
 * @param stat the contents of `/proc/<pid>/stat`
 * @returns user + system CPU seconds
 * @throws when the line has too few fields
 */
export function parseStatCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).trim().split(/\s+/);
  // After the command: state(3) ppid(4) ... utime(14) stime(15); fields[0] is field 3.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`Cannot read CPU time: /proc stat line has no utime/stime, got ${JSON.stringify(stat)}`);
  }
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Reads a `kB` field (`VmRSS`, `VmHWM`) of `/proc/<pid>/status`.
 *
 * @param status the contents of `/proc/<pid>/status`
 * @param field the field name
 * @returns bytes, or 0 when the field is absent (kernel threads, zombies)
 */
export function parseStatusKb(status: string, field: string): number {
  const match = status.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, "m"));
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Reads CPU time and memory of a process.
 *
 * @param pid the process
 * @returns the usage, or `undefined` when the process is gone
 */
export async function readUsage(pid: number): Promise<ProcessUsage | undefined> {
  try {
    const [stat, status] = await Promise.all([
      Deno.readTextFile(`/proc/${pid}/stat`),
      Deno.readTextFile(`/proc/${pid}/status`),
    ]);
    return {
      cpuSeconds: parseStatCpuSeconds(stat),
      rssBytes: parseStatusKb(status, "VmRSS"),
      peakRssBytes: parseStatusKb(status, "VmHWM"),
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** The machine the figures come from, as the README quotes it. */
export interface MachineInfo {
  /** Online CPUs (`nproc`). */
  nproc: number;
  /** `MemTotal` in bytes. */
  memoryBytes: number;
  /** `model name` of the first CPU in `/proc/cpuinfo`. */
  cpuModel: string;
  /** Kernel release. */
  kernel: string;
  /** `Deno.version.deno`. */
  deno: string;
  /** 1-minute load average when the run started (other work on the machine skews absolute times, not ratios). */
  loadAverageAtStart: number;
  /** 1-minute load average over the whole run (every sample of the {@linkcode Sampler}); absent in older results. */
  loadAverageDuring?: LoadSummary;
}

/** Lowest, mean and highest of the 1-minute load averages sampled during a run. */
export interface LoadSummary {
  min: number;
  mean: number;
  max: number;
  /** Samples it was computed from. */
  samples: number;
}

/**
 * Reads the 1-minute load average out of `/proc/loadavg`.
 *
 * @param loadavg the contents of `/proc/loadavg`
 * @returns the first field
 * @throws when it is not a number
 */
export function parseLoadAverage(loadavg: string): number {
  const value = Number(loadavg.trim().split(/\s+/)[0]);
  if (loadavg.trim() === "" || !Number.isFinite(value)) {
    throw new Error(`Cannot read the load average: /proc/loadavg has no number first, got ${JSON.stringify(loadavg)}`);
  }
  return value;
}

/**
 * Summarizes load averages sampled during a run.
 *
 * @param values 1-minute load averages
 * @returns min, mean (two decimals) and max, or `undefined` without samples
 */
export function summarizeLoad(values: readonly number[]): LoadSummary | undefined {
  if (values.length === 0) return undefined;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return {
    min: Math.min(...values),
    mean: Math.round(mean * 100) / 100,
    max: Math.max(...values),
    samples: values.length,
  };
}

/**
 * Describes this machine.
 *
 * @returns CPU count and model, memory, kernel, Deno version and the current load
 */
export async function machineInfo(): Promise<MachineInfo> {
  const [cpuinfo, meminfo, loadavg] = await Promise.all([
    Deno.readTextFile("/proc/cpuinfo"),
    Deno.readTextFile("/proc/meminfo"),
    Deno.readTextFile("/proc/loadavg"),
  ]);
  return {
    nproc: navigator.hardwareConcurrency,
    memoryBytes: parseStatusKb(meminfo, "MemTotal"),
    cpuModel: cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown",
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    loadAverageAtStart: parseLoadAverage(loadavg),
  };
}

/** One sample of every watched process. */
export interface Sample {
  /** Seconds since the sampler started. */
  t: number;
  /** Usage per watched name; a name is absent while its process is not running. */
  usage: Record<string, ProcessUsage>;
  /** The machine's 1-minute load average (`/proc/loadavg`). */
  load: number;
}

/**
 * Samples CPU and RSS of named processes every `intervalMs` until stopped. The set of processes can change while
 * it runs (the controller is started and stopped per configuration).
 */
export class Sampler {
  readonly #pids = new Map<string, number>();
  readonly #samples: Sample[] = [];
  readonly #intervalMs: number;
  readonly #origin = performance.now();
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy: Promise<void> | undefined;

  /** @param intervalMs time between samples (default 500 ms) */
  constructor(intervalMs = 500) {
    this.#intervalMs = intervalMs;
  }

  /** Seconds since the sampler was created (the time axis of {@linkcode Sample.t}). */
  now(): number {
    return (performance.now() - this.#origin) / 1000;
  }

  /**
   * Starts or stops watching a process.
   *
   * @param name the name samples use (`controller`, `kube-apiserver`, ...)
   * @param pid the process, or `undefined` to stop watching it
   */
  watch(name: string, pid: number | undefined): void {
    if (pid === undefined) this.#pids.delete(name);
    else this.#pids.set(name, pid);
  }

  /** Starts sampling (idempotent). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#busy) return; // a slow /proc read: skip a tick rather than pile up
      this.#busy = this.sample().then(() => {}, () => {}).finally(() => (this.#busy = undefined));
    }, this.#intervalMs);
  }

  /** Stops sampling and waits for a sample in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#busy;
  }

  /**
   * Takes one sample now and records it.
   *
   * @returns the sample
   */
  async sample(): Promise<Sample> {
    const t = this.now();
    const [entries, loadavg] = await Promise.all([
      Promise.all([...this.#pids].map(async ([name, pid]) => [name, await readUsage(pid)] as const)),
      Deno.readTextFile("/proc/loadavg"),
    ]);
    const usage: Record<string, ProcessUsage> = {};
    for (const [name, value] of entries) if (value) usage[name] = value;
    const sample = { t, usage, load: parseLoadAverage(loadavg) };
    this.#samples.push(sample);
    return sample;
  }

  /**
   * The samples taken between two times (inclusive).
   *
   * @param from seconds (sampler time)
   * @param to seconds (sampler time)
   * @returns the samples, oldest first
   */
  between(from: number, to: number): Sample[] {
    return this.#samples.filter((s) => s.t >= from && s.t <= to);
  }

  /** Every sample so far, oldest first. */
  all(): readonly Sample[] {
    return this.#samples;
  }
}
