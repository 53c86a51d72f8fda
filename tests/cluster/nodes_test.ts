import assert from "node:assert/strict";
import { DEFAULT_TOPOLOGY, nodeLabels, nodeManifests, TOPOLOGY_LABELS } from "./nodes.ts";

Deno.test("nodeLabels() nests racks in zones and spreads node pools across zones", async (t) => {
  const cases: { index: number; zone: string; rack: string; pool: string }[] = [
    { index: 0, zone: "zone-a", rack: "rack-0", pool: "pool-0" },
    { index: 1, zone: "zone-a", rack: "rack-0", pool: "pool-1" },
    { index: 2, zone: "zone-a", rack: "rack-1", pool: "pool-0" },
    { index: 3, zone: "zone-a", rack: "rack-1", pool: "pool-1" },
    { index: 4, zone: "zone-b", rack: "rack-2", pool: "pool-0" },
    { index: 7, zone: "zone-b", rack: "rack-3", pool: "pool-1" },
  ];
  for (const c of cases) {
    await t.step(`kwok-node-${c.index}`, () => {
      const { name, labels } = nodeLabels(c.index, DEFAULT_TOPOLOGY);
      assert.equal(name, `kwok-node-${c.index}`);
      assert.equal(labels[TOPOLOGY_LABELS.hostname], name);
      assert.equal(labels[TOPOLOGY_LABELS.zone], c.zone);
      assert.equal(labels[TOPOLOGY_LABELS.rack], c.rack);
      assert.equal(labels[TOPOLOGY_LABELS.nodePool], c.pool);
    });
  }
});

Deno.test("nodeManifests() builds fake nodes with allocatable resources, from an index on", () => {
  const nodes = nodeManifests({ ...DEFAULT_TOPOLOGY, count: 30, zones: 28, pods: 250 }, { from: 26 });
  assert.deepEqual(nodes.map((n) => n.metadata?.name), [
    "kwok-node-26",
    "kwok-node-27",
    "kwok-node-28",
    "kwok-node-29",
  ]);
  assert.equal(nodes[3]?.metadata?.labels?.[TOPOLOGY_LABELS.zone], "zone-ab");
  assert.equal(nodes[0]?.metadata?.annotations?.["kwok.x-k8s.io/node"], "fake");
  assert.deepEqual(nodes[0]?.status?.allocatable, { cpu: "32", memory: "256Gi", pods: "250", "google.com/tpu": "8" });
  assert.equal(nodeManifests({ ...DEFAULT_TOPOLOGY, tpus: 0 })[0]?.status?.allocatable?.["google.com/tpu"], undefined);
  assert.throws(() => nodeManifests({ ...DEFAULT_TOPOLOGY, zones: 0 }), /zones must be a positive integer, got 0/);
});
