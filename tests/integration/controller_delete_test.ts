/**
 * Deletion on the real control plane: foreground and background deletion of an LWS remove every owned object
 * through owner references (no finalizers); a deleted leader pod's worker StatefulSet goes with it and the new
 * leader gets a new one; a deleted worker StatefulSet is recreated for the same leader without restarting it.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod, Service } from "kubernetes-types/core/v1.d.ts";
import { CONTROLLER_REVISIONS, PODS, SERVICES, STATEFUL_SETS } from "../../kube/resources.ts";
import { clusterTest, eventually } from "../cluster/harness.ts";
import {
  assertGroups,
  countEvents,
  eventsOf,
  getObject,
  kubectlApply,
  listObjects,
  lwsManifest,
  podsOf,
  type Product,
  startProduct,
  waitAvailable,
} from "./support/product.ts";

const P = "leaderworkerset.sigs.k8s.io/";

async function leftovers(product: Product, name: string): Promise<string[]> {
  const selector = `${P}name=${name}`;
  const found = [
    ...(await listObjects<Pod>(product, PODS, selector)).map((o) => `pod/${o.metadata?.name}`),
    ...(await listObjects<StatefulSet>(product, STATEFUL_SETS, selector)).map((o) => `sts/${o.metadata?.name}`),
    ...(await listObjects<Service>(product, SERVICES, selector)).map((o) => `svc/${o.metadata?.name}`),
    ...(await listObjects<ControllerRevision>(product, CONTROLLER_REVISIONS, selector)).map((o) =>
      `controllerrevision/${o.metadata?.name}`
    ),
  ];
  return found;
}

clusterTest("controllers: foreground and background deletion remove every owned object", async ({
  t,
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  await kubectlApply(
    product,
    lwsManifest("fg", { replicas: 2, size: 3 }),
    lwsManifest("bg", { replicas: 2, size: 3, spec: { networkConfig: { subdomainPolicy: "UniquePerReplica" } } }),
  );
  await waitAvailable(product, "fg");
  await waitAvailable(product, "bg");
  for (const [name, cascade] of [["fg", "foreground"], ["bg", "background"]] as const) {
    await t.step(`${cascade} deletion`, async () => {
      assert.ok((await leftovers(product, name)).length > 0);
      const started = Date.now();
      await cluster.kubectlOk(["delete", "lws", name, `--cascade=${cascade}`, "--wait=false"], { namespace });
      await eventually(`everything of ${name} to go`, async () => {
        const lws = await cluster.kubectl(["get", "lws", name], { namespace });
        const left = await leftovers(product, name);
        return lws.code !== 0 && left.length === 0 ? true : undefined;
      }, { timeoutMs: 90_000, intervalMs: 250 });
      console.log(`  ${cascade} deletion of 2 groups × 3 pods: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
  }
});

clusterTest("controllers: a deleted leader pod takes its worker sts along; a deleted worker sts comes back", async ({
  t,
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  await kubectlApply(
    product,
    lwsManifest("orphan", { replicas: 2, size: 3, spec: { networkConfig: { subdomainPolicy: "UniquePerReplica" } } }),
  );
  await waitAvailable(product, "orphan");

  await t.step("leader pod deleted", async () => {
    const oldSts = await getObject<StatefulSet>(product, STATEFUL_SETS, "orphan-1");
    const oldSvc = await getObject<Service>(product, SERVICES, "orphan-1");
    const oldLeader = await getObject<Pod>(product, PODS, "orphan-1");
    await cluster.kubectlOk(["delete", "pod", "orphan-1", "--wait=false"], { namespace });
    await eventually("a new worker sts owned by the new leader", async () => {
      const leader = await getObject<Pod>(product, PODS, "orphan-1");
      const sts = await getObject<StatefulSet>(product, STATEFUL_SETS, "orphan-1");
      const svc = await getObject<Service>(product, SERVICES, "orphan-1");
      return leader && leader.metadata?.uid !== oldLeader?.metadata?.uid && sts &&
        sts.metadata?.uid !== oldSts?.metadata?.uid &&
        sts.metadata?.ownerReferences?.[0]?.uid === leader.metadata?.uid &&
        svc && svc.metadata?.uid !== oldSvc?.metadata?.uid;
    }, { timeoutMs: 60_000 });
    await waitAvailable(product, "orphan");
    await assertGroups(product, "orphan", { replicas: 2, size: 3, subdomainPolicy: "UniquePerReplica" });
    assert.equal(countEvents(await eventsOf(product, "orphan"), "RecreateGroup"), 0, "a deleting leader is no restart");
  });

  await t.step("worker sts deleted", async () => {
    const leader = await getObject<Pod>(product, PODS, "orphan-0");
    const oldSts = await getObject<StatefulSet>(product, STATEFUL_SETS, "orphan-0");
    await cluster.kubectlOk(["delete", "sts", "orphan-0", "--wait=false"], { namespace });
    await eventually("the worker sts recreated for the same leader", async () => {
      const sts = await getObject<StatefulSet>(product, STATEFUL_SETS, "orphan-0");
      return sts && sts.metadata?.uid !== oldSts?.metadata?.uid;
    }, { timeoutMs: 60_000 });
    await waitAvailable(product, "orphan");
    const after = await getObject<Pod>(product, PODS, "orphan-0");
    assert.equal(after?.metadata?.uid, leader?.metadata?.uid, "the leader is not restarted");
    assert.equal((await podsOf(product, "orphan")).length, 6);
    assert.equal(countEvents(await eventsOf(product, "orphan"), "RecreateGroup"), 0);
  });
});
