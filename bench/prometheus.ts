/**
 * Just enough of the Prometheus text format for the benchmark: parse a scrape, sum a counter over the series that
 * match some labels, subtract two scrapes, and estimate a quantile from histogram buckets the way PromQL's
 * `histogram_quantile` does (linear interpolation inside the bucket). Pure functions.
 *
 * @module
 */

/** One series of a scrape: `name{labels} value`. */
export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed scrape. */
export type Scrape = readonly Series[];

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses Prometheus text exposition format (comments and blank lines are skipped; timestamps ignored).
 *
 * @param text the body of a `/metrics` response
 * @param only metric name prefixes to keep (default: all); the API server's 2.7 MB scrape parses in a few
 *   milliseconds instead of a second when only a histogram is needed
 * @returns every series (of the wanted metrics)
 * @example
 * parseScrape('rest_client_requests_total{code="200",method="GET"} 16\n')
 * // [{ name: "rest_client_requests_total", labels: { code: "200", method: "GET" }, value: 16 }]
 */
export function parseScrape(text: string, only?: readonly string[]): Scrape {
  const out: Series[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (only && !only.some((prefix) => line.startsWith(prefix))) continue;
    const match = line.match(LINE);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(LABEL)) {
      labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    const value = match[3] === "+Inf" ? Infinity : match[3] === "-Inf" ? -Infinity : Number(match[3]);
    out.push({ name: match[1]!, labels, value });
  }
  return out;
}

/** Label filter: a value must be equal, or a function must accept it. Absent labels count as `""`. */
export type LabelFilter = Record<string, string | ((value: string) => boolean)>;

function matches(series: Series, filter: LabelFilter): boolean {
  for (const [key, wanted] of Object.entries(filter)) {
    const value = series.labels[key] ?? "";
    if (typeof wanted === "string" ? value !== wanted : !wanted(value)) return false;
  }
  return true;
}

/**
 * Sums the series of one metric that match a filter.
 *
 * @param scrape a parsed scrape
 * @param name the metric name (e.g. `rest_client_requests_total`)
 * @param filter labels to match (default: every series)
 * @returns the sum (0 when nothing matches)
 */
export function sum(scrape: Scrape, name: string, filter: LabelFilter = {}): number {
  let total = 0;
  for (const series of scrape) if (series.name === name && matches(series, filter)) total += series.value;
  return total;
}

/**
 * Sums a metric per value of one label.
 *
 * @param scrape a parsed scrape
 * @param name the metric name
 * @param label the label to group by
 * @param filter labels to match
 * @returns label value → sum
 */
export function sumBy(scrape: Scrape, name: string, label: string, filter: LabelFilter = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const series of scrape) {
    if (series.name !== name || !matches(series, filter)) continue;
    const key = series.labels[label] ?? "";
    out[key] = (out[key] ?? 0) + series.value;
  }
  return out;
}

/** Cumulative histogram buckets: upper bound → count of observations ≤ it (the last bound is `Infinity`). */
export type Buckets = readonly { le: number; count: number }[];

/**
 * The buckets of a histogram summed over matching series, as the difference `after - before` (so only the
 * observations made between the two scrapes count).
 *
 * @param before the earlier scrape (or `[]` for everything since the process started)
 * @param after the later scrape
 * @param name the histogram name without `_bucket`
 * @param filter labels to match (besides `le`)
 * @returns buckets sorted by bound
 */
export function bucketDelta(before: Scrape, after: Scrape, name: string, filter: LabelFilter = {}): Buckets {
  const totals = new Map<number, number>();
  const add = (scrape: Scrape, sign: number) => {
    for (const series of scrape) {
      if (series.name !== `${name}_bucket` || !matches(series, filter)) continue;
      const le = series.labels.le === "+Inf" ? Infinity : Number(series.labels.le);
      totals.set(le, (totals.get(le) ?? 0) + sign * series.value);
    }
  };
  add(after, 1);
  add(before, -1);
  return [...totals].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * Estimates a quantile from cumulative buckets like PromQL's `histogram_quantile`: find the bucket the rank falls
 * in and interpolate linearly between its bounds (the first bucket starts at 0). When the rank falls in the
 * `+Inf` bucket, the highest finite bound is returned. Coarse buckets make coarse estimates: say so next to the
 * figure.
 *
 * @param buckets cumulative buckets (from {@linkcode bucketDelta})
 * @param q the quantile, 0 < q < 1
 * @returns the estimate in the histogram's unit, or `undefined` when there are no observations
 */
export function quantile(buckets: Buckets, q: number): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Infinity) return previousBound;
      const inBucket = count - previousCount;
      if (inBucket <= 0) return le;
      return previousBound + (le - previousBound) * ((rank - previousCount) / inBucket);
    }
    previousBound = le;
    previousCount = count;
  }
  return previousBound;
}

/**
 * Fetches and parses `/metrics` over HTTP(S).
 *
 * @param url the metrics URL
 * @param client a Deno HTTP client (mutual TLS for the API server and kube-controller-manager), or undefined
 * @param only metric name prefixes to keep (default: all)
 * @returns the parsed scrape
 * @throws when the answer is not 200
 */
export async function scrape(url: string, client?: Deno.HttpClient, only?: readonly string[]): Promise<Scrape> {
  const init: RequestInit & { client?: Deno.HttpClient } = { client, signal: AbortSignal.timeout(30_000) };
  const response = await fetch(url, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`Cannot scrape ${url}: ${response.status} ${text.slice(0, 300)}`);
  return parseScrape(text, only);
}
