/**
 * The effective resource requests of a pod template, the way Kubernetes computes them
 * (`k8s.io/component-helpers/resource.PodRequests` with default options), for the `minResources` of a gang's
 * PodGroup (spec §10). Exact: every value is a {@linkcode Quantity} (BigInt mantissa), never a float.
 *
 * The rule, per resource name:
 * 1. the sum of the regular containers' requests plus the requests of every restartable (sidecar) init container;
 * 2. the maximum of that and, for each init container in order, what is running while it runs: a non-sidecar init
 *    container's request plus the sidecars declared before it (a sidecar counts with the sidecars up to itself);
 * 3. pod-level `spec.resources.requests`, when it names a supported pod-level resource (`cpu`, `memory`,
 *    `hugepages-*`), replaces the aggregate for the supported resources it names (others are ignored);
 * 4. `spec.overhead` is added.
 *
 * Only `requests` count: templates are not defaulted by the API server, so a resource with only a limit (a TPU
 * limit, say) contributes nothing, exactly as for upstream, which runs the same function on the template.
 *
 * Pure.
 *
 * @module
 */
import type { Container, PodSpec, ResourceRequirements } from "kubernetes-types/core/v1.d.ts";
import { add, cmp, parseQuantityJSON, type Quantity, quantityToString } from "./quantity.ts";

/** Resource name → exact quantity. Insertion order follows first appearance (Go maps have none; render sorted). */
export type ResourceQuantities = Map<string, Quantity>;

/**
 * A pod spec with pod-level `resources` (Kubernetes ≥ 1.32, PodLevelResources; newer than the `kubernetes-types`
 * release the project pins).
 */
export type PodSpecWithResources = PodSpec & { resources?: ResourceRequirements };

/** Pod-level resources Kubernetes supports (component-helpers `IsSupportedPodLevelResource`). */
export function isSupportedPodLevelResource(name: string): boolean {
  return name === "cpu" || name === "memory" || name.startsWith("hugepages-");
}

function parseList(list: Record<string, unknown> | undefined, where: string): ResourceQuantities {
  const out: ResourceQuantities = new Map();
  for (const [name, raw] of Object.entries(list ?? {})) {
    const text = typeof raw === "number" ? String(raw) : raw;
    if (typeof text !== "string") throw new Error(`Cannot read ${where}.${name}: not a quantity, got ${String(raw)}`);
    out.set(name, parseQuantityJSON(text));
  }
  return out;
}

/** `list += other`, per resource (Go's `addResourceList`). */
function addInto(list: ResourceQuantities, other: ResourceQuantities): void {
  for (const [name, q] of other) {
    const current = list.get(name);
    list.set(name, current === undefined ? q : add(current, q));
  }
}

/** `list = max(list, other)`, per resource (Go's `maxResourceList`). */
function maxInto(list: ResourceQuantities, other: ResourceQuantities): void {
  for (const [name, q] of other) {
    const current = list.get(name);
    if (current === undefined || cmp(q, current) > 0) list.set(name, q);
  }
}

function requestsOf(container: Container, where: string): ResourceQuantities {
  return parseList(container.resources?.requests as Record<string, unknown> | undefined, where);
}

/**
 * The effective requests of a pod spec (see the module documentation for the rule).
 *
 * @param spec A pod template's spec (or a pod's).
 * @returns A new map of resource name → exact quantity; empty when nothing is requested.
 * @throws {Error} When a request is not a quantity (the API server would have refused the object).
 * @example
 * ```ts
 * const r = podRequests({ containers: [{ name: "a", resources: { requests: { cpu: "500m" } } }] });
 * quantityToString(r.get("cpu")!); // "500m"
 * ```
 */
export function podRequests(spec: PodSpecWithResources | undefined): ResourceQuantities {
  const reqs: ResourceQuantities = new Map();
  for (const [i, c] of (spec?.containers ?? []).entries()) addInto(reqs, requestsOf(c, `containers[${i}]`));
  const sidecars: ResourceQuantities = new Map();
  const initMax: ResourceQuantities = new Map();
  for (const [i, c] of (spec?.initContainers ?? []).entries()) {
    const own = requestsOf(c, `initContainers[${i}]`);
    let running: ResourceQuantities;
    if (c.restartPolicy === "Always") {
      addInto(reqs, own);
      addInto(sidecars, own);
      running = new Map(sidecars);
    } else {
      running = new Map(own);
      addInto(running, sidecars);
    }
    maxInto(initMax, running);
  }
  maxInto(reqs, initMax);

  const podLevel = parseList(spec?.resources?.requests as Record<string, unknown> | undefined, "resources.requests");
  if ([...podLevel.keys()].some(isSupportedPodLevelResource)) {
    for (const [name, q] of podLevel) if (isSupportedPodLevelResource(name)) reqs.set(name, q);
  }
  addInto(reqs, parseList(spec?.overhead as Record<string, unknown> | undefined, "overhead"));
  return reqs;
}

/**
 * `a + n × b` per resource, exactly (`n` ≥ 0 additions of `b`, as upstream's loop over the workers).
 *
 * @param a The first term (e.g. the leader's requests).
 * @param b The repeated term (e.g. one worker's requests).
 * @param n How many times `b` is added.
 * @returns A new map.
 */
export function addTimes(a: ResourceQuantities, b: ResourceQuantities, n: number): ResourceQuantities {
  const out: ResourceQuantities = new Map(a);
  if (n <= 0) return out;
  const times = BigInt(n);
  const scaled: ResourceQuantities = new Map();
  for (const [name, q] of b) scaled.set(name, { unscaled: q.unscaled * times, scale: q.scale, format: q.format });
  addInto(out, scaled);
  return out;
}

/**
 * Renders quantities as a Kubernetes `ResourceList` (canonical strings, keys sorted).
 *
 * @param list Resource name → quantity.
 * @returns A new plain object, e.g. `{ cpu: "1500m", memory: "3Gi" }`.
 */
export function toResourceList(list: ResourceQuantities): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...list.keys()].sort()) out[name] = quantityToString(list.get(name)!);
  return out;
}
