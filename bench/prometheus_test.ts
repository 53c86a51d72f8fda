import assert from "node:assert/strict";
import { bucketDelta, parseScrape, quantile, sum, sumBy } from "./prometheus.ts";

const SCRAPE = `# HELP rest_client_requests_total Requests
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="127.0.0.1:1",method="GET"} 16
rest_client_requests_total{code="201",host="127.0.0.1:1",method="PATCH"} 2
rest_client_requests_total{code="409",host="127.0.0.1:1",method="PATCH"} 1
weird_label{path="a \\"quoted\\" value"} 3 1700000000000
up 1
`;

Deno.test("parseScrape() reads names, labels (escapes included), values, and skips comments", () => {
  const scrape = parseScrape(SCRAPE);
  assert.equal(scrape.length, 5);
  assert.deepEqual(scrape[0], {
    name: "rest_client_requests_total",
    labels: { code: "200", host: "127.0.0.1:1", method: "GET" },
    value: 16,
  });
  assert.deepEqual(scrape[3]?.labels, { path: 'a "quoted" value' });
  assert.equal(scrape[3]?.value, 3);
  assert.deepEqual(scrape[4], { name: "up", labels: {}, value: 1 });
  assert.deepEqual(parseScrape(SCRAPE, ["up", "weird"]).map((s) => s.name), ["weird_label", "up"]);
});

Deno.test("sum() and sumBy() add the matching series", async (t) => {
  const scrape = parseScrape(SCRAPE);
  await t.step("every series", () => assert.equal(sum(scrape, "rest_client_requests_total"), 19));
  await t.step("by label value", () => assert.equal(sum(scrape, "rest_client_requests_total", { method: "PATCH" }), 3));
  await t.step(
    "by predicate",
    () => assert.equal(sum(scrape, "rest_client_requests_total", { code: (c) => c.startsWith("2") }), 18),
  );
  await t.step(
    "grouped",
    () => assert.deepEqual(sumBy(scrape, "rest_client_requests_total", "method"), { GET: 16, PATCH: 3 }),
  );
  await t.step("nothing matches", () => assert.equal(sum(scrape, "absent_total"), 0));
});

function histogram(counts: [string, number][], name = "mpod.kb.io"): string {
  return counts.map(([le, n]) => `h_bucket{name="${name}",le="${le}"} ${n}`).join("\n");
}

Deno.test("bucketDelta() subtracts the earlier scrape and sums matching series", () => {
  const before = parseScrape(histogram([["0.005", 1], ["0.025", 2], ["+Inf", 2]]));
  const after = parseScrape(
    histogram([["0.005", 3], ["0.025", 10], ["+Inf", 12]]) + "\n" + histogram([["0.005", 50], ["+Inf", 50]], "other"),
  );
  assert.deepEqual(bucketDelta(before, after, "h", { name: "mpod.kb.io" }), [
    { le: 0.005, count: 2 },
    { le: 0.025, count: 8 },
    { le: Infinity, count: 10 },
  ]);
});

Deno.test("quantile() interpolates inside buckets like histogram_quantile", async (t) => {
  const buckets = [{ le: 0.005, count: 2 }, { le: 0.025, count: 8 }, { le: 0.1, count: 10 }, {
    le: Infinity,
    count: 10,
  }];
  await t.step("median in the second bucket", () => {
    // rank 5: 3 of the 6 observations in (0.005, 0.025] → 0.005 + 0.02 × 3/6
    assert.ok(Math.abs(quantile(buckets, 0.5)! - 0.015) < 1e-12);
  });
  await t.step("first bucket starts at zero", () => assert.ok(Math.abs(quantile(buckets, 0.1)! - 0.0025) < 1e-12));
  await t.step(
    "rank in +Inf → highest finite bound",
    () => assert.equal(quantile([{ le: 0.1, count: 1 }, { le: Infinity, count: 10 }], 0.99), 0.1),
  );
  await t.step("no observations", () => assert.equal(quantile([{ le: Infinity, count: 0 }], 0.5), undefined));
});
