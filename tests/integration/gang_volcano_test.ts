/**
 * Gang scheduling with Volcano (spec §10, §9.2) on the real control plane: Volcano's own scheduler (`vc-scheduler`
 * v1.10.0, built from its Go module by `tests/cluster/build.sh` and started by `cluster:up`) binds the pods, KWOK
 * makes them Running, and the product runs with `gangSchedulingManagement.schedulerProvider: volcano`.
 *
 * - Capacity: two nodes get an extended resource of this test's own (3 units each; no other test requests it), so
 *   the scenario is exact whatever runs next to it. A blocker group holds 2 units; of two 3-pod groups only one
 *   fits the 4 units left. Volcano binds that one whole and **no** pod of the other, checked over a window (same
 *   pod UIDs at both ends and never a bound pod in between); deleting the blocker lets the waiting group in whole.
 *   The negative control runs the same workload with the default scheduler and no gang: it ends up partially
 *   placed, and the same check rejects that, so the check can fail.
 * - PodGroups: field by field against spec §10 (name, labels, `volcano.sh/` annotations, owner reference to the
 *   leader pod, minMember, minResources by the effective-request rule worked out by hand below, queue), for
 *   LeaderCreated and LeaderReady, after a rolling update and after a resize (new names with the new revision key,
 *   old ones gone with their leaders), and deleted with the LWS by the garbage collector.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { PodSpec } from "kubernetes-types/core/v1.d.ts";
import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";
import { VOLCANO_POD_GROUPS } from "../../kube/resources.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { clusterTest, eventually, type TestCluster } from "../cluster/harness.ts";
import { VOLCANO_DEFAULT_QUEUE, VOLCANO_SCHEDULER_NAME } from "../cluster/control_plane.ts";
import {
  kubectlApply,
  listObjects,
  lwsManifest,
  podsOf,
  type Product,
  revisionsOfLws,
  sleep,
  startProduct,
  waitAvailable,
  waitPodsRunning,
} from "./support/product.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const GROUP_NAME = "scheduling.k8s.io/group-name";
const QUEUE_NAME = "scheduling.volcano.sh/queue-name";

/** A Volcano `scheduling.volcano.sh/v1beta1` PodGroup, as far as these tests read it. */
interface PodGroup {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: { minMember?: number; minResources?: Record<string, string>; queue?: string; [field: string]: unknown };
  status?: { phase?: string; running?: number; conditions?: { type?: string; status?: string; message?: string }[] };
}

/** Fails with a clear message when the cluster runs no Volcano scheduler (never skips). */
async function requireVolcano(cluster: TestCluster): Promise<void> {
  const result = await cluster.kubectl(["get", "queues.scheduling.volcano.sh", VOLCANO_DEFAULT_QUEUE, "-o", "name"]);
  if (result.code !== 0) {
    throw new Error(
      `This cluster has no Volcano scheduler (no Queue ${VOLCANO_DEFAULT_QUEUE}: ${result.stderr.trim()}). ` +
        "It was started before Volcano was part of `cluster:up`, or with --no-volcano: " +
        "run `deno task cluster:down && deno task cluster:up`.",
    );
  }
}

/** Starts the product with gang scheduling through Volcano. */
function startGangProduct(cluster: TestCluster, namespace: string): Promise<Product> {
  return startProduct(cluster, namespace, { gangProvider: "volcano" });
}

// ---------------------------------------------------------------------------------------------------------------
// Capacity: an extended resource of the test's own on two nodes

/**
 * Gives `nodes` nodes `units` of the extended resource `resource` (status capacity and allocatable); removes it
 * again when disposed.
 */
async function grantCapacity(
  cluster: TestCluster,
  resource: string,
  nodes: number,
  units: number,
): Promise<AsyncDisposable & { nodes: string[] }> {
  const all = JSON.parse(await cluster.kubectlOk(["get", "nodes", "-o", "json"])) as {
    items: { metadata: { name: string; annotations?: Record<string, string> }; spec?: { taints?: unknown[] } }[];
  };
  // Only the cluster's own untainted fake nodes: other tests add tainted KWOK nodes of their own for a while (the
  // native gang test's pool sorts before `kwok-node-*`), and this test's pods could not land there.
  const names = all.items
    .filter((n) => n.metadata.annotations?.["kwok.x-k8s.io/node"] === "fake" && !(n.spec?.taints?.length))
    .map((n) => n.metadata.name)
    .sort()
    .slice(0, nodes);
  assert.equal(names.length, nodes, `${nodes} fake nodes to grant ${resource} on`);
  const patch = (value: string | null) =>
    JSON.stringify({ status: { capacity: { [resource]: value }, allocatable: { [resource]: value } } });
  for (const name of names) {
    await cluster.kubectlOk([
      "patch",
      "node",
      name,
      "--subresource=status",
      "--type=merge",
      "-p",
      patch(String(units)),
    ]);
  }
  return {
    nodes: names,
    [Symbol.asyncDispose]: async () => {
      for (const name of names) {
        await cluster.kubectl(["patch", "node", name, "--subresource=status", "--type=merge", "-p", patch(null)]);
      }
    },
  };
}

/** An LWS whose every pod asks for one unit of `resource` (plus a little CPU and memory). */
function unitLws(
  name: string,
  options: { replicas: number; size: number; resource: string; schedulerName?: string },
): LeaderWorkerSet {
  const one = { cpu: "100m", memory: "64Mi", [options.resource]: "1" };
  const spec: PodSpec = {
    ...(options.schedulerName ? { schedulerName: options.schedulerName } : {}),
    containers: [{
      name: "main",
      image: "nginx:1.27",
      resources: { requests: one, limits: { [options.resource]: "1" } },
    }],
  };
  return lwsManifest(name, {
    replicas: options.replicas,
    size: options.size,
    spec: { leaderWorkerTemplate: { workerTemplate: { spec } } },
  });
}

/** Bound pods (spec.nodeName set) per group index, and every pod's UID. */
interface Placement {
  /** group index → [bound, total] */
  groups: Map<string, { bound: number; total: number }>;
  uids: Map<string, string>;
}

async function placement(product: Product, lws: string): Promise<Placement> {
  const pods = (await podsOf(product, lws)).filter((p) => !p.metadata?.deletionTimestamp);
  const groups = new Map<string, { bound: number; total: number }>();
  const uids = new Map<string, string>();
  for (const pod of pods) {
    const g = pod.metadata?.labels?.[`${P}group-index`] ?? "?";
    const entry = groups.get(g) ?? { bound: 0, total: 0 };
    entry.total++;
    if (pod.spec?.nodeName) entry.bound++;
    groups.set(g, entry);
    uids.set(pod.metadata!.name!, pod.metadata!.uid!);
  }
  return { groups, uids };
}

/** Throws unless every group of `size` pods is either bound whole or has no pod bound. */
function assertWholeOrNothing(seen: Placement, size: number, what: string): void {
  for (const [g, { bound, total }] of seen.groups) {
    assert.equal(total, size, `${what}: group ${g} has all ${size} pods created (got ${total})`);
    assert.ok(bound === 0 || bound === size, `${what}: group ${g} is partially placed: ${bound} of ${size} pods bound`);
  }
}

function describe(seen: Placement): string {
  return [...seen.groups].map(([g, { bound, total }]) => `group ${g}: ${bound}/${total} bound`).join(", ");
}

/** How long "no pod of the waiting group gets bound" is watched: many of Volcano's 1 s scheduling cycles. */
const WINDOW_MS = 12_000;

/**
 * The capacity scenario, for Volcano (`gang`) or the default scheduler without gang scheduling. Returns the
 * placement seen after the window, before the blocker is deleted.
 */
async function capacityScenario(
  product: Product,
  resource: string,
  schedulerName: string | undefined,
): Promise<{ settled: Placement; snapshots: Placement[] }> {
  // The blocker holds 2 of the 6 units.
  await kubectlApply(product, unitLws("blocker", { replicas: 1, size: 2, resource, schedulerName }));
  await waitPodsRunning(product, "blocker", 2);
  // Two groups of 3 for the 4 units left: one fits, the other does not.
  await kubectlApply(product, unitLws("train", { replicas: 2, size: 3, resource, schedulerName }));
  const settled = await eventually("every train pod created and 4 of them bound", async () => {
    const seen = await placement(product, "train");
    const bound = [...seen.groups.values()].reduce((sum, g) => sum + g.bound, 0);
    const total = [...seen.groups.values()].reduce((sum, g) => sum + g.total, 0);
    return total === 6 && (schedulerName === undefined ? bound === 4 : bound === 3) ? seen : undefined;
  }, { timeoutMs: 90_000, intervalMs: 250 });
  const snapshots = [settled];
  const end = Date.now() + WINDOW_MS;
  while (Date.now() < end) {
    await sleep(500);
    snapshots.push(await placement(product, "train"));
  }
  return { settled, snapshots };
}

clusterTest("volcano: a gang that does not fit gets no pod bound while the others are bound whole", async ({
  cluster,
  namespace,
}) => {
  await requireVolcano(cluster);
  await using product = await startGangProduct(cluster, namespace);
  const resource = `lws-test.x-k8s.io/gang-${namespace.slice(-6)}`;
  await using _capacity = await grantCapacity(cluster, resource, 2, 3);
  const { settled, snapshots } = await capacityScenario(product, resource, VOLCANO_SCHEDULER_NAME);
  for (const seen of snapshots) assertWholeOrNothing(seen, 3, describe(seen));
  const last = snapshots.at(-1)!;
  assert.deepEqual([...last.groups.values()].map((g) => g.bound).sort(), [0, 3], describe(last));
  // The same pods at both ends of the window: none was deleted and recreated, so a pod of the waiting group that
  // is unbound at the end was never bound in between (spec.nodeName is never cleared).
  assert.deepEqual(last.uids, settled.uids, "no train pod was recreated during the window");
  const waiting = [...last.groups].find(([, g]) => g.bound === 0)![0];

  // Volcano saw the waiting group and kept it out: its PodGroup is not Running.
  const key = (await revisionsOfLws(product, "train"))[0]!.metadata!.labels![`${P}template-revision-hash`]!;
  const groups = await listObjects<PodGroup & { metadata: { name: string } }>(product, VOLCANO_POD_GROUPS);
  const waitingGroup = groups.find((g) => g.metadata.name === `train-${waiting}-${key}`);
  assert.ok(waitingGroup, `PodGroup train-${waiting}-${key} exists: ${groups.map((g) => g.metadata.name)}`);
  assert.notEqual(waitingGroup.status?.phase, "Running", JSON.stringify(waitingGroup.status));

  // Freeing capacity lets the waiting group in, whole, with the same pods.
  await cluster.kubectlOk(["delete", "leaderworkerset", "blocker", "--wait=false"], { namespace });
  const running = await waitPodsRunning(product, "train", 6);
  for (const pod of running) {
    assert.equal(pod.metadata?.uid, last.uids.get(pod.metadata!.name!), `${pod.metadata?.name} was not recreated`);
    assert.equal(pod.spec?.schedulerName, VOLCANO_SCHEDULER_NAME);
  }
  await waitAvailable(product, "train");
});

clusterTest("volcano (negative control): without gang scheduling the same workload is partially placed", async ({
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  const resource = `lws-test.x-k8s.io/gang-${namespace.slice(-6)}`;
  await using _capacity = await grantCapacity(cluster, resource, 2, 3);
  const { snapshots } = await capacityScenario(product, resource, undefined);
  const last = snapshots.at(-1)!;
  // 4 of 6 pods bound over two groups of 3: at least one group is partial, whatever the scheduler picked.
  assert.ok(
    [...last.groups.values()].some((g) => g.bound > 0 && g.bound < 3),
    `a partially placed group: ${describe(last)}`,
  );
  assert.throws(() => assertWholeOrNothing(last, 3, describe(last)), /partially placed/);
  for (const pod of await podsOf(product, "train")) {
    assert.equal(pod.metadata?.annotations?.[GROUP_NAME], undefined, "no gang annotation without gang scheduling");
  }
});

// ---------------------------------------------------------------------------------------------------------------
// PodGroups field by field

/**
 * Templates whose effective requests (spec §10 `podRequests`) are worked out by hand:
 *
 * Leader: regular containers `leader` 250m/128Mi and `metrics` (limits only: counts nothing), sidecar `proxy`
 * 100m/32Mi declared before the init container `setup` 1/64Mi. Running set = 250m+100m = 350m, 128Mi+32Mi = 160Mi;
 * while `setup` runs: 1+100m = 1100m, 64Mi+32Mi = 96Mi. Per resource the maximum: **cpu 1100m, memory 160Mi**.
 *
 * Worker: container `worker` 500m/256Mi, init container `warmup` 2/16Mi: **cpu 2, memory 256Mi**.
 */
const LEADER_SPEC: PodSpec = {
  schedulerName: VOLCANO_SCHEDULER_NAME,
  initContainers: [
    {
      name: "proxy",
      image: "nginx:1.27",
      restartPolicy: "Always",
      resources: { requests: { cpu: "100m", memory: "32Mi" } },
    },
    { name: "setup", image: "busybox:1.36", resources: { requests: { cpu: "1", memory: "64Mi" } } },
  ],
  containers: [
    { name: "leader", image: "nginx:1.27", resources: { requests: { cpu: "250m", memory: "128Mi" } } },
    { name: "metrics", image: "nginx:1.27", resources: { limits: { cpu: "200m", memory: "16Mi" } } },
  ],
};
const WORKER_SPEC: PodSpec = {
  schedulerName: VOLCANO_SCHEDULER_NAME,
  initContainers: [{ name: "warmup", image: "busybox:1.36", resources: { requests: { cpu: "2", memory: "16Mi" } } }],
  containers: [{ name: "worker", image: "nginx:1.27", resources: { requests: { cpu: "500m", memory: "256Mi" } } }],
};

/**
 * `minResources` = podRequests(leader) + (S−1) × podRequests(worker), as Go's resource.Quantity prints the sums.
 * With a leader template: cpu 1100m + (S−1)·2, memory 160Mi + (S−1)·256Mi. Without one, the worker's S times.
 */
function expectedMinResources(size: number, withLeaderTemplate: boolean): Record<string, string> {
  const cpuMilli = (withLeaderTemplate ? 1100 : 2000) + (size - 1) * 2000;
  const memoryMi = (withLeaderTemplate ? 160 : 256) + (size - 1) * 256;
  return { cpu: cpuMilli % 1000 === 0 ? String(cpuMilli / 1000) : `${cpuMilli}m`, memory: `${memoryMi}Mi` };
}

/** The LWS annotations that must reach every PodGroup: those whose key starts with `volcano.sh/`. */
const VOLCANO_ANNOTATIONS = { "volcano.sh/preemptable": "false", "volcano.sh/lws-test": "carried" };

interface PodGroupCase {
  startupPolicy: "LeaderCreated" | "LeaderReady";
  /** LWS annotation `scheduling.volcano.sh/queue-name` (a Queue the test creates), or none. */
  queue?: string;
  withLeaderTemplate: boolean;
}

function gangLws(name: string, c: PodGroupCase, replicas: number, size: number): LeaderWorkerSet {
  return lwsManifest(name, {
    replicas,
    size,
    annotations: {
      ...VOLCANO_ANNOTATIONS,
      // Not `volcano.sh/`-prefixed: neither reaches the PodGroup's annotations.
      "example.com/not-volcano": "kept-out",
      ...(c.queue ? { [QUEUE_NAME]: c.queue } : {}),
    },
    spec: {
      startupPolicy: c.startupPolicy,
      leaderWorkerTemplate: {
        ...(c.withLeaderTemplate ? { leaderTemplate: { spec: LEADER_SPEC } } : {}),
        workerTemplate: { spec: WORKER_SPEC },
      },
    },
  });
}

/** The revision key all pods of the LWS are on (waits until there is exactly one). */
async function settledKey(product: Product, name: string, replicas: number, size: number): Promise<string> {
  await waitAvailable(product, name, { timeoutMs: 120_000 });
  return await eventually(`all pods of ${name} on one revision`, async () => {
    const pods = await podsOf(product, name);
    const keys = new Set(pods.map((p) => p.metadata?.labels?.[`${P}template-revision-hash`]));
    const live = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === "Running");
    return pods.length === replicas * size && live.length === pods.length && keys.size === 1 ? [...keys][0] : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
}

/**
 * Asserts the PodGroups of the namespace are exactly one per group, named `<lws>-<g>-<key>`, each matching spec §10
 * field by field, owned by the current leader pod, and that every pod carries the group-name annotation, was
 * scheduled by Volcano, and runs on a node.
 */
async function assertPodGroups(
  product: Product,
  name: string,
  c: PodGroupCase,
  shape: { replicas: number; size: number; key: string },
): Promise<void> {
  const { replicas, size, key } = shape;
  const pods = await podsOf(product, name);
  const expectedNames = Array.from({ length: replicas }, (_, g) => `${name}-${g}-${key}`);
  const groups = await eventually(`PodGroups ${expectedNames.join(", ")} and no others`, async () => {
    const all = await listObjects<PodGroup>(product, VOLCANO_POD_GROUPS);
    const names = all.map((g) => g.metadata.name).sort();
    return JSON.stringify(names) === JSON.stringify([...expectedNames].sort()) ? all : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  for (let g = 0; g < replicas; g++) {
    const groupName = `${name}-${g}-${key}`;
    const group = groups.find((x) => x.metadata.name === groupName)!;
    const leader = pods.find((p) => p.metadata?.name === `${name}-${g}`);
    assert.ok(leader, `leader ${name}-${g}`);
    assert.equal(group.apiVersion, "scheduling.volcano.sh/v1beta1");
    assert.equal(group.kind, "PodGroup");
    assert.deepEqual(group.metadata.labels, {
      [`${P}name`]: name,
      [`${P}group-index`]: String(g),
      [`${P}template-revision-hash`]: key,
    }, `${groupName} labels`);
    assert.deepEqual(group.metadata.annotations ?? {}, VOLCANO_ANNOTATIONS, `${groupName} annotations`);
    assert.deepEqual(group.metadata.ownerReferences, [{
      apiVersion: "v1",
      kind: "Pod",
      name: `${name}-${g}`,
      uid: leader.metadata?.uid,
      controller: true,
      blockOwnerDeletion: true,
    }], `${groupName} is owned by its current leader pod`);
    assert.equal(group.spec?.minMember, c.startupPolicy === "LeaderReady" ? 1 : size, `${groupName} minMember`);
    assert.deepEqual(
      group.spec?.minResources,
      expectedMinResources(size, c.withLeaderTemplate),
      `${groupName} minResources`,
    );
    assert.equal(group.spec?.queue, c.queue, `${groupName} queue`);
    // Volcano's scheduler admitted and ran it (it writes the status itself).
    assert.equal(group.status?.phase, "Running", `${groupName} status ${JSON.stringify(group.status)}`);
    const members = pods.filter((p) => p.metadata?.labels?.[`${P}group-index`] === String(g));
    assert.equal(members.length, size);
    for (const pod of members) {
      assert.equal(pod.metadata?.annotations?.[GROUP_NAME], groupName, `${pod.metadata?.name} ${GROUP_NAME}`);
      assert.equal(pod.spec?.schedulerName, VOLCANO_SCHEDULER_NAME);
      assert.ok(pod.spec?.nodeName, `${pod.metadata?.name} bound by Volcano`);
    }
  }
}

/** Creates a Volcano Queue for the test; deleted when disposed. */
async function testQueue(cluster: TestCluster, name: string): Promise<AsyncDisposable> {
  const queue = {
    apiVersion: "scheduling.volcano.sh/v1beta1",
    kind: "Queue",
    metadata: { name },
    spec: { weight: 1, reclaimable: true },
  };
  await cluster.kubectlOk(["create", "-f", "-"], { stdin: JSON.stringify(queue) });
  return {
    [Symbol.asyncDispose]: async () => {
      await cluster.kubectl(["delete", "queues.scheduling.volcano.sh", name, "--wait=false", "--ignore-not-found"]);
    },
  };
}

async function podGroupLifecycle(cluster: TestCluster, namespace: string, c: PodGroupCase): Promise<void> {
  await requireVolcano(cluster);
  await using _queue = c.queue ? await testQueue(cluster, c.queue) : undefined;
  await using product = await startGangProduct(cluster, namespace);
  const name = "gang";
  await kubectlApply(product, gangLws(name, c, 2, 3));
  const key1 = await settledKey(product, name, 2, 3);
  await assertPodGroups(product, name, c, { replicas: 2, size: 3, key: key1 });

  // Rolling update: a new revision key, so new PodGroups for the recreated leaders; the old ones go with them.
  const updated = gangLws(name, c, 2, 3);
  updated.spec.leaderWorkerTemplate.workerTemplate.metadata = { labels: { "example.com/rolled": "yes" } };
  await kubectlApply(product, updated);
  const key2 = await eventually("a new revision key", async () => {
    const key = await settledKey(product, name, 2, 3);
    return key !== key1 ? key : undefined;
  }, { timeoutMs: 180_000, intervalMs: 500 });
  await assertPodGroups(product, name, c, { replicas: 2, size: 3, key: key2 });

  // Resize (size 3 → 2): again new PodGroups, now with minMember and minResources for S = 2.
  await cluster.kubectlOk(
    [
      "patch",
      "leaderworkerset",
      name,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { leaderWorkerTemplate: { size: 2 } } }),
    ],
    { namespace },
  );
  const key3 = await eventually("the resized revision", async () => {
    const key = await settledKey(product, name, 2, 2);
    return key !== key2 ? key : undefined;
  }, { timeoutMs: 180_000, intervalMs: 500 });
  await assertPodGroups(product, name, c, { replicas: 2, size: 2, key: key3 });

  // Deleting the LWS deletes its PodGroups (garbage collector: LWS → leader StatefulSet → leader pods → PodGroups).
  await cluster.kubectlOk(["delete", "leaderworkerset", name, "--wait=false"], { namespace });
  await eventually("no PodGroups left", async () => {
    return (await listObjects<PodGroup>(product, VOLCANO_POD_GROUPS)).length === 0;
  }, { timeoutMs: 90_000, intervalMs: 500 });
}

clusterTest("volcano: PodGroups for LeaderCreated match spec §10 through a rolling update and a resize", async ({
  cluster,
  namespace,
}) => {
  await podGroupLifecycle(cluster, namespace, {
    startupPolicy: "LeaderCreated",
    queue: `lws-test-${namespace.slice(-6)}`,
    withLeaderTemplate: true,
  });
});

clusterTest("volcano: PodGroups for LeaderReady match spec §10 through a rolling update and a resize", async ({
  cluster,
  namespace,
}) => {
  await podGroupLifecycle(cluster, namespace, { startupPolicy: "LeaderReady", withLeaderTemplate: false });
});
