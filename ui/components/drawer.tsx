/**
 * The pod drawer: everything about one pod of a group — status, conditions, containers with their env (values from
 * Secrets shown as references only), the LWS labels and annotations, and the pod's events.
 *
 * @module
 */
import type { VNode } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { ContainerView, PodDetailView } from "../view_model.ts";
import { ConditionsTable, Pill, StateBadge } from "./bits.tsx";
import { EventsTable } from "./detail.tsx";
import { shortRevision } from "./format.ts";

/** Props of {@linkcode PodDrawer}. */
export interface PodDrawerProps {
  /** Pod name (shown while loading). */
  name: string;
  /** The pod's data; `undefined` while loading or when not found. */
  pod?: PodDetailView;
  /** Data is being fetched. */
  loading?: boolean;
  /** Why there is no data (e.g. `Pod not found in the cache`). */
  error?: string;
  /** Link that closes the drawer without JavaScript. */
  closeHref: string;
  /** Closes the drawer (islands); absent in server rendering. */
  onClose?: () => void;
}

function Facts(props: { items: [string, string | number | undefined][] }) {
  return (
    <dl class="facts">
      {props.items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v === undefined || v === "" ? <span class="muted">—</span> : v}</dd>
        </div>
      ))}
    </dl>
  );
}

function Container(props: { c: ContainerView }) {
  const c = props.c;
  return (
    <section class="container-card">
      <h4>
        {c.name} {c.init && <span class="note">init</span>}
        <Pill tone={c.ready ? "ok" : "neutral"} text={c.ready ? "ready" : "not ready"} />
        {c.restarts > 0 && <Pill tone="warn" text={`${c.restarts} restarts`} />}
      </h4>
      <Facts
        items={[
          ["Image", c.image],
          ["State", c.state],
          ["Last state", c.lastState],
          ["Requests", c.requests],
          ["Limits", c.limits],
        ]}
      />
      {(c.env.length > 0 || c.envFrom.length > 0) && (
        <table class="table compact env">
          <caption>Environment</caption>
          <tbody>
            {c.env.map((e) => (
              <tr key={e.name}>
                <th scope="row" class="mono">
                  {e.name}
                  {e.injected && <span class="note" title="Injected by the LWS pod webhook">LWS</span>}
                </th>
                <td class="mono wrap">
                  {e.source
                    ? (
                      <span class={e.secret ? "ref secret" : "ref"}>
                        {e.secret && <span class="note">from Secret</span>}
                        {e.source}
                      </span>
                    )
                    : e.value}
                </td>
              </tr>
            ))}
            {c.envFrom.map((ref) => (
              <tr key={ref}>
                <th scope="row" class="mono muted">envFrom</th>
                <td class="mono">
                  <span class="ref">{ref}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * The drawer. Server-rendered when the page is opened with `?pod=`; in the grid island it opens on a cell and
 * closes on Escape, the close button or the link.
 *
 * @param props What to show and how to close.
 * @returns The drawer.
 */
export function PodDrawer(props: PodDrawerProps): VNode {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, [props.name]);
  const p = props.pod;
  return (
    <aside class="drawer" role="dialog" aria-modal="false" aria-labelledby="drawer-title">
      <header class="drawer-head">
        <h2 id="drawer-title" tabIndex={-1} ref={heading}>{props.name}</h2>
        <a
          class="button close"
          href={props.closeHref}
          aria-label="Close pod details (Escape)"
          onClick={(e) => {
            if (props.onClose) {
              e.preventDefault();
              props.onClose();
            }
          }}
        >
          ✕ Close
        </a>
      </header>
      {props.loading && !p && <p class="muted">Loading…</p>}
      {props.error && !p && <p class="banner tone-warn">{props.error}</p>}
      {p && (
        <div class="drawer-body">
          <p class="drawer-state">
            <StateBadge state={p.state} label={p.label} />
            <span class="muted">
              {p.role === "leader" ? "leader" : `worker ${p.workerIndex ?? "?"}`} of group {p.groupIndex ?? "?"}
            </span>
            {p.outdated && <Pill tone="warn" text="old revision" />}
          </p>
          {p.message && <p class="banner tone-warn">{p.reason ? `${p.reason}: ` : ""}{p.message}</p>}
          <Facts
            items={[
              ["Phase", p.phase],
              ["Node", p.node],
              ["Pod IP", p.podIP],
              ["Host IP", p.hostIP],
              ["Started", p.startTime],
              ["Age", p.age],
              ["Restarts", p.restarts],
              ["QoS", p.qosClass],
              ["Revision", p.revision ? shortRevision(p.revision) + (p.outdated ? " (old)" : "") : undefined],
            ]}
          />
          <h3>Conditions</h3>
          <ConditionsTable conditions={p.conditions} />
          <h3>Containers</h3>
          {p.containers.map((c) => <Container key={`${c.init}-${c.name}`} c={c} />)}
          <h3>LWS labels &amp; annotations</h3>
          <table class="table compact kv">
            <tbody>
              {[...p.lwsLabels, ...p.lwsAnnotations].map((kv) => (
                <tr key={kv.key}>
                  <th scope="row" class="mono">{kv.key.replace("leaderworkerset.sigs.k8s.io/", "…/")}</th>
                  <td class="mono wrap" title={kv.key}>{kv.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Events</h3>
          <EventsTable events={p.events} empty="No events regarding this pod." />
        </div>
      )}
    </aside>
  );
}
