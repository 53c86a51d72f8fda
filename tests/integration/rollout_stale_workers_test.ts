/**
 * Stale workers cannot recreate a group a second time (spec §8.3 step 5, v0.9.0), on the real control plane.
 *
 * Workers of a replaced leader are normally gone within milliseconds; here a test finalizer holds them, terminating,
 * next to the new leader and its new worker StatefulSet, while they are poked (label changes) so the pod controller
 * reconciles them again and again — and then released, so the controller also judges their last state once they
 * vanish. They carry a `deletionTimestamp`, the restart trigger; only the ownership check (and, in a rollout, the
 * revision check) keeps them from deleting the new leader. Whatever happens, each group is restarted exactly once.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { clusterTest, eventually, type TestCluster } from "../cluster/harness.ts";
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
  assertRollout,
  History,
  type RolloutRules,
  waitNewKey,
  waitRolledOut,
  waitSettled,
  withImage,
} from "./support/rollout.ts";

const HOLD = "lws-test.x-k8s.io/hold";

/** Holds pods with a finalizer; `await using` releases whichever are still there. */
async function hold(
  cluster: TestCluster,
  namespace: string,
  pods: string[],
): Promise<AsyncDisposable & { release(): Promise<void> }> {
  for (const pod of pods) {
    await cluster.kubectlOk([
      "patch",
      "pod",
      pod,
      "--type=merge",
      "-p",
      JSON.stringify({ metadata: { finalizers: [HOLD] } }),
    ], { namespace });
  }
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    for (const pod of pods) {
      // The pod is a new object by now only if the finalizer was released already; a missing one is fine.
      await cluster.kubectl([
        "patch",
        "pod",
        pod,
        "--type=json",
        "-p",
        JSON.stringify([{ op: "remove", path: "/metadata/finalizers" }]),
      ], { namespace });
    }
  };
  return { release, [Symbol.asyncDispose]: release };
}

/** Label changes on the held pods: each is an update event, hence a pod reconcile. */
async function poke(cluster: TestCluster, namespace: string, pods: string[], times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    for (const pod of pods) {
      await cluster.kubectl(["label", "pod", pod, `lws-test.x-k8s.io/poke=${i}`, "--overwrite"], { namespace });
    }
    await sleep(300);
  }
}

function uid(history: History, name: string): string | undefined {
  return history.live.pods.get(name)?.metadata?.uid;
}

/** Whether some state had `leader` (this UID, not deleting) next to terminating pods of `stale` UIDs. */
function sawStaleNextToNewLeader(
  history: History,
  leader: string,
  leaderUid: string,
  stale: Map<string, string>,
): boolean {
  let seen = false;
  history.replay((world) => {
    const l = world.pods.get(leader);
    if (seen || l?.metadata?.uid !== leaderUid || l.metadata.deletionTimestamp) return;
    seen = [...stale].every(([name, staleUid]) => {
      const p: Pod | undefined = world.pods.get(name);
      return p?.metadata?.uid === staleUid && !!p.metadata.deletionTimestamp;
    });
  });
  return seen;
}

clusterTest(
  "stale workers of a deleted leader never delete its successor (same revision)",
  async ({ cluster, namespace }) => {
    await using product = await startProduct(cluster, namespace);
    await kubectlApply(product, lwsManifest("stale", { replicas: 2, size: 3 }));
    await waitAvailable(product, "stale");
    await using history = await History.start(cluster, namespace);
    const key = await waitSettled(history, "stale");
    const workers = ["stale-0-1", "stale-0-2"];
    const staleUids = new Map(workers.map((w) => [w, uid(history, w)!]));
    const oldLeader = uid(history, "stale-0")!;
    await using held = await hold(cluster, namespace, workers);

    // The user deletes the leader (background propagation): the StatefulSet controller recreates it at once, the
    // garbage collector deletes the old worker sts, and the held workers stay terminating.
    await cluster.kubectlOk(["delete", "pod", "stale-0", "--wait=false"], { namespace });
    const newLeader = await eventually("a new leader next to the terminating stale workers", () => {
      const leader = history.live.pods.get("stale-0");
      const staleTerminating = workers.every((w) => history.live.pods.get(w)?.metadata?.deletionTimestamp);
      const fresh = leader && leader.metadata?.uid !== oldLeader && !leader.metadata?.deletionTimestamp;
      return Promise.resolve(fresh && staleTerminating ? leader.metadata!.uid! : undefined);
    }, { timeoutMs: 60_000, intervalMs: 50 });
    await poke(cluster, namespace, workers, 5);
    assert.equal(uid(history, "stale-0"), newLeader, "the new leader survives its stale workers");
    assert.ok(!history.live.pods.get("stale-0")?.metadata?.deletionTimestamp, "and is not being deleted");

    await held.release(); // now they vanish: their last state is judged as a deleted pod
    await waitAvailable(product, "stale", { timeoutMs: 60_000 });
    await sleep(2_000);
    const rules: RolloutRules = { lws: "stale", replicas: 2, size: 3, maxUnavailable: 1, maxSurge: 0, newKey: key };
    const report = assertRollout(history, rules);
    assert.ok(
      sawStaleNextToNewLeader(history, "stale-0", newLeader, staleUids),
      "the stale workers met the new leader",
    );
    assertRestarts(report, { lws: "stale", replicas: 2, size: 3, restarts: (g) => (g === 0 ? 1 : 0) });
    const external = [...report.externalDeletions.values()].flat().length;
    assert.ok(countEvents(await eventsOf(product, "stale"), "RecreateGroup") <= external, "no group recreation");
  },
);

clusterTest("stale workers of an old revision never delete the new leader during a rollout", async ({
  cluster,
  namespace,
}) => {
  await using product = await startProduct(cluster, namespace);
  const lws = lwsManifest("rolling", { replicas: 3, size: 2 });
  await kubectlApply(product, lws);
  await waitAvailable(product, "rolling");
  await using history = await History.start(cluster, namespace);
  const oldKey = await waitSettled(history, "rolling");
  const staleUids = new Map([["rolling-2-1", uid(history, "rolling-2-1")!]]);
  const oldLeader = uid(history, "rolling-2")!;
  await using held = await hold(cluster, namespace, ["rolling-2-1"]);

  await kubectlApply(product, withImage(lws, "nginx:1.28"));
  const newKey = await waitNewKey(history, "rolling", oldKey);
  // Group 2 rolls first; its new worker cannot be created while the held one keeps the name: the rollout waits.
  const newLeader = await eventually("group 2's new leader next to its stale worker", () => {
    const leader = history.live.pods.get("rolling-2");
    const fresh = leader && leader.metadata?.uid !== oldLeader && !leader.metadata?.deletionTimestamp;
    const staleTerminating = history.live.pods.get("rolling-2-1")?.metadata?.deletionTimestamp;
    return Promise.resolve(fresh && staleTerminating ? leader.metadata!.uid! : undefined);
  }, { timeoutMs: 60_000, intervalMs: 50 });
  await poke(cluster, namespace, ["rolling-2-1"], 5);
  assert.equal(uid(history, "rolling-2"), newLeader, "the new leader survives the stale worker");
  const sts = history.live.statefulSets.get("rolling");
  assert.equal(sts?.spec?.updateStrategy?.rollingUpdate?.partition, 2, "the rollout waits for group 2");

  await held.release();
  const rules: RolloutRules = { lws: "rolling", replicas: 3, size: 2, maxUnavailable: 1, maxSurge: 0, newKey };
  await waitRolledOut(history, rules);
  const report = assertRollout(history, rules);
  assert.deepEqual(report.partitions, [3, 2, 1, 0]);
  assert.ok(sawStaleNextToNewLeader(history, "rolling-2", newLeader, staleUids), "the stale worker met the new leader");
  assertRestarts(report, { lws: "rolling", replicas: 3, size: 2 });
  const external = [...report.externalDeletions.values()].flat().length;
  assert.ok(countEvents(await eventsOf(product, "rolling"), "RecreateGroup") <= external, "no group recreation");
});
