/**
 * What every area of the dashboard app shares: the source, the live hub, the clock and the embedded assets.
 *
 * @module
 */
import type { DashboardSource } from "./source.ts";
import type { LiveHub } from "./stream.ts";

/** URLs (with a content hash, so they can be cached forever) and bytes of the embedded assets. */
export interface Assets {
  /** `/static/islands.js?v=<hash>`. */
  js: string;
  /** `/static/style.css?v=<hash>`. */
  css: string;
  /** File name → content and content type. */
  files: Map<string, { body: Uint8Array; type: string; hash: string }>;
}

/** Shared state of one dashboard app (built by `createDashboardApp`). */
export interface DashboardContext {
  /** The read-only cache. */
  source: DashboardSource;
  /** The SSE hub of this app. */
  hub: LiveHub;
  /** Current time in ms since the epoch. */
  now: () => number;
  /** Default groups per grid page. */
  pageSize: number;
  /** The embedded assets, read once (lazily) from `ui/static/`. */
  assets: () => Promise<Assets>;
}
