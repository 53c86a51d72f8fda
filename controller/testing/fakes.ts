/**
 * Test doubles shared by the reconciler unit tests: stores filled from a list of objects, a recording API client
 * with scriptable answers, and a recording event recorder. For controller unit tests only; not product code.
 *
 * @module
 */
import type { Status } from "kubernetes-types/meta/v1.d.ts";
import type { KubeClient } from "../../kube/client.ts";
import { ApiError } from "../../kube/errors.ts";
import type { EventInput, EventRecorder } from "../../kube/events.ts";
import type { ObjectReference } from "kubernetes-types/core/v1.d.ts";
import { type Indexer, type Store, StoreWriter } from "../../kube/store.ts";
import type { KubeObject, ResourceType } from "../../kube/types.ts";

/** A synced store holding `objects`, with extra indexes; `writer` applies later changes. */
export function storeOf<T extends KubeObject>(
  objects: readonly T[],
  indexers: Record<string, Indexer<T>> = {},
): Store<T> & { writer: StoreWriter<T> } {
  const writer = new StoreWriter<T>({ indexers, freeze: true });
  writer.apply({ type: "init" });
  for (const object of objects) writer.apply({ type: "initApply", object: structuredClone(object) });
  writer.apply({ type: "initDone" });
  return Object.assign(Object.create(null), writer.store, { writer });
}

/** One recorded client call. */
export interface Call {
  verb: "get" | "create" | "apply" | "updateStatus" | "delete";
  resource: string;
  name: string;
  namespace?: string;
  /** The object or body sent (create: the parsed body; `bodyText` keeps a string body). */
  object?: unknown;
  bodyText?: string;
  options?: Record<string, unknown>;
}

/** An answer script: return an object, or throw. Called with the call; `undefined` falls back to the default. */
export type Responder = (call: Call) => unknown | undefined;

/** An ApiError with a reason and code, as the server would send. */
export function apiError(code: number, reason: string, message = reason): ApiError {
  const status: Status = { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message };
  return new ApiError(status, { code });
}

/**
 * A recording fake of the client calls the reconcilers make. By default: `create`/`apply` echo the object with a
 * uid (and `generation` 1 for apply), `updateStatus` echoes, `delete` answers `{}`, `get` throws NotFound.
 */
export class FakeClient implements Pick<KubeClient, "get" | "create" | "apply" | "updateStatus" | "delete"> {
  readonly calls: Call[] = [];
  #responders: Responder[] = [];
  #uid = 0;

  /** Adds an answer script, consulted before the defaults (latest first). */
  respond(responder: Responder): this {
    this.#responders.unshift(responder);
    return this;
  }

  /** Calls of one verb (and resource plural). */
  of(verb: Call["verb"], resource?: string): Call[] {
    return this.calls.filter((c) => c.verb === verb && (resource === undefined || c.resource === resource));
  }

  #answer<T>(call: Call, fallback: () => unknown): Promise<T> {
    this.calls.push(call);
    for (const responder of this.#responders) {
      let result: unknown;
      try {
        result = responder(call);
      } catch (err) {
        return Promise.reject(err);
      }
      if (result !== undefined) return Promise.resolve(result as T);
    }
    try {
      return Promise.resolve(fallback() as T);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  get<T extends KubeObject>(type: ResourceType, name: string, options?: { namespace?: string }): Promise<T> {
    return this.#answer<T>({ verb: "get", resource: type.plural, name, namespace: options?.namespace }, () => {
      throw apiError(404, "NotFound");
    });
  }

  create<T extends KubeObject>(
    type: ResourceType,
    body: T | string,
    options?: { namespace?: string; fieldManager?: string },
  ): Promise<T> {
    const object = (typeof body === "string" ? JSON.parse(body) : structuredClone(body)) as T;
    const call: Call = {
      verb: "create",
      resource: type.plural,
      name: object.metadata?.name ?? "",
      namespace: options?.namespace ?? object.metadata?.namespace,
      object,
      bodyText: typeof body === "string" ? body : undefined,
      options: { ...options },
    };
    return this.#answer<T>(call, () => ({ ...object, metadata: { ...object.metadata, uid: `uid-${++this.#uid}` } }));
  }

  apply<T extends KubeObject>(type: ResourceType, object: T, options: { fieldManager: string; force?: boolean }) {
    const call: Call = {
      verb: "apply",
      resource: type.plural,
      name: object.metadata?.name ?? "",
      namespace: object.metadata?.namespace,
      object: structuredClone(object),
      options: { ...options },
    };
    return this.#answer<T>(call, () => ({
      ...structuredClone(object),
      metadata: { ...object.metadata, uid: "applied-uid", generation: 1 },
    }));
  }

  updateStatus<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
    const call: Call = {
      verb: "updateStatus",
      resource: type.plural,
      name: object.metadata?.name ?? "",
      namespace: object.metadata?.namespace,
      object: structuredClone(object),
    };
    return this.#answer<T>(call, () => structuredClone(object));
  }

  delete<T extends KubeObject>(
    type: ResourceType,
    name: string,
    options?: Record<string, unknown> & { namespace?: string },
  ): Promise<T | Status> {
    const call: Call = { verb: "delete", resource: type.plural, name, namespace: options?.namespace, options };
    return this.#answer<T | Status>(call, () => ({}));
  }
}

/** A recording event recorder. */
export class FakeEvents implements Pick<EventRecorder, "record"> {
  readonly recorded: (EventInput & { regarding: ObjectReference })[] = [];

  record(regarding: ObjectReference, event: EventInput): void {
    this.recorded.push({ ...event, regarding });
  }

  /** `reason: note` lines, in order. */
  notes(): string[] {
    return this.recorded.map((e) => `${e.reason}: ${e.note}`);
  }
}
