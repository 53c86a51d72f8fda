/**
 * Package-internal helpers of the pod webhook: env-var lookups, container lists, pod references.
 *
 * @module
 */
import type { Container, EnvVar, Pod } from "kubernetes-types/core/v1.d.ts";

/**
 * The value of the first env entry named `name` (Go's loop over `container.Env`).
 *
 * @param container A container.
 * @param name The env var name.
 * @returns The value (`""` for a `valueFrom` entry), or undefined when the container does not define it.
 */
export function envValue(container: Container, name: string): string | undefined {
  const entry = (container.env ?? []).find((e: EnvVar) => e.name === name);
  return entry === undefined ? undefined : entry.value ?? "";
}

/**
 * Every container and init container of a pod (not ephemeral containers), in that order; the objects themselves,
 * so callers can modify them in place (on a copy of the pod).
 *
 * @param pod The pod.
 * @returns The containers, then the init containers.
 */
export function allContainers(pod: Pod): Container[] {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
}

/**
 * A pod as `klog.KObj` prints it in upstream messages: `<ns>/<name>`, or `<name>` without a namespace.
 *
 * @param namespace The namespace (may be empty).
 * @param name The pod name.
 * @returns The reference text.
 */
export function podRef(namespace: string, name: string): string {
  return namespace === "" ? name : `${namespace}/${name}`;
}
