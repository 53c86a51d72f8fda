/**
 * The `workload` gang-scheduling provider on the real control plane (Kubernetes 1.37, feature gate
 * `GenericWorkload`, `scheduling.k8s.io/v1beta1` served — see tests/cluster/control_plane.ts): the default
 * kube-scheduler places a group all-or-nothing, with no other scheduler.
 *
 * Capacity scenario, on two KWOK nodes of the test's own (tainted for its namespace, so no other test's pods land
 * there, and carrying an extended resource `lws-test.x-k8s.io/slot` of 4 each, so 8 slots): groups of 3 pods, one
 * slot per pod.
 * - with the provider: two groups (6 slots) are scheduled whole; a third group (3 slots, only 2 free) has **no** pod
 *   bound, checked on every pod over a window after the scheduler tried it; deleting the first LWS frees capacity
 *   and the waiting group is then scheduled whole;
 * - without the provider, the same layout: the default scheduler binds 2 of the third group's 3 pods (a partial
 *   group) — what the provider prevents, and proof that the first test can fail.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import type { SchedulingPodGroup } from "../../controller/pod/gang.ts";
import { NODES, SCHEDULING_POD_GROUPS } from "../../kube/resources.ts";
import { clusterTest, eventually } from "../cluster/harness.ts";
import { getObject, kubectlApply, lwsManifest, podsOf, type Product, sleep, startProduct } from "./support/product.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const POOL = "lws-test.x-k8s.io/gang-pool";
const SLOT = "lws-test.x-k8s.io/slot";
/** How long the waiting group is watched for a bound pod. */
const WINDOW_MS = 15_000;

/** Creates the test's two KWOK nodes (4 slots each, tainted and labelled for `namespace`) and waits until Ready. */
async function createPool(product: Product): Promise<{ names: string[]; [Symbol.asyncDispose](): Promise<void> }> {
  const ns = product.namespace;
  const names = [`${ns}-a`, `${ns}-b`];
  // google.com/tpu too, like every node of the cluster: ensureTpuCapacity() (samples test) then leaves these alone.
  const resources = { cpu: "32", memory: "256Gi", pods: "110", "google.com/tpu": "8", [SLOT]: "4" };
  for (const name of names) {
    await product.client.create<Node>(NODES, {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name,
        labels: { "kubernetes.io/hostname": name, [POOL]: ns, type: "kwok" },
        annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      },
      spec: { taints: [{ key: POOL, value: ns, effect: "NoSchedule" }] },
      status: { capacity: resources, allocatable: resources },
    });
  }
  const dispose = async () => {
    for (const name of names) await product.client.delete(NODES, name).catch(() => {});
  };
  try {
    await eventually("the gang pool nodes to be Ready", async () => {
      for (const name of names) {
        const node = await getObject<Node>(product, NODES, name);
        if (!node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return false;
      }
      return true;
    }, { timeoutMs: 60_000, intervalMs: 250 });
  } catch (err) {
    await dispose();
    throw err;
  }
  return { names, [Symbol.asyncDispose]: dispose };
}

/** An LWS of `replicas` groups of 3 pods, one slot each, on the test's nodes only. */
function slotLws(name: string, namespace: string, replicas: number) {
  return lwsManifest(name, {
    replicas,
    size: 3,
    spec: {
      leaderWorkerTemplate: {
        workerTemplate: {
          spec: {
            nodeSelector: { [POOL]: namespace },
            tolerations: [{ key: POOL, operator: "Equal", value: namespace, effect: "NoSchedule" }],
            containers: [{
              name: "worker",
              image: "nginx:1.27",
              resources: { requests: { [SLOT]: "1" }, limits: { [SLOT]: "1" } },
            }],
          },
        },
      },
    },
  });
}

const bound = (pods: Pod[]) => pods.filter((p) => p.spec?.nodeName);
const unschedulable = (pod: Pod) =>
  pod.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False") ?? false;

/** Waits until the LWS has `count` pods, all bound and Running. */
async function waitBound(product: Product, name: string, count: number): Promise<Pod[]> {
  return await eventually(`${count} pods of ${name} bound and Running`, async () => {
    const pods = (await podsOf(product, name)).filter((p) => !p.metadata?.deletionTimestamp);
    const running = pods.filter((p) => p.spec?.nodeName && p.status?.phase === "Running");
    return pods.length === count && running.length === count ? pods : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 });
}

clusterTest(
  "gang workload: the kube-scheduler binds a group whole or not at all",
  async ({ t, cluster, namespace }) => {
    await using product = await startProduct(cluster, namespace, { gangProvider: "workload" });
    await using pool = await createPool(product);

    await t.step("two groups that fit are scheduled whole, with a Workload API PodGroup each", async () => {
      await kubectlApply(product, slotLws("fits", namespace, 2));
      const pods = await waitBound(product, "fits", 6);
      for (const pod of pods) {
        assert.ok(pool.names.includes(pod.spec!.nodeName!), `${pod.metadata?.name} on ${pod.spec?.nodeName}`);
        const g = pod.metadata?.labels?.[`${P}group-index`];
        const key = pod.metadata?.labels?.[`${P}template-revision-hash`];
        const group = `fits-${g}-${key}`;
        assert.deepEqual((pod.spec as { schedulingGroup?: unknown }).schedulingGroup, { podGroupName: group });
        const pg = await getObject<SchedulingPodGroup>(product, SCHEDULING_POD_GROUPS, group);
        assert.ok(pg, `PodGroup ${group}`);
        assert.deepEqual(pg.spec.schedulingPolicy, { gang: { minCount: 3 } });
        assert.equal(pg.metadata.labels?.[`${P}name`], "fits");
        const leader = pods.find((p) => p.metadata?.name === `fits-${g}`);
        assert.equal(pg.metadata.ownerReferences?.[0]?.uid, leader?.metadata?.uid, `${group} owned by its leader`);
      }
    });

    await t.step("a group that does not fit has no pod bound", async () => {
      await kubectlApply(product, slotLws("waits", namespace, 1));
      // The whole gang exists and the scheduler has tried it.
      await eventually("the 3 pods of waits to exist, unschedulable", async () => {
        const pods = await podsOf(product, "waits");
        return pods.length === 3 && pods.every(unschedulable);
      }, { timeoutMs: 60_000, intervalMs: 250 });
      const deadline = Date.now() + WINDOW_MS;
      let samples = 0;
      while (Date.now() < deadline) {
        const pods = await podsOf(product, "waits");
        assert.deepEqual(
          bound(pods).map((p) => `${p.metadata?.name} on ${p.spec?.nodeName}`),
          [],
          "no pod of a group that does not fit is bound",
        );
        samples++;
        await sleep(200);
      }
      assert.ok(samples > 10, `only ${samples} samples`);
      assert.equal((await podsOf(product, "fits")).length, 6, "the fitting groups are untouched");
    });

    await t.step("freeing capacity schedules the waiting group whole", async () => {
      await cluster.kubectlOk(["delete", "lws", "fits", "--wait=false"], { namespace });
      const pods = await waitBound(product, "waits", 3);
      for (const pod of pods) assert.ok(pool.names.includes(pod.spec!.nodeName!));
    });
  },
);

clusterTest("gang workload off: the default scheduler binds part of a group that does not fit", async ({
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  await using _pool = await createPool(product);
  await kubectlApply(product, slotLws("fits", namespace, 2));
  await waitBound(product, "fits", 6);
  await kubectlApply(product, slotLws("waits", namespace, 1));
  const pods = await eventually("2 of the 3 pods of waits bound, 1 unschedulable", async () => {
    const pods = await podsOf(product, "waits");
    const pending = pods.filter((p) => !p.spec?.nodeName);
    return pods.length === 3 && bound(pods).length === 2 && pending.every(unschedulable) ? pods : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250 });
  assert.equal(bound(pods).length, 2, "a partial group: what gang scheduling prevents");
  for (const pod of pods) assert.equal(pod.metadata?.annotations?.["scheduling.k8s.io/group-name"], undefined);
});
