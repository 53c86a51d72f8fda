/**
 * The overview island: namespace filter, search and one row per LeaderWorkerSet, following the live stream.
 *
 * @module
 */
import type { VNode } from "preact";
import { useContext, useEffect, useRef, useState } from "preact/hooks";
import type { OverviewRow, OverviewView } from "../view_model.ts";
import { GroupsReadyBar, Head, Pill, StackedBar } from "./bits.tsx";
import { fraction, shortRevision } from "./format.ts";
import { LiveContext, useLive } from "./live.ts";

/** Props of {@linkcode OverviewTable}. */
export interface OverviewProps {
  /** The server-rendered overview. */
  view: OverviewView;
}

function isOverview(message: unknown): OverviewView | undefined {
  return message && typeof message === "object" && "rows" in message ? message as OverviewView : undefined;
}

/**
 * URL of the overview's live stream.
 *
 * @param namespace Namespace filter.
 * @param query Search text.
 * @returns The `/api/stream` URL.
 */
export function overviewStreamUrl(namespace: string, query: string): string {
  return `/api/stream?${new URLSearchParams({ view: "overview", ns: namespace, q: query })}`;
}

function Row(props: { row: OverviewRow }) {
  const r = props.row;
  const front = r.partition.current !== undefined && r.partition.current !== r.partition.spec;
  return (
    <tr>
      <th scope="row" class="name">
        <a href={r.href}>{r.name}</a>
        <span class="ns">{r.namespace}</span>
      </th>
      <td>
        <Pill tone={r.status.tone} text={r.status.label} />
        {r.awaitingController && " "}
        {r.awaitingController && (
          <span class="note" title="metadata.generation is newer than status.observedGeneration">
            controller catching up
          </span>
        )}
      </td>
      <td class="num-cell">
        <span class="num">{fraction(r.readyGroups, r.replicas)}</span>
        <GroupsReadyBar row={r} />
        {r.surgeGroups > 0 && " "}
        {r.surgeGroups > 0 && <span class="note">+{r.surgeGroups} surge</span>}
      </td>
      <td class="num-cell">
        {r.rollout.inProgress
          ? (
            <>
              <span class="num">{fraction(r.rollout.updated, r.rollout.desired)} updated</span>
              <StackedBar
                total={r.rollout.desired}
                label={`${r.rollout.updated} of ${r.rollout.desired} groups updated`}
                segments={[{ tone: "progress", value: r.rollout.updated }]}
              />
            </>
          )
          : <span class="muted">up to date</span>}
      </td>
      <td class="num">{fraction(r.readyPods, r.pods)}</td>
      <td class="num">{r.size}</td>
      <td class="mono">
        {r.currentRevision && r.currentRevision !== r.updateRevision
          ? (
            <>
              {shortRevision(r.currentRevision)} <span aria-label="to">→</span> {shortRevision(r.updateRevision)}
            </>
          )
          : shortRevision(r.updateRevision)}
      </td>
      <td class="num">
        {r.partition.spec}
        {front && " "}
        {front && (
          <span class="note" title="leader StatefulSet partition (rolling-update front)">
            sts {r.partition.current}
          </span>
        )}
      </td>
      <td>
        {r.warnings.text
          ? <Pill tone={r.warnings.failed ? "error" : "warn"} text={r.warnings.text} />
          : <span class="muted">—</span>}
      </td>
      <td class="num muted">{r.age ?? "—"}</td>
    </tr>
  );
}

/**
 * Namespace filter, search and the table of LeaderWorkerSets. Works without JavaScript (the filter is a GET form);
 * hydrated, it filters as you type and follows the live stream.
 *
 * @param props The server-rendered overview.
 * @returns The island.
 */
export function OverviewTable(props: OverviewProps): VNode {
  const live = useContext(LiveContext);
  const view = useLive(props.view, isOverview);
  const [namespace, setNamespace] = useState(props.view.namespace);
  const [query, setQuery] = useState(props.view.query);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    if (!live) return;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      const url = overviewStreamUrl(namespace, query);
      if (url === live.url()) return;
      const params = new URLSearchParams();
      if (namespace) params.set("ns", namespace);
      if (query) params.set("q", query);
      history.replaceState(null, "", params.size ? `?${params}` : location.pathname);
      live.connect(url);
    }, 200);
    return () => clearTimeout(timer.current);
  }, [namespace, query]);

  const namespaces = view.namespaces.includes(namespace) || !namespace
    ? view.namespaces
    : [...view.namespaces, namespace];
  return (
    <section aria-labelledby="lws-heading">
      <form class="toolbar" method="get" action="/" role="search" onSubmit={(e) => live && e.preventDefault()}>
        <h1 id="lws-heading">LeaderWorkerSets</h1>
        <label>
          <span class="label">Namespace</span>
          <select name="ns" value={namespace} onChange={(e) => setNamespace(e.currentTarget.value)}>
            <option value="">All namespaces</option>
            {namespaces.map((ns) => <option key={ns} value={ns}>{ns}</option>)}
          </select>
        </label>
        <label>
          <span class="label">Search</span>
          <input
            type="search"
            name="q"
            value={query}
            placeholder="name or namespace/name"
            autocomplete="off"
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="button">Filter</button>
        <span class="count muted" aria-live="polite">
          {view.rows.length === view.total ? `${view.total} shown` : `${view.rows.length} of ${view.total} shown`}
        </span>
      </form>
      {!view.synced && <p class="banner tone-progress">Loading the cache… the list may be incomplete.</p>}
      {view.rows.length === 0
        ? (
          <p class="empty">
            {view.total === 0 ? "No LeaderWorkerSets in this scope." : "No LeaderWorkerSet matches the search."}
          </p>
        )
        : (
          <div class="table-wrap">
            <table class="table overview">
              <Head
                columns={[
                  "Name",
                  "Status",
                  "Groups ready",
                  "Rollout",
                  "Pods ready",
                  "Size",
                  "Revision",
                  "Partition",
                  "Attention",
                  "Age",
                ]}
              />
              <tbody>
                {view.rows.map((row) => <Row key={row.key} row={row} />)}
              </tbody>
            </table>
          </div>
        )}
    </section>
  );
}
