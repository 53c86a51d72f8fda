/**
 * Rollouts that stop short or change the group shape, on the real control plane (spec §7.4, §7.12, §14):
 * a spec partition P holds groups below it on the old revision (and the old revision is kept) until P is lowered;
 * a `size` change is a revision change and rolls the groups exactly like a template change.
 *
 * @module
 */
import assert from "node:assert/strict";
import { clusterTest } from "../cluster/harness.ts";
import { kubectlApply, lwsManifest, sleep, startProduct } from "./support/product.ts";
import {
  assertRestarts,
  assertRolledOut,
  assertRollout,
  History,
  lwsRevisions,
  rollOut,
  waitRolledOut,
  withImage,
} from "./support/rollout.ts";

const P = "leaderworkerset.sigs.k8s.io/";

clusterTest("rollout: partition 2 keeps groups 0 and 1 on the old revision until it is lowered", async ({
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  const lws = lwsManifest("held", {
    replicas: 4,
    size: 2,
    spec: { rolloutStrategy: { type: "RollingUpdate", rollingUpdateConfiguration: { partition: 2 } } },
  });
  const change = withImage(lws, "nginx:1.28");
  const rolled = await rollOut(product, { lws, change });
  const { report, rules, oldKey } = rolled;
  assert.deepEqual(report.partitions, [4, 3, 2], "the rollout stops at P");
  assertRestarts(report, { lws: "held", replicas: 4, size: 2, restarts: (g) => (g < 2 ? 0 : 1) });
  assert.equal(rolled.lws.status?.updatedReplicas, 2);
  assert.equal(rolled.lws.status?.conditions?.find((c) => c.type === "Available")?.status, "True");

  await using history = await History.start(cluster, namespace);
  await sleep(3_000); // nothing else happens while P holds
  const revisions = lwsRevisions(history.live, "held");
  assert.deepEqual(revisions.map((r) => r.metadata?.labels?.[`${P}template-revision-hash`]), [oldKey, rules.newKey]);
  for (let g = 0; g < 4; g++) {
    const leader = history.live.pods.get(`held-${g}`);
    assert.equal(leader?.metadata?.labels?.[`${P}template-revision-hash`], g < 2 ? oldKey : rules.newKey);
    assert.equal(leader?.metadata?.uid, report.leaderUids.get(g)?.at(-1), `held-${g} untouched`);
  }

  // Lowering P is not a revision change; it lets the remaining groups roll.
  const lowered = structuredClone(change);
  lowered.spec.rolloutStrategy!.rollingUpdateConfiguration!.partition = 0;
  await kubectlApply(product, lowered);
  const lowerRules = { ...rules, partition: 0 };
  await waitRolledOut(history, lowerRules);
  const rest = assertRollout(history, lowerRules);
  assert.deepEqual(rest.partitions, [2, 1, 0]);
  assertRestarts(rest, { lws: "held", replicas: 4, size: 2, restarts: (g) => (g < 2 ? 1 : 0) });
  await assertRolledOut(product, { ...rolled, rules: lowerRules });
});

clusterTest("rollout: a size change rolls the groups like a template change", async ({ cluster, namespace }) => {
  await using product = await startProduct(cluster, namespace);
  const lws = lwsManifest("sized", { replicas: 3, size: 2 });
  const change = structuredClone(lws);
  change.spec.leaderWorkerTemplate.size = 3;
  const rolled = await rollOut(product, { lws, change });
  const { report } = rolled;
  assert.deepEqual(report.partitions, [3, 2, 1, 0]);
  assert.equal(rolled.rules.size, 3);
  assertRestarts(report, { lws: "sized", replicas: 3, size: 2 });
  for (let g = 0; g < 3; g++) {
    assert.equal(report.workerPodUids.get(`sized-${g}-2`)?.length, 1, `sized-${g}-2 created once, with the new size`);
  }
  await assertRolledOut(product, rolled);
});
