/**
 * Dashboard figures: runs `ui/render_bench.ts` (one LWS of `groups` × `size` pods through the real store adapter)
 * as is and reads its lines — server render times of the pages and the SSE fan-out of pod-event bursts.
 *
 * @module
 */
import { runDeno } from "./_run.ts";
import type { Preset } from "./presets.ts";
import type { DashboardFigures, FanOut, RenderTiming } from "./results.ts";

const TIMING = /^(.+?)\s+median ([\d.]+) ms, p95 ([\d.]+) ms, min [\d.]+ ms(?:, ([\d.]+) KiB)?$/;
const FAN_OUT =
  /^(.+?)\s*: (\d+) changes → (\d+) flushes, (\d+) view renders, (\d+) messages to (\d+) clients .*?, ([\d.]+) MiB, (\d+) ms in flushes$/;

/**
 * Reads the output of `ui/render_bench.ts`.
 *
 * @param output what it printed
 * @returns timing lines and fan-out lines (lines in other formats are ignored)
 */
export function parseRenderBench(output: string): { timings: RenderTiming[]; fanOut: FanOut[] } {
  const timings: RenderTiming[] = [];
  const fanOut: FanOut[] = [];
  for (const line of output.split("\n").map((l) => l.trim())) {
    const t = line.match(TIMING);
    if (t) {
      timings.push({
        label: t[1]!.trim(),
        medianMs: Number(t[2]),
        p95Ms: Number(t[3]),
        kib: t[4] ? Number(t[4]) : null,
      });
      continue;
    }
    const f = line.match(FAN_OUT);
    if (f) {
      fanOut.push({
        label: f[1]!.trim(),
        changes: Number(f[2]),
        flushes: Number(f[3]),
        renders: Number(f[4]),
        messages: Number(f[5]),
        clients: Number(f[6]),
        mib: Number(f[7]),
        flushMs: Number(f[8]),
      });
    }
  }
  return { timings, fanOut };
}

/**
 * Runs the dashboard micro-benchmark at the preset's size.
 *
 * @param preset `dashboard.groups`, `dashboard.size`, `dashboard.clients`
 * @returns the figures; `detailRenderMs` is the median of the detail page's first line
 */
export async function runDashboardBench(preset: Preset): Promise<DashboardFigures> {
  const { groups, size, clients } = preset.dashboard;
  const args = ["run", "-A", "ui/render_bench.ts", String(groups), String(size), String(clients)];
  const text = (await runDeno(args)).stdout;
  const { timings, fanOut } = parseRenderBench(text);
  return {
    groups,
    size,
    clients,
    detailRenderMs: timings.find((t) => t.label.startsWith("detail page SSR"))?.medianMs ?? null,
    timings,
    fanOut,
    output: [`$ deno ${args.join(" ")}`, ...text.trim().split("\n")],
  };
}
