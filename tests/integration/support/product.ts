/**
 * The product in-process for one integration test: the CRD installed, the admission webhook registered in local
 * mode for the test namespace, and the two controllers running on a namespace-scoped informer cache — started in
 * the order the binary uses and stopped cleanly (controllers, events, cache, webhook, client), so Deno's sanitizers
 * stay on.
 *
 * Also the small vocabulary the controller tests share: LWS manifests, reads through the product's client, waits,
 * events and the expected objects of spec §6.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Node, Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { Event } from "kubernetes-types/events/v1.d.ts";
import type { Condition } from "kubernetes-types/meta/v1.d.ts";
import { CRD_NAME, LABEL_NAME } from "../../../api/constants.ts";
import { groupKey } from "../../../api/naming.ts";
import type { LeaderWorkerSet, LeaderWorkerSetSpec } from "../../../api/types.ts";
import { type RunningControllers, startControllers } from "../../../controller/manager.ts";
import { gangProvider, PROVIDER_WORKLOAD, type SchedulerProviderName } from "../../../controller/pod/gang.ts";
import { InformerCache } from "../../../kube/cache.ts";
import { buildUserAgent, createClient, type KubeClient } from "../../../kube/client.ts";
import { isNotFound } from "../../../kube/errors.ts";
import { clientEventSink, createEventRecorder, type EventRecorder } from "../../../kube/events.ts";
import { loadKubeConfig } from "../../../kube/kubeconfig.ts";
import {
  CONTROLLER_REVISIONS,
  EVENTS,
  LEADER_WORKER_SETS,
  PODS,
  SERVICES,
  STATEFUL_SETS,
} from "../../../kube/resources.ts";
import type { KubeObject, ResourceType } from "../../../kube/types.ts";
import { CRD_FILE } from "../../../crds/generate.ts";
import { eventually, type EventuallyOptions, type TestCluster } from "../../cluster/harness.ts";
import { type LocalWebhook, startLocalWebhook } from "./webhook_local.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const root = join(import.meta.dirname!, "..", "..", "..");

let crdInstalled: Promise<void> | undefined;

/** Installs (server-side applies) the CRD once per test process and waits until it is Established. */
export function installCrd(cluster: TestCluster): Promise<void> {
  crdInstalled ??= (async () => {
    await cluster.kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", join(root, CRD_FILE)]);
    await cluster.kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", `crd/${CRD_NAME}`]);
  })();
  return crdInstalled;
}

/** The running product for one namespace; `await using` stops it. */
export interface Product extends AsyncDisposable {
  /** The test cluster. */
  readonly cluster: TestCluster;
  /** The namespace the webhook and controllers serve. */
  readonly namespace: string;
  /** The controllers' client (also handy for reads in assertions). */
  readonly client: KubeClient;
  /** The shared cache. */
  readonly cache: InformerCache;
  /** The controllers. */
  readonly controllers: RunningControllers;
  /** The webhook. */
  readonly webhook: LocalWebhook;
}

/** Options of {@linkcode startProduct}. */
export interface StartProductOptions {
  /** Controller concurrency (default the manager's). */
  concurrency?: number;
  /** `gangSchedulingManagement.schedulerProvider` (webhook annotation/schedulingGroup and PodGroups); default off. */
  gangProvider?: SchedulerProviderName;
}

/**
 * Starts the product for `namespace`: CRD, webhook (waits until the API server calls it), cache, event recorder
 * and controllers (waits until the cache is synced).
 *
 * @param cluster The test cluster.
 * @param namespace The test namespace.
 * @param options Concurrency.
 * @returns The running product.
 */
export async function startProduct(
  cluster: TestCluster,
  namespace: string,
  options: StartProductOptions = {},
): Promise<Product> {
  await installCrd(cluster);
  const webhook = await startLocalWebhook(cluster, namespace, {
    gangScheduling: options.gangProvider !== undefined,
    schedulingGroup: options.gangProvider === PROVIDER_WORKLOAD,
  });
  const stop = new AbortController();
  const client = createClient(await loadKubeConfig({ path: cluster.kubeconfig }), {
    qps: 100,
    burst: 200,
    userAgent: buildUserAgent({ version: "v0.1.0-test" }),
  });
  const events: EventRecorder = createEventRecorder(clientEventSink(client), { reportingInstance: "lws-test" });
  const cache = new InformerCache(client);
  const controllers = startControllers({
    client,
    cache,
    events,
    namespace,
    concurrency: options.concurrency,
    gang: gangProvider(options.gangProvider),
    signal: stop.signal,
  });
  const cacheStop = new AbortController();
  const cacheStopped = cache.start(cacheStop.signal);
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    stop.abort();
    try {
      await controllers.finished;
    } finally {
      await events.close(AbortSignal.timeout(10_000));
      cacheStop.abort();
      await cacheStopped;
      client.close();
      await webhook[Symbol.asyncDispose]();
    }
  };
  try {
    await cache.waitUntilSynced(AbortSignal.timeout(30_000));
  } catch (err) {
    await dispose();
    throw err;
  }
  return { cluster, namespace, client, cache, controllers, webhook, [Symbol.asyncDispose]: dispose };
}

// ---------------------------------------------------------------------------------------------------------------
// Manifests

/** Options of {@linkcode lwsManifest}. */
export interface LwsManifestOptions {
  /** Groups (default 1). */
  replicas?: number;
  /** Pods per group (default 2). */
  size?: number;
  /** Extra `spec` fields, merged over the defaults (`leaderWorkerTemplate` is merged one level deep). */
  spec?: Partial<Omit<LeaderWorkerSetSpec, "leaderWorkerTemplate">> & {
    leaderWorkerTemplate?: Partial<LeaderWorkerSetSpec["leaderWorkerTemplate"]>;
  };
  /** LWS labels. */
  labels?: Record<string, string>;
  /** LWS annotations. */
  annotations?: Record<string, string>;
}

/**
 * An LWS as a user writes it: a worker template with one `nginx` container (port 8080), optionally a leader
 * template, nothing defaulted.
 *
 * @param name The LWS name.
 * @param options Replicas, size, spec overrides, labels, annotations.
 * @returns A new manifest.
 */
export function lwsManifest(name: string, options: LwsManifestOptions = {}): LeaderWorkerSet {
  const { leaderWorkerTemplate, ...spec } = options.spec ?? {};
  const metadata: LeaderWorkerSet["metadata"] = { name };
  if (options.labels) metadata.labels = options.labels;
  if (options.annotations) metadata.annotations = options.annotations;
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata,
    spec: {
      replicas: options.replicas ?? 1,
      leaderWorkerTemplate: {
        size: options.size ?? 2,
        workerTemplate: {
          spec: { containers: [{ name: "worker", image: "nginx:1.27", ports: [{ containerPort: 8080 }] }] },
        },
        ...leaderWorkerTemplate,
      },
      ...spec,
    },
  };
}

/** `kubectl apply -f -` of objects in the product's namespace (so the webhooks see them as from a user). */
export async function kubectlApply(product: Product, ...objects: unknown[]): Promise<void> {
  await product.cluster.kubectlOk(["apply", "-f", "-"], {
    namespace: product.namespace,
    stdin: objects.map((o) => JSON.stringify(o)).join("\n"),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Reads (straight from the API server, never from the controllers' cache)

/** GET one object of the product's namespace; `undefined` when not found. */
export async function getObject<T extends KubeObject>(
  product: Product,
  type: ResourceType,
  name: string,
): Promise<T | undefined> {
  try {
    return await product.client.get<T>(type, name, { namespace: type.namespaced ? product.namespace : undefined });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** GET the LWS (throws when missing). */
export async function getLws(product: Product, name: string): Promise<LeaderWorkerSet> {
  const lws = await getObject<LeaderWorkerSet>(product, LEADER_WORKER_SETS, name);
  if (!lws) throw new Error(`LeaderWorkerSet ${product.namespace}/${name} not found`);
  return lws;
}

/** Lists objects of the namespace, optionally by label selector. */
export async function listObjects<T extends KubeObject>(
  product: Product,
  type: ResourceType,
  labelSelector?: string,
): Promise<T[]> {
  return (await product.client.listAll<T>(type, { namespace: product.namespace, labelSelector })).items;
}

/** Pods of an LWS (label `name=<lws>`), sorted by name. */
export async function podsOf(product: Product, lws: string, extraSelector = ""): Promise<Pod[]> {
  const selector = `${LABEL_NAME}=${lws}${extraSelector ? `,${extraSelector}` : ""}`;
  return (await listObjects<Pod>(product, PODS, selector)).sort((a, b) => byName(a, b));
}

/** StatefulSets of an LWS (label `name=<lws>`), sorted by name. */
export async function statefulSetsOf(product: Product, lws: string): Promise<StatefulSet[]> {
  return (await listObjects<StatefulSet>(product, STATEFUL_SETS, `${LABEL_NAME}=${lws}`)).sort(byName);
}

/** Services of an LWS (label `name=<lws>`), sorted by name. */
export async function servicesOf(product: Product, lws: string): Promise<Service[]> {
  return (await listObjects<Service>(product, SERVICES, `${LABEL_NAME}=${lws}`)).sort(byName);
}

/**
 * ControllerRevisions of an LWS (label `name=<lws>`, controlled by a LeaderWorkerSet — the StatefulSet controller's
 * own revisions carry the label too), by revision number.
 */
export async function revisionsOfLws(product: Product, lws: string): Promise<ControllerRevision[]> {
  return (await listObjects<ControllerRevision>(product, CONTROLLER_REVISIONS, `${LABEL_NAME}=${lws}`))
    .filter((r) => r.metadata?.ownerReferences?.some((o) => o.controller && o.kind === "LeaderWorkerSet"))
    .sort((a, b) => a.revision - b.revision);
}

function byName(a: KubeObject, b: KubeObject): number {
  return (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? "", "en", { numeric: true });
}

/** An events.k8s.io event, reduced to what tests compare. */
export interface SeenEvent {
  reason: string;
  type: string;
  note: string;
  action: string;
  /** Occurrences (series count, or 1). */
  count: number;
  regarding: string;
  related: string | undefined;
  reportingController: string;
}

/** The events.k8s.io events of the namespace regarding the LeaderWorkerSet `lwsName` (all of them when omitted). */
export async function eventsOf(product: Product, lwsName?: string): Promise<SeenEvent[]> {
  const events = await listObjects<Event>(product, EVENTS);
  return events
    .filter((e) => lwsName === undefined || (e.regarding?.kind === "LeaderWorkerSet" && e.regarding.name === lwsName))
    .map((e) => ({
      reason: e.reason ?? "",
      type: e.type ?? "",
      note: e.note ?? "",
      action: e.action ?? "",
      count: e.series?.count ?? 1,
      regarding: `${e.regarding?.kind}/${e.regarding?.name}`,
      related: e.related ? `${e.related.kind}/${e.related.name}` : undefined,
      reportingController: e.reportingController ?? "",
    }));
}

/** Total occurrences of events with this reason (and note, when given). */
export function countEvents(events: readonly SeenEvent[], reason: string, note?: string | RegExp): number {
  return events
    .filter((e) =>
      e.reason === reason && (note === undefined || (typeof note === "string" ? e.note === note : note.test(e.note)))
    )
    .reduce((sum, e) => sum + e.count, 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Waits

/** A condition of an LWS status. */
export function conditionOf(lws: LeaderWorkerSet, type: string): Condition | undefined {
  return lws.status?.conditions?.find((c) => c.type === type);
}

/**
 * Waits until the LWS is Available (True, observedGeneration = generation, status.observedGeneration too), with
 * the given ready/updated counts (default: all N groups) and `status.replicas` N (surge groups gone), and returns it.
 */
export async function waitAvailable(
  product: Product,
  name: string,
  options: EventuallyOptions & { ready?: number } = {},
): Promise<LeaderWorkerSet> {
  return await eventually(`LeaderWorkerSet ${name} to be Available`, async () => {
    const lws = await getLws(product, name);
    const available = conditionOf(lws, "Available");
    const n = lws.spec.replicas ?? 1;
    const ready = options.ready ?? n;
    const gen = lws.metadata.generation;
    const ok = available?.status === "True" && available.observedGeneration === gen &&
      lws.status?.observedGeneration === gen && (lws.status?.readyReplicas ?? 0) === ready &&
      (lws.status?.updatedReplicas ?? 0) === ready && (lws.status?.replicas ?? 0) === n;
    return ok ? lws : undefined;
  }, { timeoutMs: 90_000, intervalMs: 250, ...options });
}

/** Waits until every pod of the LWS is Running and Ready and there are exactly `count` of them. */
export async function waitPodsRunning(product: Product, name: string, count: number, timeoutMs = 90_000) {
  return await eventually(`${count} pods of ${name} Running and Ready`, async () => {
    const pods = await podsOf(product, name);
    const running = pods.filter((p) =>
      !p.metadata?.deletionTimestamp && p.status?.phase === "Running" &&
      p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True")
    );
    return pods.length === count && running.length === count ? pods : undefined;
  }, { timeoutMs, intervalMs: 250 });
}

/** Sleeps (for "nothing else happens" windows). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------------------------
// Expected objects (spec §6)

/** Expectations of {@linkcode assertGroups}. */
export interface ExpectedGroups {
  /** N. */
  replicas: number;
  /** S. */
  size: number;
  /** `UniquePerReplica` or `Shared` (default). */
  subdomainPolicy?: "Shared" | "UniquePerReplica";
}

/**
 * Asserts every object the spec prescribes for a settled LWS (all groups on one revision): the leader sts, worker
 * sts, services, revision and pods (names, labels, annotations, owner references, selectors, replicas,
 * podManagementPolicy, ordinals, service fields, env, labels from the webhook).
 *
 * @returns The current revision key.
 */
export async function assertGroups(product: Product, name: string, expected: ExpectedGroups): Promise<string> {
  const { replicas: n, size: s } = expected;
  const ns = product.namespace;
  const unique = expected.subdomainPolicy === "UniquePerReplica";
  const lws = await getLws(product, name);
  const revisions = await revisionsOfLws(product, name);
  assert.equal(revisions.length, 1, `one revision for ${name}: ${revisions.map((r) => r.metadata?.name)}`);
  const revision = revisions[0]!;
  const key = revision.metadata?.labels?.[`${P}template-revision-hash`] ?? "";
  assert.match(key, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.equal(revision.metadata?.name, `${name}-${key}-${revision.revision}`);
  assert.deepEqual(revision.metadata?.ownerReferences, [lwsOwner(lws)]);

  const sets = await statefulSetsOf(product, name);
  const leaderSts = sets.find((x) => x.metadata?.name === name);
  assert.ok(leaderSts, `leader sts ${name}`);
  assert.deepEqual(leaderSts.metadata?.ownerReferences, [lwsOwner(lws)]);
  assert.equal(leaderSts.metadata?.labels?.[`${P}name`], name);
  assert.equal(leaderSts.metadata?.labels?.[`${P}template-revision-hash`], key);
  assert.equal(leaderSts.metadata?.annotations?.[`${P}replicas`], String(n));
  assert.equal(leaderSts.spec?.serviceName, name);
  assert.equal(leaderSts.spec?.replicas, n);
  assert.equal(leaderSts.spec?.podManagementPolicy, "Parallel");
  assert.deepEqual(leaderSts.spec?.selector, { matchLabels: { [`${P}name`]: name, [`${P}worker-index`]: "0" } });
  assert.equal(leaderSts.spec?.updateStrategy?.type, "RollingUpdate");
  assert.equal(leaderSts.spec?.updateStrategy?.rollingUpdate?.partition, 0);
  const leaderTemplate = leaderSts.spec?.template.metadata;
  assert.equal(leaderTemplate?.labels?.[`${P}worker-index`], "0");
  assert.equal(leaderTemplate?.labels?.[`${P}name`], name);
  assert.equal(leaderTemplate?.labels?.[`${P}template-revision-hash`], key);
  assert.equal(leaderTemplate?.labels?.[`${P}group-index`], undefined);
  assert.equal(leaderTemplate?.annotations?.[`${P}size`], String(s));
  assert.equal(leaderTemplate?.annotations?.[`${P}subdomainPolicy`], unique ? "UniquePerReplica" : undefined);

  const pods = await podsOf(product, name);
  assert.equal(pods.length, n * s, `${n}×${s} pods: ${pods.map((p) => p.metadata?.name)}`);
  const workerSets = sets.filter((x) => x.metadata?.name !== name);
  assert.equal(workerSets.length, s === 1 ? 0 : n, `worker sts: ${workerSets.map((x) => x.metadata?.name)}`);
  for (let g = 0; g < n; g++) {
    const leaderName = `${name}-${g}`;
    const gk = groupKey(ns, leaderName);
    const leader = pods.find((p) => p.metadata?.name === leaderName);
    assert.ok(leader, `leader pod ${leaderName}`);
    const subdomain = unique ? leaderName : name;
    assertPod(leader, { lws: name, group: g, worker: 0, size: s, key, groupKey: gk, subdomain, namespace: ns });
    assert.equal(leader.metadata?.annotations?.[`${P}leader-name`], undefined);
    for (let w = 1; w < s; w++) {
      const worker = pods.find((p) => p.metadata?.name === `${leaderName}-${w}`);
      assert.ok(worker, `worker pod ${leaderName}-${w}`);
      assertPod(worker, { lws: name, group: g, worker: w, size: s, key, groupKey: gk, subdomain, namespace: ns });
      assert.equal(worker.metadata?.annotations?.[`${P}leader-name`], leaderName);
    }
    if (s > 1) {
      const sts = workerSets.find((x) => x.metadata?.name === leaderName);
      assert.ok(sts, `worker sts ${leaderName}`);
      const selector = { [`${P}group-index`]: String(g), [`${P}name`]: name, [`${P}group-key`]: gk };
      assert.deepEqual(sts.metadata?.ownerReferences, [{
        apiVersion: "v1",
        kind: "Pod",
        name: leaderName,
        uid: leader.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      }]);
      assert.deepEqual(sts.metadata?.labels, {
        ...lws.metadata.labels,
        ...selector,
        [`${P}template-revision-hash`]: key,
      });
      assert.equal(sts.spec?.serviceName, unique ? leaderName : name);
      assert.equal(sts.spec?.replicas, s - 1);
      assert.equal(sts.spec?.podManagementPolicy, "Parallel");
      assert.deepEqual(sts.spec?.ordinals, { start: 1 });
      assert.deepEqual(sts.spec?.selector, { matchLabels: selector });
      const t = sts.spec?.template.metadata;
      assert.deepEqual(
        Object.fromEntries(Object.entries(t?.labels ?? {}).filter(([k]) => k.startsWith(P))),
        { ...selector, [`${P}template-revision-hash`]: key },
      );
      assert.equal(t?.annotations?.[`${P}size`], String(s));
      assert.equal(t?.annotations?.[`${P}leader-name`], leaderName);
    }
  }

  const services = await servicesOf(product, name);
  if (unique) {
    assert.deepEqual(services.map((x) => x.metadata?.name), Array.from({ length: n }, (_, g) => `${name}-${g}`));
    for (const [g, svc] of services.entries()) {
      const leader = pods.find((p) => p.metadata?.name === `${name}-${g}`)!;
      assert.deepEqual(svc.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid, o.controller]), [
        ["Pod", `${name}-${g}`, leader.metadata?.uid, true],
      ]);
      assertHeadless(svc, name, { [`${P}name`]: name, [`${P}group-index`]: String(g) });
    }
  } else {
    assert.deepEqual(services.map((x) => x.metadata?.name), [name]);
    assert.deepEqual(services[0]!.metadata?.ownerReferences, [lwsOwner(lws)]);
    assertHeadless(services[0]!, name, { [`${P}name`]: name });
  }
  return key;
}

function assertHeadless(svc: Service, lws: string, selector: Record<string, string>): void {
  assert.deepEqual(svc.metadata?.labels, { [`${P}name`]: lws });
  assert.equal(svc.spec?.clusterIP, "None");
  assert.deepEqual(svc.spec?.selector, selector);
  assert.equal(svc.spec?.publishNotReadyAddresses, true);
  assert.equal(svc.spec?.ports ?? undefined, undefined, "no ports");
}

/** The controller owner reference to an LWS. */
export function lwsOwner(lws: LeaderWorkerSet) {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    name: lws.metadata.name,
    uid: lws.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

interface PodExpectation {
  lws: string;
  group: number;
  worker: number;
  size: number;
  key: string;
  groupKey: string;
  subdomain: string;
  namespace: string;
}

function assertPod(pod: Pod, e: PodExpectation): void {
  const labels = pod.metadata?.labels ?? {};
  const what = pod.metadata?.name;
  assert.equal(labels[`${P}name`], e.lws, `${what} name label`);
  assert.equal(labels[`${P}group-index`], String(e.group), `${what} group-index`);
  assert.equal(labels[`${P}worker-index`], String(e.worker), `${what} worker-index`);
  assert.equal(labels[`${P}group-key`], e.groupKey, `${what} group-key`);
  assert.equal(labels[`${P}template-revision-hash`], e.key, `${what} revision`);
  assert.equal(pod.metadata?.annotations?.[`${P}size`], String(e.size), `${what} size annotation`);
  assert.equal(pod.spec?.subdomain, e.subdomain, `${what} subdomain`);
  for (const c of pod.spec?.containers ?? []) {
    assert.deepEqual(c.env?.slice(0, 3), [
      { name: "LWS_LEADER_ADDRESS", value: `${e.lws}-${e.group}.${e.subdomain}.${e.namespace}` },
      { name: "LWS_GROUP_SIZE", value: String(e.size) },
      { name: "LWS_WORKER_INDEX", value: String(e.worker) },
    ], `${what}/${c.name} env`);
  }
}

/**
 * Asserts the status of a settled, Available LWS (spec §7.9, §7.10): counts, hpaPodSelector, observedGeneration,
 * Available True with its reason and message.
 */
export function assertAvailableStatus(lws: LeaderWorkerSet): void {
  const n = lws.spec.replicas ?? 1;
  const name = lws.metadata.name;
  const gen = lws.metadata.generation;
  assert.equal(lws.status?.replicas, n === 0 ? undefined : n);
  assert.equal(lws.status?.readyReplicas, n === 0 ? undefined : n);
  assert.equal(lws.status?.updatedReplicas, n === 0 ? undefined : n);
  assert.equal(lws.status?.hpaPodSelector, `${P}name=${name},${P}worker-index=0`);
  assert.equal(lws.status?.observedGeneration, gen);
  const available = conditionOf(lws, "Available");
  assert.equal(available?.status, "True");
  assert.equal(available?.reason, "AllGroupsReady");
  assert.equal(available?.message, "All replicas are ready");
  assert.equal(available?.observedGeneration, gen);
  const progressing = conditionOf(lws, "Progressing");
  if (progressing) {
    assert.equal(progressing.status, "False");
    assert.equal(progressing.message, "Replicas are progressing");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Nodes

/**
 * Gives every fake node `google.com/tpu` capacity (16), so TPU-requesting pods schedule. Idempotent; nodes that
 * have some already are left alone; harmless for tests that request none.
 *
 * @param cluster The test cluster.
 */
export async function ensureTpuCapacity(cluster: TestCluster): Promise<void> {
  const nodes = JSON.parse(await cluster.kubectlOk(["get", "nodes", "-o", "json"])) as { items: Node[] };
  for (const node of nodes.items) {
    if (node.status?.allocatable?.["google.com/tpu"]) continue;
    const patch = { status: { capacity: { "google.com/tpu": "16" }, allocatable: { "google.com/tpu": "16" } } };
    const args = ["patch", "node", node.metadata!.name!, "--subresource=status", "--type=merge"];
    await cluster.kubectlOk([...args, "-p", JSON.stringify(patch)]);
  }
}
