/**
 * The shapes shared by the kube/ layer: resource descriptors, list/watch options and the raw list/watch
 * contract that the client implements and the watcher consumes.
 *
 * @module
 */
import type { ObjectMeta, Status } from "kubernetes-types/meta/v1.d.ts";

/** Any Kubernetes object as JSON: only `metadata` is assumed. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/**
 * Identifies a REST resource. `group` is `""` for the core group.
 *
 * @example
 * const pods: ResourceType = { group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true };
 */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

/** Options of a list call; every field maps to the query parameter of the same name. */
export interface ListOptions {
  /** Namespace to list in; omitted or empty lists across all namespaces (namespaced resources only). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  /** Opaque: never parse or compare it. */
  resourceVersion?: string;
  resourceVersionMatch?: "NotOlderThan" | "Exact";
}

/** One page of a list response. */
export interface ObjectList<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
}

/** Options of a watch call. */
export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Opaque resourceVersion to watch from (the list's or the last event's/bookmark's). */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

/** A raw event as the API server sends it on a watch stream. */
export type RawWatchEvent<T> =
  | { type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; object: T }
  | { type: "ERROR"; object: Status };

/**
 * What a watcher needs from the API: one page of a list, and a watch stream.
 * The client implements it per resource; tests script it.
 */
export interface ListWatch<T> {
  /** Lists one page. Rejects with an `ApiError` (kube/errors.ts) on a non-2xx response. */
  list(options: ListOptions, signal?: AbortSignal): Promise<ObjectList<T>>;
  /**
   * Opens a watch. The iterable ends when the server closes the stream; it throws on transport errors or a
   * non-2xx response. Aborting `signal` ends it promptly.
   */
  watch(options: WatchOptions, signal: AbortSignal): AsyncIterable<RawWatchEvent<T>>;
}
