/**
 * The thin shell between a {@linkcode DashboardSource} and the pure view model: reads the objects of the LWS a
 * request asks for and hands them to `view_model.ts`. Pages, the JSON API and the SSE stream all go through here,
 * so they always show the same data.
 *
 * @module
 */
import { LABEL_NAME } from "../api/constants.ts";
import type { LiveView } from "./stream.ts";
import type { DashboardSource } from "./source.ts";
import {
  buildDetail,
  buildOverview,
  buildPodDetail,
  DEFAULT_PAGE_SIZE,
  type DetailView,
  type FailureView,
  failureViews,
  type GroupFilter,
  type LwsObjects,
  MAX_PAGE_SIZE,
  type OverviewView,
  type PodDetailView,
  updateRevisionOf,
} from "./view_model.ts";

/** Overview filters, as taken from a query string. */
export interface OverviewQuery {
  /** Namespace (`""`: all). */
  namespace: string;
  /** Search text. */
  query: string;
}

/** Which page of a detail view, as taken from a query string. */
export interface DetailQuery {
  /** LWS namespace. */
  namespace: string;
  /** LWS name. */
  name: string;
  /** 1-based page. */
  page: number;
  /** Groups per page (1–500). */
  pageSize: number;
  /** Which groups to list. */
  filter: GroupFilter;
  /** Show the page with this group. */
  group?: number;
}

/**
 * Reads the overview filters from URL search parameters `ns` and `q` (trimmed, length-limited).
 *
 * @param params The request's search parameters.
 * @returns The filters.
 */
export function parseOverviewQuery(params: URLSearchParams): OverviewQuery {
  return {
    namespace: (params.get("ns") ?? "").trim().slice(0, 253),
    query: (params.get("q") ?? "").trim().slice(0, 253),
  };
}

function intParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || !/^[0-9]{1,9}$/.test(raw)) return undefined;
  return Number(raw);
}

/**
 * Reads the grid page from URL search parameters `page` (1-based), `pageSize`, `filter` (`all`|`attention`) and
 * `group`. Invalid values fall back to defaults.
 *
 * @param namespace LWS namespace.
 * @param name LWS name.
 * @param params The request's search parameters.
 * @param defaultPageSize Page size when the parameter is absent.
 * @returns The page to show.
 */
export function parseDetailQuery(
  namespace: string,
  name: string,
  params: URLSearchParams,
  defaultPageSize = DEFAULT_PAGE_SIZE,
): DetailQuery {
  return {
    namespace,
    name,
    page: Math.max(1, intParam(params, "page") ?? 1),
    pageSize: Math.min(MAX_PAGE_SIZE, Math.max(1, intParam(params, "pageSize") ?? defaultPageSize)),
    filter: params.get("filter") === "attention" ? "attention" : "all",
    group: intParam(params, "group"),
  };
}

/**
 * The objects of one LWS from the source.
 *
 * @param source The cache.
 * @param namespace LWS namespace.
 * @param name LWS name.
 * @returns The objects, or `undefined` when the LWS is not cached.
 */
export function lwsObjects(source: DashboardSource, namespace: string, name: string): LwsObjects | undefined {
  const lws = source.getLeaderWorkerSet(namespace, name);
  if (!lws) return undefined;
  return {
    lws,
    pods: source.podsOf(namespace, name),
    statefulSets: source.statefulSetsOf(namespace, name),
    events: source.eventsOf(namespace, name),
    failures: source.failuresOf(namespace, name),
  };
}

/**
 * The overview for the given filters.
 *
 * @param source The cache.
 * @param query Namespace filter and search.
 * @param now Current time (ms).
 * @returns The view.
 */
export function loadOverview(source: DashboardSource, query: OverviewQuery, now: number): OverviewView {
  const everything = source.listLeaderWorkerSets();
  const namespaces = [...new Set(everything.map((l) => l.metadata.namespace ?? ""))];
  const needle = query.query.toLowerCase();
  const selected = everything.filter((l) =>
    (!query.namespace || l.metadata.namespace === query.namespace) &&
    (!needle || `${l.metadata.namespace}/${l.metadata.name}`.toLowerCase().includes(needle))
  );
  // Only the selected LWS pay for reading their pods; `total` still counts the namespace's LWS. Events tell the
  // recent group recreations of the warning badge, the failure record its recent pod failures.
  const objects = selected.map((lws) => ({
    lws,
    pods: source.podsOf(lws.metadata.namespace ?? "", lws.metadata.name ?? ""),
    statefulSets: source.statefulSetsOf(lws.metadata.namespace ?? "", lws.metadata.name ?? ""),
    events: source.eventsOf(lws.metadata.namespace ?? "", lws.metadata.name ?? ""),
    failures: source.failuresOf(lws.metadata.namespace ?? "", lws.metadata.name ?? ""),
  }));
  const view = buildOverview(objects, {
    now,
    namespace: query.namespace,
    query: "",
    namespaces,
    synced: source.isSynced(),
  });
  view.query = query.query;
  view.total = everything.filter((l) => !query.namespace || l.metadata.namespace === query.namespace).length;
  return view;
}

/**
 * The detail view of one LWS.
 *
 * @param source The cache.
 * @param query Which LWS and grid page.
 * @param now Current time (ms).
 * @returns The view, or `undefined` when the LWS is not cached.
 */
export function loadDetail(source: DashboardSource, query: DetailQuery, now: number): DetailView | undefined {
  const objects = lwsObjects(source, query.namespace, query.name);
  if (!objects) return undefined;
  return buildDetail(objects, {
    now,
    page: query.page,
    pageSize: query.pageSize,
    filter: query.filter,
    group: query.group,
  });
}

/**
 * The recorded pod failures of one LWS, newest first.
 *
 * @param source The cache.
 * @param namespace LWS namespace.
 * @param name LWS name.
 * @param now Current time (ms).
 * @returns The failures, or `undefined` when the LWS is not cached.
 */
export function loadFailures(
  source: DashboardSource,
  namespace: string,
  name: string,
  now: number,
): FailureView[] | undefined {
  if (!source.getLeaderWorkerSet(namespace, name)) return undefined;
  return failureViews(source.failuresOf(namespace, name), now);
}

/**
 * The pod drawer of one pod of one LWS, with the pod's events fetched on demand (bounded by `timeoutMs`).
 *
 * @param source The cache.
 * @param target Namespace, LWS name and pod name.
 * @param options Current time, an abort signal and the events timeout.
 * @returns The view, or `undefined` when the pod is not cached or does not belong to the LWS.
 */
export async function loadPod(
  source: DashboardSource,
  target: { namespace: string; lwsName: string; podName: string },
  options: { now: number; signal?: AbortSignal; timeoutMs?: number },
): Promise<PodDetailView | undefined> {
  const pod = source.getPod(target.namespace, target.podName);
  if (!pod || pod.metadata?.labels?.[LABEL_NAME] !== target.lwsName) return undefined;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 3000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let events: Awaited<ReturnType<DashboardSource["podEvents"]>> = [];
  try {
    events = await source.podEvents(target.namespace, target.podName, signal);
  } catch {
    // Events are a nice-to-have in the drawer: show the pod without them.
  }
  return buildPodDetail(pod, {
    now: options.now,
    updateRevision: updateRevisionOf(target.lwsName, source.statefulSetsOf(target.namespace, target.lwsName)),
    events,
  });
}

/**
 * The live view of an overview (for the SSE hub).
 *
 * @param source The cache.
 * @param query Filters.
 * @param now Clock.
 * @returns A view concerned by every LWS of the namespace filter.
 */
export function overviewLiveView(source: DashboardSource, query: OverviewQuery, now: () => number): LiveView {
  return {
    id: `overview?${new URLSearchParams({ ns: query.namespace, q: query.query })}`,
    concerns: (namespace) => !query.namespace || namespace === query.namespace,
    render: () => loadOverview(source, query, now()),
  };
}

/**
 * The live view of a detail page (for the SSE hub). Renders `{ gone: true }` once the LWS is deleted.
 *
 * @param source The cache.
 * @param query Which LWS and grid page.
 * @param now Clock.
 * @returns A view concerned only by that LWS.
 */
export function detailLiveView(source: DashboardSource, query: DetailQuery, now: () => number): LiveView {
  const params = new URLSearchParams({
    ns: query.namespace,
    name: query.name,
    page: String(query.page),
    pageSize: String(query.pageSize),
    filter: query.filter,
  });
  if (query.group !== undefined) params.set("group", String(query.group));
  return {
    id: `detail?${params}`,
    concerns: (namespace, name) => namespace === query.namespace && name === query.name,
    render: () => loadDetail(source, query, now()) ?? { gone: true },
  };
}
