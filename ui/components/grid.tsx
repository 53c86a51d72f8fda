/**
 * The group grid island: one row per group (leader + workers as cells), paged, keyboard navigable, with the pod
 * drawer. Works without JavaScript (cells, pager and filters are links; the drawer is server-rendered with `?pod=`).
 *
 * Keys: arrows move between pods (roving focus), Home/End go to the row's first/last pod, Enter opens the drawer,
 * Page Up/Page Down change the page, Escape closes the drawer.
 *
 * @module
 */
import { Fragment } from "preact";
import type { VNode } from "preact";
import { useContext, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type {
  DetailView,
  GridDivider,
  GroupFilter,
  GroupPage,
  GroupRow,
  PodCell,
  PodDetailView,
} from "../view_model.ts";
import { StateBadge } from "./bits.tsx";
import { PodDrawer } from "./drawer.tsx";
import { cx, shortRevision, STATE_GLYPH } from "./format.ts";
import { LiveContext } from "./live.ts";

/** Props of {@linkcode GroupGrid}. */
export interface GroupGridProps {
  /** LWS namespace. */
  namespace: string;
  /** LWS name. */
  name: string;
  /** The server-rendered page of the grid. */
  grid: GroupPage;
  /** Group to highlight and focus (from `?group=`). */
  highlight?: number;
  /** Pod whose drawer is open on load (from `?pod=`). */
  podName?: string;
  /** Its data, when found. */
  pod?: PodDetailView;
}

/** Grid page parameters. */
export interface GridQuery {
  /** 1-based page. */
  page: number;
  /** Groups per page. */
  pageSize: number;
  /** Which groups. */
  filter: GroupFilter;
  /** Show the page with this group. */
  group?: number;
}

function gridParams(q: GridQuery, extra: Record<string, string> = {}): URLSearchParams {
  const params = new URLSearchParams();
  if (q.page > 1) params.set("page", String(q.page));
  if (q.pageSize !== 50) params.set("pageSize", String(q.pageSize));
  if (q.filter !== "all") params.set("filter", q.filter);
  if (q.group !== undefined) params.set("group", String(q.group));
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params;
}

/**
 * Page link of the detail page (relative query string).
 *
 * @param q Grid parameters.
 * @param extra More parameters (e.g. `pod`).
 * @returns `?page=…` or `?` alone.
 */
export function gridHref(q: GridQuery, extra: Record<string, string> = {}): string {
  const s = gridParams(q, extra).toString();
  return s ? `?${s}` : "?";
}

/**
 * URL of a detail page's live stream.
 *
 * @param namespace LWS namespace.
 * @param name LWS name.
 * @param q Grid parameters.
 * @returns The `/api/stream` URL.
 */
export function detailStreamUrl(namespace: string, name: string, q: GridQuery): string {
  return `/api/stream?${new URLSearchParams({
    view: "detail",
    ns: namespace,
    name,
    page: String(q.page),
    pageSize: String(q.pageSize),
    filter: q.filter,
  })}`;
}

function apiBase(namespace: string, name: string): string {
  return `/api/lws/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

function isDetail(message: unknown): DetailView | undefined {
  return message && typeof message === "object" && "grid" in message ? message as DetailView : undefined;
}

function cellLabel(cell: PodCell): string {
  const parts = [
    cell.name,
    cell.role === "leader" ? "leader" : `worker ${cell.workerIndex}`,
    cell.label,
  ];
  if (cell.restarts) parts.push(`${cell.restarts} restarts`);
  if (cell.node) parts.push(`node ${cell.node}`);
  if (cell.subgroup !== undefined) parts.push(`subgroup ${cell.subgroup}`);
  if (cell.outdated) parts.push("old revision");
  if (cell.failure) parts.push(cell.failure.text);
  return parts.join(", ");
}

/** A glyph per failure kind (the text beside it says what happened). */
const FAILURE_GLYPH: Record<NonNullable<PodCell["failure"]>["kind"], string> = {
  failed: "✕",
  exited: "✕",
  restarted: "↻",
  deleted: "⊖",
};

function cellTitle(cell: PodCell): string | undefined {
  const parts: string[] = [];
  if (cell.label.length > 14 || (cell.node?.length ?? 0) > 16) parts.push(`${cell.label} · ${cell.node ?? "no node"}`);
  if (cell.failure) parts.push(cell.failure.text);
  return parts.length ? parts.join("\n") : undefined;
}

interface CellProps {
  cell: PodCell;
  r: number;
  c: number;
  active: boolean;
  roving: boolean;
  href: string;
  selected: boolean;
}

function Cell(props: CellProps) {
  const { cell } = props;
  return (
    <a
      class={cx(
        "cell",
        `st-${cell.state}`,
        cell.outdated && "outdated",
        cell.extra && "extra",
        props.selected && "selected",
      )}
      href={props.href}
      data-r={props.r}
      data-c={props.c}
      data-pod={cell.name}
      tabIndex={props.roving ? (props.active ? 0 : -1) : undefined}
      aria-label={cellLabel(cell)}
      title={cellTitle(cell)}
    >
      <span class="cell-top">
        <span class="glyph" aria-hidden="true">{STATE_GLYPH[cell.state]}</span>
        <b>{cell.role === "leader" ? "L" : `W${cell.workerIndex}`}</b>
        {cell.restarts > 0 && <span class="restarts">↻{cell.restarts}</span>}
      </span>
      <span class="cell-label">{cell.label}</span>
      <span class="cell-node">{cell.node ?? "no node"}</span>
      {cell.failure && (
        <span class={`cell-failure fk-${cell.failure.kind}`}>
          <span aria-hidden="true">{FAILURE_GLYPH[cell.failure.kind]}</span> {cell.failure.short}
        </span>
      )}
    </a>
  );
}

function Divider(props: { d: GridDivider }) {
  return (
    <tr class={`divider divider-${props.d.kind}`}>
      <td colSpan={2}>
        <span>{props.d.label}</span>
      </td>
    </tr>
  );
}

function subgroupRuns(cells: PodCell[]): { subgroup: number | undefined; cells: [PodCell, number][] }[] {
  const runs: { subgroup: number | undefined; cells: [PodCell, number][] }[] = [];
  cells.forEach((cell, i) => {
    const last = runs[runs.length - 1];
    if (last && last.subgroup === cell.subgroup) last.cells.push([cell, i]);
    else runs.push({ subgroup: cell.subgroup, cells: [[cell, i]] });
  });
  return runs;
}

function Row(
  props: {
    row: GroupRow;
    r: number;
    active: [number, number];
    roving: boolean;
    subgroups: boolean;
    query: GridQuery;
    highlight: boolean;
    openPod?: string;
  },
) {
  const { row } = props;
  const renderCell = ([cell, c]: [PodCell, number]) => (
    <Cell
      key={cell.name}
      cell={cell}
      r={props.r}
      c={c}
      active={props.active[0] === props.r && props.active[1] === c}
      roving={props.roving}
      href={gridHref(props.query, { pod: cell.name })}
      selected={props.openPod === cell.name}
    />
  );
  return (
    <tr class={cx("group-row", row.surge && "surge", props.highlight && "target")} id={`group-${row.index}`}>
      <th scope="row" class="group-head">
        <span class="gi">#{row.index}</span>
        <span class="group-state">
          <StateBadge state={row.state} label={row.label} />
        </span>
        <span class="group-meta">
          <span
            class={cx(
              "rev",
              row.revisionRole === "new" ? "rev-new" : row.revisionRole === "old" ? "rev-old" : "rev-unknown",
            )}
          >
            {row.revisionRole === "new" ? "new" : row.revisionRole === "old" ? "old" : "unknown"}
          </span>
          <code class="rev-key" title={row.revision ? `revision ${row.revision}` : "revision unknown"}>
            {shortRevision(row.revision)}
          </code>
          {row.surge && <span class="flag flag-surge" title="index ≥ spec.replicas: temporary">surge</span>}
          {row.held && <span class="flag" title="below the spec partition: keeps its revision">held</span>}
          {row.queued && <span class="flag" title="waits for the rolling update to reach it">queued</span>}
          {row.workers && !row.workers.exists && <span class="flag flag-warn">no worker sts</span>}
          {row.recreated && (
            <span class="flag flag-warn" title={row.recreated.note}>
              recreated {row.recreated.age} ago{row.recreated.count > 1 ? ` (${row.recreated.count}×)` : ""}
            </span>
          )}
        </span>
        {row.failure && (
          <span class="group-failure" title={row.failure.latest.message}>
            <b>{row.failure.latest.position}</b> {row.failure.latest.text}
            {row.failure.count > 1 && <span class="muted">{` · ${row.failure.count} failures recorded`}</span>}
          </span>
        )}
      </th>
      <td class="cells">
        {props.subgroups
          ? subgroupRuns(row.cells).map((run, i) => (
            <span key={i} class={cx("subgroup", run.subgroup === undefined && "no-subgroup")}>
              <span class="sg-label">{run.subgroup === undefined ? "no subgroup" : `subgroup ${run.subgroup}`}</span>
              <span class="sg-cells">{run.cells.map(renderCell)}</span>
            </span>
          ))
          : row.cells.map((cell, c) => renderCell([cell, c]))}
      </td>
    </tr>
  );
}

/**
 * The grid, its toolbar (state counts, filter, pager, jump to group) and the pod drawer.
 *
 * @param props Server-rendered page of the grid and the drawer to open on load.
 * @returns The island.
 */
export function GroupGrid(props: GroupGridProps): VNode {
  const live = useContext(LiveContext);
  const [grid, setGrid] = useState(props.grid);
  const [query, setQuery] = useState<GridQuery>({
    page: props.grid.page,
    pageSize: props.grid.pageSize,
    filter: props.grid.filter,
  });
  // Live pages are accepted only when they are the page asked for (a message of the previous stream may still
  // arrive while switching pages).
  const wanted = useRef(query);
  wanted.current = query;
  useEffect(() => {
    if (!live) return;
    return live.onView((message) => {
      const g = isDetail(message)?.grid;
      const q = wanted.current;
      if (g && g.page === q.page && g.pageSize === q.pageSize && g.filter === q.filter) setGrid(g);
    });
  }, [live]);
  const [active, setActive] = useState<[number, number]>([0, 0]);
  const [hydrated, setHydrated] = useState(false);
  const [drawer, setDrawer] = useState<
    { name: string; pod?: PodDetailView; loading?: boolean; error?: string; returnTo?: string } | undefined
  >(
    props.podName
      ? { name: props.podName, pod: props.pod, error: props.pod ? undefined : "Pod not found in the cache" }
      : undefined,
  );
  const [highlight, setHighlight] = useState(props.highlight);
  const table = useRef<HTMLTableElement>(null);
  // Cell to focus once the next grid page has rendered (keyboard paging, jump to group).
  const focusAfterLoad = useRef<[number, number] | null>(null);
  const base = apiBase(props.namespace, props.name);

  useEffect(() => {
    setHydrated(true);
    if (props.highlight !== undefined) {
      document.getElementById(`group-${props.highlight}`)?.scrollIntoView({ block: "center" });
    }
  }, []);

  // Keep the roving focus on a cell that exists after the data changed.
  useLayoutEffect(() => {
    const [r, c] = active;
    const row = grid.rows[Math.min(r, grid.rows.length - 1)];
    const rr = Math.max(0, Math.min(r, grid.rows.length - 1));
    const cc = row ? Math.max(0, Math.min(c, row.cells.length - 1)) : 0;
    if (rr !== r || cc !== c) setActive([rr, cc]);
  }, [grid, active]);

  useLayoutEffect(() => {
    const target = focusAfterLoad.current;
    if (!target) return;
    focusAfterLoad.current = null;
    table.current?.querySelector<HTMLElement>(`[data-r="${target[0]}"][data-c="${target[1]}"]`)?.focus();
  }, [grid]);

  // Escape closes the drawer; focus returns to the cell that opened it.
  useEffect(() => {
    if (!drawer) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") closeDrawer();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [drawer?.name]);

  // A live update that changed the open pod's cell refreshes the drawer.
  const lastCell = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!drawer) return;
    const cell = grid.rows.flatMap((r) => r.cells).find((c) => c.name === drawer.name);
    const signature = cell ? JSON.stringify(cell) : undefined;
    if (lastCell.current !== undefined && signature !== undefined && signature !== lastCell.current) {
      void loadPod(drawer.name, false);
    }
    lastCell.current = signature;
  }, [grid, drawer?.name]);

  function navigate(next: GridQuery, focusColumn?: number) {
    setQuery(next);
    history.replaceState(null, "", gridHref(next, drawer ? { pod: drawer.name } : {}));
    fetch(`${base}?${gridParams({ ...next, page: next.page || 1 })}`, { headers: { accept: "application/json" } })
      .then((res) => (res.ok ? res.json() : undefined))
      .then((view: DetailView | undefined) => {
        if (!view) return;
        if (focusColumn !== undefined) {
          const row = view.grid.rows[0];
          const c = Math.min(focusColumn, (row?.cells.length ?? 1) - 1);
          focusAfterLoad.current = [0, c];
          setActive([0, c]);
        }
        setGrid(view.grid);
        const settled = { page: view.grid.page, pageSize: view.grid.pageSize, filter: view.grid.filter };
        setQuery(settled);
        if (next.group !== undefined) {
          setHighlight(next.group);
          const r = Math.max(0, view.grid.rows.findIndex((row) => row.index >= next.group!));
          setActive([r, 0]);
          focusAfterLoad.current = [r, 0];
        }
        history.replaceState(null, "", gridHref(settled, drawer ? { pod: drawer.name } : {}));
        live?.connect(detailStreamUrl(props.namespace, props.name, settled));
      })
      .catch(() => {/* the live channel shows the connection state */});
  }

  async function loadPod(name: string, showLoading: boolean) {
    if (showLoading) setDrawer((d) => ({ ...d, name, loading: true, pod: undefined, error: undefined }));
    try {
      const res = await fetch(`${base}/pods/${encodeURIComponent(name)}`, { headers: { accept: "application/json" } });
      if (!res.ok) {
        setDrawer((d) =>
          d && d.name === name ? { ...d, loading: false, pod: undefined, error: "Pod not found in the cache" } : d
        );
        return;
      }
      const pod: PodDetailView = await res.json();
      setDrawer((d) => d && d.name === name ? { ...d, loading: false, pod, error: undefined } : d);
    } catch {
      setDrawer((d) => d && d.name === name ? { ...d, loading: false, error: "Could not load the pod" } : d);
    }
  }

  function openDrawer(name: string, returnTo: string) {
    setDrawer({ name, loading: true, returnTo });
    lastCell.current = undefined;
    history.replaceState(null, "", gridHref(query, { pod: name }));
    void loadPod(name, true);
  }

  function closeDrawer() {
    const returnTo = drawer?.returnTo ?? drawer?.name;
    setDrawer(undefined);
    history.replaceState(null, "", gridHref(query));
    if (returnTo) table.current?.querySelector<HTMLElement>(`[data-pod="${CSS.escape(returnTo)}"]`)?.focus();
  }

  function onClick(e: MouseEvent) {
    const target = (e.target as HTMLElement).closest<HTMLElement>("a[data-pod]");
    if (!target || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    setActive([Number(target.dataset.r), Number(target.dataset.c)]);
    openDrawer(target.dataset.pod!, target.dataset.pod!);
  }

  function onKeyDown(e: KeyboardEvent) {
    const target = (e.target as HTMLElement).closest<HTMLElement>("a[data-pod]");
    if (!target) return;
    let [r, c] = [Number(target.dataset.r), Number(target.dataset.c)];
    const rowLen = (i: number) => grid.rows[i]?.cells.length ?? 1;
    switch (e.key) {
      case "ArrowRight":
        c = Math.min(c + 1, rowLen(r) - 1);
        break;
      case "ArrowLeft":
        c = Math.max(c - 1, 0);
        break;
      case "ArrowDown":
        r = Math.min(r + 1, grid.rows.length - 1);
        c = Math.min(c, rowLen(r) - 1);
        break;
      case "ArrowUp":
        r = Math.max(r - 1, 0);
        c = Math.min(c, rowLen(r) - 1);
        break;
      case "Home":
        c = 0;
        break;
      case "End":
        c = rowLen(r) - 1;
        break;
      case "PageDown":
        if (query.page < grid.pageCount) {
          e.preventDefault();
          navigate({ ...query, page: query.page + 1 }, c);
        }
        return;
      case "PageUp":
        if (query.page > 1) {
          e.preventDefault();
          navigate({ ...query, page: query.page - 1 }, c);
        }
        return;
      case " ":
        e.preventDefault();
        openDrawer(target.dataset.pod!, target.dataset.pod!);
        return;
      default:
        return;
    }
    e.preventDefault();
    setActive([r, c]);
    table.current?.querySelector<HTMLElement>(`[data-r="${r}"][data-c="${c}"]`)?.focus();
  }

  const linkTo = (q: GridQuery) => (e: MouseEvent) => {
    if (!hydrated) return;
    e.preventDefault();
    navigate(q);
  };
  const first = grid.rows[0]?.index;
  const last = grid.rows[grid.rows.length - 1]?.index;
  const dividers = new Map<number, GridDivider[]>();
  for (const d of grid.dividers) dividers.set(d.before, [...(dividers.get(d.before) ?? []), d]);
  const prev = { ...query, page: Math.max(1, grid.page - 1) };
  const next = { ...query, page: Math.min(grid.pageCount, grid.page + 1) };

  return (
    <section class="grid-section" aria-labelledby="grid-heading">
      <div class="grid-toolbar">
        <h2 id="grid-heading">Groups</h2>
        <ul class="legend" aria-label="Groups by state">
          {grid.counts.map((s) => (
            <li key={s.state}>
              <StateBadge state={s.state} label={`${s.label} ${s.count}`} />
            </li>
          ))}
        </ul>
        <div class="segmented" role="group" aria-label="Which groups">
          <a
            href={gridHref({ ...query, page: 1, filter: "all" })}
            aria-current={grid.filter === "all" ? "true" : undefined}
            onClick={linkTo({ ...query, page: 1, filter: "all" })}
          >
            All {grid.total}
          </a>
          <a
            href={gridHref({ ...query, page: 1, filter: "attention" })}
            aria-current={grid.filter === "attention" ? "true" : undefined}
            onClick={linkTo({ ...query, page: 1, filter: "attention" })}
          >
            Needs attention{grid.filter === "attention" ? ` ${grid.matching}` : ""}
          </a>
        </div>
        <nav class="pager" aria-label="Group pages">
          {grid.page > 1
            ? <a class="button" rel="prev" href={gridHref(prev)} onClick={linkTo(prev)}>‹ Prev</a>
            : <span class="button disabled" aria-disabled="true">‹ Prev</span>}
          <span class="page-info">
            Page {grid.page} of {grid.pageCount}
            {first !== undefined && <span class="muted">{` · groups ${first}–${last}`}</span>}
          </span>
          {grid.page < grid.pageCount
            ? <a class="button" rel="next" href={gridHref(next)} onClick={linkTo(next)}>Next ›</a>
            : <span class="button disabled" aria-disabled="true">Next ›</span>}
        </nav>
        <form
          class="jump"
          method="get"
          onSubmit={(e) => {
            if (!hydrated) return;
            e.preventDefault();
            const value = Number(new FormData(e.currentTarget).get("group"));
            if (Number.isInteger(value) && value >= 0) navigate({ ...query, group: value });
          }}
        >
          <label>
            <span class="label">Go to group</span>
            <input type="number" name="group" min={0} inputMode="numeric" placeholder="#" />
          </label>
          {query.filter !== "all" && <input type="hidden" name="filter" value={query.filter} />}
          {query.pageSize !== 50 && <input type="hidden" name="pageSize" value={String(query.pageSize)} />}
        </form>
      </div>
      {grid.attention.length > 0 && (
        <p class="attention">
          <span class="label">Needs attention:</span>
          {grid.attention.slice(0, 12).map((g) => (
            <a key={g} href={gridHref({ ...query, group: g })} onClick={linkTo({ ...query, group: g })}>#{g}</a>
          ))}
          {grid.attention.length > 12 && <span class="muted">and more</span>}
        </p>
      )}
      <p class="hint muted" id="grid-help">
        Arrow keys move between pods · Enter opens details · Page Up/Down changes page · Esc closes
      </p>
      {grid.rows.length === 0
        ? <p class="empty">{grid.filter === "attention" ? "Every group is ready and up to date." : "No groups yet."}</p>
        : (
          <table
            class="grid"
            ref={table}
            aria-describedby="grid-help"
            onClick={onClick}
            onKeyDown={onKeyDown}
          >
            <thead class="visually-hidden">
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Pods: leader, then workers</th>
              </tr>
            </thead>
            <tbody>
              {grid.rows.map((row, r) => (
                <Fragment key={row.index}>
                  {(dividers.get(row.index) ?? []).map((d) => <Divider key={`d-${d.kind}`} d={d} />)}
                  <Row
                    row={row}
                    r={r}
                    active={active}
                    roving={hydrated}
                    subgroups={grid.subgroups}
                    query={query}
                    highlight={highlight === row.index}
                    openPod={drawer?.name}
                  />
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
      {drawer && (
        <PodDrawer
          name={drawer.name}
          pod={drawer.pod}
          loading={drawer.loading}
          error={drawer.error}
          closeHref={gridHref(query)}
          onClose={hydrated ? closeDrawer : undefined}
        />
      )}
    </section>
  );
}
