/**
 * The controllers on the real control plane: groups for replicas 0/1/4 × size 1/2/5 (a subset covering each
 * value), every prescribed object and field, pod env and labels from the webhook, status, conditions and events;
 * startup policies LeaderCreated vs LeaderReady.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import { STATEFUL_SETS } from "../../kube/resources.ts";
import { clusterTest, eventually } from "../cluster/harness.ts";
import {
  assertAvailableStatus,
  assertGroups,
  countEvents,
  eventsOf,
  getObject,
  kubectlApply,
  lwsManifest,
  podsOf,
  sleep,
  startProduct,
  waitAvailable,
} from "./support/product.ts";

const SHAPES = [
  { name: "r0-s2", replicas: 0, size: 2 },
  { name: "r1-s5", replicas: 1, size: 5 },
  { name: "r4-s1", replicas: 4, size: 1 },
  { name: "r4-s2", replicas: 4, size: 2 },
  { name: "r1-s1", replicas: 1, size: 1 },
];

clusterTest(
  "controllers: groups for replicas × size get every prescribed object",
  async ({ t, cluster, namespace }) => {
    await using product = await startProduct(cluster, namespace);
    const started = Date.now();
    await kubectlApply(
      product,
      ...SHAPES.map((s) => lwsManifest(s.name, { replicas: s.replicas, size: s.size, labels: { team: "a" } })),
    );
    for (const shape of SHAPES) {
      await t.step(`${shape.replicas} × ${shape.size}`, async () => {
        const lws = await waitAvailable(product, shape.name);
        assertAvailableStatus(lws);
        const key = await assertGroups(product, shape.name, shape);
        // Events are posted after the writes they report, so the status can read Available a moment before the
        // AllGroupsReady event (the last one) is stored: wait for it, then count every event exactly.
        const events = await eventually(`${shape.name}: the AllGroupsReady event`, async () => {
          const seen = await eventsOf(product, shape.name);
          return countEvents(seen, "AllGroupsReady", /^All replicas are ready/) > 0 ? seen : undefined;
        }, { timeoutMs: 30_000 });
        assert.ok(
          events.every((e) =>
            e.reportingController === "leaderworkerset" && e.regarding.startsWith("LeaderWorkerSet/")
          ),
        );
        assert.equal(
          countEvents(
            events,
            "CreatingRevision",
            `Creating revision with key ${key} for a newly created LeaderWorkerSet`,
          ),
          1,
        );
        assert.equal(countEvents(events, "GroupsProgressing", `Created leader statefulset ${shape.name}`), 1);
        const n = shape.replicas;
        assert.equal(
          countEvents(events, "AllGroupsReady", `All replicas are ready, with ${n} groups ready of total ${n} groups`),
          1,
        );
        for (let g = 0; g < n; g++) {
          assert.equal(
            countEvents(events, "GroupsProgressing", `Created worker statefulset for leader pod ${shape.name}-${g}`),
            shape.size === 1 ? 0 : 1,
          );
        }
        if (n > 0) {
          assert.ok(
            countEvents(
              events,
              "GroupsProgressing",
              /^Replicas are progressing, with \d+ groups ready of total \d+ groups$/,
            ) >= 1,
          );
        }
        const sts = await getObject<StatefulSet>(product, STATEFUL_SETS, shape.name);
        assert.equal(sts?.metadata?.labels?.team, "a", "LWS labels propagate to the leader sts");
      });
    }
    console.log(`  groups settled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
);

clusterTest("controllers: LeaderReady waits for the leader, LeaderCreated does not", async ({ cluster, namespace }) => {
  await using product = await startProduct(cluster, namespace);
  // Leaders select a node label that nobody has yet: they stay Pending (never Ready) until a node gets it.
  const gate = `lws-test.x-k8s.io/${namespace}`;
  const leaderTemplate = {
    spec: { nodeSelector: { [gate]: "true" }, containers: [{ name: "leader", image: "nginx:1.27" }] },
  };
  await kubectlApply(
    product,
    lwsManifest("created", {
      size: 3,
      spec: { startupPolicy: "LeaderCreated", leaderWorkerTemplate: { leaderTemplate } },
    }),
    lwsManifest("ready", { size: 3, spec: { startupPolicy: "LeaderReady", leaderWorkerTemplate: { leaderTemplate } } }),
  );
  try {
    await eventually("LeaderCreated creates the worker sts while the leader is Pending", async () => {
      const sts = await getObject<StatefulSet>(product, STATEFUL_SETS, "created-0");
      return sts !== undefined;
    });
    const [leader] = await podsOf(product, "created", "leaderworkerset.sigs.k8s.io/worker-index=0");
    assert.equal(leader?.status?.phase, "Pending");
    await sleep(2_000);
    assert.equal(await getObject(product, STATEFUL_SETS, "ready-0"), undefined, "LeaderReady: no worker sts yet");
    const [readyLeader] = await podsOf(product, "ready", "leaderworkerset.sigs.k8s.io/worker-index=0");
    assert.equal(readyLeader?.status?.phase, "Pending");

    await cluster.kubectlOk(["label", "node", "kwok-node-0", `${gate}=true`]);
    const lws = await waitAvailable(product, "ready");
    assertAvailableStatus(lws);
    const sts = await getObject<StatefulSet>(product, STATEFUL_SETS, "ready-0");
    const [leaderNow] = await podsOf(product, "ready", "leaderworkerset.sigs.k8s.io/worker-index=0");
    const readyAt = leaderNow?.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime ?? "";
    assert.ok(
      Date.parse(sts?.metadata?.creationTimestamp ?? "") >= Date.parse(readyAt),
      `worker sts created ${sts?.metadata?.creationTimestamp}, leader Ready at ${readyAt}`,
    );
    await waitAvailable(product, "created");
  } finally {
    await cluster.kubectl(["label", "node", "kwok-node-0", `${gate}-`]);
  }
});
