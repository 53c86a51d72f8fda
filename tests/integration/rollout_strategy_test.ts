/**
 * Spec §7.8 on the real control plane, without surge: a template change rolls the groups of an LWS group by group
 * within the maxUnavailable budget. Every state the cluster goes through is checked (see `support/rollout.ts`):
 * never more than mu groups unavailable, never more groups than N + ms, never a group whose worker StatefulSet or
 * worker pods carry another revision than its leader, a partition that only moves down and only as groups become
 * ready and updated — and at the end every group restarted exactly once, all on the new revision and Available.
 *
 * @module
 */
import assert from "node:assert/strict";
import { clusterTest } from "../cluster/harness.ts";
import { lwsManifest, startProduct } from "./support/product.ts";
import { assertRestarts, assertRolledOut, checkRollout, rollOut } from "./support/rollout.ts";

clusterTest("rollout: default strategy (mu=1, ms=0) moves the partition 4→3→2→1→0 group by group", async ({
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  const rolled = await rollOut(product, { lws: lwsManifest("roll", { replicas: 4, size: 2 }) });
  const { report } = rolled;
  assert.deepEqual(report.partitions, [4, 3, 2, 1, 0], "one group at a time, highest index first");
  assert.deepEqual(report.replicas, [4], "no surge");
  assert.equal(report.minAvailable, 3);
  assertRestarts(report, { lws: "roll", replicas: 4, size: 2 });
  await assertRolledOut(product, rolled);
  // The checker is not vacuous: the same history breaks a budget of no unavailable group, and a rule that the
  // partition may not move below 2.
  const stricter = checkRollout(rolled.history, { ...rolled.rules, maxUnavailable: 0 });
  assert.ok(stricter.violations.some((v) => /would leave 3 available groups < 4/.test(v)), "predicted");
  assert.ok(stricter.violations.some((v) => /3 available groups < N − mu = 4/.test(v)), "seen");
  const held = checkRollout(rolled.history, { ...rolled.rules, partition: 2 });
  assert.ok(held.violations.some((v) => v.includes("partition 1 below P = 2")), held.violations.join("\n"));
  console.log(
    `  4 groups rolled in ${(rolled.elapsedMs / 1000).toFixed(1)} s over ${report.states} states; old workers ` +
      `outlived their leader in ${report.orphanOverlapStates} states (≤ ${report.orphanOverlapMs} ms)`,
  );
});

clusterTest("rollout: maxUnavailable 2 rolls two groups at once, then one as each becomes ready", async ({
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  const lws = lwsManifest("roll2", {
    replicas: 4,
    size: 2,
    spec: { rolloutStrategy: { type: "RollingUpdate", rollingUpdateConfiguration: { maxUnavailable: 2 } } },
  });
  const rolled = await rollOut(product, { lws });
  const { report } = rolled;
  // (4,4) → (2,4), then (1,4) → (0,4), or straight to 0 when groups 3 and 2 are ready by the same reconcile.
  assert.deepEqual(report.partitions.slice(0, 2), [4, 2]);
  assert.ok(
    [[4, 2, 1, 0], [4, 2, 0]].some((seq) => JSON.stringify(seq) === JSON.stringify(report.partitions)),
    `partitions ${report.partitions}`,
  );
  assert.deepEqual(report.replicas, [4]);
  assert.equal(report.minAvailable, 2, "the budget of two groups is used");
  assertRestarts(report, { lws: "roll2", replicas: 4, size: 2 });
  await assertRolledOut(product, rolled);
  console.log(`  4 groups rolled two at a time in ${(rolled.elapsedMs / 1000).toFixed(1)} s`);
});
