/**
 * Reads what a dashboard page shows from its DOM, and records every change of it inside the page (a
 * MutationObserver), so a test sees transient states — a pod that is Failed for 200 ms before its StatefulSet
 * replaces it, a rolling-update front that moves every second — that polling from the test process would miss.
 *
 * The recorder runs in the page as one self-contained function (the page's CSP forbids `eval`, so nothing is
 * compiled there): it installs `window.__lwsRead()` and appends a {@linkcode PageSnapshot} to `window.__lwsRecord`
 * whenever the rendered state differs from the last one.
 *
 * @module
 */
import type { Page } from "playwright-core";

/** One pod cell of the group grid. */
export interface CellSnapshot {
  /** `data-pod`: the pod name. */
  pod: string;
  /** The `st-*` class: `ready`, `failed`, `terminating`, … */
  state: string;
  /** The label printed in the cell (`Ready`, `Failed`, `Not created`, …). */
  label: string;
  /** The cell is marked as running an old revision. */
  outdated: boolean;
  /** The cell's recorded failure without its glyph (`failed 12s ago`), `""` when it shows none. */
  failure: string;
}

/** One group row of the grid. */
export interface GroupSnapshot {
  /** Group index (from the row id). */
  index: number;
  /** The group's state badge text (`Ready`, `1 pod failed`, …). */
  label: string;
  /** The revision tag: `new`, `old` or `unknown`. */
  revision: string;
  /** The row's flags (`queued`, `held`, `surge`, `recreated 12s ago`, …). */
  flags: string[];
  /** The row's recorded failure line (`W1 failed 12s ago: Error, exit 1 — pod replaced`), or `""`. */
  failure: string;
  /** Its cells, leader first. */
  cells: CellSnapshot[];
}

/** What a page shows at one moment. */
export interface PageSnapshot {
  /** `Date.now()` in the page when the state was read. */
  at: number;
  /** Text of the connection badge (`Live`, `Reconnecting…`, …). */
  connection: string;
  /** Overview: `namespace/name` → the row's cells' texts (name, status, groups, rollout, …, attention, age). */
  rows: Record<string, string[]>;
  /** Detail: the pills of the title row (status first, then the warning badge when there is one). */
  pills: string[];
  /** Detail: summary cards, title → text (`Updated` → `2/4 50% rolled out`). */
  cards: Record<string, string>;
  /** Detail: the grid's rows. */
  groups: GroupSnapshot[];
  /** Detail: the grid's divider lines (partition, rolling-update front, surge). */
  dividers: string[];
  /** Detail: events as `Reason: note`. */
  events: string[];
}

/**
 * Installs the recorder in the page (idempotent per page load). Runs in the browser: keep it self-contained.
 */
function installRecorder(): void {
  type Win = { __lwsRecord?: unknown[]; __lwsRead?: () => unknown };
  const win = window as unknown as Win;
  if (win.__lwsRecord) return;
  const text = (e: Element | null | undefined) => (e?.textContent ?? "").replace(/\s+/g, " ").trim();
  // Text without the decorative glyphs (aria-hidden), as a screen reader reads it.
  const spoken = (e: Element | null | undefined) =>
    [...(e?.childNodes ?? [])]
      .filter((n) => !(n instanceof Element && n.getAttribute("aria-hidden") === "true"))
      .map((n) => n.textContent ?? "").join("").replace(/\s+/g, " ").trim();
  const read = () => {
    const rows: Record<string, string[]> = {};
    for (const tr of document.querySelectorAll("table.overview tbody tr")) {
      const name = text(tr.querySelector("th.name a"));
      const ns = text(tr.querySelector("th.name .ns"));
      rows[`${ns}/${name}`] = [...tr.children].map((c) => text(c));
    }
    const cards: Record<string, string> = {};
    for (const card of document.querySelectorAll(".summary .card")) {
      cards[text(card.querySelector("dt"))] = text(card.querySelector("dd"));
    }
    const groups = [...document.querySelectorAll<HTMLElement>("table.grid tr.group-row")].map((tr) => ({
      index: Number(tr.id.replace("group-", "")),
      // The badge is a glyph (aria-hidden) followed by the label.
      label: text(tr.querySelector(".group-state")).slice(text(tr.querySelector(".group-state .glyph")).length).trim(),
      revision: text(tr.querySelector(".group-meta .rev")).toLowerCase(),
      flags: [...tr.querySelectorAll(".group-meta .flag")].map((f) => text(f)),
      failure: text(tr.querySelector(".group-failure")),
      cells: [...tr.querySelectorAll<HTMLElement>("a.cell")].map((a) => ({
        pod: a.dataset.pod ?? "",
        state: [...a.classList].find((c) => c.startsWith("st-"))?.slice(3) ?? "",
        label: text(a.querySelector(".cell-label")),
        outdated: a.classList.contains("outdated"),
        failure: spoken(a.querySelector(".cell-failure")),
      })),
    }));
    return {
      at: Date.now(),
      connection: text(document.querySelector(".conn")),
      rows,
      pills: [...document.querySelectorAll(".summary .title-row .pill")].map((p) => text(p)),
      cards,
      groups,
      dividers: [...document.querySelectorAll("table.grid tr.divider")].map((d) => text(d)),
      events: [...document.querySelectorAll("table.events tbody tr")].map((tr) => {
        const cells = [...tr.children].map((c) => text(c));
        return `${cells[2] ?? ""}: ${cells[4] ?? ""}`;
      }),
    };
  };
  const record: unknown[] = [];
  let last = "";
  const sample = () => {
    const state = read();
    const { at: _at, ...rest } = state;
    const key = JSON.stringify(rest);
    if (key === last) return;
    last = key;
    record.push(state);
  };
  win.__lwsRecord = record;
  win.__lwsRead = read;
  new MutationObserver(sample).observe(document.body, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
  });
  sample();
}

/**
 * Starts recording the page's state (call after each navigation).
 *
 * @param page The page.
 */
export async function startRecording(page: Page): Promise<void> {
  await page.evaluate(installRecorder);
}

/**
 * Every distinct state the page rendered since {@linkcode startRecording}.
 *
 * @param page The page.
 * @returns The snapshots, oldest first.
 */
export async function recording(page: Page): Promise<PageSnapshot[]> {
  return await page.evaluate(() => (window as unknown as { __lwsRecord?: PageSnapshot[] }).__lwsRecord ?? []);
}

/**
 * What the page shows now (needs {@linkcode startRecording} first).
 *
 * @param page The page.
 * @returns The current state.
 */
export async function readPage(page: Page): Promise<PageSnapshot> {
  return await page.evaluate(() => (window as unknown as { __lwsRead: () => PageSnapshot }).__lwsRead());
}

/**
 * Waits until a snapshot recorded in the page satisfies `match`; the error lists what was seen.
 *
 * @param page The page.
 * @param what Names the wait in errors.
 * @param match The predicate.
 * @param options `timeoutMs` (default 30 s); `since`: only snapshots recorded at or after this time (ms since the
 *   epoch; the page and the test share the machine's clock).
 * @returns The first matching snapshot.
 */
export async function waitForSnapshot(
  page: Page,
  what: string,
  match: (s: PageSnapshot) => boolean,
  options: { timeoutMs?: number; since?: number } = {},
): Promise<PageSnapshot> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let seen: PageSnapshot[] = [];
  while (Date.now() < deadline) {
    seen = await recording(page);
    const found = seen.find((s) => s.at >= (options.since ?? -Infinity) && match(s));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for the page to show ${what}; last states seen:\n` +
      seen.slice(-6).map(describe).join("\n"),
  );
}

/**
 * A one-line description of a snapshot for error messages and logs.
 *
 * @param s The snapshot.
 * @returns e.g. `[Live] Updating | 1 group failed | #0 old Ready [L:ready W1:failed] | Rolling update: …`
 */
export function describe(s: PageSnapshot): string {
  const parts = [`[${s.connection}]`, ...s.pills];
  for (const [key, cells] of Object.entries(s.rows)) parts.push(`${key}: ${cells.slice(1).join(" · ")}`);
  for (const g of s.groups) {
    parts.push(
      `#${g.index} ${g.revision} ${g.label}${g.flags.map((f) => ` (${f})`).join("")}${
        g.failure ? ` {${g.failure}}` : ""
      } [${g.cells.map((c, i) => `${i === 0 ? "L" : `W${i}`}:${c.state}`).join(" ")}]`,
    );
  }
  parts.push(...s.dividers);
  return parts.join(" | ");
}
