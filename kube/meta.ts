/**
 * Small readers of `metadata` that every controller needs.
 *
 * @module
 */
import type { OwnerReference } from "kubernetes-types/meta/v1.d.ts";

/**
 * Whether an object is being deleted.
 *
 * @param object Any Kubernetes object.
 * @returns `true` when `metadata.deletionTimestamp` is set.
 */
export function isDeleting(object: { metadata?: { deletionTimestamp?: string | null } }): boolean {
  return object.metadata?.deletionTimestamp !== undefined && object.metadata.deletionTimestamp !== null;
}

/**
 * The controlling owner of an object.
 *
 * @param object Any Kubernetes object.
 * @returns The owner reference with `controller: true`, if any.
 */
export function controllerOf(
  object: { metadata?: { ownerReferences?: OwnerReference[] } },
): OwnerReference | undefined {
  return object.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}
