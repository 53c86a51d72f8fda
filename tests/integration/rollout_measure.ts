/**
 * A one-off measurement, not a timed assertion: how long a 50-group rollout takes on the local control plane, next
 * to the same rollout of a plain StatefulSet with 50 replicas (same pod template, `Parallel`, RollingUpdate with
 * maxUnavailable 1 — what the leader StatefulSet of an LWS of size 1 is). Both start from every pod Ready and end
 * when every pod runs the new template and is Ready again; the LWS rollout is also checked state by state.
 *
 * Not part of `deno task test` (the file name does not end in `_test.ts`; it loads the control plane for a minute or
 * two): run it with `deno task measure:rollout`. `LWS_MEASURE_SIZE` (default 1) sets the group size,
 * `LWS_MEASURE_GROUPS` (default 50) the number of groups.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import { clusterTest, eventually } from "../cluster/harness.ts";
import { kubectlApply, lwsManifest, startProduct, waitAvailable } from "./support/product.ts";
import { assertRestarts, groupsOf, type History, rollOut } from "./support/rollout.ts";

const GROUPS = Number(Deno.env.get("LWS_MEASURE_GROUPS") ?? 50);
const SIZE = Number(Deno.env.get("LWS_MEASURE_SIZE") ?? 1);

function plainStatefulSet(image: string): StatefulSet {
  const labels = { app: "plain" };
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "plain" },
    spec: {
      replicas: GROUPS * SIZE,
      serviceName: "plain",
      podManagementPolicy: "Parallel",
      selector: { matchLabels: labels },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0, maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "worker", image, ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
}

clusterTest(
  `measure: a ${GROUPS}-group rollout next to a plain StatefulSet rollout`,
  async ({ cluster, namespace }) => {
    // The plain StatefulSet first, alone.
    const apply = (object: unknown) =>
      cluster.kubectlOk(["apply", "-f", "-"], { namespace, stdin: JSON.stringify(object) });
    const stsDone = (image: string) =>
      eventually(`plain on ${image}`, async () => {
        const sts = JSON.parse(
          await cluster.kubectlOk(["get", "sts", "plain", "-o", "json"], { namespace }),
        ) as StatefulSet;
        const s = sts.status;
        const n = GROUPS * SIZE;
        return sts.status?.observedGeneration === sts.metadata?.generation && s?.readyReplicas === n &&
          s.updatedReplicas === n && s.currentRevision === s.updateRevision &&
          sts.spec?.template.spec?.containers[0]?.image === image;
      }, { timeoutMs: 300_000, intervalMs: 100 });
    await apply(plainStatefulSet("nginx:1.27"));
    await stsDone("nginx:1.27");
    let started = Date.now();
    await apply(plainStatefulSet("nginx:1.28"));
    await stsDone("nginx:1.28");
    const plainMs = Date.now() - started;
    await cluster.kubectlOk(["delete", "sts", "plain", "--wait=true"], { namespace });

    await using product = await startProduct(cluster, namespace);
    const lws = lwsManifest("measured", { replicas: GROUPS, size: SIZE });
    started = Date.now();
    await kubectlApply(product, lws);
    await waitAvailable(product, "measured", { timeoutMs: 300_000 });
    const createMs = Date.now() - started;
    started = Date.now();
    const rolled = await rollOut(product, { lws, create: false, timeoutMs: 600_000 });
    const checkMs = Date.now() - started - rolled.elapsedMs;
    assertRestarts(rolled.report, { lws: "measured", replicas: GROUPS, size: SIZE });
    assert.equal(rolled.report.partitions.at(-1), 0);
    const perGroup = (ms: number) => `${(ms / GROUPS).toFixed(0)} ms per group`;
    const steps = stepTimes(rolled.history, rolled.rules.newKey);
    console.log(
      `  plain StatefulSet, ${GROUPS * SIZE} pods: ${(plainMs / 1000).toFixed(1)} s (${perGroup(plainMs)})\n` +
        `  LWS, ${GROUPS} groups of ${SIZE}: ${(rolled.elapsedMs / 1000).toFixed(1)} s (${
          perGroup(rolled.elapsedMs)
        }), ` +
        `${rolled.report.states} states checked in ${(checkMs / 1000).toFixed(1)} s; creating it took ${
          (createMs / 1000).toFixed(1)
        } s\n` +
        `  per group: partition move → group ready again ${summary(steps.group)}; ` +
        `group ready → next partition move (the LWS controller) ${summary(steps.controller)}`,
    );
  },
);

/**
 * From the history (receive times): how long each group took from the partition move that released it until it was
 * available on the new revision, and how long the controller took from there to the next partition move.
 */
function stepTimes(history: History, newKey: string): { group: number[]; controller: number[] } {
  const moves = new Map<number, number>(); // partition value → when it was first seen
  const ready = new Map<number, number>(); // group → when it was first available on the new key
  history.replay((world, change) => {
    const sts = world.statefulSets.get("measured");
    const partition = sts?.spec?.updateStrategy?.rollingUpdate?.partition;
    const rolling = sts?.metadata?.labels?.["leaderworkerset.sigs.k8s.io/template-revision-hash"] === newKey;
    if (rolling && partition !== undefined && !moves.has(partition)) moves.set(partition, change.at);
    for (const g of groupsOf(world, "measured", SIZE).values()) {
      if (g.available && g.key === newKey && !ready.has(g.index)) ready.set(g.index, change.at);
    }
  });
  const group: number[] = [];
  const controller: number[] = [];
  for (const [g, at] of ready) {
    const released = moves.get(g);
    if (released !== undefined) group.push(at - released);
    const next = moves.get(g - 1);
    if (next !== undefined && g > 0) controller.push(next - at);
  }
  return { group, controller };
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${sorted.at(-1) ?? 0} ms`;
}
