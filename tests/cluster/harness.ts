/**
 * What every integration test uses to reach the local control plane started by `deno task cluster:up`.
 *
 * - {@linkcode requireCluster} finds the cluster (`.cluster/state.json`, or `LWS_TEST_KUBECONFIG` for any other
 *   cluster) and **throws** when none answers: a test that needs the cluster never passes by skipping.
 * - {@linkcode clusterTest} is `Deno.test` with a cluster and a fresh namespace that is deleted afterwards.
 * - Fault injection: kill/restart kube-apiserver, compact etcd, fail a pod, restart its containers (KWOK stages).
 *
 * Every call finishes its own I/O (processes awaited, HTTP clients closed), so Deno's sanitizers stay on.
 *
 * @example
 * ```ts
 * clusterTest("StatefulSet pods become Ready", async ({ cluster, namespace }) => {
 *   await cluster.kubectlOk(["apply", "-f", "-"], { namespace, stdin: JSON.stringify(statefulSet) });
 * });
 * ```
 *
 * @module
 */
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type Credentials, readKubeconfig, request } from "./api.ts";
import { apiserverReady } from "./control_plane.ts";
import { eventually } from "./poll.ts";
import { type CommandResult, type KubectlOptions, runKubectl, runKubectlOk } from "./kubectl.ts";
import { isOurs, spawnDetached, stopProcess } from "./process.ts";
import { clusterDir, type ClusterState, readState, withStateLock, writeState } from "./state.ts";

export type { CommandResult, KubectlOptions } from "./kubectl.ts";
export type { Credentials } from "./api.ts";
export { TOPOLOGY_LABELS } from "./nodes.ts";
export { eventually, type EventuallyOptions } from "./poll.ts";

/**
 * The label our `lws-pod-fail` stage watches (the name of KWOK's own chaos label): a Running pod carrying it turns
 * Failed (exit code 1) after 1-2 s.
 */
export const FAIL_POD_LABEL = "pod-container-running-failed.stage.kwok.x-k8s.io";
/** The label our stage watches: each container restarts once (restartCount + 1), the pod stays Running. */
export const RESTART_CONTAINERS_LABEL = "lws-test.x-k8s.io/restart-container";
/** Every namespace made by {@linkcode TestCluster.freshNamespace} carries this label (value `"true"`). */
export const TEST_NAMESPACE_LABEL = "lws-test.x-k8s.io/test-namespace";

/** A namespace for one test; `await using` deletes it (without waiting) when the scope ends. */
export interface TestNamespace extends AsyncDisposable {
  readonly name: string;
}

/** The control plane as the tests see it. */
export interface TestCluster {
  /** Whether this is the control plane of `deno task cluster:up` (fault injection works), not `LWS_TEST_KUBECONFIG`. */
  readonly local: boolean;
  /** Admin kubeconfig (client certificate in group `system:masters`). */
  readonly kubeconfig: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** Directory of the control plane's binaries (kubectl, etcdctl, ...). */
  readonly binDir: string;
  /** PEM CA and client certificate, for `Deno.createHttpClient({ caCerts: [caCert], cert: clientCert, key: clientKey })`. */
  readonly credentials: Credentials;
  /** Runs the cluster's own kubectl; never throws on a non-zero exit. */
  kubectl(args: string[], options?: KubectlOptions): Promise<CommandResult>;
  /** Runs kubectl and returns stdout; throws with stderr on a non-zero exit. */
  kubectlOk(args: string[], options?: KubectlOptions): Promise<string>;
  /**
   * Creates a namespace `<prefix>-<random>` and waits for its `default` ServiceAccount (pods are rejected before
   * it exists). Deleted when disposed, unless `LWS_KEEP_NAMESPACES=1`.
   */
  freshNamespace(prefix: string): Promise<TestNamespace>;
  /**
   * SIGKILLs kube-apiserver (like a crash) and waits until the process is gone. Disturbs every test sharing the
   * control plane: call it from a `clusterTest(..., { exclusive: true })`. Local cluster only.
   */
  stopApiserver(): Promise<void>;
  /** Starts kube-apiserver again with the same flags (no-op when it runs) and waits for `/readyz`. */
  startApiserver(): Promise<void>;
  /**
   * Compacts etcd to its current revision: every older resourceVersion is gone from etcd, so requests for one that
   * reach etcd get 410 Gone (exact-version lists, watches the watch cache cannot serve). Note that the API server's
   * watch cache still serves recent versions itself; a re-watch after {@linkcode startApiserver} gets 410 from the
   * fresh watch cache whether or not etcd was compacted. Local cluster only.
   */
  compactEtcd(): Promise<void>;
  /** Labels a pod for the lws-pod-fail KWOK stage and waits until its phase is Failed (the pod must become Running). */
  failPod(namespace: string, name: string): Promise<void>;
  /** Labels a Running pod for our restart stage and waits until every container's restartCount went up by one. */
  restartContainers(namespace: string, name: string): Promise<void>;
}

/** Thrown by {@linkcode requireCluster} when there is no control plane to test against. */
export class NoClusterError extends Error {
  override name = "NoClusterError";
}

function noCluster(reason: string): NoClusterError {
  return new NoClusterError(
    `No Kubernetes control plane for integration tests: ${reason}.\n` +
      "Start one with `deno task cluster:up` (or set LWS_TEST_KUBECONFIG to another cluster's kubeconfig). " +
      "Integration tests never skip.",
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Finds the control plane and checks that its API server answers `/readyz`.
 *
 * With `LWS_TEST_KUBECONFIG` set, that kubeconfig is used (client-certificate auth; kubectl from `$LWS_BIN_DIR` or
 * PATH) and the fault-injection calls that need the local processes throw. Otherwise the state file of
 * `deno task cluster:up` is read (`$LWS_CLUSTER_DIR/state.json`, default `<repo>/.cluster/state.json`).
 *
 * @param options `dir`: the cluster directory instead of `$LWS_CLUSTER_DIR`/`.cluster` (then
 *   `LWS_TEST_KUBECONFIG` is ignored)
 * @returns the cluster
 * @throws {NoClusterError} when no cluster is recorded or it does not answer
 */
export async function requireCluster(options: { dir?: string } = {}): Promise<TestCluster> {
  const external = options.dir ? undefined : Deno.env.get("LWS_TEST_KUBECONFIG");
  const dir = options.dir ?? clusterDir();
  let state: ClusterState | undefined;
  let kubeconfig: string;
  let binDir: string;
  if (external) {
    kubeconfig = external;
    binDir = Deno.env.get("LWS_BIN_DIR") ?? "";
  } else {
    state = await readState(dir).catch((error) => {
      throw noCluster(`cannot read ${join(dir, "state.json")}: ${message(error)}`);
    });
    if (!state) throw noCluster(`no cluster is recorded in ${dir}`);
    kubeconfig = state.kubeconfig;
    binDir = state.binDir;
  }
  const target = await readKubeconfig(kubeconfig).catch((error) => {
    throw noCluster(`cannot use kubeconfig ${kubeconfig}: ${message(error)}`);
  });
  try {
    const response = await request(`${target.server}/readyz`, target.credentials, { timeoutMs: 5_000 });
    if (response.status !== 200) throw new Error(`/readyz answered ${response.status}: ${response.body}`);
  } catch (error) {
    throw noCluster(`the API server ${target.server} does not answer (${message(error)})`);
  }
  return new LocalCluster(dir, kubeconfig, target.server, binDir, target.credentials, state !== undefined);
}

class LocalCluster implements TestCluster {
  readonly #kubectlBinary: string;

  constructor(
    readonly dir: string,
    readonly kubeconfig: string,
    readonly server: string,
    readonly binDir: string,
    readonly credentials: Credentials,
    readonly local: boolean,
  ) {
    this.#kubectlBinary = binDir ? join(binDir, "kubectl") : "kubectl";
  }

  kubectl(args: string[], options?: KubectlOptions): Promise<CommandResult> {
    return runKubectl(this.#kubectlBinary, this.kubeconfig, args, options);
  }

  kubectlOk(args: string[], options?: KubectlOptions): Promise<string> {
    return runKubectlOk(this.#kubectlBinary, this.kubeconfig, args, options);
  }

  /** GET a path on the API server; returns the parsed body, or undefined on 404. */
  async #get<T>(path: string): Promise<T | undefined> {
    const response = await request(`${this.server}${path}`, this.credentials);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${response.body}`);
    return JSON.parse(response.body) as T;
  }

  async freshNamespace(prefix: string): Promise<TestNamespace> {
    const stem = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48) || "test";
    const suffix = Array.from(
      crypto.getRandomValues(new Uint8Array(6)),
      (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36],
    )
      .join("");
    const name = `${stem}-${suffix}`;
    const namespace = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: { [TEST_NAMESPACE_LABEL]: "true" } },
    };
    await this.kubectlOk(["create", "-f", "-"], { stdin: JSON.stringify(namespace) });
    await eventually(
      `ServiceAccount ${name}/default`,
      async () => (await this.#get(`/api/v1/namespaces/${name}/serviceaccounts/default`)) !== undefined,
      { intervalMs: 100 },
    );
    return {
      name,
      [Symbol.asyncDispose]: async () => {
        if (Deno.env.get("LWS_KEEP_NAMESPACES")) return;
        await this.kubectlOk(["delete", "namespace", name, "--wait=false", "--ignore-not-found"]);
      },
    };
  }

  #requireLocal(what: string): void {
    if (!this.local) {
      throw new Error(`${what} needs the local control plane of \`deno task cluster:up\`, not LWS_TEST_KUBECONFIG`);
    }
  }

  async #state(): Promise<ClusterState> {
    const state = await readState(this.dir);
    if (!state) throw noCluster(`the state file in ${this.dir} disappeared`);
    return state;
  }

  async stopApiserver(): Promise<void> {
    this.#requireLocal("stopApiserver()");
    await withStateLock(this.dir, async () => {
      const process = (await this.#state()).processes["kube-apiserver"];
      if (!process) throw new Error("Cannot stop kube-apiserver: the state file records no such process");
      const outcome = await stopProcess(process, { signal: "SIGKILL" });
      if (outcome === "not ours") {
        throw new Error(`Cannot stop kube-apiserver: pid ${process.pid} is no longer kube-apiserver`);
      }
    });
  }

  async startApiserver(): Promise<void> {
    this.#requireLocal("startApiserver()");
    const state = await withStateLock(this.dir, async () => {
      const state = await this.#state();
      const process = state.processes["kube-apiserver"];
      if (!process) throw new Error("Cannot start kube-apiserver: the state file records no such process");
      if (!(await isOurs(process))) {
        const { pid: _dead, ...spec } = process;
        process.pid = await spawnDetached(spec);
        await writeState(state);
      }
      return state;
    });
    await eventually("kube-apiserver /readyz after restart", () => apiserverReady(state, this.credentials), {
      timeoutMs: 90_000,
      intervalMs: 100,
      process: state.processes["kube-apiserver"],
    });
  }

  async compactEtcd(): Promise<void> {
    this.#requireLocal("compactEtcd()");
    const state = await this.#state();
    const etcdctl = async (args: string[]) => {
      const output = await new Deno.Command(join(state.binDir, "etcdctl"), {
        args: [`--endpoints=${state.etcd.endpoint}`, ...args],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decoder = new TextDecoder();
      if (!output.success) {
        throw new Error(`etcdctl ${args.join(" ")} exited ${output.code}: ${decoder.decode(output.stderr)}`);
      }
      return decoder.decode(output.stdout);
    };
    const status = JSON.parse(await etcdctl(["endpoint", "status", "--write-out=json"])) as {
      Status: { header: { revision: number } };
    }[];
    const revision = status[0]?.Status.header.revision;
    if (!revision) throw new Error(`Cannot compact etcd: no revision in its status ${JSON.stringify(status)}`);
    try {
      await etcdctl(["compaction", "--physical", String(revision)]);
    } catch (error) {
      // Nothing was written since the last compaction: already compacted to the current revision.
      if (!message(error).includes("required revision has been compacted")) throw error;
    }
  }

  async failPod(namespace: string, name: string): Promise<void> {
    await this.kubectlOk(["label", "pod", name, `${FAIL_POD_LABEL}=true`, "--overwrite"], { namespace });
    await this.kubectlOk(
      ["wait", `pod/${name}`, "--for=jsonpath={.status.phase}=Failed", "--timeout=60s"],
      { namespace },
    );
  }

  async restartContainers(namespace: string, name: string): Promise<void> {
    const path = `/api/v1/namespaces/${namespace}/pods/${name}`;
    const before = await this.#get<Pod>(path);
    if (before?.status?.phase !== "Running") {
      throw new Error(
        `Cannot restart containers of ${namespace}/${name}: needs a Running pod, got ${before?.status?.phase}`,
      );
    }
    const counts = new Map((before.status.containerStatuses ?? []).map((c) => [c.name, c.restartCount]));
    await this.kubectlOk(["label", "pod", name, `${RESTART_CONTAINERS_LABEL}=true`, "--overwrite"], { namespace });
    await eventually(`containers of ${namespace}/${name} to restart`, async () => {
      const pod = await this.#get<Pod>(path);
      const statuses = pod?.status?.containerStatuses ?? [];
      return statuses.length === counts.size &&
        statuses.every((c) => c.restartCount > (counts.get(c.name) ?? Infinity));
    });
  }
}

/** What a {@linkcode clusterTest} body gets. */
export interface ClusterTestContext {
  t: Deno.TestContext;
  cluster: TestCluster;
  /** A fresh namespace, deleted after the test. */
  namespace: string;
}

/** Options of {@linkcode clusterTest}. */
export interface ClusterTestOptions {
  /**
   * Run alone: no other `clusterTest` (in any parallel test worker) runs meanwhile. For tests that stop the API
   * server or compact etcd. The others take a shared lock, so they still run in parallel with each other.
   * Afterwards the API server is started again if the test left it stopped.
   */
  exclusive?: boolean;
  /** Namespace name prefix (default: from the test name). */
  namespacePrefix?: string;
  ignore?: boolean;
  only?: boolean;
}

/**
 * A cross-process readers-writer lock on `<cluster dir>/tests.lock` (flock), writer-preferring: an exclusive test
 * that is waiting holds `tests.gate.lock`, so tests starting after it queue behind it instead of starving it.
 */
async function testLock(exclusive: boolean): Promise<AsyncDisposable> {
  const dir = clusterDir();
  await Deno.mkdir(dir, { recursive: true });
  const rw = await Deno.open(join(dir, "tests.lock"), { create: true, write: true });
  try {
    using gate = await Deno.open(join(dir, "tests.gate.lock"), { create: true, write: true });
    await gate.lock(true);
    await rw.lock(exclusive); // closing `gate` at the end of this block releases it
  } catch (error) {
    rw.close();
    throw error;
  }
  return {
    [Symbol.asyncDispose]: async () => {
      await rw.unlock();
      rw.close();
    },
  };
}

/**
 * Registers a `Deno.test` that gets the cluster (throwing when there is none) and a fresh namespace, deleted after
 * the test whatever its outcome.
 *
 * @param name the test name
 * @param fn the body
 * @param options `exclusive` for tests that disturb the shared control plane; namespace prefix; ignore/only
 */
export function clusterTest(
  name: string,
  fn: (context: ClusterTestContext) => Promise<void>,
  options: ClusterTestOptions = {},
): void {
  Deno.test({
    name,
    ignore: options.ignore,
    only: options.only,
    async fn(t) {
      // Lock first: while an exclusive test has the API server down, requireCluster() would fail.
      await using _lock = await testLock(options.exclusive ?? false);
      const cluster = await requireCluster();
      try {
        await using namespace = await cluster.freshNamespace(options.namespacePrefix ?? name.slice(0, 30));
        await fn({ t, cluster, namespace: namespace.name });
      } finally {
        // A disruptive test that failed half-way must not leave the API server down for every test after it.
        if (options.exclusive && cluster.local) await cluster.startApiserver();
      }
    },
  });
}
