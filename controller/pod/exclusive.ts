/**
 * Exclusive placement of worker pods (spec §8.2 step 14, §9.6): workers follow their leader onto the same topology
 * domain through a nodeSelector on the worker StatefulSet, pinned to the leader's node label value. Pure; the
 * reconciler fetches the node.
 *
 * @module
 */
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import { ANNOTATION_EXCLUSIVE_TOPOLOGY } from "../../api/constants.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";

/** What step 14 needs before the worker StatefulSet can be created. */
export type ExclusivePlacementStep =
  /** The live LWS has no `exclusive-topology` annotation: no nodeSelector. */
  | { action: "none" }
  /** The leader is not scheduled yet: stop; the scheduling update re-triggers the reconcile. */
  | { action: "waitForScheduling" }
  /** Fetch this node (a failure, NotFound included, is a reconcile error) and read `topologyKey`. */
  | { action: "readNode"; nodeName: string; topologyKey: string };

/**
 * Step 14 of a pod reconcile (spec §8.2): the annotation counts when present, even empty (upstream then looks up an
 * empty label key and fails; mirrored on purpose).
 *
 * @param lws The live LeaderWorkerSet.
 * @param leaderPod The leader pod.
 * @returns What to do next.
 */
export function exclusivePlacementStep(lws: LeaderWorkerSet, leaderPod: Pod): ExclusivePlacementStep {
  const topologyKey = lws.metadata.annotations?.[ANNOTATION_EXCLUSIVE_TOPOLOGY];
  if (topologyKey === undefined) return { action: "none" };
  const nodeName = leaderPod.spec?.nodeName ?? "";
  if (nodeName === "") return { action: "waitForScheduling" };
  return { action: "readNode", nodeName, topologyKey };
}

/**
 * The leader node's value of the topology label, for `desiredWorkerStatefulSet`'s `leaderNodeTopologyValue`.
 *
 * @param node The leader's node.
 * @param topologyKey The node label key (the LWS `exclusive-topology` annotation).
 * @returns `{ value }`, or `{ error }` with upstream's text `node does not have topology label: ` (it prints the
 *   missing, hence empty, value — a known quirk).
 */
export function leaderTopologyValue(node: Node, topologyKey: string): { value: string } | { error: string } {
  const value = node.metadata?.labels?.[topologyKey];
  if (value === undefined) return { error: "node does not have topology label: " };
  return { value };
}
