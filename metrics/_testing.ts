/**
 * Test helpers of the metrics package (package-internal; not part of the product).
 *
 * @module
 */

/**
 * Parses the Prometheus text format into `name{labels}` → value.
 *
 * @param text What `/metrics` returned.
 * @returns One entry per sample line.
 */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}
