/**
 * Exclusive placement with the real scheduler on the labelled KWOK nodes: every group lands inside one topology
 * domain and no two groups share one (the leader carries the affinity terms, the workers follow it through the
 * worker StatefulSet's nodeSelector); the same for subgroups.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import { NODES, STATEFUL_SETS } from "../../kube/resources.ts";
import { clusterTest, TOPOLOGY_LABELS } from "../cluster/harness.ts";
import {
  assertAvailableStatus,
  assertGroups,
  getObject,
  kubectlApply,
  lwsManifest,
  podsOf,
  type Product,
  startProduct,
  waitAvailable,
} from "./support/product.ts";

const P = "leaderworkerset.sigs.k8s.io/";

async function domainsOf(product: Product, pods: Pod[], key: string): Promise<Map<string, string>> {
  const nodes = new Map<string, Node>();
  const result = new Map<string, string>();
  for (const pod of pods) {
    const nodeName = pod.spec?.nodeName;
    assert.ok(nodeName, `${pod.metadata?.name} is scheduled`);
    let node = nodes.get(nodeName);
    if (!node) nodes.set(nodeName, node = (await getObject<Node>(product, NODES, nodeName))!);
    const value = node.metadata?.labels?.[key];
    assert.ok(value, `node ${nodeName} has ${key}`);
    result.set(pod.metadata!.name!, value);
  }
  return result;
}

/** Groups pods by a label and asserts each group sits in one domain, and no two groups share one. */
function assertExclusive(pods: Pod[], domains: Map<string, string>, groupLabel: string): Map<string, string> {
  const byGroup = new Map<string, Set<string>>();
  for (const pod of pods) {
    const group = pod.metadata?.labels?.[groupLabel];
    if (group === undefined) continue;
    let set = byGroup.get(group);
    if (!set) byGroup.set(group, set = new Set());
    set.add(domains.get(pod.metadata!.name!)!);
  }
  const owner = new Map<string, string>();
  for (const [group, set] of byGroup) {
    assert.equal(set.size, 1, `${groupLabel}=${group} spans ${[...set]}`);
    const domain = [...set][0]!;
    assert.equal(owner.get(domain), undefined, `${domain} holds ${owner.get(domain)} and ${group}`);
    owner.set(domain, group);
  }
  return new Map([...byGroup].map(([group, set]) => [group, [...set][0]!]));
}

clusterTest("controllers: exclusive placement puts each group alone in one rack", async ({ cluster, namespace }) => {
  await using product = await startProduct(cluster, namespace);
  const key = TOPOLOGY_LABELS.rack;
  await kubectlApply(
    product,
    lwsManifest("excl", { replicas: 3, size: 3, annotations: { [`${P}exclusive-topology`]: key } }),
  );
  assertAvailableStatus(await waitAvailable(product, "excl"));
  await assertGroups(product, "excl", { replicas: 3, size: 3 });
  const pods = await podsOf(product, "excl");
  const domains = await domainsOf(product, pods, key);
  const groupDomains = assertExclusive(pods, domains, `${P}group-index`);
  assert.equal(groupDomains.size, 3);
  for (const [group, rack] of groupDomains) {
    const sts = await getObject<StatefulSet>(product, STATEFUL_SETS, `excl-${group}`);
    assert.deepEqual(sts?.spec?.template.spec?.nodeSelector, { [key]: rack }, "workers pinned to the leader's rack");
    assert.equal(sts?.spec?.template.metadata?.annotations?.[`${P}exclusive-topology`], key);
    const leader = pods.find((p) => p.metadata?.name === `excl-${group}`)!;
    const affinity = leader.spec?.affinity;
    assert.equal(affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey, key);
    assert.equal(affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey, key);
  }
});

clusterTest("controllers: subgroup exclusive placement puts each subgroup alone on one node", async ({
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  const key = TOPOLOGY_LABELS.hostname;
  await kubectlApply(
    product,
    lwsManifest("subexcl", {
      replicas: 2,
      size: 4,
      annotations: { [`${P}subgroup-exclusive-topology`]: key },
      spec: { leaderWorkerTemplate: { subGroupPolicy: { subGroupSize: 2 } } },
    }),
  );
  assertAvailableStatus(await waitAvailable(product, "subexcl"));
  const pods = await podsOf(product, "subexcl");
  const domains = await domainsOf(product, pods, key);
  const subgroups = assertExclusive(pods, domains, `${P}subgroup-key`);
  assert.equal(subgroups.size, 4, "2 groups × 2 subgroups");
});
