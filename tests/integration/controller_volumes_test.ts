/**
 * Volume claim templates and their retention policy (spec §6.3.1, §6.4) on the real control plane: both StatefulSets
 * carry the reduced claim templates and the policy; the StatefulSet controller creates one claim per pod; with
 * `Delete` the claims of removed groups and of a deleted LWS go, with `Retain` they stay.
 *
 * Claims bind through the local control plane's default StorageClass (kube-controller-manager's hostPath
 * provisioner), so the pods really run on the KWOK nodes.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { PersistentVolumeClaim } from "kubernetes-types/core/v1.d.ts";
import { STATEFUL_SETS } from "../../kube/resources.ts";
import type { ResourceType } from "../../kube/types.ts";
import { clusterTest, eventually } from "../cluster/harness.ts";
import {
  assertAvailableStatus,
  getObject,
  kubectlApply,
  listObjects,
  lwsManifest,
  startProduct,
  waitAvailable,
} from "./support/product.ts";

const PVCS: ResourceType = {
  group: "",
  version: "v1",
  kind: "PersistentVolumeClaim",
  plural: "persistentvolumeclaims",
  namespaced: true,
};

function claims(lws: string, groups: number[]): string[] {
  return groups.flatMap((g) => [`data-${lws}-${g}`, `data-${lws}-${g}-1`]);
}

clusterTest("controllers: volume claim templates with each retention policy", async ({ t, cluster, namespace }) => {
  await using product = await startProduct(cluster, namespace);
  const template = (whenDeleted: string, whenScaled: string) => ({
    leaderWorkerTemplate: {
      workerTemplate: {
        spec: {
          containers: [{ name: "worker", image: "nginx:1.27", volumeMounts: [{ name: "data", mountPath: "/data" }] }],
        },
      },
      volumeClaimTemplates: [{
        metadata: { name: "data", labels: { dropped: "yes" } },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      }],
      persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled },
    },
  });
  await kubectlApply(
    product,
    lwsManifest("vol-del", { replicas: 2, size: 2, spec: template("Delete", "Delete") }),
    lwsManifest("vol-ret", { replicas: 2, size: 2, spec: template("Retain", "Retain") }),
  );
  const pvcNames = async () => (await listObjects<PersistentVolumeClaim>(product, PVCS)).map((c) => c.metadata!.name!);

  await t.step("claims per pod, bound, pods running", async () => {
    for (const name of ["vol-del", "vol-ret"]) assertAvailableStatus(await waitAvailable(product, name));
    const all = await listObjects<PersistentVolumeClaim>(product, PVCS);
    assert.deepEqual(
      all.map((c) => c.metadata?.name).sort(),
      [...claims("vol-del", [0, 1]), ...claims("vol-ret", [0, 1])].sort(),
    );
    assert.ok(all.every((c) => c.status?.phase === "Bound"));
    for (const [sts, policy] of [["vol-del", "Delete"], ["vol-del-0", "Delete"], ["vol-ret", "Retain"]]) {
      const object = await getObject<StatefulSet>(product, STATEFUL_SETS, sts!);
      const vct = object?.spec?.volumeClaimTemplates?.[0];
      assert.equal(vct?.metadata?.name, "data");
      assert.equal(vct?.metadata?.labels, undefined, "reduced: labels dropped");
      assert.deepEqual(vct?.spec?.accessModes, ["ReadWriteOnce"]);
      assert.deepEqual(vct?.spec?.resources?.requests, { storage: "1Gi" });
      assert.deepEqual(object?.spec?.persistentVolumeClaimRetentionPolicy, { whenDeleted: policy, whenScaled: policy });
    }
  });

  await t.step("scale-down: whenScaled", async () => {
    await cluster.kubectlOk(["scale", "lws/vol-del", "lws/vol-ret", "--replicas=1"], { namespace });
    await eventually("the claims of vol-del group 1 to go", async () => {
      const names = await pvcNames();
      return !names.includes("data-vol-del-1") && !names.includes("data-vol-del-1-1");
    }, { timeoutMs: 60_000 });
    await waitAvailable(product, "vol-ret");
    const names = await pvcNames();
    for (const claim of claims("vol-ret", [0, 1])) assert.ok(names.includes(claim), `${claim} retained`);
    for (const claim of claims("vol-del", [0])) assert.ok(names.includes(claim), `${claim} still used`);
  });

  await t.step("deletion: whenDeleted", async () => {
    await cluster.kubectlOk(["delete", "lws", "vol-del", "vol-ret", "--wait=false"], { namespace });
    await eventually("the claims of vol-del to go", async () => {
      const names = await pvcNames();
      return names.every((n) => !n.startsWith("data-vol-del-"));
    }, { timeoutMs: 60_000 });
    const names = await pvcNames();
    assert.deepEqual(names.sort(), claims("vol-ret", [0, 1]).sort(), "Retain keeps every claim");
  });
});
