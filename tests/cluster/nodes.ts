/**
 * The fake nodes of the local control plane: plain Node objects that KWOK manages (annotation
 * `kwok.x-k8s.io/node: fake`), labelled with the topology keys the tests place pods by.
 *
 * Layout for `count` nodes `kwok-node-0 … kwok-node-<count-1>`:
 * - `topology.kubernetes.io/zone`: `zone-a`, `zone-b`, … in contiguous blocks (nodes 0-3 → zone-a, 4-7 → zone-b
 *   for 8 nodes and 2 zones);
 * - `example.com/rack`: `rack-0`, `rack-1`, … in contiguous blocks, so racks nest inside zones when `racks` is a
 *   multiple of `zones` (8 nodes, 4 racks: 2 nodes per rack);
 * - `cloud.google.com/gke-nodepool`: `pool-0`, `pool-1`, … round-robin, so a node pool spans zones;
 * - `kubernetes.io/hostname`: the node name.
 *
 * @module
 */
import type { Node } from "kubernetes-types/core/v1.d.ts";

/** Label keys the fake nodes carry. */
export const TOPOLOGY_LABELS = {
  hostname: "kubernetes.io/hostname",
  zone: "topology.kubernetes.io/zone",
  nodePool: "cloud.google.com/gke-nodepool",
  rack: "example.com/rack",
} as const;

/** How many fake nodes, how they are spread, and what each can hold. */
export interface NodeTopology {
  count: number;
  zones: number;
  racks: number;
  nodePools: number;
  /** Quantities for `status.capacity` and `status.allocatable`. */
  cpu: string;
  memory: string;
  pods: number;
  /** `google.com/tpu` capacity of every node (TPU samples and tests request it); 0 leaves the resource out. */
  tpus: number;
}

/** 8 nodes over 2 zones, 4 racks and 2 node pools; 32 CPUs, 256 GiB, 110 pods and 8 TPUs each. */
export const DEFAULT_TOPOLOGY: NodeTopology = {
  count: 8,
  zones: 2,
  racks: 4,
  nodePools: 2,
  cpu: "32",
  memory: "256Gi",
  pods: 110,
  tpus: 8,
};

function zoneName(index: number): string {
  // zone-a … zone-z, then zone-aa, zone-ab, …
  let name = "";
  let n = index;
  do {
    name = String.fromCharCode(97 + (n % 26)) + name;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `zone-${name}`;
}

/**
 * Computes the topology labels of node `index`.
 *
 * @param index 0-based node index
 * @param topology the layout
 * @returns the node name and its labels
 */
export function nodeLabels(index: number, topology: NodeTopology): { name: string; labels: Record<string, string> } {
  const name = `kwok-node-${index}`;
  const block = (parts: number) => Math.min(parts - 1, Math.floor((index * parts) / topology.count));
  return {
    name,
    labels: {
      [TOPOLOGY_LABELS.hostname]: name,
      [TOPOLOGY_LABELS.zone]: zoneName(block(topology.zones)),
      [TOPOLOGY_LABELS.rack]: `rack-${block(topology.racks)}`,
      [TOPOLOGY_LABELS.nodePool]: `pool-${index % topology.nodePools}`,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": "amd64",
      "type": "kwok",
    },
  };
}

/**
 * Builds the Node objects for a topology, ready to `kubectl create` (status included: the API server keeps status
 * on create, and our lws-node-ready KWOK stage keeps the allocatable it finds).
 *
 * @param topology the layout (see the module doc)
 * @param options `from`: first index (to add nodes to a running cluster), default 0
 * @returns one Node per index in `[from, topology.count)`
 * @throws when a count is not a positive integer
 */
export function nodeManifests(topology: NodeTopology, options: { from?: number } = {}): Node[] {
  for (const key of ["count", "zones", "racks", "nodePools", "pods"] as const) {
    const value = topology[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`Cannot build fake nodes: ${key} must be a positive integer, got ${value}`);
    }
  }
  const nodes: Node[] = [];
  for (let index = options.from ?? 0; index < topology.count; index++) {
    const { name, labels } = nodeLabels(index, topology);
    const resources: Record<string, string> = {
      cpu: topology.cpu,
      memory: topology.memory,
      pods: String(topology.pods),
    };
    if (topology.tpus > 0) resources["google.com/tpu"] = String(topology.tpus);
    nodes.push({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels, annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" } },
      spec: {},
      status: { capacity: resources, allocatable: resources },
    });
  }
  return nodes;
}
