/**
 * A CPU profile of the controller during chosen workloads, through the V8 inspector (`deno run --inspect`): the
 * Chrome DevTools protocol's `Profiler` domain over a WebSocket, sampling every millisecond. The profile is saved as
 * a `.cpuprofile` (open it in Chrome DevTools) and summarised here: self time per function and per area of code.
 *
 * @module
 */

/** One node of a V8 CPU profile (`Profiler.ProfileNode`). */
export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

/** A V8 CPU profile (`Profiler.Profile`). */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time of one function or area. */
export interface ProfileEntry {
  name: string;
  selfMs: number;
  /** Share of the profile's busy (non-idle) time, in percent. */
  percent: number;
}

/** What the report shows of a profile. */
export interface ProfileSummary {
  /** Which workloads it covers, e.g. `raised W1+W2`. */
  covers: string;
  /** Wall time covered, ms. */
  durationMs: number;
  /** Time not idle, ms. */
  busyMs: number;
  /** Self time by area: product directories (`kube/`, `controller/`, ...), `npm:<package>`, Deno internals, GC. */
  byArea: ProfileEntry[];
  /** The functions with the most self time. */
  topFunctions: ProfileEntry[];
  /** File name of the saved `.cpuprofile`, next to the report. */
  file: string;
}

/**
 * The area of code a profile URL belongs to.
 *
 * @param url `callFrame.url` (`file:///…/kube/client.ts`, `ext:deno_fetch/…`, `file:///…/node_modules/.deno/yaml@2/…`)
 * @param functionName for V8's pseudo-nodes (`(garbage collector)`, `(program)`, `(idle)`)
 * @returns e.g. `kube/`, `npm:yaml`, `deno:fetch`, `(garbage collector)`, `(inspector: profiling overhead)`
 */
export function areaOf(url: string, functionName: string): string {
  // Attaching the inspector makes Deno report network events to it: the profiler's own cost, named as such.
  if (functionName.startsWith("op_inspector") || url.includes("inspector")) return "(inspector: profiling overhead)";
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const npm = url.match(/node_modules\/\.deno\/(@?[^@/]+(?:\/[^@/]+)?)@/) ?? url.match(/npm\/[^/]+\/(@?[^@/]+)\//);
  if (npm) return `npm:${npm[1]}`;
  const ext = url.match(/^ext:(?:deno_)?([^/]+)/);
  if (ext) return `deno:${ext[1]}`;
  const product = url.match(/\/((?:kube|controller|webhook|ui|api|metrics|cli)\/)/);
  if (product) return product[1]!;
  if (url.startsWith("node:")) return "deno:node";
  return url.replace(/^file:\/\/.*\//, "");
}

/**
 * Self time per function and per area.
 *
 * @param profile a V8 CPU profile
 * @param top how many functions to keep
 * @returns areas and functions by self time, and the busy time
 */
export function summarizeProfile(
  profile: CpuProfile,
  top = 15,
): Pick<ProfileSummary, "durationMs" | "busyMs" | "byArea" | "topFunctions"> {
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time since the previous sample: the time up to sample i is spent where sample i was taken.
  for (let i = 0; i < samples.length; i++) {
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, deltas[i] ?? 0));
  }
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busyUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    busyUs += us;
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const where = url ? ` ${url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, "")}:${lineNumber + 1}` : "";
    const name = `${functionName || "(anonymous)"}${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const entries = (map: Map<string, number>, limit: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([name, us]) => ({
      name,
      selfMs: Math.round(us / 100) / 10,
      percent: busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0,
    }));
  return {
    durationMs: Math.round((profile.endTime - profile.startTime) / 1000),
    busyMs: Math.round(busyUs / 1000),
    byArea: entries(byArea, 12),
    topFunctions: entries(byFunction, top),
  };
}

/** A connection to a Deno inspector that can start and stop the sampling profiler. */
export interface Profiler {
  /** Starts sampling (every `intervalUs`, default 1000). */
  start(intervalUs?: number): Promise<void>;
  /** Stops sampling and returns the profile. */
  stop(): Promise<CpuProfile>;
  /** Closes the connection. */
  close(): void;
}

/**
 * Connects to the inspector of a process started with `--inspect=<host:port>`.
 *
 * @param hostPort e.g. `127.0.0.1:9229`
 * @returns the profiler
 * @throws when the inspector does not answer
 */
export async function connectProfiler(hostPort: string): Promise<Profiler> {
  const targets = await (await fetch(`http://${hostPort}/json/list`, { signal: AbortSignal.timeout(10_000) }))
    .json() as {
      webSocketDebuggerUrl?: string;
    }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`Cannot profile: the inspector at ${hostPort} lists no target`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`Cannot profile: no WebSocket to ${url}`));
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return; // an event
    pending.delete(message.id!);
    if (message.error) waiter.reject(new Error(`Inspector: ${message.error.message}`));
    else waiter.resolve(message.result);
  };
  const call = <T>(method: string, params: Record<string, unknown> = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  return {
    async start(intervalUs = 1000) {
      await call("Profiler.setSamplingInterval", { interval: intervalUs });
      await call("Profiler.start");
    },
    async stop() {
      return (await call<{ profile: CpuProfile }>("Profiler.stop")).profile;
    },
    close() {
      socket.close();
    },
  };
}
