/**
 * A lean Kubernetes REST client on Deno's `fetch`: typed generic calls over a {@linkcode ResourceType}, a
 * newline-delimited JSON watch stream, server-side apply, client-side rate limiting, typed errors and a request
 * hook for metrics. It implements the `ListWatch<T>` contract of `kube/types.ts` per resource.
 *
 * Transport: `fetch` with `Deno.createHttpClient({ caCerts, cert, key })` (HTTP/2 when the server offers it).
 * Deno's fetch cannot skip certificate verification or override the verified name, so a cluster with
 * `insecure-skip-tls-verify` or `tls-server-name` goes through `node:https` instead (same semantics, HTTP/1.1).
 *
 * @module
 */
import https from "node:https";
import { Readable } from "node:stream";
import type { DeleteOptions, Status } from "kubernetes-types/meta/v1.d.ts";
import type { Scale } from "kubernetes-types/autoscaling/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import type { AuthMaterial, ClusterConfig } from "./kubeconfig.ts";
import type {
  KubeObject,
  ListOptions,
  ListWatch,
  ObjectList,
  RawWatchEvent,
  ResourceType,
  WatchOptions,
} from "./types.ts";
import { apiVersionOf } from "./resources.ts";
import { apiErrorFromResponse, isGone, type RequestDescription, TransportError } from "./errors.ts";
import { type Clock, realClock } from "./clock.ts";
import { createRateLimiter, type RateLimiter } from "./rate_limit.ts";

const log = getLogger(["lws", "kube", "client"]);

/** What the request hook is told after every HTTP round trip (including retries). */
export interface RequestInfo {
  /** Kubernetes verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `apply`, `delete`. */
  verb: string;
  /** HTTP method. */
  method: string;
  /** Resource plural, with the subresource after a slash (`leaderworkersets/status`). */
  resource: string;
  /** HTTP status code; `0` when no response arrived (transport error, abort, timeout). */
  code: number;
  /** Time from sending to response headers, in milliseconds. */
  durationMs: number;
}

/** Options of {@linkcode createClient}. */
export interface ClientOptions {
  /** Sustained requests per second (client-go QPS; the controller's default is 500). `0` disables limiting. */
  qps: number;
  /** Burst of the token bucket. */
  burst: number;
  /** `User-Agent` header (see {@linkcode buildUserAgent}); the server derives the default field manager from it. */
  userAgent: string;
  /** Aborting it aborts every in-flight and future request of this client (watches end). */
  signal?: AbortSignal;
  /** Called after every HTTP round trip; must not throw (exceptions are logged and ignored). */
  onRequest?: (info: RequestInfo) => void;
  /** Timeout of a non-watch request in milliseconds (default 60 000; `0` disables). */
  requestTimeoutMs?: number;
  /** How many times a 429 with `Retry-After` is retried before the error is returned (default 5). */
  maxRetries?: number;
  /** Clock for the rate limiter and retry waits. */
  clock?: Clock;
}

/** Options common to single-object calls. */
export interface CallOptions {
  /** Namespace of a namespaced resource (for writes, defaults to the object's `metadata.namespace`). */
  namespace?: string;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** Options of writes. */
export interface WriteOptions extends CallOptions {
  /** `fieldManager` query parameter; by default the server derives it from the user agent (`lws`). */
  fieldManager?: string;
  /** Sends `dryRun=All`: validated and admitted, never persisted. */
  dryRun?: boolean;
}

/** Patch flavours and their content types. */
export type PatchType = "merge" | "strategic" | "json";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
};

/** Options of {@linkcode KubeClient.patch}. */
export interface PatchOptions extends WriteOptions {
  /** The patch document: an object (merge / strategic) or an array of operations (JSON patch), or a JSON string. */
  patch: unknown;
  /** Default `merge` (RFC 7386). Strategic merge works for built-in types only (not for CRDs). */
  patchType?: PatchType;
  /** Subresource to patch, e.g. `status` or `scale`. */
  subresource?: string;
}

/** Options of {@linkcode KubeClient.apply}. */
export interface ApplyOptions extends CallOptions {
  /** Field manager owning the applied fields (required by the server; `lws` for the controller). */
  fieldManager: string;
  /** Take ownership of fields other managers own instead of failing with a Conflict. */
  force?: boolean;
  /** Subresource to apply to, e.g. `status`. */
  subresource?: string;
  /** Sends `dryRun=All`. */
  dryRun?: boolean;
}

/** Options of {@linkcode KubeClient.delete}. */
export interface DeleteCallOptions extends CallOptions {
  /** `Foreground`, `Background` or `Orphan` (server default depends on the resource). */
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  /** Delete only if the object still has this uid / resourceVersion (else 409 Conflict). */
  preconditions?: { uid?: string; resourceVersion?: string };
  /** Grace period; `0` deletes pods immediately. */
  gracePeriodSeconds?: number;
  /** Sends `dryRun=All`. */
  dryRun?: boolean;
}

/** Options of {@linkcode KubeClient.list} and {@linkcode KubeClient.listAll}. */
export interface ListCallOptions extends ListOptions {
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** Options of {@linkcode KubeClient.watch}. */
export interface WatchCallOptions extends WatchOptions {
  /** Required: ends the stream promptly when aborted. */
  signal: AbortSignal;
}

/**
 * A Kubernetes API client. Every call is rate limited (except watches), authenticates with the config's
 * credentials (refreshed and retried once after a 401), retries a 429 that carries `Retry-After`, and rejects
 * with an `ApiError` for a non-2xx answer or a {@linkcode TransportError} when no answer arrived.
 * An aborted call rejects with the signal's reason.
 */
export interface KubeClient {
  /** The cluster config this client talks to. */
  readonly config: ClusterConfig;
  /** Reads one object. */
  get<T extends KubeObject>(type: ResourceType, name: string, options?: CallOptions): Promise<T>;
  /** Lists one page (implements `ListWatch<T>.list`). `items` get `apiVersion` and `kind` filled in. */
  list<T extends KubeObject>(type: ResourceType, options?: ListCallOptions): Promise<ObjectList<T>>;
  /**
   * Lists every page (following `continue`; page size `limit`, default 500) and returns all items with the last
   * page's metadata. When a continue token expires mid-way (410), it lists again in one unpaginated call.
   */
  listAll<T extends KubeObject>(type: ResourceType, options?: ListCallOptions): Promise<ObjectList<T>>;
  /**
   * Opens a watch (implements `ListWatch<T>.watch`). The request is sent when iteration starts. The iterable
   * ends when the server closes the stream or `signal` aborts; it throws an `ApiError` for a non-2xx
   * answer and a {@linkcode TransportError} for a cut connection or an undecodable line. `ERROR` events are
   * yielded as they come (the caller decides: a 410 means relist).
   */
  watch<T extends KubeObject>(type: ResourceType, options: WatchCallOptions): AsyncIterable<RawWatchEvent<T>>;
  /**
   * Creates an object. A string body is sent byte-exact (ControllerRevision `data` must not be re-serialised);
   * the namespace is then taken from `options.namespace` or parsed from the string.
   */
  create<T extends KubeObject>(type: ResourceType, body: T | string, options?: WriteOptions): Promise<T>;
  /** Replaces an object (PUT); `metadata.resourceVersion` makes it conditional (409 Conflict when stale). */
  update<T extends KubeObject>(type: ResourceType, object: T, options?: WriteOptions): Promise<T>;
  /** Replaces the `status` subresource (PUT …/status) with the full object. */
  updateStatus<T extends KubeObject>(type: ResourceType, object: T, options?: WriteOptions): Promise<T>;
  /** Patches an object (merge, strategic-merge or JSON patch). */
  patch<T extends KubeObject>(type: ResourceType, name: string, options: PatchOptions): Promise<T>;
  /** Patches the `status` subresource. */
  patchStatus<T extends KubeObject>(type: ResourceType, name: string, options: PatchOptions): Promise<T>;
  /**
   * Server-side apply: PATCH with `application/apply-patch+yaml` and a JSON body (JSON is YAML), the field
   * manager and `force`. `apiVersion` and `kind` are filled in from `type` when absent. Fields this manager
   * applied before and no longer sends are removed.
   */
  apply<T extends KubeObject>(type: ResourceType, object: T, options: ApplyOptions): Promise<T>;
  /** Deletes an object; resolves to the object (deletion pending) or the server's Status. */
  delete<T extends KubeObject>(type: ResourceType, name: string, options?: DeleteCallOptions): Promise<T | Status>;
  /** Reads the `scale` subresource (autoscaling/v1 Scale). */
  getScale(type: ResourceType, name: string, options?: CallOptions): Promise<Scale>;
  /** Replaces the `scale` subresource. */
  updateScale(type: ResourceType, scale: Scale, options?: WriteOptions): Promise<Scale>;
  /** A `ListWatch<T>` for one resource, optionally fixed to a namespace and selectors. */
  listWatch<T extends KubeObject>(
    type: ResourceType,
    options?: { namespace?: string; labelSelector?: string; fieldSelector?: string },
  ): ListWatch<T>;
  /** Closes the HTTP clients. Calls after `close()` fail. */
  close(): void;
}

/** Inputs of {@linkcode buildUserAgent}. */
export interface UserAgentParts {
  /** Product version, e.g. `v0.1.0`. */
  version: string;
  /** Git commit of the build; only the first 7 characters are used; `unknown` when absent. */
  commit?: string;
  /** Go-style OS name (default from `Deno.build.os`). */
  os?: string;
  /** Go-style architecture (default from `Deno.build.arch`: `x86_64` → `amd64`, `aarch64` → `arm64`). */
  arch?: string;
}

/**
 * The controller's user agent, `lws/<version> (<os>/<arch>) <commit7 or unknown>` (spec §6.2). The API server
 * derives the default field manager from the part before the first `/`: `lws`.
 *
 * @param parts version, commit, os, arch
 * @returns the header value
 * @example
 * buildUserAgent({ version: "v0.1.0", commit: "0123456789abcdef", os: "linux", arch: "amd64" });
 * // "lws/v0.1.0 (linux/amd64) 0123456"
 */
export function buildUserAgent(parts: UserAgentParts): string {
  const os = parts.os ?? Deno.build.os;
  const arch = parts.arch ?? ({ x86_64: "amd64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch] ??
    Deno.build.arch;
  const commit = parts.commit && parts.commit.trim() !== "" ? parts.commit.trim().slice(0, 7) : "unknown";
  return `lws/${parts.version} (${os}/${arch}) ${commit}`;
}

/**
 * The REST path of a resource collection or object.
 *
 * @param type the resource
 * @param options namespace, name, subresource
 * @returns e.g. `/apis/apps/v1/namespaces/ns/statefulsets/web/status`
 */
export function resourcePath(
  type: ResourceType,
  options: { namespace?: string; name?: string; subresource?: string } = {},
): string {
  let path = type.group === "" ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  if (type.namespaced && options.namespace) path += `/namespaces/${encodeURIComponent(options.namespace)}`;
  path += `/${type.plural}`;
  if (options.name !== undefined) path += `/${encodeURIComponent(options.name)}`;
  if (options.subresource) path += `/${options.subresource}`;
  return path;
}

const WATCH_EVENT_TYPES = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/**
 * Decodes a watch response body: newline-delimited JSON, one event per line, lines split arbitrarily across
 * chunks. Blank lines are skipped. Ends when the body ends; a final line without a newline is decoded too.
 *
 * @param body the response body
 * @returns the events
 * @throws {TransportError} for a line that is not a JSON watch event, or when reading the body fails
 */
export async function* decodeWatchStream<T>(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<RawWatchEvent<T>, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const decode = (line: string): RawWatchEvent<T> => {
    let event: { type?: unknown; object?: unknown };
    try {
      event = JSON.parse(line);
    } catch (err) {
      throw new TransportError(`Cannot decode watch event: ${(err as Error).message}, got ${line.slice(0, 200)}`, {
        cause: err,
      });
    }
    if (typeof event !== "object" || event === null || !WATCH_EVENT_TYPES.has(event.type as string)) {
      throw new TransportError(`Cannot decode watch event: unknown type, got ${line.slice(0, 200)}`);
    }
    return event as RawWatchEvent<T>;
  };
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line !== "") yield decode(line);
      }
    }
    buffer += decoder.decode();
    const rest = buffer.trim();
    if (rest !== "") yield decode(rest);
  } finally {
    await reader.cancel().catch(() => {});
  }
}

interface TransportRequest {
  method: string;
  url: string;
  headers: Headers;
  body?: string;
  signal: AbortSignal;
  auth: AuthMaterial;
}

interface Transport {
  send(request: TransportRequest): Promise<Response>;
  close(): void;
}

/** `fetch` with one `Deno.HttpClient` per client certificate (exec plugins may rotate it). */
function fetchTransport(config: ClusterConfig): Transport {
  const clients = new Map<string, Deno.HttpClient>();
  let closed = false;
  const clientFor = (auth: AuthMaterial): Deno.HttpClient | undefined => {
    if (!config.server.startsWith("https:") && !config.proxyUrl) return undefined;
    const key = `${auth.cert ?? ""}\u0000${auth.key ?? ""}`;
    let client = clients.get(key);
    if (!client) {
      const options: Deno.CreateHttpClientOptions = {};
      if (config.caCerts) options.caCerts = config.caCerts;
      if (config.proxyUrl) options.proxy = { url: config.proxyUrl };
      client = auth.cert && auth.key
        ? Deno.createHttpClient({ ...options, cert: auth.cert, key: auth.key })
        : Deno.createHttpClient(options);
      clients.set(key, client);
    }
    return client;
  };
  return {
    send(request) {
      if (closed) return Promise.reject(new TransportError("Cannot send request: the client is closed"));
      const client = clientFor(request.auth);
      return fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: request.signal,
        ...(client ? { client } : {}),
      });
    },
    close() {
      closed = true;
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** `node:https` for what Deno's fetch cannot do: skip verification, verify against `tls-server-name`. */
function nodeTransport(config: ClusterConfig): Transport {
  const agents = new Map<string, https.Agent>();
  let closed = false;
  const agentFor = (auth: AuthMaterial): https.Agent => {
    const key = `${auth.cert ?? ""}\u0000${auth.key ?? ""}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = new https.Agent({
        keepAlive: true,
        ca: config.caCerts,
        cert: auth.cert,
        key: auth.key,
        rejectUnauthorized: !config.insecureSkipTLSVerify,
        servername: config.tlsServerName,
      });
      agents.set(key, agent);
    }
    return agent;
  };
  return {
    send(request) {
      if (closed) return Promise.reject(new TransportError("Cannot send request: the client is closed"));
      return new Promise<Response>((resolve, reject) => {
        if (request.signal.aborted) return reject(request.signal.reason);
        const headers: Record<string, string> = {};
        request.headers.forEach((v, k) => headers[k] = v);
        const req = https.request(
          request.url,
          { method: request.method, headers, agent: agentFor(request.auth) },
          (res) => {
            const responseHeaders = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              if (Array.isArray(v)) { for (const item of v) responseHeaders.append(k, item); }
              else if (v !== undefined) responseHeaders.set(k, String(v));
            }
            const status = res.statusCode ?? 0;
            if (NULL_BODY_STATUSES.has(status)) {
              res.resume();
              resolve(new Response(null, { status, headers: responseHeaders }));
            } else {
              resolve(
                new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers: responseHeaders }),
              );
            }
          },
        );
        const onAbort = () => req.destroy(request.signal.reason);
        request.signal.addEventListener("abort", onAbort, { once: true });
        req.on("close", () => request.signal.removeEventListener("abort", onAbort));
        req.on("error", (err) => reject(request.signal.aborted ? request.signal.reason : err));
        req.end(request.body);
      });
    },
    close() {
      closed = true;
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}

interface Call {
  verb: string;
  method: string;
  type: ResourceType;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: string;
  contentType?: string;
  subresource?: string;
  signal?: AbortSignal;
  watch?: boolean;
}

/**
 * Creates a client for one cluster.
 *
 * @param config where the API server is and how to authenticate (kube/kubeconfig.ts)
 * @param options qps, burst, user agent, signal, request hook, timeout
 * @returns the client; call `close()` when done (tests: the resource sanitizer checks it)
 * @example
 * const client = createClient(await loadClusterConfig(), { qps: 500, burst: 500, userAgent: buildUserAgent({ version: "v0.1.0" }) });
 * const pod = await client.get<Pod>(PODS, "web-0", { namespace: "default" });
 * client.close();
 */
export function createClient(config: ClusterConfig, options: ClientOptions): KubeClient {
  const clock = options.clock ?? realClock;
  const limiter: RateLimiter = createRateLimiter({ qps: options.qps, burst: options.burst, clock });
  const timeoutMs = options.requestTimeoutMs ?? 60_000;
  const maxRetries = options.maxRetries ?? 5;
  const transport = config.server.startsWith("https:") && (config.insecureSkipTLSVerify || config.tlsServerName)
    ? nodeTransport(config)
    : fetchTransport(config);

  const report = (info: RequestInfo) => {
    if (!options.onRequest) return;
    try {
      options.onRequest(info);
    } catch (err) {
      log.warn("Request hook threw: {error}", { error: String(err) });
    }
  };

  /** Sends one call; returns a 2xx response whose body the caller must consume. */
  const send = async (call: Call): Promise<Response> => {
    const signals = [call.signal, options.signal].filter((s): s is AbortSignal => s !== undefined);
    const timeout = !call.watch && timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const signal = AbortSignal.any(timeout ? [...signals, timeout] : signals);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined && v !== "") query.set(k, String(v));
    const qs = query.toString();
    const url = `${config.server}${call.path}${qs ? `?${qs}` : ""}`;
    const description: RequestDescription = { method: call.method, url: `${call.path}${qs ? `?${qs}` : ""}` };
    const resource = call.subresource ? `${call.type.plural}/${call.subresource}` : call.type.plural;
    const rethrowAbort = (err: unknown): never => {
      if (signal.aborted) {
        if (timeout?.aborted && !signals.some((s) => s.aborted)) {
          throw new TransportError(`${call.method} ${description.url}: timed out after ${timeoutMs} ms`, {
            cause: err,
            request: description,
          });
        }
        throw signals.find((s) => s.aborted)?.reason ?? err;
      }
      throw err;
    };

    let refreshedAuth = false;
    for (let attempt = 0;; attempt++) {
      if (signal.aborted) rethrowAbort(signal.reason);
      try {
        if (!call.watch) await limiter.wait(signal);
      } catch (err) {
        rethrowAbort(err);
      }
      let auth: AuthMaterial;
      try {
        auth = await config.credentials.get(signal);
      } catch (err) {
        if (signal.aborted) rethrowAbort(err);
        throw err;
      }
      const headers = new Headers({ "Accept": "application/json", "User-Agent": options.userAgent });
      if (auth.authorization) headers.set("Authorization", auth.authorization);
      if (call.contentType) headers.set("Content-Type", call.contentType);
      const started = clock.now();
      let response: Response;
      try {
        response = await transport.send({ method: call.method, url, headers, body: call.body, signal, auth });
      } catch (err) {
        report({ verb: call.verb, method: call.method, resource, code: 0, durationMs: clock.now() - started });
        if (signal.aborted) rethrowAbort(err);
        if (err instanceof TransportError) throw err;
        throw new TransportError(`${call.method} ${description.url}: ${(err as Error).message ?? String(err)}`, {
          cause: err,
          request: description,
        });
      }
      report({
        verb: call.verb,
        method: call.method,
        resource,
        code: response.status,
        durationMs: clock.now() - started,
      });
      if (response.ok) return response;

      let text = "";
      try {
        text = await response.text();
      } catch (err) {
        if (signal.aborted) rethrowAbort(err);
      }
      const error = apiErrorFromResponse(response, text, description);
      if (response.status === 401 && config.credentials.refreshable && !refreshedAuth) {
        refreshedAuth = true;
        config.credentials.invalidate();
        log.debug("Got 401 for {request}, refreshing credentials and retrying", { request: description.url });
        continue;
      }
      if (response.status === 429 && error.retryAfterSeconds !== undefined && attempt < maxRetries && !call.watch) {
        log.debug("Got 429 for {request}, retrying after {seconds} s", {
          request: description.url,
          seconds: error.retryAfterSeconds,
        });
        if (!(await clock.sleep(Math.min(error.retryAfterSeconds, 60) * 1000, signal))) rethrowAbort(signal.reason);
        continue;
      }
      throw error;
    }
  };

  const readJson = async <R>(response: Response, call: Call): Promise<R> => {
    try {
      return await response.json() as R;
    } catch (err) {
      const signals = [call.signal, options.signal].filter((s): s is AbortSignal => s?.aborted === true);
      if (signals[0]) throw signals[0].reason;
      throw new TransportError(`${call.method} ${call.path}: cannot read the response: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };

  const call = async <R>(c: Call): Promise<R> => readJson<R>(await send(c), c);

  const namespaceOf = (
    type: ResourceType,
    explicit: string | undefined,
    object: KubeObject | undefined,
    what: string,
  ) => {
    if (!type.namespaced) return undefined;
    const ns = explicit ?? object?.metadata?.namespace;
    if (!ns) throw new TypeError(`Cannot ${what} ${type.plural}: a namespace is required, got none`);
    return ns;
  };
  const nameOf = (type: ResourceType, object: KubeObject, what: string): string => {
    const name = object.metadata?.name;
    if (!name) throw new TypeError(`Cannot ${what} ${type.plural}: metadata.name is required, got none`);
    return name;
  };
  const writeQuery = (o: { fieldManager?: string; dryRun?: boolean } | undefined) => ({
    fieldManager: o?.fieldManager,
    dryRun: o?.dryRun ? "All" : undefined,
  });
  const withTypeMeta = <T extends KubeObject>(type: ResourceType, object: T): T =>
    object.apiVersion && object.kind ? object : { ...object, apiVersion: apiVersionOf(type), kind: type.kind };

  const list = async <T extends KubeObject>(type: ResourceType, o: ListCallOptions = {}): Promise<ObjectList<T>> => {
    const c: Call = {
      verb: "list",
      method: "GET",
      type,
      path: resourcePath(type, { namespace: o.namespace }),
      query: {
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
        limit: o.limit,
        continue: o.continue,
        resourceVersion: o.resourceVersion,
        resourceVersionMatch: o.resourceVersionMatch,
      },
      signal: o.signal,
    };
    const result = await call<{ items?: T[] | null; metadata?: ObjectList<T>["metadata"] }>(c);
    const apiVersion = apiVersionOf(type);
    const items = (result.items ?? []).map((item) => ({ ...item, apiVersion, kind: type.kind }));
    return { items, metadata: result.metadata ?? {} };
  };

  const patchCall = <T extends KubeObject>(
    type: ResourceType,
    name: string,
    o: PatchOptions,
  ): Promise<T> => {
    const patchType = o.patchType ?? "merge";
    return call<T>({
      verb: "patch",
      method: "PATCH",
      type,
      path: resourcePath(type, {
        namespace: namespaceOf(type, o.namespace, undefined, "patch"),
        name,
        subresource: o.subresource,
      }),
      query: writeQuery(o),
      body: typeof o.patch === "string" ? o.patch : JSON.stringify(o.patch),
      contentType: PATCH_CONTENT_TYPES[patchType],
      subresource: o.subresource,
      signal: o.signal,
    });
  };

  /** PUT of an object or one of its subresources. */
  const put = <T extends KubeObject>(type: ResourceType, object: KubeObject, o: WriteOptions, subresource?: string) => {
    const what = subresource ? `update ${subresource} of` : "update";
    return call<T>({
      verb: "update",
      method: "PUT",
      type,
      path: resourcePath(type, {
        namespace: namespaceOf(type, o.namespace, object, what),
        name: nameOf(type, object, what),
        subresource,
      }),
      query: writeQuery(o),
      body: JSON.stringify(withTypeMeta(type, object)),
      contentType: "application/json",
      subresource,
      signal: o.signal,
    });
  };

  const client: KubeClient = {
    config,
    get<T extends KubeObject>(type: ResourceType, name: string, o: CallOptions = {}) {
      return call<T>({
        verb: "get",
        method: "GET",
        type,
        path: resourcePath(type, { namespace: namespaceOf(type, o.namespace, undefined, "get"), name }),
        signal: o.signal,
      });
    },
    list,
    async listAll<T extends KubeObject>(type: ResourceType, o: ListCallOptions = {}) {
      const items: T[] = [];
      let cont: string | undefined = o.continue;
      const limit = o.limit ?? 500;
      while (true) {
        let page: ObjectList<T>;
        try {
          page = await list<T>(type, { ...o, limit, continue: cont });
        } catch (err) {
          if (cont !== undefined && isGone(err)) {
            log.debug("Continue token of {resource} expired, listing again in one call", { resource: type.plural });
            return await list<T>(type, { ...o, limit: undefined, continue: undefined });
          }
          throw err;
        }
        items.push(...page.items);
        cont = page.metadata.continue || undefined;
        if (!cont) return { items, metadata: { ...page.metadata, continue: undefined } };
      }
    },
    watch<T extends KubeObject>(type: ResourceType, o: WatchCallOptions): AsyncIterable<RawWatchEvent<T>> {
      const c: Call = {
        verb: "watch",
        method: "GET",
        type,
        path: resourcePath(type, { namespace: o.namespace }),
        query: {
          watch: "true",
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
          resourceVersion: o.resourceVersion,
          allowWatchBookmarks: o.allowWatchBookmarks ? "true" : undefined,
          timeoutSeconds: o.timeoutSeconds,
        },
        signal: o.signal,
        watch: true,
      };
      const aborted = () => o.signal.aborted || options.signal?.aborted === true;
      return {
        async *[Symbol.asyncIterator]() {
          let response: Response;
          try {
            response = await send(c);
          } catch (err) {
            if (aborted()) return;
            throw err;
          }
          if (!response.body) return;
          try {
            yield* decodeWatchStream<T>(response.body);
          } catch (err) {
            if (aborted()) return;
            if (err instanceof TransportError) throw err;
            throw new TransportError(`Watch of ${type.plural} broke: ${(err as Error).message ?? String(err)}`, {
              cause: err,
            });
          }
        },
      };
    },
    create<T extends KubeObject>(type: ResourceType, body: T | string, o: WriteOptions = {}) {
      let namespaceSource: KubeObject | undefined;
      if (typeof body === "string") {
        if (type.namespaced && !o.namespace) {
          try {
            namespaceSource = JSON.parse(body) as KubeObject;
          } catch (err) {
            throw new TypeError(`Cannot create ${type.plural}: the body is not JSON: ${(err as Error).message}`);
          }
        }
      } else {
        namespaceSource = body;
      }
      return call<T>({
        verb: "create",
        method: "POST",
        type,
        path: resourcePath(type, { namespace: namespaceOf(type, o.namespace, namespaceSource, "create") }),
        query: writeQuery(o),
        body: typeof body === "string" ? body : JSON.stringify(withTypeMeta(type, body)),
        contentType: "application/json",
        signal: o.signal,
      });
    },
    update<T extends KubeObject>(type: ResourceType, object: T, o: WriteOptions = {}) {
      return put<T>(type, object, o);
    },
    updateStatus<T extends KubeObject>(type: ResourceType, object: T, o: WriteOptions = {}) {
      return put<T>(type, object, o, "status");
    },
    patch: patchCall,
    patchStatus<T extends KubeObject>(type: ResourceType, name: string, o: PatchOptions) {
      return patchCall<T>(type, name, { ...o, subresource: "status" });
    },
    apply<T extends KubeObject>(type: ResourceType, object: T, o: ApplyOptions) {
      if (!o.fieldManager) throw new TypeError(`Cannot apply ${type.plural}: fieldManager is required, got none`);
      return call<T>({
        verb: "apply",
        method: "PATCH",
        type,
        path: resourcePath(type, {
          namespace: namespaceOf(type, o.namespace, object, "apply"),
          name: nameOf(type, object, "apply"),
          subresource: o.subresource,
        }),
        query: {
          fieldManager: o.fieldManager,
          force: o.force ? "true" : undefined,
          dryRun: o.dryRun ? "All" : undefined,
        },
        body: JSON.stringify(withTypeMeta(type, object)),
        contentType: "application/apply-patch+yaml",
        subresource: o.subresource,
        signal: o.signal,
      });
    },
    delete<T extends KubeObject>(type: ResourceType, name: string, o: DeleteCallOptions = {}) {
      const body: DeleteOptions = { kind: "DeleteOptions", apiVersion: "v1" };
      if (o.propagationPolicy) body.propagationPolicy = o.propagationPolicy;
      if (o.preconditions) body.preconditions = o.preconditions;
      if (o.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = o.gracePeriodSeconds;
      if (o.dryRun) body.dryRun = ["All"];
      return call<T | Status>({
        verb: "delete",
        method: "DELETE",
        type,
        path: resourcePath(type, { namespace: namespaceOf(type, o.namespace, undefined, "delete"), name }),
        body: JSON.stringify(body),
        contentType: "application/json",
        signal: o.signal,
      });
    },
    getScale(type: ResourceType, name: string, o: CallOptions = {}) {
      return call<Scale>({
        verb: "get",
        method: "GET",
        type,
        path: resourcePath(type, {
          namespace: namespaceOf(type, o.namespace, undefined, "get scale of"),
          name,
          subresource: "scale",
        }),
        subresource: "scale",
        signal: o.signal,
      });
    },
    updateScale(type: ResourceType, scale: Scale, o: WriteOptions = {}) {
      return put<Scale>(type, { apiVersion: "autoscaling/v1", kind: "Scale", ...scale }, o, "scale");
    },
    listWatch<T extends KubeObject>(
      type: ResourceType,
      fixed: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
    ): ListWatch<T> {
      return {
        list: (o, signal) => list<T>(type, { ...definedOnly(fixed), ...definedOnly({ ...o }), signal }),
        watch: (o, signal) => client.watch<T>(type, { ...definedOnly(fixed), ...definedOnly({ ...o }), signal }),
      };
    },
    close() {
      transport.close();
    },
  };
  return client;
}

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
