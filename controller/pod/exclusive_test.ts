import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { exclusivePlacementStep, leaderTopologyValue } from "./exclusive.ts";

function lws(annotations?: Record<string, string>): LeaderWorkerSet {
  return { metadata: { name: "test", annotations }, spec: { leaderWorkerTemplate: { workerTemplate: {} } } };
}

function leader(nodeName?: string): Pod {
  return { metadata: { name: "test-0" }, spec: { containers: [], nodeName } };
}

const KEY = "leaderworkerset.sigs.k8s.io/exclusive-topology";

Deno.test("exclusivePlacementStep() follows §8.2 step 14", async (t) => {
  await t.step(
    "no annotation",
    () => assert.deepEqual(exclusivePlacementStep(lws(), leader("n1")), { action: "none" }),
  );
  await t.step("leader not scheduled", () => {
    assert.deepEqual(exclusivePlacementStep(lws({ [KEY]: "rack" }), leader()), { action: "waitForScheduling" });
  });
  await t.step("scheduled", () => {
    assert.deepEqual(exclusivePlacementStep(lws({ [KEY]: "rack" }), leader("n1")), {
      action: "readNode",
      nodeName: "n1",
      topologyKey: "rack",
    });
  });
  await t.step("an empty annotation still counts (upstream quirk)", () => {
    assert.deepEqual(exclusivePlacementStep(lws({ [KEY]: "" }), leader("n1")), {
      action: "readNode",
      nodeName: "n1",
      topologyKey: "",
    });
  });
});

Deno.test("leaderTopologyValue() reads the node label or fails with upstream's text", () => {
  const node = { metadata: { name: "n1", labels: { rack: "r7" } } };
  assert.deepEqual(leaderTopologyValue(node, "rack"), { value: "r7" });
  assert.deepEqual(leaderTopologyValue(node, "zone"), { error: "node does not have topology label: " });
  assert.deepEqual(leaderTopologyValue(node, ""), { error: "node does not have topology label: " });
});
