/**
 * Spec §7.8 on the real control plane, without surge: a template change rolls the groups of an LWS group by group
 * within the maxUnavailable budget. Every state the cluster goes through is checked (see `support/rollout.ts`):
 * never more than mu groups unavailable, never more groups than N + ms, never a group whose worker StatefulSet or
 * worker pods carry another revision than its leader, a partition that only moves down and only as groups become
 * ready and updated — and at the end every group restarted exactly once, all on the new revision and Available.
 * A group that is going down by itself (its leader terminating) counts against the budget and holds the rollout.
 *
 * @module
 */
import assert from "node:assert/strict";
import { clusterTest } from "../cluster/harness.ts";
import { kubectlApply, lwsManifest, sleep, startProduct, waitAvailable } from "./support/product.ts";
import {
  assertRestarts,
  assertRolledOut,
  assertRollout,
  checkRollout,
  History,
  rollOut,
  type RolloutRules,
  waitNewKey,
  waitRolledOut,
  waitSettled,
  withImage,
} from "./support/rollout.ts";

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

clusterTest("rollout: a group going down (its leader terminating) uses the budget and holds the partition", async ({
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  const lws = lwsManifest("drained", { replicas: 3, size: 2 });
  await kubectlApply(product, lws);
  await waitAvailable(product, "drained");
  await using history = await History.start(cluster, namespace);
  const oldKey = await waitSettled(history, "drained");
  // Group 0's leader terminates slowly (a drained node, a model server shutting down): a finalizer holds it,
  // Running and Ready, with a deletionTimestamp.
  const hold = JSON.stringify({ metadata: { finalizers: ["lws-test.x-k8s.io/hold"] } });
  await cluster.kubectlOk(["patch", "pod", "drained-0", "--type=merge", "-p", hold], { namespace });
  const release = () =>
    cluster.kubectl([
      "patch",
      "pod",
      "drained-0",
      "--type=json",
      "-p",
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ], {
      namespace,
    });
  try {
    await cluster.kubectlOk(["delete", "pod", "drained-0", "--wait=false"], { namespace });
    await kubectlApply(product, withImage(lws, "nginx:1.28"));
    const newKey = await waitNewKey(history, "drained", oldKey);
    await sleep(3_000);
    const sts = history.live.statefulSets.get("drained");
    assert.equal(sts?.spec?.updateStrategy?.rollingUpdate?.partition, 3, "no group rolls while group 0 is going down");
    assert.ok(history.live.pods.get("drained-0")?.metadata?.deletionTimestamp, "group 0 is still going down");
    await release();
    const rules: RolloutRules = { lws: "drained", replicas: 3, size: 2, maxUnavailable: 1, maxSurge: 0, newKey };
    await waitRolledOut(history, rules);
    const report = assertRollout(history, rules);
    assert.deepEqual(report.partitions, [3, 2, 1, 0]);
    assertRestarts(report, { lws: "drained", replicas: 3, size: 2, restarts: (g) => (g === 0 ? 2 : 1) });
  } finally {
    await release();
  }
});
