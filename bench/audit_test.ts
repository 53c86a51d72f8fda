import assert from "node:assert/strict";
import { countRequests } from "./audit.ts";

function event(id: string, at: string, verb: string, userAgent: string, stage = "ResponseComplete"): string {
  return JSON.stringify({ kind: "Event", auditID: id, stage, verb, userAgent, requestReceivedTimestamp: at });
}

Deno.test("countRequests() counts each request once, by receive time, for the user agent prefix", () => {
  const ua = "lws/v0.1.0 (linux/amd64) unknown";
  const log = [
    event("a", "2026-01-01T00:00:01.000000Z", "list", ua),
    event("b", "2026-01-01T00:00:02.000000Z", "watch", ua, "ResponseStarted"),
    event("b", "2026-01-01T00:00:02.000000Z", "watch", ua, "ResponseComplete"), // same request, later stage
    event("c", "2026-01-01T00:00:03.500000Z", "patch", ua),
    event("d", "2026-01-01T00:00:03.000000Z", "get", "kubectl/v1.37.2"), // another client
    '{"kind":"Event","auditID":"cut', // a line cut by a concurrent write
    "",
  ].join("\n");
  const t = (s: number) => Date.parse("2026-01-01T00:00:00Z") + s * 1000;
  const counts = countRequests(
    log,
    [{ from: t(0), to: t(3) }, { from: t(3), to: t(10) }, { from: t(20), to: t(30) }],
    "lws/",
  );
  assert.deepEqual(counts, [
    { total: 2, byVerb: { list: 1, watch: 1 } },
    { total: 1, byVerb: { patch: 1 } },
    { total: 0, byVerb: {} },
  ]);
});
