/**
 * Rendering a {@linkcode BenchResult}: the plain-text table printed on stdout, and a self-contained HTML report
 * (inline CSS and SVG charts, no scripts): time per workload (LWS next to raw), controller RSS over time with the
 * workloads marked, and CPU per process per workload. Pure functions.
 *
 * @module
 */
import {
  type BenchResult,
  COMPONENT_NAMES,
  type ConfigResult,
  type RunFigures,
  type WorkloadResult,
} from "./results.ts";

const MiB = 2 ** 20;

/** `1.7 at start, 0.9–2.4 (mean 1.5) during the workloads`; older results have the start only. */
function loadText(m: BenchResult["machine"]): string {
  const d = m.loadAverageDuring;
  return `${m.loadAverageAtStart} at start` + (d ? `, ${d.min}–${d.max} (mean ${d.mean}) during the workloads` : "");
}

function mib(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? "—" : (bytes / MiB).toFixed(0);
}

function num(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? "—" : value.toFixed(digits);
}

function int(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : Math.round(value).toLocaleString("en");
}

function reconciles(figures: RunFigures): number | null {
  return figures.controller ? Object.values(figures.controller.reconciles).reduce((a, b) => a + b, 0) : null;
}

/** Wall time; `≥ n` when the workload timed out (the time is a lower bound). */
function wall(figures: RunFigures): string {
  if (figures.skipped) return "skipped";
  return `${figures.timedOut ? "≥ " : ""}${num(figures.wallSeconds)}`;
}

function timeouts(result: BenchResult): string[] {
  return result.configs.flatMap((c) =>
    c.workloads.flatMap((w) =>
      [["LWS", w.lws], ["raw", w.raw]].flatMap(([side, f]) =>
        f && typeof f !== "string" && f.timedOut ? [`${c.name} ${w.id} ${side}: ${f.timedOut}`] : []
      )
    )
  );
}

/** One row of the table, as text cells. */
function row(config: ConfigResult, w: WorkloadResult): string[] {
  const c = w.lws.controller;
  return [
    config.name,
    w.id,
    wall(w.lws),
    w.raw ? wall(w.raw) : "—",
    w.ratio === null || w.lws.skipped || w.raw?.skipped
      ? "—"
      : `${w.lws.timedOut && !w.raw?.timedOut ? "≥ " : w.lws.timedOut || w.raw?.timedOut ? "~" : ""}${
        w.ratio.toFixed(2)
      }×`,
    num(c?.cpuSeconds),
    mib(c?.peakRssBytes),
    c ? `${int(c.requests)} / ${int(c.apiserverRequests)}` : "—",
    int(reconciles(w.lws)),
    `${int(w.lws.podsCreated)} / ${w.raw ? int(w.raw.podsCreated) : "—"}`,
    c ? int(Object.values(c.groupRecreations).reduce((a, b) => a + b, 0)) : "—",
    w.lws.podWebhook && w.lws.podWebhook.admissions > 0
      ? `${num(w.lws.podWebhook.p50Ms)} / ${num(w.lws.podWebhook.p99Ms)} (${w.lws.podWebhook.admissions})`
      : "—",
  ];
}

const HEADERS = [
  "config",
  "workload",
  "LWS s",
  "raw s",
  "LWS/raw",
  "ctrl CPU s",
  "ctrl peak RSS MiB",
  "ctrl requests (own / API server)",
  "reconciles",
  "pods created LWS / raw",
  "groups recreated",
  "pod webhook p50 / p99 ms (n)",
];

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "))
    .join("\n");
}

function steadyLine(result: BenchResult): string | undefined {
  for (const config of result.configs) {
    const w3 = config.workloads.find((w) => w.id === "W3");
    if (!w3?.extra || !w3.lws.controller) continue;
    const c = w3.lws.controller;
    return `W3 (${config.name}): ${int(w3.extra.fillerPods)} pods outside any LWS created in ${
      num(w3.extra.fillerCreateSeconds)
    } s (controller CPU meanwhile ${num(w3.extra.fillerControllerCpuSeconds, 2)} s, ${
      int(w3.extra.fillerPodWebhookAdmissions)
    } pod webhook calls); controller RSS ${mib(w3.extra.rssBeforeFillerBytes)} MiB before them, ${
      mib(c.peakRssBytes)
    } MiB peak over ${num(w3.lws.wallSeconds, 0)} s idle; idle CPU ${num(c.cpuSeconds, 2)} s, ${
      int(c.requests)
    } requests`;
  }
  return undefined;
}

function engineLines(result: BenchResult): string[] {
  const e = result.engine;
  const d = result.dashboard;
  const burst = d.fanOut[0];
  return [
    `Engine: store ${int(e.storeBytesPerPod)} B heap per cached LWS pod; apply ${
      int(e.storeApplyPerSecond)
    } events/s ` +
    `(JSON.parse + apply ${int(e.storeParseApplyPerSecond)}/s); watch → store ${
      int(e.watcherEventsPerSecond)
    } events/s ` +
    `over HTTP; a process caching ${int(e.cachedPods)} LWS pods: ${mib(e.cacheRssBytes)} MiB RSS ` +
    `(${mib(e.baseRssBytes)} MiB before listing)`,
    `Dashboard: detail page of ${int(d.groups)} groups × ${d.size} pods rendered in ${
      num(d.detailRenderMs)
    } ms (median)` +
    (burst
      ? `; a burst of ${
        int(burst.changes)
      } pod events → ${burst.flushes} flush(es), ${burst.messages} SSE messages to ` +
        `${burst.clients} clients, ${burst.flushMs} ms of flush CPU`
      : ""),
  ];
}

function profileLine(result: BenchResult): string | undefined {
  const p = result.profile;
  if (!p) return undefined;
  const areas = p.byArea.slice(0, 5).map((a) => `${a.name} ${a.percent}%`).join(", ");
  return `Controller CPU profile (${p.covers}): busy ${int(p.busyMs)} ms of ${int(p.durationMs)} ms; self time by ` +
    `area: ${areas}; top function: ${p.topFunctions[0]?.name ?? "—"} (${p.topFunctions[0]?.percent ?? 0}%)`;
}

/**
 * The table printed on stdout.
 *
 * @param result a run
 * @returns text lines
 */
export function renderTable(result: BenchResult): string {
  const m = result.machine;
  const rows = [HEADERS, ...result.configs.flatMap((c) => c.workloads.map((w) => row(c, w)))];
  return [
    `LWS benchmark, preset ${result.preset}: ${result.sizes.lws} LWS × ${result.sizes.groups} groups × ${result.sizes.size} pods ` +
    `(${result.sizes.pods} pods), ${int(result.sizes.fillerPods)} filler pods; commit ${result.commit}`,
    `Machine: ${m.nproc} CPUs (${m.cpuModel}), ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, load ${loadText(m)}; ` +
    `Deno ${m.deno}; ${result.controlPlane}`,
    "",
    pad(rows),
    ...timeouts(result).map((t) => `TIMED OUT ${t}`),
    "",
    steadyLine(result) ?? "W3: not measured",
    ...engineLines(result),
    ...(profileLine(result) ? [profileLine(result)!] : []),
    "",
    `Bottleneck: ${result.bottleneck.summary}`,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------------------- HTML

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const COLORS: Record<string, string> = {
  LWS: "#2563eb",
  raw: "#9ca3af",
  controller: "#2563eb",
  "kube-apiserver": "#dc2626",
  etcd: "#f59e0b",
  "kube-controller-manager": "#16a34a",
  "kube-scheduler": "#7c3aed",
  kwok: "#0891b2",
  bench: "#6b7280",
};

/** Horizontal bars: time per workload, LWS next to raw. */
function timeChart(result: BenchResult): string {
  const bars: { label: string; side: "LWS" | "raw"; seconds: number }[] = [];
  for (const c of result.configs) {
    for (const w of c.workloads) {
      if (w.id === "W3") continue;
      bars.push({ label: `${c.name} ${w.id}`, side: "LWS", seconds: w.lws.wallSeconds });
      if (w.raw) bars.push({ label: `${c.name} ${w.id}`, side: "raw", seconds: w.raw.wallSeconds });
    }
  }
  const max = Math.max(1, ...bars.map((b) => b.seconds));
  const left = 110;
  const width = 560;
  const h = 16;
  const svgHeight = bars.length * (h + 4) + 30;
  const items = bars.map((b, i) => {
    const y = 10 + i * (h + 4);
    const w = (b.seconds / max) * width;
    return `<text x="${left - 6}" y="${y + 12}" text-anchor="end">${escape(b.label)} ${b.side}</text>` +
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${h}" fill="${COLORS[b.side]}"/>` +
      `<text x="${(left + w + 4).toFixed(1)}" y="${y + 12}">${b.seconds.toFixed(1)} s</text>`;
  });
  return `<svg viewBox="0 0 ${left + width + 80} ${svgHeight}" width="${left + width + 80}" height="${svgHeight}" ` +
    `role="img" aria-label="Wall time per workload">${items.join("")}</svg>`;
}

/** Line chart of controller RSS over time, workloads as shaded bands. */
function rssChart(config: ConfigResult): string {
  const points = config.controllerRss;
  if (points.length === 0) return "<p>No samples.</p>";
  const width = 640;
  const height = 200;
  const left = 50;
  const bottom = 24;
  const maxT = Math.max(1, ...points.map((p) => p.t), ...config.phases.map((p) => p.to));
  const maxMiB = Math.max(1, ...points.map((p) => p.bytes / MiB)) * 1.1;
  const x = (t: number) => left + (t / maxT) * width;
  const y = (b: number) => height - bottom - (b / MiB / maxMiB) * (height - bottom - 10);
  const bands = config.phases.map((p) =>
    `<rect x="${x(p.from).toFixed(1)}" y="10" width="${Math.max(1, x(p.to) - x(p.from)).toFixed(1)}" ` +
    `height="${height - bottom - 10}" fill="#e5e7eb"/><text x="${x(p.from).toFixed(1)}" y="22">${p.id}</text>`
  );
  const path = points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.t).toFixed(1)},${y(p.bytes).toFixed(1)}`).join(" ");
  const ticks = [0, 0.5, 1].map((f) => {
    const v = maxMiB * f;
    const yy = height - bottom - f * (height - bottom - 10);
    return `<text x="${left - 4}" y="${(yy + 4).toFixed(1)}" text-anchor="end">${v.toFixed(0)}</text>` +
      `<line x1="${left}" x2="${left + width}" y1="${yy.toFixed(1)}" y2="${yy.toFixed(1)}" stroke="#f3f4f6"/>`;
  });
  return `<svg viewBox="0 0 ${left + width + 20} ${height}" width="${
    left + width + 20
  }" height="${height}" role="img" ` +
    `aria-label="Controller RSS over time (${escape(config.name)})">${bands.join("")}${ticks.join("")}` +
    `<path d="${path}" fill="none" stroke="${COLORS.controller}" stroke-width="1.5"/>` +
    `<text x="${left}" y="${height - 6}">0 s</text><text x="${left + width}" y="${height - 6}" text-anchor="end">` +
    `${maxT.toFixed(0)} s since the controller started · MiB</text></svg>`;
}

/** Stacked bars: cores busy per process during each run. */
function cpuChart(result: BenchResult): string {
  const runs: { label: string; figures: RunFigures }[] = [];
  for (const c of result.configs) {
    for (const w of c.workloads) {
      runs.push({ label: `${c.name} ${w.id} LWS`, figures: w.lws });
      if (w.raw) runs.push({ label: `${c.name} ${w.id} raw`, figures: w.raw });
    }
  }
  const left = 130;
  const width = 480;
  const h = 14;
  const max = Math.max(result.machine.nproc, 1);
  const rows = runs.map((r, i) => {
    const y = 10 + i * (h + 4);
    let offset = 0;
    const segments = COMPONENT_NAMES.map((name) => {
      const coresBusy = r.figures.wallSeconds > 0 ? (r.figures.cpuSeconds[name] ?? 0) / r.figures.wallSeconds : 0;
      const w = (coresBusy / max) * width;
      const rect = `<rect x="${(left + offset).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${h}" ` +
        `fill="${COLORS[name]}"><title>${name}: ${coresBusy.toFixed(2)} cores</title></rect>`;
      offset += w;
      return rect;
    });
    return `<text x="${left - 6}" y="${y + 11}" text-anchor="end">${escape(r.label)}</text>${segments.join("")}`;
  });
  const legendTop = 10 + runs.length * (h + 4) + 6;
  const legend = COMPONENT_NAMES.map((name, i) => {
    const lx = left + (i % 4) * 150;
    const ly = legendTop + Math.floor(i / 4) * 16;
    return `<rect x="${lx}" y="${ly}" width="10" height="10" fill="${COLORS[name]}"/>` +
      `<text x="${lx + 14}" y="${ly + 9}">${name}</text>`;
  });
  const svgHeight = legendTop + 36;
  const full = `<line x1="${left + width}" x2="${left + width}" y1="5" y2="${10 + runs.length * (h + 4)}" ` +
    `stroke="#111827" stroke-dasharray="3,3"/><text x="${left + width + 4}" y="12">${max} cores</text>`;
  return `<svg viewBox="0 0 ${left + width + 200} ${svgHeight}" width="${left + width + 200}" height="${svgHeight}" ` +
    `role="img" aria-label="CPU per process">${rows.join("")}${full}${legend.join("")}</svg>`;
}

function profileSection(result: BenchResult): string {
  const p = result.profile;
  if (!p) return "";
  const rows = (entries: { name: string; selfMs: number; percent: number }[]) =>
    entries.map((e) => [e.name, num(e.selfMs, 0), `${num(e.percent)} %`]);
  return `<h2>Controller CPU profile (${escape(p.covers)})</h2>
<p>V8 sampling profiler (1 ms) through the inspector; busy ${int(p.busyMs)} ms of ${int(p.durationMs)} ms. Raw profile:
<code>${escape(p.file)}</code> (open in Chrome DevTools, Performance tab). While it is attached the controller is a
little slower, so this configuration's controller figures carry that overhead.</p>
${htmlTable(["area", "self ms", "of busy time"], rows(p.byArea))}
${htmlTable(["function", "self ms", "of busy time"], rows(p.topFunctions))}`;
}

function htmlTable(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${escape(h)}</th>`).join("")}</tr></thead><tbody>${
    rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join("")}</tr>`).join("")
  }</tbody></table>`;
}

/**
 * The HTML report: self-contained (inline CSS and SVG, no scripts, no external resources).
 *
 * @param result a run
 * @returns the HTML document
 */
export function renderHtml(result: BenchResult): string {
  const m = result.machine;
  const workloadRows = result.configs.flatMap((c) => c.workloads.map((w) => row(c, w)));
  const titles = [...new Map(result.configs.flatMap((c) => c.workloads.map((w) => [w.id, w.title]))).entries()];
  const configs = result.configs.map((c) =>
    `<li><b>${escape(c.name)}</b>: ${
      escape(c.description)
    }; controller ready ${c.controllerStartupSeconds} s after start</li>`
  );
  const dashboardRows = result.dashboard.timings.map((t) => [t.label, num(t.medianMs), num(t.p95Ms), int(t.kib)]);
  const fanOutRows = result.dashboard.fanOut.map((f) => [
    f.label,
    int(f.changes),
    int(f.flushes),
    int(f.renders),
    `${int(f.messages)} to ${f.clients}`,
    num(f.mib),
    int(f.flushMs),
  ]);
  const e = result.engine;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LWS benchmark (${escape(result.preset)})</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#111827;max-width:1100px}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}svg{font:11px system-ui,sans-serif;display:block;margin:.5rem 0 1.5rem}
pre{background:#f9fafb;padding:.75rem;overflow:auto;font-size:12px}code{background:#f3f4f6;padding:0 3px}
</style></head><body>
<h1>LeaderWorkerSet for Deno — benchmark (${escape(result.preset)} preset)</h1>
<p>${result.sizes.lws} LWS × ${result.sizes.groups} groups × ${result.sizes.size} pods = ${result.sizes.pods} pods;
W3 adds ${int(result.sizes.fillerPods)} pods outside any LWS and idles ${result.sizes.idleSeconds} s.
${result.sizes.nodes} KWOK nodes. Run ${escape(result.startedAt)}, ${int(result.durationSeconds)} s, commit
<code>${escape(result.commit)}</code>, ${escape(result.controlPlane)}.</p>
<p>Machine: ${m.nproc} CPUs (${escape(m.cpuModel)}), ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, Linux
${escape(m.kernel)}, Deno ${escape(m.deno)}; load average ${escape(loadText(m))} (the machine is shared:
absolute times vary between runs, the ratios are measured side by side in one run).</p>
<ul>${configs.join("")}</ul>
<ul>${titles.map(([id, title]) => `<li><b>${id}</b> ${escape(title)}</li>`).join("")}</ul>
<h2>Figures</h2>
${htmlTable(HEADERS, workloadRows)}
${timeouts(result).map((t) => `<p><b>Timed out</b> ${escape(t)} (its time is a lower bound)</p>`).join("\n")}
<p>${escape(steadyLine(result) ?? "W3: not measured")}</p>
<p><small>Controller requests: its own <code>rest_client_requests_total</code> / the API server's audit log (controller
user, user agent <code>lws/…</code>). Webhook latency: the API server's
<code>apiserver_admission_webhook_admission_duration_seconds</code> for <code>mpod.kb.io</code>, interpolated inside its
buckets (5, 25, 100, 500 ms…). Raw runs have no controller and no webhook.</small></p>
<h2>Time per workload</h2>
${timeChart(result)}
<h2>Controller RSS over time</h2>
${result.configs.map((c) => `<h3>${escape(c.name)}</h3>${rssChart(c)}`).join("\n")}
<h2>CPU per process (cores busy on average)</h2>
${cpuChart(result)}
<h2>Bottleneck</h2>
<p>${escape(result.bottleneck.summary)}</p>
<ul>${result.bottleneck.evidence.map((line) => `<li>${escape(line)}</li>`).join("")}</ul>
${profileSection(result)}
<h2>Engine</h2>
${
    htmlTable(["figure", "value"], [
      ["heap per cached LWS pod (store, frozen, managedFields stripped)", `${int(e.storeBytesPerPod)} B`],
      ["store apply", `${int(e.storeApplyPerSecond)} events/s`],
      ["JSON.parse + store apply", `${int(e.storeParseApplyPerSecond)} events/s`],
      ["watch stream → client → watcher → store (HTTP, one connection)", `${int(e.watcherEventsPerSecond)} events/s`],
      [`RSS of a process caching ${int(e.cachedPods)} LWS pods`, `${mib(e.cacheRssBytes)} MiB`],
      ["the same process before listing", `${mib(e.baseRssBytes)} MiB`],
      [
        "informer cache stop after its signal aborts",
        e.cacheStopSeconds === null ? "did not stop within 5 s" : `${num(e.cacheStopSeconds, 3)} s`,
      ],
    ])
  }
<h2>Dashboard (${
    int(result.dashboard.groups)
  } groups × ${result.dashboard.size} pods, ${result.dashboard.clients} SSE clients)</h2>
${htmlTable(["render", "median ms", "p95 ms", "KiB"], dashboardRows)}
${htmlTable(["SSE fan-out", "changes", "flushes", "view renders", "messages", "MiB", "flush ms"], fanOutRows)}
<details><summary>Micro-benchmark output</summary><pre>${
    escape([...result.engine.output, "", ...result.dashboard.output].join("\n"))
  }</pre></details>
</body></html>
`;
}
