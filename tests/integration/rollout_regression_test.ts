/**
 * Upstream rollout bugs (spec §14) as regression tests on the real control plane, each observed state by state
 * (see `support/rollout.ts`):
 * - #567: a rollout progresses although the old revision never becomes ready;
 * - #779: `replicas: 1` with `maxSurge: 1` finishes (with and without unavailability budget);
 * - #225: restarting the controllers in the middle of a rollout restarts no group a second time and creates no
 *   second revision;
 * - #291, #805: one restart per group per update, also for large groups under `RecreateGroupOnPodRestart`.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { clusterTest, eventually } from "../cluster/harness.ts";
import {
  countEvents,
  eventsOf,
  kubectlApply,
  lwsManifest,
  sleep,
  startProduct,
  waitAvailable,
} from "./support/product.ts";
import {
  assertRestarts,
  assertRolledOut,
  assertRollout,
  History,
  RestartableProduct,
  rollOut,
  waitNewKey,
  waitRolledOut,
  waitSettled,
  withImage,
} from "./support/rollout.ts";

const P = "leaderworkerset.sigs.k8s.io/";

function strategy(maxUnavailable: number, maxSurge: number): LeaderWorkerSet["spec"]["rolloutStrategy"] {
  return { type: "RollingUpdate", rollingUpdateConfiguration: { maxUnavailable, maxSurge } };
}

clusterTest("rollout #567: progresses although the old revision never becomes ready", async ({
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  // The old revision cannot be scheduled anywhere: its pods stay Pending forever.
  const stuck = lwsManifest("never", { replicas: 3, size: 2 });
  for (const template of [stuck.spec.leaderWorkerTemplate.workerTemplate]) {
    template.spec!.nodeSelector = { "lws-test.x-k8s.io/nowhere": "true" };
  }
  await kubectlApply(product, stuck);
  await using history = await History.start(cluster, namespace);
  const oldKey = await eventually("the old revision's pods, Pending", () => {
    const pods = [...history.live.pods.values()].filter((p) => p.metadata?.labels?.[`${P}name`] === "never");
    const sts = history.live.statefulSets.get("never");
    const ok = pods.length === 6 && pods.every((p) => p.status?.phase === "Pending");
    return Promise.resolve(ok ? sts?.metadata?.labels?.[`${P}template-revision-hash`] : undefined);
  }, { timeoutMs: 60_000 });
  const fixed = lwsManifest("never", { replicas: 3, size: 2 });
  await kubectlApply(product, fixed);
  const newKey = await waitNewKey(history, "never", oldKey);
  const rules = { lws: "never", replicas: 3, size: 2, maxUnavailable: 1, maxSurge: 0, newKey, availability: false };
  await waitRolledOut(history, rules, { timeoutMs: 90_000 });
  const report = assertRollout(history, rules);
  assert.equal(report.partitions[0], 3);
  assert.equal(report.partitions.at(-1), 0);
  assertRestarts(report, { lws: "never", replicas: 3, size: 2 });
  await assertRolledOut(product, { report, rules, oldKey, elapsedMs: 0, lws: fixed, history });
});

clusterTest("rollout #779: replicas 1 with maxSurge 1 finishes", async ({ t, cluster, namespace }) => {
  await using product = await startProduct(cluster, namespace);
  await t.step("maxUnavailable 0: one surge group, then back to 1", async () => {
    const rolled = await rollOut(product, {
      lws: lwsManifest("one", { replicas: 1, spec: { rolloutStrategy: strategy(0, 1) } }),
    });
    assert.deepEqual(rolled.report.replicas, [1, 2, 1]);
    assert.deepEqual(rolled.report.partitions, [1, 0]);
    assert.equal(rolled.report.minAvailable, 1, "the only group stays available throughout");
    assertRestarts(rolled.report, { lws: "one", replicas: 1, size: 2 });
    await assertRolledOut(product, rolled);
  });
  await t.step("maxUnavailable 1: no surge needed", async () => {
    const rolled = await rollOut(product, {
      lws: lwsManifest("uno", { replicas: 1, spec: { rolloutStrategy: strategy(1, 1) } }),
    });
    assert.deepEqual(rolled.report.replicas, [1]);
    assert.deepEqual(rolled.report.partitions, [1, 0]);
    assertRestarts(rolled.report, { lws: "uno", replicas: 1, size: 2 });
    await assertRolledOut(product, rolled);
  });
});

clusterTest("rollout #225: restarting the controllers mid-rollout restarts no group twice", async ({
  cluster,
  namespace,
}) => {
  await using restartable = await RestartableProduct.start(cluster, namespace);
  const product = restartable.product; // its client outlives the controller generations
  const partitionAtMost = (history: History, p: number) =>
    eventually(`partition ≤ ${p}`, () => {
      const sts = history.live.statefulSets.get("restarted");
      return Promise.resolve((sts?.spec?.updateStrategy?.rollingUpdate?.partition ?? 99) <= p);
    }, { timeoutMs: 60_000, intervalMs: 20 });
  const rolled = await rollOut(product, {
    lws: lwsManifest("restarted", { replicas: 4, size: 2 }),
    during: async (history) => {
      // Right after the new revision: the controllers come back to a leader sts at partition 4.
      await restartable.stopControllers();
      await sleep(1_000);
      await restartable.startControllers();
      // With group 3 replaced (its old worker sts may still be going).
      await partitionAtMost(history, 2);
      await restartable.stopControllers();
      await sleep(2_000);
      await restartable.startControllers();
      // At once, in the middle of the next group.
      await partitionAtMost(history, 1);
      await restartable.stopControllers();
      await restartable.startControllers();
    },
  });
  assert.equal(restartable.generations, 4);
  assertRestarts(rolled.report, { lws: "restarted", replicas: 4, size: 2 });
  assert.deepEqual(rolled.report.partitions, [4, 3, 2, 1, 0]);
  const created = new Set(
    rolled.history.changes().filter((c) =>
      c.rv > rolled.history.startRv &&
      c.kind === "revision" && c.type === "ADDED" && c.object.metadata?.labels?.[`${P}name`] === "restarted" &&
      c.object.metadata.ownerReferences?.some((o) => o.kind === "LeaderWorkerSet")
    ).map((c) => c.object.metadata?.name),
  );
  assert.equal(created.size, 1, `one new revision: ${[...created]}`);
  await assertRolledOut(restartable.product, rolled);
  const events = await eventsOf(restartable.product, "restarted");
  assert.equal(countEvents(events, "CreatingRevision", /for updated LWS$/), 1);
});

clusterTest("rollout #291/#805: one restart per group per update with RecreateGroupOnPodRestart", async ({
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  const lws = lwsManifest("once", {
    replicas: 3,
    size: 4,
    spec: { leaderWorkerTemplate: { restartPolicy: "RecreateGroupOnPodRestart" }, rolloutStrategy: strategy(2, 1) },
  });
  const rolled = await rollOut(product, { lws, change: withImage(lws, "nginx:1.28") });
  assertRestarts(rolled.report, { lws: "once", replicas: 3, size: 4 });
  await sleep(2_000);
  // The rollout restarts groups, not the restart policy: a RecreateGroup only follows a worker deleted outside the
  // controllers (KWOK, see RolloutReport.externalDeletions), which the policy rightly answers.
  const external = [...rolled.report.externalDeletions.values()].flat().map((d) => d.split(" ")[0]);
  const recreated = (await eventsOf(product, "once")).filter((e) => e.reason === "RecreateGroup");
  assert.ok(recreated.reduce((n, e) => n + e.count, 0) <= external.length, JSON.stringify(recreated));
  for (const event of recreated) {
    const worker = /^Worker pod (\S+) failed/.exec(event.note)?.[1];
    assert.ok(worker !== undefined && external.includes(worker), `${event.note}: not after an external deletion`);
  }
  await assertRolledOut(product, rolled);
});

clusterTest("rollout: a scale-up and a template change a moment apart restart each group once", async ({
  cluster,
  namespace,
}) => {
  // Seen in the demo: `kubectl scale --replicas=3`, then an image change within a second. The new group is still
  // starting on the old revision when the rollout begins; no group may be restarted twice, and the restart policy
  // (RecreateGroupOnPodRestart, the default) must not mistake the rollout's replacements for failures.
  await using product = await startProduct(cluster, namespace);
  const lws = lwsManifest("grown", { replicas: 2, size: 3 });
  await kubectlApply(product, lws);
  await waitAvailable(product, "grown");
  await using history = await History.start(cluster, namespace);
  const oldKey = await waitSettled(history, "grown");
  await cluster.kubectlOk(["scale", "lws/grown", "--replicas=3"], { namespace });
  await sleep(300);
  const changed = withImage({ ...lws, spec: { ...lws.spec, replicas: 3 } }, "nginx:1.28");
  await kubectlApply(product, changed);
  const newKey = await waitNewKey(history, "grown", oldKey);
  const rules = { lws: "grown", replicas: 3, size: 3, maxUnavailable: 1, maxSurge: 0, newKey };
  await waitRolledOut(history, rules, { timeoutMs: 90_000 });
  await sleep(2_000);
  const report = assertRollout(history, rules);
  // Groups 0 and 1 existed on the old revision: one restart each. Group 2 was created by the scale-up: it may have
  // started on the old revision (then it is restarted once) or directly on the new one (never restarted).
  const newcomer = report.leaderUids.get(2)?.length ?? 0;
  const excused = report.externalDeletions.get(2)?.length ?? 0;
  assert.ok(newcomer >= 1 && newcomer <= 2 + excused, `group 2 had ${newcomer} leaders`);
  const newcomerRestarts = Math.min(newcomer, 2) - 1;
  console.log(
    `  group 2: ${newcomer} leader(s) (${newcomerRestarts ? "started on the old revision" : "started on the new one"})`,
  );
  assertRestarts(report, { lws: "grown", replicas: 3, size: 3, restarts: (g) => g === 2 ? newcomerRestarts : 1 });
  const external = [...report.externalDeletions.values()].flat().map((d) => d.split(" ")[0]);
  const recreated = (await eventsOf(product, "grown")).filter((e) => e.reason === "RecreateGroup");
  for (const event of recreated) {
    const worker = /^Worker pod (\S+) failed/.exec(event.note)?.[1];
    assert.ok(worker !== undefined && external.includes(worker), `${event.note}: not after an external deletion`);
  }
  await assertRolledOut(product, { report, rules, oldKey, elapsedMs: 0, lws: changed, history });
});
