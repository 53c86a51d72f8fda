/**
 * Headless services (Shared vs UniquePerReplica) through scale-up and scale-down, and subgroups (LeaderWorker,
 * LeaderExcluded) on the real control plane.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { clusterTest, eventually } from "../cluster/harness.ts";
import {
  assertAvailableStatus,
  assertGroups,
  kubectlApply,
  lwsManifest,
  podsOf,
  servicesOf,
  startProduct,
  statefulSetsOf,
  waitAvailable,
} from "./support/product.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

clusterTest("controllers: Shared and UniquePerReplica services through scale-up and scale-down", async ({
  t,
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  const shared = lwsManifest("shared", { replicas: 2, size: 2 });
  const unique = lwsManifest("unique", {
    replicas: 2,
    size: 2,
    spec: { networkConfig: { subdomainPolicy: "UniquePerReplica" } },
  });
  await kubectlApply(product, shared, unique);
  const started = Date.now();
  for (const [replicas, how] of [[2, "created"], [3, "scaled up"], [1, "scaled down"]] as const) {
    await t.step(`${replicas} groups (${how})`, async () => {
      if (how === "scaled up") {
        await cluster.kubectlOk(["scale", "lws/shared", "--replicas=3"], { namespace });
        await kubectlApply(product, { ...unique, spec: { ...unique.spec, replicas: 3 } });
      } else if (how === "scaled down") {
        await kubectlApply(product, { ...shared, spec: { ...shared.spec, replicas: 1 } });
        await cluster.kubectlOk(["scale", "lws/unique", "--replicas=1"], { namespace });
      }
      for (const [name, policy] of [["shared", "Shared"], ["unique", "UniquePerReplica"]] as const) {
        // Scale-down is complete once the removed groups are gone (owner references; no finalizers).
        await eventually(`${name}: ${replicas} groups only`, async () => {
          const pods = await podsOf(product, name);
          const services = await servicesOf(product, name);
          const sets = await statefulSetsOf(product, name);
          return pods.length === replicas * 2 && sets.length === replicas + 1 &&
            services.length === (policy === "Shared" ? 1 : replicas);
        }, { timeoutMs: 60_000 });
        const lws = await waitAvailable(product, name);
        assertAvailableStatus(lws);
        await assertGroups(product, name, { replicas, size: 2, subdomainPolicy: policy });
        const indexes = (await podsOf(product, name, `${P}worker-index=0`)).map((p) => p.metadata?.name);
        assert.deepEqual(indexes, Array.from({ length: replicas }, (_, g) => `${name}-${g}`), "lowest indexes kept");
      }
    });
  }
  console.log(`  services through scaling: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

clusterTest("controllers: subgroups LeaderWorker and LeaderExcluded", async ({ cluster, namespace }) => {
  await using product = await startProduct(cluster, namespace);
  await kubectlApply(
    product,
    lwsManifest("lw", {
      size: 4,
      spec: { leaderWorkerTemplate: { subGroupPolicy: { subGroupPolicyType: "LeaderWorker", subGroupSize: 2 } } },
    }),
    lwsManifest("le", {
      size: 5,
      spec: { leaderWorkerTemplate: { subGroupPolicy: { subGroupPolicyType: "LeaderExcluded", subGroupSize: 2 } } },
    }),
  );
  const expected: Record<string, Record<string, string | undefined>> = {
    // LeaderWorker, size 4, subgroups of 2: {leader, w1}, {w2, w3}.
    "lw-0": { index: "0" },
    "lw-0-1": { index: "0" },
    "lw-0-2": { index: "1" },
    "lw-0-3": { index: "1" },
    // LeaderExcluded, size 5, subgroups of 2: leader alone (no labels), {w1, w2}, {w3, w4}.
    "le-0": { index: undefined },
    "le-0-1": { index: "0" },
    "le-0-2": { index: "0" },
    "le-0-3": { index: "1" },
    "le-0-4": { index: "1" },
  };
  for (const [name, size, type] of [["lw", 4, "LeaderWorker"], ["le", 5, "LeaderExcluded"]] as const) {
    assertAvailableStatus(await waitAvailable(product, name));
    await assertGroups(product, name, { replicas: 1, size });
    for (const pod of await podsOf(product, name)) {
      const podName = pod.metadata!.name!;
      const want = expected[podName]!.index;
      assert.equal(pod.metadata?.labels?.[`${P}subgroup-index`], want, `${podName} subgroup-index`);
      assert.equal(
        pod.metadata?.labels?.[`${P}subgroup-key`],
        want === undefined ? undefined : sha1(`${name}-0/${want}`),
        `${podName} subgroup-key`,
      );
      assert.equal(pod.metadata?.annotations?.[`${P}subgroup-size`], "2");
      assert.equal(pod.metadata?.annotations?.[`${P}subgroup-policy-type`], type);
    }
  }
});
