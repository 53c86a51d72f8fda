/**
 * Spec §7.8 on the real control plane, with surge: extra groups on the new revision are created for the rollout
 * (up to N + ms) and reclaimed as the desired groups become updated and ready. Every state is checked as in
 * `rollout_strategy_test.ts`; here the leader StatefulSet's replicas are followed too: upstream's e2e tests expect
 * 7 leader replicas mid-update for maxSurge 4 (N=4), 5 for maxSurge 1 (also with size 1), and 4 at the end.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { RollingUpdateConfiguration } from "../../api/types.ts";
import { clusterTest } from "../cluster/harness.ts";
import { countEvents, eventsOf, lwsManifest, type Product, startProduct } from "./support/product.ts";
import { assertRestarts, assertRolledOut, rollOut } from "./support/rollout.ts";

function surged(name: string, size: number, config: RollingUpdateConfiguration) {
  return lwsManifest(name, {
    replicas: 4,
    size,
    spec: { rolloutStrategy: { type: "RollingUpdate", rollingUpdateConfiguration: config } },
  });
}

/** Every reduction of the leader sts replicas was announced with upstream's exact note. */
async function assertSurgeEvents(product: Product, name: string, replicas: number[]): Promise<void> {
  const events = await eventsOf(product, name);
  for (let i = 1; i < replicas.length; i++) {
    const [before, after] = [replicas[i - 1]!, replicas[i]!];
    if (after >= before) continue;
    const note = after === before - 1
      ? `deleting surge replica ${name}-${after}`
      : `deleting surge replicas from ${name}-${after} to ${name}-${before - 1}`;
    assert.ok(countEvents(events, "GroupsProgressing", note) >= 1, `event "${note}"`);
  }
}

clusterTest("rollout: maxSurge 4 (N=4) runs 7 leader replicas mid-update, then 4", async ({ cluster, namespace }) => {
  await using product = await startProduct(cluster, namespace);
  const rolled = await rollOut(product, { lws: surged("surge4", 2, { maxSurge: 4 }) });
  const { report } = rolled;
  assert.equal(report.maxReplicas, 7, `replicas ${report.replicas}`);
  assert.deepEqual([report.replicas[0], report.replicas[1], report.replicas.at(-1)], [4, 7, 4]);
  assert.equal(report.partitions[0], 4, "the surge groups come first");
  assert.equal(report.partitions.at(-1), 0);
  assert.ok(report.maxLeaders <= 8);
  assertRestarts(report, { lws: "surge4", replicas: 4, size: 2 });
  assert.deepEqual([...report.leaderUids.keys()].filter((g) => g >= 4).sort(), [4, 5, 6], "three surge groups");
  await assertSurgeEvents(product, "surge4", report.replicas);
  await assertRolledOut(product, rolled);
  console.log(`  replicas ${report.replicas.join("→")}, partitions ${report.partitions.join("→")}`);
});

clusterTest("rollout: maxSurge 1, maxUnavailable 0 (N=4) runs 5 mid-update, then 4", async ({ cluster, namespace }) => {
  await using product = await startProduct(cluster, namespace);
  const rolled = await rollOut(product, { lws: surged("surge1", 2, { maxSurge: 1, maxUnavailable: 0 }) });
  const { report } = rolled;
  assert.deepEqual(report.replicas, [4, 5, 4]);
  assert.deepEqual(report.partitions, [4, 3, 2, 1, 0], "one group at a time, never one unavailable");
  assert.equal(report.minAvailable, 4, "no group ever unavailable");
  assertRestarts(report, { lws: "surge1", replicas: 4, size: 2 });
  await assertSurgeEvents(product, "surge1", report.replicas);
  await assertRolledOut(product, rolled);
});

clusterTest("rollout: size 1 with maxSurge 1 (N=4) runs 5 mid-update, then 4", async ({ cluster, namespace }) => {
  await using product = await startProduct(cluster, namespace);
  const rolled = await rollOut(product, { lws: surged("single", 1, { maxSurge: 1 }) });
  const { report } = rolled;
  assert.equal(report.maxReplicas, 5);
  assert.deepEqual([report.replicas[0], report.replicas.at(-1)], [4, 4]);
  assert.equal(report.workerStsUids.size, 0, "no worker sts for size 1");
  assertRestarts(report, { lws: "single", replicas: 4, size: 1 });
  await assertSurgeEvents(product, "single", report.replicas);
  await assertRolledOut(product, rolled);
  console.log(`  replicas ${report.replicas.join("→")}, partitions ${report.partitions.join("→")}`);
});
