/**
 * Small presentational pieces shared by pages and islands: status pills, the stacked bar, state badges.
 *
 * @module
 */
import type { VNode } from "preact";
import type { ConditionView, OverviewRow, PodState, Tone } from "../view_model.ts";
import { cx, STATE_GLYPH, STATE_TONE } from "./format.ts";

/**
 * A status pill: colour from `tone`, always with its text.
 *
 * @param props Text and tone.
 * @returns The pill.
 */
export function Pill(props: { tone: Tone; text: string; title?: string }): VNode {
  return <span class={cx("pill", `tone-${props.tone}`)} title={props.title}>{props.text}</span>;
}

/**
 * A state badge: glyph + text, coloured by the state's tone.
 *
 * @param props The state and its label.
 * @returns The badge.
 */
export function StateBadge(props: { state: PodState; label: string }): VNode {
  return (
    <span class={cx("badge", `tone-${STATE_TONE[props.state]}`)}>
      <span class="glyph" aria-hidden="true">{STATE_GLYPH[props.state]}</span>
      {props.label}
    </span>
  );
}

/** One segment of a {@linkcode StackedBar}. */
export interface BarSegment {
  /** Colour family of the segment. */
  tone: Tone;
  /** Its size, in units of the bar's total. */
  value: number;
}

/**
 * A thin horizontal bar split into coloured segments, drawn in SVG (attributes, not inline styles, so the strict
 * CSP holds). Decorative: `label` carries the same information as text for assistive technology.
 *
 * @param props Segments, their total and an accessible label.
 * @returns The bar.
 */
export function StackedBar(props: { segments: BarSegment[]; total: number; label: string }): VNode {
  const total = Math.max(props.total, 1);
  let x = 0;
  return (
    <svg class="bar" viewBox="0 0 100 4" preserveAspectRatio="none" role="img" aria-label={props.label}>
      <rect class="bar-track" x="0" y="0" width="100" height="4" />
      {props.segments.filter((s) => s.value > 0).map((s, i) => {
        const width = (s.value / total) * 100;
        const rect = (
          <rect key={i} class={`bar-${s.tone}`} x={x.toFixed(3)} y="0" width={width.toFixed(3)} height="4" />
        );
        x += width;
        return rect;
      })}
    </svg>
  );
}

/**
 * Ready groups out of `spec.replicas` as a bar: green for ready, blue (red when a group failed) for the rest.
 *
 * @param props The LWS's overview row.
 * @returns The bar.
 */
export function GroupsReadyBar(props: { row: OverviewRow }): VNode {
  const r = props.row;
  return (
    <StackedBar
      total={r.replicas}
      label={`${r.readyGroups} of ${r.replicas} groups ready`}
      segments={[{ tone: "ok", value: r.readyGroups }, {
        tone: r.warnings.failed ? "error" : "progress",
        value: Math.max(0, r.replicas - r.readyGroups),
      }]}
    />
  );
}

/**
 * A table header row.
 *
 * @param props Column titles.
 * @returns The `<thead>`.
 */
export function Head(props: { columns: string[] }): VNode {
  return (
    <thead>
      <tr>{props.columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr>
    </thead>
  );
}

/**
 * The conditions of an object as a compact table.
 *
 * @param props The conditions.
 * @returns The table, or a muted line when there are none.
 */
export function ConditionsTable(props: { conditions: ConditionView[] }): VNode {
  if (props.conditions.length === 0) return <p class="muted">No conditions reported yet.</p>;
  return (
    <table class="table compact">
      <Head columns={["Type", "Status", "Reason", "Message", "Last transition"]} />
      <tbody>
        {props.conditions.map((c) => (
          <tr key={c.type} class={c.status === "True" ? "" : "dim"}>
            <td>{c.type}</td>
            <td>
              <Pill
                tone={c.status === "True"
                  ? (c.type === "Available" || c.type === "Ready" ? "ok" : "progress")
                  : "neutral"}
                text={c.status}
              />
              {c.stale && <span class="note" title="observedGeneration is older than metadata.generation">stale</span>}
            </td>
            <td>{c.reason ?? "—"}</td>
            <td class="wrap">{c.message ?? ""}</td>
            <td>
              <time dateTime={c.lastTransitionTime} title={c.lastTransitionTime}>{c.age ? `${c.age} ago` : "—"}</time>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
