/**
 * Detail page islands other than the grid: the summary (status, progress, revisions, partition, conditions) and the
 * events list. Both follow the live stream.
 *
 * @module
 */
import type { VNode } from "preact";
import { FAILURE_RETENTION_MS } from "../failures.ts";
import type { DetailView, EventView, FailureView, OverviewRow, RevisionView } from "../view_model.ts";
import { ConditionsTable, GroupsReadyBar, Head, Pill, StackedBar } from "./bits.tsx";
import { fraction, shortRevision } from "./format.ts";
import { useLive } from "./live.ts";

function isDetail(message: unknown): DetailView | undefined {
  return message && typeof message === "object" && "grid" in message ? message as DetailView : undefined;
}

/** Props of {@linkcode DetailSummary}: the parts of a {@linkcode DetailView} it shows. */
export interface DetailSummaryProps {
  /** Status, counts, progress and warnings. */
  summary: OverviewRow;
  /** Revisions in use. */
  revisions: RevisionView[];
  /** Status fields as the controller wrote them. */
  status: DetailView["status"];
  /** `metadata.generation`. */
  generation?: number;
  /** `status.observedGeneration`. */
  observedGeneration?: number;
}

/**
 * Picks the summary's props from a detail view.
 *
 * @param view A detail view.
 * @returns The props.
 */
export function summaryProps(view: DetailView): DetailSummaryProps {
  return {
    summary: view.summary,
    revisions: view.revisions,
    status: view.status,
    generation: view.generation,
    observedGeneration: view.observedGeneration,
  };
}

/**
 * Status, groups ready, rollout progress, pods, partition, revisions and conditions of one LWS.
 *
 * @param props The summary data.
 * @returns The island.
 */
export function DetailSummary(props: DetailSummaryProps): VNode {
  const p = useLive(props, (m) => {
    const d = isDetail(m);
    return d ? summaryProps(d) : undefined;
  });
  const s = p.summary;
  return (
    <section class="summary" aria-label="Summary">
      <div class="title-row">
        <h1>
          <span class="ns">{s.namespace} /</span> {s.name}
        </h1>
        <Pill tone={s.status.tone} text={s.status.label} />
        {s.warnings.text && <Pill tone={s.warnings.failed ? "error" : "warn"} text={s.warnings.text} />}
        {s.awaitingController && (
          <span class="note">
            generation {p.generation}, controller observed {p.observedGeneration ?? "none"}
          </span>
        )}
      </div>
      <dl class="cards">
        <div class="card">
          <dt>Groups ready</dt>
          <dd>
            <span class="big">{fraction(s.readyGroups, s.replicas)}</span>{" "}
            {s.surgeGroups > 0 && <span class="note">+{s.surgeGroups} surge</span>}
            <GroupsReadyBar row={s} />
          </dd>
        </div>
        <div class="card">
          <dt>Updated</dt>
          <dd>
            <span class="big">{fraction(s.rollout.updated, s.rollout.desired)}</span>{" "}
            <span class="note">{s.rollout.inProgress ? `${s.rollout.percent}% rolled out` : "up to date"}</span>
            <StackedBar
              total={s.rollout.desired}
              label={`${s.rollout.updated} of ${s.rollout.desired} groups updated`}
              segments={[{ tone: "progress", value: s.rollout.updated }]}
            />
          </dd>
        </div>
        <div class="card">
          <dt>Pods ready</dt>
          <dd>
            <span class="big">{fraction(s.readyPods, s.pods)}</span> <span class="note">size {s.size}</span>
          </dd>
        </div>
        <div class="card">
          <dt>Partition</dt>
          <dd>
            <span class="big">{s.partition.spec}</span>{" "}
            <span class="note">
              {s.partition.current === undefined
                ? "no leader StatefulSet"
                : `leader StatefulSet at ${s.partition.current}`}
            </span>
          </dd>
        </div>
        <div class="card wide">
          <dt>Revisions</dt>
          <dd>
            {p.revisions.length === 0 ? <span class="muted">none yet</span> : (
              <ul class="revisions">
                {p.revisions.map((r) => (
                  <li key={r.key}>
                    <span class={r.update ? "rev rev-new" : "rev rev-old"}>{r.update ? "update" : "old"}</span>
                    <code>{shortRevision(r.key)}</code>
                    <span class="muted">{r.groups === 1 ? "1 group" : `${r.groups} groups`}</span>
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
        <div class="card">
          <dt>Reported status</dt>
          <dd class="small">
            ready {p.status.readyReplicas}, updated {p.status.updatedReplicas}, replicas {p.status.replicas}
          </dd>
        </div>
      </dl>
      <h2>Conditions</h2>
      <ConditionsTable conditions={s.conditions} />
    </section>
  );
}

/** Props of {@linkcode DetailSettings}: the spec fields the page lists and the generations. */
export interface DetailSettingsProps {
  /** `[label, value]` pairs, in display order. */
  items: [string, string][];
}

/**
 * Picks the settings' props from a detail view.
 *
 * @param view A detail view.
 * @returns The props.
 */
export function settingsProps(view: DetailView): DetailSettingsProps {
  return {
    items: [
      ["Replicas", String(view.summary.replicas)],
      ["Size", String(view.summary.size)],
      ["Restart policy", view.restartPolicy],
      ["Startup policy", view.startupPolicy],
      ["Max unavailable", view.maxUnavailable],
      ["Max surge", view.maxSurge],
      [
        "Subgroups",
        view.subGroupSize ? `size ${view.subGroupSize}, ${view.subGroupPolicyType ?? "LeaderWorker"}` : "off",
      ],
      ["Generation", `${view.generation ?? "—"} (observed ${view.observedGeneration ?? "—"})`],
    ],
  };
}

/**
 * The LWS's settings (replicas, size, policies, rolling-update limits, generation), following the live stream: a
 * scale or a spec change shows at once.
 *
 * @param props The server-rendered settings.
 * @returns The island.
 */
export function DetailSettings(props: DetailSettingsProps): VNode {
  const p = useLive(props, (m) => {
    const d = isDetail(m);
    return d ? settingsProps(d) : undefined;
  });
  return (
    <section aria-labelledby="settings-heading" class="settings">
      <h2 id="settings-heading" class="visually-hidden">Settings</h2>
      <dl class="facts inline">
        {p.items.map(([k, val]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{val}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

/**
 * A list of events, newest first.
 *
 * @param props The events and what to say when there are none.
 * @returns The table.
 */
export function EventsTable(props: { events: EventView[]; empty: string }): VNode {
  if (props.events.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <table class="table compact events">
      <Head columns={["Age", "Type", "Reason", "Object", "Note"]} />
      <tbody>
        {props.events.map((e, i) => (
          <tr key={i}>
            <td class="num">
              <time dateTime={e.time} title={e.time}>{e.age ?? "—"}</time>
              {e.count > 1 && <span class="note">×{e.count}</span>}
            </td>
            <td>{e.warning ? <Pill tone="warn" text="Warning" /> : <span class="muted">{e.type}</span>}</td>
            <td>{e.reason}</td>
            <td class="mono small">{e.object}</td>
            <td class="wrap">{e.note}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The LWS's events, following the live stream.
 *
 * @param props The server-rendered events.
 * @returns The island.
 */
export function EventsPanel(props: { events: EventView[] }): VNode {
  const events = useLive(props.events, (m) => isDetail(m)?.events);
  return (
    <section aria-labelledby="events-heading">
      <h2 id="events-heading">Events</h2>
      <EventsTable events={events} empty="No events regarding this LeaderWorkerSet in the cache." />
    </section>
  );
}

/**
 * The pod failures recorded for the LWS in the last {@linkcode FAILURE_RETENTION_MS} (newest first), following the
 * live stream: what failed, when, why and what followed, after the failed pods are long replaced.
 *
 * @param props The server-rendered failures.
 * @returns The island.
 */
export function FailuresPanel(props: { failures: FailureView[] }): VNode {
  const failures = useLive(props.failures, (m) => isDetail(m)?.failures);
  const minutes = Math.round(FAILURE_RETENTION_MS / 60_000);
  return (
    <section aria-labelledby="failures-heading">
      <h2 id="failures-heading">Pod failures</h2>
      {failures.length === 0
        ? <p class="muted">No pod failure seen in the last {minutes} minutes.</p>
        : (
          <table class="table compact failures">
            <Head columns={["Age", "Group", "Pod", "What", "Reason", "Exit code", "Then", "Message"]} />
            <tbody>
              {failures.map((f, i) => (
                <tr key={i}>
                  <td class="num">
                    <time dateTime={f.time} title={f.time}>{f.age}</time>
                  </td>
                  <td class="num">
                    <a href={`?group=${f.group}`} aria-label={`group ${f.group}`}>#{f.group}</a>
                  </td>
                  <td class="mono small">
                    {f.pod} <span class="muted">({f.who})</span>
                  </td>
                  <td>
                    <Pill tone={f.kind === "failed" || f.kind === "exited" ? "error" : "warn"} text={f.what} />
                    {f.container && <span class="note">{f.container}</span>}
                  </td>
                  <td>{f.reason ?? "—"}</td>
                  <td class="num">{f.exitCode ?? "—"}</td>
                  <td>{f.outcome ?? "—"}</td>
                  <td class="wrap">{f.message ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      <p class="hint muted">
        Seen by this dashboard in the cache's change stream since it started; kept {minutes} minutes.
      </p>
    </section>
  );
}
