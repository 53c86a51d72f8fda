/**
 * Where the local control plane keeps its files, and the state file (`.cluster/state.json`) that `cluster:up`
 * writes, `cluster:down` reads, and the test harness uses to find, stop and restart the processes.
 *
 * @module
 */
import { join, resolve } from "node:path";

/** The repository root (this file lives in `tests/cluster/`). */
export const REPO_ROOT: string = resolve(import.meta.dirname ?? ".", "..", "..");

/**
 * The names of the processes the control plane is made of, in start order. `vc-scheduler` (Volcano's scheduler, for
 * gang scheduling tests) is the only optional one: `cluster:up --no-volcano` leaves it out.
 */
export const COMPONENTS = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "vc-scheduler",
] as const;
/** One of {@linkcode COMPONENTS}. */
export type Component = typeof COMPONENTS[number];

/** A process the control plane started: enough to verify it is ours, stop it, and start it again identically. */
export interface ProcessRecord {
  /** PID of the process (the binary itself, not a wrapper shell). May be dead: check before signalling. */
  pid: number;
  /** Absolute path of the binary; `/proc/<pid>/cmdline` must start with it for the PID to count as ours. */
  binary: string;
  /** The exact arguments it was started with (restarts reuse them). */
  args: string[];
  /** File its stdout and stderr are appended to. */
  log: string;
  /** Extra environment variables (on top of the starting process's environment). */
  env?: Record<string, string>;
}

/** Everything `cluster:up` knows about the control plane it started. */
export interface ClusterState {
  /** Bumped when the shape changes; older files are treated as absent. */
  version: 1;
  /** The directory holding this state (the default is `<repo>/.cluster`). */
  dir: string;
  startedAt: string;
  kubeconfig: string;
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** The host address the API server advertises (the `kubernetes` Service endpoint). */
  advertiseAddress: string;
  /** Directory with kube-apiserver, kubectl, etcdctl, ... */
  binDir: string;
  kubectl: string;
  /** PEM files: the cluster CA, and the admin client certificate (group `system:masters`) every component uses. */
  pki: { caCert: string; caKey: string; adminCert: string; adminKey: string };
  /** etcd serves plain HTTP on loopback only, so there are no client certificates. */
  etcd: { endpoint: string; dataDir: string };
  logsDir: string;
  processes: Partial<Record<Component, ProcessRecord>>;
  /**
   * Whether Volcano's scheduler is part of this cluster (`cluster:up` without `--no-volcano`). Absent in state files
   * written before Volcano was added: such a cluster has none.
   */
  volcano?: boolean;
}

/**
 * The directory of the local control plane: `$LWS_CLUSTER_DIR` or `<repo>/.cluster`.
 *
 * @returns an absolute path (it may not exist yet)
 */
export function clusterDir(): string {
  const fromEnv = Deno.env.get("LWS_CLUSTER_DIR");
  return fromEnv ? resolve(fromEnv) : join(REPO_ROOT, ".cluster");
}

/**
 * Reads `<dir>/state.json`.
 *
 * @param dir the cluster directory (default {@linkcode clusterDir})
 * @returns the state, or `undefined` when there is no (readable, current) state file
 */
export async function readState(dir: string = clusterDir()): Promise<ClusterState | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, "state.json"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const state = JSON.parse(text) as ClusterState;
  return state.version === 1 ? state : undefined;
}

/**
 * Writes `<state.dir>/state.json` atomically (write a temporary file, then rename), so a reader never sees half a
 * file.
 *
 * @param state the state to write
 */
export function writeState(state: ClusterState): Promise<void> {
  // Components start concurrently and each records its PID: chain the writes and serialise the state when each
  // write runs, so the last rename always carries every recorded process (an earlier snapshot renamed last would
  // drop PIDs, and cluster:down would then leave those processes running).
  const previous = pendingWrites.get(state) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(async () => {
    const path = join(state.dir, "state.json");
    const temporary = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(temporary, JSON.stringify(state, null, 2) + "\n");
    await Deno.rename(temporary, path);
  });
  pendingWrites.set(state, next);
  return next;
}

/** The last queued write per state object (see {@linkcode writeState}). */
const pendingWrites = new WeakMap<ClusterState, Promise<void>>();

/**
 * Runs `fn` while holding an exclusive lock on `<dir>/state.lock`, so read-modify-write of the state file by
 * several processes (parallel test workers restarting the API server) does not lose updates.
 *
 * @param dir the cluster directory
 * @param fn what to run under the lock
 * @returns what `fn` returns
 */
export async function withStateLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  using file = await Deno.open(join(dir, "state.lock"), { create: true, write: true });
  await file.lock(true);
  try {
    return await fn();
  } finally {
    await file.unlock();
  }
}
