/**
 * The connection badge island: says whether the page is live, reconnecting, or disconnected and stale (with the age
 * of the data), so nobody trusts a frozen page.
 *
 * @module
 */
import type { VNode } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { cx } from "./format.ts";
import { LiveContext, type LiveState } from "./live.ts";

const TEXT: Record<LiveState | "snapshot", string> = {
  snapshot: "Snapshot",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stale: "Disconnected",
};

const TONE: Record<LiveState | "snapshot", string> = {
  snapshot: "neutral",
  connecting: "progress",
  live: "ok",
  reconnecting: "warn",
  stale: "error",
};

/**
 * Connection state and, when not live, how old the data is.
 *
 * @returns The island.
 */
export function ConnectionBadge(): VNode {
  const live = useContext(LiveContext);
  const [state, setState] = useState<LiveState | "snapshot">("snapshot");
  const [last, setLast] = useState<number | undefined>(undefined);
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!live) return;
    return live.onState((s, at) => {
      setState(s);
      setLast(at);
      document.documentElement.dataset.live = s;
    });
  }, [live]);
  useEffect(() => {
    if (state === "live" || state === "snapshot") return;
    const id = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(id);
  }, [state]);
  const age = last === undefined ? undefined : Math.max(0, Math.round((Date.now() - last) / 1000));
  return (
    <span class={cx("conn", `tone-${TONE[state]}`)} role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" />
      {TEXT[state]}
      {(state === "stale" || state === "reconnecting") && age !== undefined && (
        <span class="note">data from {age < 120 ? `${age}s` : `${Math.round(age / 60)}m`} ago</span>
      )}
    </span>
  );
}
