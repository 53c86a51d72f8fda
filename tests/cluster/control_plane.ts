/**
 * Starts, checks and stops the local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
 * the KWOK controller and (unless turned off) Volcano's scheduler, each a detached process recorded in
 * `<dir>/state.json` (see `state.ts`).
 *
 * Why our own processes and not `kwokctl create cluster --runtime binary`: the tests kill and restart
 * kube-apiserver with the exact same flags, compact etcd, and need the admission plugins and webhook calls of a
 * real cluster; owning the command lines makes all of that a few lines instead of a fight with kwokctl's defaults.
 *
 * @module
 */
import { join } from "node:path";
import type { Node } from "kubernetes-types/core/v1.d.ts";
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1.d.ts";
import { parseAllDocuments } from "yaml";
import { type Credentials, readKubeconfig, request, writeKubeconfig } from "./api.ts";
import { nodeManifests, type NodeTopology } from "./nodes.ts";
import { createCertificateAuthority, createLeafCertificate, createServiceAccountKey } from "./pki.ts";
import { eventually } from "./poll.ts";
import { isOurs, spawnDetached, stopProcess } from "./process.ts";
import { type ClusterState, type Component, COMPONENTS, type ProcessRecord, REPO_ROOT, writeState } from "./state.ts";

/** The KWOK stages every cluster gets (listed in the README's "Local control plane" section). */
export const STAGES_DIR: string = join(REPO_ROOT, "tests", "cluster", "stages");

/** How `startControlPlane` builds the cluster. */
export interface StartOptions {
  /** Directory for state, kubeconfig, certificates, etcd data and logs. */
  dir: string;
  /** Directory with the binaries `build.sh` produced. */
  binDir: string;
  topology: NodeTopology;
  /** kube-controller-manager client and StatefulSet throughput; unset means the upstream defaults (20/30/5). */
  controllerManager?: { kubeApiQps?: number; kubeApiBurst?: number; concurrentStatefulSetSyncs?: number };
  /** Directory of CRD YAML to install (`<repo>/crds`). */
  crdsDir: string;
  /**
   * Start Volcano's scheduler `vc-scheduler` (scheduler name `volcano`, gang plugin on) and install its CRDs from
   * `<binDir>/volcano-crds` (default true).
   */
  volcano?: boolean;
  /** Progress lines. */
  log: (message: string) => void;
}

const SERVICE_CIDR = "10.96.0.0/16";

/** `spec.schedulerName` of pods Volcano's scheduler schedules. */
export const VOLCANO_SCHEDULER_NAME = "volcano";
/** The Queue the scheduler creates at start and puts PodGroups without `spec.queue` in. */
export const VOLCANO_DEFAULT_QUEUE = "default";

/**
 * Volcano's scheduler configuration: the default of its Helm chart (v1.10.0,
 * `installer/helm/chart/volcano/config/volcano-scheduler.conf`). `enqueue` admits a PodGroup only when its
 * `minResources` fit; the `gang` plugin discards a job's allocation in a cycle unless at least `minMember` of its
 * tasks can be placed — so a group is bound whole or not at all.
 */
export const VOLCANO_SCHEDULER_CONF = `actions: "enqueue, allocate, backfill"
tiers:
- plugins:
  - name: priority
  - name: gang
    enablePreemptable: false
  - name: conformance
- plugins:
  - name: overcommit
  - name: drf
    enablePreemptable: false
  - name: predicates
  - name: capacity
  - name: nodeorder
  - name: binpack
`;
const POD_CIDR = "10.0.0.1/16";

/**
 * Picks a non-loopback IPv4 address of this host for `--advertise-address` (the API server refuses to derive one
 * on a host without a default route, and a loopback address is not a valid Service endpoint).
 *
 * @returns the address
 * @throws when the host has no non-loopback IPv4 address
 */
export function hostAddress(): string {
  const candidates = Deno.networkInterfaces().filter((i) => i.family === "IPv4" && !i.address.startsWith("127."));
  const address = candidates[0]?.address;
  if (!address) {
    throw new Error("Cannot pick --advertise-address: this host has no non-loopback IPv4 address");
  }
  return address;
}

/** Reserves `count` distinct free TCP ports on 127.0.0.1 (closed again before returning; a small race remains). */
function freePorts(count: number): number[] {
  const listeners = Array.from({ length: count }, () => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

/** The credentials of a cluster's admin kubeconfig, for {@linkcode request}. */
export async function adminCredentials(state: ClusterState): Promise<Credentials> {
  return (await readKubeconfig(state.kubeconfig)).credentials;
}

/**
 * Whether the API server answers `/readyz` with 200.
 *
 * @param state the cluster
 * @param credentials its admin credentials
 * @returns true when ready; throws the connection error otherwise (useful in {@linkcode eventually})
 */
export async function apiserverReady(state: ClusterState, credentials: Credentials): Promise<boolean> {
  const response = await request(`${state.server}/readyz`, credentials, { timeoutMs: 5_000 });
  if (response.status !== 200) throw new Error(`/readyz answered ${response.status}: ${response.body.slice(0, 500)}`);
  return true;
}

/** {@linkcode eventually} with a 100 ms interval, for start-up. */
function waitReady(what: string, timeoutMs: number, check: () => Promise<boolean>, process?: ProcessRecord) {
  return eventually(what, check, { timeoutMs, intervalMs: 100, process });
}

function record(state: ClusterState, component: Component, args: string[], env?: Record<string, string>) {
  const binary = join(state.binDir, component);
  return { binary, args, log: join(state.logsDir, `${component}.log`), ...(env ? { env } : {}) };
}

/**
 * Starts a component from its record and stores the PID in the state file.
 *
 * @param state the cluster (mutated: `processes[component]` is set)
 * @param component which one
 * @param spec binary, args, log and env
 * @returns the full record
 */
async function start(
  state: ClusterState,
  component: Component,
  spec: Omit<ProcessRecord, "pid">,
): Promise<ProcessRecord> {
  const pid = await spawnDetached(spec);
  const full = { pid, ...spec };
  state.processes[component] = full;
  await writeState(state);
  return full;
}

/**
 * Starts a fresh control plane in `options.dir`, waits until it is usable (API server ready, every fake node Ready,
 * the `default` ServiceAccount present, CRDs established) and returns its state. The state file is written after
 * every process start, so on failure `stopControlPlane(state)` stops what did start.
 *
 * @param options where, with which binaries and which nodes
 * @param state an empty state to fill (see {@linkcode newState}); passed in so the caller can clean up on failure
 * @throws when a component fails to start or become ready (the message carries its log tail)
 */
export async function startControlPlane(options: StartOptions, state: ClusterState): Promise<void> {
  const { dir, log } = options;
  const pki = join(dir, "pki");
  await Promise.all([
    Deno.mkdir(pki, { recursive: true, mode: 0o700 }),
    Deno.mkdir(state.logsDir, { recursive: true }),
    Deno.mkdir(state.etcd.dataDir, { recursive: true, mode: 0o700 }),
  ]);
  const volcano = options.volcano ?? true;
  if (volcano) await requireVolcano(options.binDir);
  state.volcano = volcano;
  const [etcdClient, etcdPeer, apiserverPort, kcmPort, schedulerPort, kwokPort, volcanoPort] = freePorts(7) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  state.server = `https://127.0.0.1:${apiserverPort}`;
  state.etcd.endpoint = `http://127.0.0.1:${etcdClient}`;

  // Certificates: one CA; the admin client certificate every component and the tests use; serving certificates.
  const ca = await createCertificateAuthority(pki, "ca");
  const [admin, apiserverServing, componentsServing, serviceAccount] = await Promise.all([
    createLeafCertificate(pki, "admin", ca, { subject: "/CN=lws-test-admin/O=system:masters", usage: ["client"] }),
    createLeafCertificate(pki, "apiserver", ca, {
      subject: "/CN=kube-apiserver",
      usage: ["server"],
      dnsNames: [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
      ],
      ipAddresses: ["127.0.0.1", state.advertiseAddress, "10.96.0.1"],
    }),
    createLeafCertificate(pki, "components", ca, {
      subject: "/CN=lws-test-components",
      usage: ["server"],
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
    }),
    createServiceAccountKey(pki, "sa"),
  ]);
  state.pki = { caCert: ca.cert, caKey: ca.key, adminCert: admin.cert, adminKey: admin.key };
  const credentials: Credentials = {
    caCert: await Deno.readTextFile(ca.cert),
    clientCert: await Deno.readTextFile(admin.cert),
    clientKey: await Deno.readTextFile(admin.key),
  };
  await writeKubeconfig(state.kubeconfig, { server: state.server, credentials });
  await writeState(state);
  log("certificates and kubeconfig written");

  // etcd: plain HTTP on loopback; fsync off (a throw-away test store on a slow disk).
  const etcd = await start(
    state,
    "etcd",
    record(state, "etcd", [
      "--name=lws-test",
      `--data-dir=${state.etcd.dataDir}`,
      `--listen-client-urls=${state.etcd.endpoint}`,
      `--advertise-client-urls=${state.etcd.endpoint}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=lws-test=http://127.0.0.1:${etcdPeer}`,
      "--unsafe-no-fsync",
      "--quota-backend-bytes=8589934592",
      "--log-level=warn",
    ]),
  );
  await waitReady("etcd /health", 30_000, async () => {
    const response = await fetch(`${state.etcd.endpoint}/health`);
    const body = await response.text();
    return response.ok && body.includes('"true"');
  }, etcd);
  log(`etcd ready (pid ${etcd.pid})`);

  const apiserver = await start(
    state,
    "kube-apiserver",
    record(state, "kube-apiserver", [
      `--etcd-servers=${state.etcd.endpoint}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${apiserverPort}`,
      `--advertise-address=${state.advertiseAddress}`,
      `--tls-cert-file=${apiserverServing.cert}`,
      `--tls-private-key-file=${apiserverServing.key}`,
      `--client-ca-file=${ca.cert}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${serviceAccount.publicKey}`,
      `--service-account-signing-key-file=${serviceAccount.privateKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--authorization-mode=Node,RBAC",
      "--allow-privileged=true",
      "--feature-gates=GenericWorkload=true",
      "--runtime-config=scheduling.k8s.io/v1beta1=true",
      // Default admission plugins stay on: ServiceAccount, NamespaceLifecycle, Mutating/ValidatingAdmissionWebhook...
    ]),
  );
  await waitReady("kube-apiserver /readyz", 90_000, () => apiserverReady(state, credentials), apiserver);
  log(`kube-apiserver ready at ${state.server} (pid ${apiserver.pid})`);

  const clientFlags = [
    `--kubeconfig=${state.kubeconfig}`,
    `--authentication-kubeconfig=${state.kubeconfig}`,
    `--authorization-kubeconfig=${state.kubeconfig}`,
    "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
    "--bind-address=127.0.0.1",
    `--tls-cert-file=${componentsServing.cert}`,
    `--tls-private-key-file=${componentsServing.key}`,
    "--leader-elect=false",
    "--feature-gates=GenericWorkload=true",
  ];
  const cm = options.controllerManager ?? {};
  const stageFiles = [...Deno.readDirSync(STAGES_DIR)]
    .filter((e) => e.isFile && e.name.endsWith(".yaml"))
    .map((e) => join(STAGES_DIR, e.name))
    .sort();
  const [kcm, scheduler, kwok] = await Promise.all([
    start(
      state,
      "kube-controller-manager",
      record(state, "kube-controller-manager", [
        ...clientFlags,
        `--secure-port=${kcmPort}`,
        `--service-account-private-key-file=${serviceAccount.privateKey}`,
        `--root-ca-file=${ca.cert}`,
        `--cluster-signing-cert-file=${ca.cert}`,
        `--cluster-signing-key-file=${ca.key}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        // There are no kubelets or CSI drivers: the in-tree hostPath provisioner (testing only) lets volume claim
        // templates bind, through the default StorageClass `standard` created below.
        "--enable-hostpath-provisioner=true",
        ...(cm.kubeApiQps !== undefined ? [`--kube-api-qps=${cm.kubeApiQps}`] : []),
        ...(cm.kubeApiBurst !== undefined ? [`--kube-api-burst=${cm.kubeApiBurst}`] : []),
        ...(cm.concurrentStatefulSetSyncs !== undefined
          ? [`--concurrent-statefulset-syncs=${cm.concurrentStatefulSetSyncs}`]
          : []),
      ]),
    ),
    start(state, "kube-scheduler", record(state, "kube-scheduler", [...clientFlags, `--secure-port=${schedulerPort}`])),
    start(
      state,
      "kwok",
      record(state, "kwok", [
        `--kubeconfig=${state.kubeconfig}`,
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        "--node-lease-duration-seconds=40",
        `--cidr=${POD_CIDR}`,
        `--server-address=127.0.0.1:${kwokPort}`,
        ...stageFiles.map((f) => `--config=${f}`),
      ], { KWOK_WORKDIR: join(dir, "kwok") }), // keeps a developer's ~/.kwok/kwok.yaml out
    ),
  ]);
  log(`kube-controller-manager, kube-scheduler, kwok started (pids ${kcm.pid}, ${scheduler.pid}, ${kwok.pid})`);

  const componentsCa: Credentials = { caCert: credentials.caCert, clientCert: "", clientKey: "" };
  const healthz = (url: string) => async () => (await request(url, componentsCa, { timeoutMs: 5_000 })).status === 200;
  await Promise.all([
    waitReady("kube-controller-manager /healthz", 60_000, healthz(`https://127.0.0.1:${kcmPort}/healthz`), kcm),
    waitReady("kube-scheduler /healthz", 60_000, healthz(`https://127.0.0.1:${schedulerPort}/healthz`), scheduler),
    waitReady("kwok /healthz", 60_000, async () => {
      const response = await fetch(`http://127.0.0.1:${kwokPort}/healthz`);
      await response.body?.cancel();
      return response.ok;
    }, kwok),
    createNodes(state, nodeManifests(options.topology)).then(() => log(`${options.topology.count} fake nodes created`)),
    installCrds(state, options.crdsDir, log),
    installStorageClass(state).then(() => log("default StorageClass standard (hostPath provisioner) created")),
    volcano ? startVolcano(state, volcanoPort, log) : Promise.resolve(),
  ]);
  log(`controller-manager, scheduler${volcano ? ", vc-scheduler" : ""} and kwok healthy`);

  await Promise.all([
    waitReady(`${options.topology.count} nodes Ready`, 60_000, async () => {
      const response = await request(`${state.server}/api/v1/nodes`, credentials);
      const nodes = (JSON.parse(response.body) as { items: Node[] }).items;
      const ready = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
      return ready.length >= options.topology.count;
    }, kwok),
    waitReady("ServiceAccount default/default", 60_000, async () => {
      const url = `${state.server}/api/v1/namespaces/default/serviceaccounts/default`;
      return (await request(url, credentials)).status === 200;
    }, kcm),
  ]);
  log(`${options.topology.count} nodes Ready, default ServiceAccount present`);
}

/**
 * Throws unless `binDir` has Volcano's scheduler and CRDs (what `build.sh` links there).
 *
 * @param binDir the binaries
 */
async function requireVolcano(binDir: string): Promise<void> {
  for (const path of [join(binDir, "vc-scheduler"), join(binDir, "volcano-crds")]) {
    try {
      await Deno.stat(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new Error(
        `Cannot start Volcano's scheduler: ${path} is missing (tests/cluster/build.sh builds it; or --no-volcano)`,
      );
    }
  }
}

/**
 * Installs Volcano's CRDs (PodGroups, Queues, Numatopologies), then starts `vc-scheduler` with the chart's default
 * configuration, scheduler name `volcano`, no leader election and a health endpoint on `port`, and waits until it
 * answers `/healthz` and has created the `default` Queue (it does so itself at start; Volcano's controller-manager
 * is not needed: the scheduler also writes PodGroup status).
 *
 * @param state the cluster (mutated: `processes["vc-scheduler"]`)
 * @param port free port for `--healthz-address`
 * @param log progress lines
 */
async function startVolcano(state: ClusterState, port: number, log: (message: string) => void): Promise<void> {
  await installCrds(state, join(state.binDir, "volcano-crds"), log);
  const conf = join(state.dir, "volcano", "scheduler.conf");
  await Deno.mkdir(join(state.dir, "volcano"), { recursive: true });
  await Deno.writeTextFile(conf, VOLCANO_SCHEDULER_CONF);
  const vc = await start(
    state,
    "vc-scheduler",
    record(state, "vc-scheduler", [
      `--kubeconfig=${state.kubeconfig}`,
      `--scheduler-conf=${conf}`,
      `--scheduler-name=${VOLCANO_SCHEDULER_NAME}`,
      `--default-queue=${VOLCANO_DEFAULT_QUEUE}`,
      "--leader-elect=false",
      "--enable-healthz=true",
      `--healthz-address=127.0.0.1:${port}`,
      "--enable-metrics=false",
      "--logtostderr",
      "--v=2",
    ]),
  );
  const credentials = await adminCredentials(state);
  await waitReady("vc-scheduler /healthz and the default Queue", 60_000, async () => {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    await response.body?.cancel();
    if (!response.ok) return false;
    const url = `${state.server}/apis/scheduling.volcano.sh/v1beta1/queues/${VOLCANO_DEFAULT_QUEUE}`;
    return (await request(url, credentials)).status === 200;
  }, vc);
  log(`vc-scheduler ready (pid ${vc.pid})`);
}

/**
 * An empty state for a fresh cluster in `dir`.
 *
 * @param dir the cluster directory
 * @param binDir the binaries
 * @returns the state, with paths set and no processes
 */
export function newState(dir: string, binDir: string): ClusterState {
  return {
    version: 1,
    dir,
    startedAt: new Date().toISOString(),
    kubeconfig: join(dir, "kubeconfig"),
    server: "",
    advertiseAddress: hostAddress(),
    binDir,
    kubectl: join(binDir, "kubectl"),
    pki: { caCert: "", caKey: "", adminCert: "", adminKey: "" },
    etcd: { endpoint: "", dataDir: join(dir, "etcd") },
    logsDir: join(dir, "logs"),
    processes: {},
  };
}

/**
 * Creates fake nodes with plain POSTs (status included: the API server keeps a Node's status on create, and KWOK's
 * lws-node-ready stage keeps the allocatable it finds). Nodes that exist already are left as they are. Use it to
 * grow a running cluster: `createNodes(state, nodeManifests(bigger, { from: currentCount }))`.
 *
 * @param state the cluster
 * @param nodes from {@linkcode nodeManifests}
 * @throws when a POST fails for another reason than 409 AlreadyExists
 */
export async function createNodes(state: ClusterState, nodes: Node[]): Promise<void> {
  const credentials = await adminCredentials(state);
  const pending = [...nodes];
  // A few at a time: fast, without flooding a cluster that is still starting.
  await Promise.all(Array.from({ length: Math.min(8, pending.length) }, async () => {
    for (let node = pending.shift(); node; node = pending.shift()) {
      const response = await request(`${state.server}/api/v1/nodes`, credentials, { method: "POST", body: node });
      if (response.status !== 201 && response.status !== 409) {
        throw new Error(`Cannot create node ${node.metadata?.name}: ${response.status} ${response.body.slice(0, 300)}`);
      }
    }
  }));
}

/** Name of the default StorageClass of the local control plane. */
export const STORAGE_CLASS_NAME = "standard";

/**
 * Creates the default StorageClass `standard`, served by kube-controller-manager's hostPath provisioner, so
 * PersistentVolumeClaims (LWS volume claim templates) bind without a CSI driver.
 *
 * @param state the cluster
 * @throws when the API server refuses it
 */
export async function installStorageClass(state: ClusterState): Promise<void> {
  const credentials = await adminCredentials(state);
  const storageClass = {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name: STORAGE_CLASS_NAME,
      annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
    },
    provisioner: "kubernetes.io/host-path",
    reclaimPolicy: "Delete",
    volumeBindingMode: "Immediate",
  };
  const url = `${state.server}/apis/storage.k8s.io/v1/storageclasses/${STORAGE_CLASS_NAME}`;
  await serverSideApply(url, credentials, storageClass, `create StorageClass ${STORAGE_CLASS_NAME}`);
}

/**
 * Server-side applies one object at its URL as field manager `lws-test-cluster`, forcing conflicts.
 *
 * @param url the object's URL (no query)
 * @param credentials admin credentials
 * @param object the object
 * @param what what is being done, for the error (`create StorageClass standard`)
 * @throws when the API server answers other than 200 or 201
 */
async function serverSideApply(url: string, credentials: Credentials, object: unknown, what: string): Promise<void> {
  const response = await request(`${url}?fieldManager=lws-test-cluster&force=true`, credentials, {
    method: "PATCH",
    body: JSON.stringify(object),
    contentType: "application/apply-patch+yaml",
    timeoutMs: 30_000,
  });
  if (response.status !== 200 && response.status !== 201) {
    throw new Error(`Cannot ${what}: ${response.status} ${response.body.slice(0, 500)}`);
  }
}

/**
 * Installs every CRD in the YAML files of `crdsDir` with server-side apply (the LWS CRD is too large for
 * client-side apply's last-applied annotation) and waits until they are Established. Talks to the API directly:
 * kubectl's discovery round-trips cost seconds on a just-started API server. Says so and continues when there are
 * no files.
 *
 * @param state the cluster
 * @param crdsDir directory of `*.yaml` / `*.yml`
 * @param log progress lines
 * @returns the names of the CRDs installed
 * @throws when a file holds something other than a CustomResourceDefinition, or the API server refuses one
 */
export async function installCrds(state: ClusterState, crdsDir: string, log: (m: string) => void): Promise<string[]> {
  let files: string[] = [];
  try {
    files = [...Deno.readDirSync(crdsDir)]
      .filter((e) => e.isFile && /\.ya?ml$/.test(e.name))
      .map((e) => join(crdsDir, e.name))
      .sort();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (files.length === 0) {
    log(`no CRD YAML in ${crdsDir}: nothing to install`);
    return [];
  }
  const credentials = await adminCredentials(state);
  const base = `${state.server}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`;
  const names: string[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(await Deno.readTextFile(file))) {
      const crd = document.toJS() as { kind?: string; metadata?: { name?: string } } | null;
      if (!crd) continue;
      const name = crd.metadata?.name;
      if (crd.kind !== "CustomResourceDefinition" || !name) {
        throw new Error(`Cannot install ${file}: expected CustomResourceDefinitions, got kind ${crd.kind}`);
      }
      await serverSideApply(`${base}/${name}`, credentials, crd, `install CRD ${name} from ${file}`);
      names.push(name);
    }
  }
  await Promise.all(names.map((name) =>
    waitReady(`CRD ${name} Established`, 60_000, async () => {
      const crd = JSON.parse((await request(`${base}/${name}`, credentials)).body) as CustomResourceDefinition;
      return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;
    })
  ));
  log(`CRDs installed and Established: ${names.join(", ")}`);
  return names;
}

/**
 * Checks a recorded cluster: every process alive and ours, and the API server ready.
 *
 * @param state the recorded cluster
 * @returns the problems found (empty when healthy)
 */
export async function healthProblems(state: ClusterState): Promise<string[]> {
  const problems: string[] = [];
  for (const component of COMPONENTS) {
    if (component === "vc-scheduler" && !state.volcano) continue;
    const process = state.processes[component];
    if (!process) problems.push(`${component} was never started`);
    else if (!(await isOurs(process))) problems.push(`${component} (pid ${process.pid}) is not running`);
  }
  try {
    await apiserverReady(state, await adminCredentials(state));
  } catch (error) {
    problems.push(`kube-apiserver is not ready: ${error instanceof Error ? error.message : String(error)}`);
  }
  return problems;
}

/**
 * Stops every process recorded in `state` (newest first, SIGTERM then SIGKILL), leaving any PID that is no longer
 * ours alone, then removes the state, kubeconfig, certificates and etcd data. Logs stay for post-mortems.
 *
 * @param state the recorded cluster
 * @param log progress lines
 */
export async function stopControlPlane(state: ClusterState, log: (message: string) => void): Promise<void> {
  for (const component of [...COMPONENTS].reverse()) {
    const process = state.processes[component];
    if (!process) continue;
    const outcome = await stopProcess(process);
    log(
      outcome === "not ours"
        ? `${component}: pid ${process.pid} now belongs to another program; left alone`
        : `${component} (pid ${process.pid}) ${outcome}`,
    );
  }
  await Promise.all(
    ["state.json", "kubeconfig", "pki", "etcd", "kwok", "volcano"].map((name) =>
      Deno.remove(join(state.dir, name), { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      })
    ),
  );
}
