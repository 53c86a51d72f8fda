/**
 * Small formatting helpers shared by server-rendered pages and islands (no server-only imports here: this file is
 * bundled for the browser).
 *
 * @module
 */
import type { PodState, Tone } from "../view_model.ts";

/** A glyph per state, so the state is told by shape and text as well as colour. */
export const STATE_GLYPH: Record<PodState, string> = {
  ready: "✓",
  running: "◔",
  pending: "…",
  unscheduled: "⊘",
  restarting: "↻",
  failed: "✕",
  missing: "○",
  terminating: "↓",
  succeeded: "■",
  unknown: "?",
};

/** Tone of each state (mirrors `stateTone` of the view model, which the browser bundle must not import). */
export const STATE_TONE: Record<PodState, Tone> = {
  ready: "ok",
  succeeded: "ok",
  running: "progress",
  pending: "progress",
  terminating: "progress",
  unscheduled: "warn",
  restarting: "warn",
  missing: "warn",
  failed: "error",
  unknown: "neutral",
};

/**
 * Joins class names, skipping falsy ones.
 *
 * @param names Class names or falsy values.
 * @returns The class attribute value.
 */
export function cx(...names: (string | false | undefined | null)[]): string {
  return names.filter(Boolean).join(" ");
}

/**
 * The short form of a revision key for tight spaces (keys are 1–10 characters; longer legacy keys are cut).
 *
 * @param key A revision key.
 * @returns At most 10 characters.
 */
export function shortRevision(key: string | undefined): string {
  if (!key) return "—";
  return key.length > 10 ? key.slice(0, 10) : key;
}

/**
 * `a/b` with a percentage, e.g. `3/4`.
 *
 * @param part Numerator.
 * @param whole Denominator.
 * @returns The fraction text.
 */
export function fraction(part: number, whole: number): string {
  return `${part}/${whole}`;
}
