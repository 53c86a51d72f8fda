/**
 * The islands a page may hydrate, by name. Shared by the server (which names them in `data-island`) and the
 * browser bundle (which hydrates them).
 *
 * @module
 */
import type { FunctionComponent } from "preact";
import { ConnectionBadge } from "./connection.tsx";
import { DetailSettings, DetailSummary, EventsPanel, FailuresPanel } from "./detail.tsx";
import { GroupGrid } from "./grid.tsx";
import { OverviewTable } from "./overview.tsx";

/** Island components by name. */
// deno-lint-ignore no-explicit-any -- every island has its own props type; they arrive as parsed JSON
export const ISLANDS: Record<string, FunctionComponent<any>> = {
  ConnectionBadge,
  DetailSettings,
  DetailSummary,
  EventsPanel,
  FailuresPanel,
  GroupGrid,
  OverviewTable,
};
