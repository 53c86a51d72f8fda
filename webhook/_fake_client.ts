/**
 * A tiny in-memory API for the webhook package's tests: get, create, update (conditional on resourceVersion),
 * server-side apply (replace) and delete, with the typed errors of kube/errors.ts. Test-only.
 *
 * @module
 */
import type { CallOptions, KubeClient } from "../kube/client.ts";
import { ApiError } from "../kube/errors.ts";
import type { KubeObject, ResourceType } from "../kube/types.ts";

/** The subset of {@linkcode KubeClient} the webhook package uses, plus call counters and fault injection. */
export class FakeClient implements Pick<KubeClient, "get" | "create" | "update" | "apply" | "delete"> {
  readonly #objects = new Map<string, KubeObject>();
  #rv = 1;
  /** Calls by verb, e.g. `calls.update`. */
  readonly calls: Record<string, number> = {};
  /** Errors thrown by the next calls (any verb), in order. */
  readonly failNext: unknown[] = [];

  #key(type: ResourceType, name: string, namespace?: string): string {
    return `${type.plural}/${type.namespaced ? namespace ?? "default" : ""}/${name}`;
  }

  #count(verb: string): void {
    this.calls[verb] = (this.calls[verb] ?? 0) + 1;
    const failure = this.failNext.shift();
    if (failure !== undefined) throw failure;
  }

  #error(code: number, reason: string, message: string): ApiError {
    return new ApiError({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });
  }

  /** Stores an object directly (no counters), returning the stored copy. */
  put<T extends KubeObject>(type: ResourceType, object: T): T {
    const stored = structuredClone(object);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.#rv) };
    this.#objects.set(this.#key(type, stored.metadata.name!, stored.metadata.namespace), stored);
    return structuredClone(stored);
  }

  /** Reads an object directly (no counters). */
  peek<T extends KubeObject>(type: ResourceType, name: string, namespace?: string): T | undefined {
    const found = this.#objects.get(this.#key(type, name, namespace));
    return found === undefined ? undefined : structuredClone(found) as T;
  }

  get<T extends KubeObject>(type: ResourceType, name: string, options: CallOptions = {}): Promise<T> {
    try {
      this.#count("get");
      const found = this.peek<T>(type, name, options.namespace);
      if (found === undefined) throw this.#error(404, "NotFound", `${type.plural} "${name}" not found`);
      return Promise.resolve(found);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  create<T extends KubeObject>(type: ResourceType, body: T | string, options: CallOptions = {}): Promise<T> {
    try {
      this.#count("create");
      const object = (typeof body === "string" ? JSON.parse(body) : body) as T;
      const namespace = options.namespace ?? object.metadata?.namespace;
      if (this.peek(type, object.metadata!.name!, namespace)) throw this.#error(409, "AlreadyExists", "exists");
      return Promise.resolve(this.put(type, { ...object, metadata: { ...object.metadata, namespace } }));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  update<T extends KubeObject>(type: ResourceType, object: T, options: CallOptions = {}): Promise<T> {
    try {
      this.#count("update");
      const namespace = options.namespace ?? object.metadata?.namespace;
      const current = this.peek(type, object.metadata!.name!, namespace);
      if (current === undefined) throw this.#error(404, "NotFound", "not found");
      const rv = object.metadata?.resourceVersion;
      if (rv !== undefined && rv !== current.metadata?.resourceVersion) {
        throw this.#error(
          409,
          "Conflict",
          "the object has been modified; please apply your changes to the latest version",
        );
      }
      return Promise.resolve(this.put(type, object));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  apply<T extends KubeObject>(type: ResourceType, object: T, options: CallOptions = {}): Promise<T> {
    try {
      this.#count("apply");
      const namespace = options.namespace ?? object.metadata?.namespace;
      const current = this.peek(type, object.metadata!.name!, namespace);
      const { resourceVersion: _, ...metadata } = object.metadata ?? {};
      const next = structuredClone({ ...object, metadata }) as T;
      if (
        current !== undefined &&
        JSON.stringify({ ...current, metadata: {} }) === JSON.stringify({ ...next, metadata: {} })
      ) {
        return Promise.resolve(current as T);
      }
      return Promise.resolve(this.put(type, next));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  delete<T extends KubeObject>(type: ResourceType, name: string, options: CallOptions = {}): Promise<T> {
    try {
      this.#count("delete");
      const key = this.#key(type, name, options.namespace);
      const found = this.#objects.get(key);
      if (found === undefined) throw this.#error(404, "NotFound", `${type.plural} "${name}" not found`);
      this.#objects.delete(key);
      return Promise.resolve(found as T);
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
