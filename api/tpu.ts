/**
 * Who "requests TPUs" (spec §9.5.1), shared by the pod webhook (TPU environment variables, §9.5) and the pod
 * controller (the `leader-requests-tpus` annotation of the worker StatefulSet, §6.4). Pure.
 *
 * @module
 */
import type { Container, PodSpec } from "kubernetes-types/core/v1.d.ts";
import { TPU_RESOURCE_NAME } from "./constants.ts";
import { isZero, parseQuantityJSON } from "./quantity.ts";

/**
 * Whether a resource value from a pod (as decoded from the API server's JSON) is a non-zero quantity. Values are
 * parsed like Go's `Quantity.UnmarshalJSON` ({@link parseQuantityJSON}); a malformed value counts as zero, since the
 * API server rejects those before any webhook or controller sees them.
 */
function nonZeroQuantity(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  try {
    return !isZero(parseQuantityJSON(String(value)));
  } catch {
    return false;
  }
}

/**
 * Whether a container requests TPUs (spec §9.5.1): its `resources.limits["google.com/tpu"]` is non-zero, or, when
 * that limit is absent, its `resources.requests["google.com/tpu"]` is non-zero. A zero limit means no TPUs whatever
 * the request says.
 *
 * @param container The container.
 * @returns `true` when it requests TPUs.
 * @example
 * ```ts
 * containerRequestsTpus({ name: "c", resources: { limits: { "google.com/tpu": "4" } } }); // true
 * ```
 */
export function containerRequestsTpus(container: Container): boolean {
  const limit = container.resources?.limits?.[TPU_RESOURCE_NAME];
  if (limit !== undefined && limit !== null) return nonZeroQuantity(limit);
  return nonZeroQuantity(container.resources?.requests?.[TPU_RESOURCE_NAME]);
}

/**
 * The TPU containers of a pod spec (spec §9.5.1): the requesting regular containers in order, then the requesting
 * init containers in order.
 *
 * @param spec The pod spec (or undefined).
 * @returns The container objects themselves (not copies).
 */
export function tpuContainersOf(spec: PodSpec | undefined): Container[] {
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].filter(containerRequestsTpus);
}

/**
 * Whether a pod spec requests TPUs (spec §9.5.1): some container or init container does.
 *
 * @param spec The pod spec (or undefined).
 * @returns `true` when some container requests TPUs.
 */
export function podRequestsTpus(spec: PodSpec | undefined): boolean {
  return tpuContainersOf(spec).length > 0;
}
