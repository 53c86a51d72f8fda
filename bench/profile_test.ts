import assert from "node:assert/strict";
import { areaOf, type CpuProfile, summarizeProfile } from "./profile.ts";

Deno.test("areaOf() groups code by product directory, npm package and Deno internals", async (t) => {
  const cases: [string, string, string][] = [
    ["file:///work/main/kube/client.ts", "send", "kube/"],
    ["file:///work/main/controller/pod/reconciler.ts", "reconcile", "controller/"],
    ["file:///work/main/node_modules/.deno/yaml@2.9.1/node_modules/yaml/dist/index.js", "parse", "npm:yaml"],
    ["file:///work/main/node_modules/.deno/@logtape+logtape@2.4.2/x.js", "log", "npm:@logtape+logtape"],
    ["ext:deno_fetch/26_fetch.js", "fetch", "deno:fetch"],
    ["ext:core/01_core.js", "op", "deno:core"],
    ["node:buffer", "from", "deno:node"],
    ["", "(garbage collector)", "(garbage collector)"],
    ["", "JSONParse", "(native)"],
    ["", "op_inspector_emit_protocol_event", "(inspector: profiling overhead)"],
    ["ext:deno_node/inspector_network_bridge.js", "emit", "(inspector: profiling overhead)"],
  ];
  for (const [url, fn, area] of cases) {
    await t.step(`${url || fn} → ${area}`, () => assert.equal(areaOf(url, fn), area));
  }
});

Deno.test("summarizeProfile() attributes sample time to functions and areas, without idle time", () => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0 });
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame("(root)", "") },
      { id: 2, callFrame: frame("(idle)", "") },
      { id: 3, callFrame: frame("reconcile", "file:///r/controller/leaderworkerset/reconciler.ts") },
      { id: 4, callFrame: frame("(garbage collector)", "") },
    ],
    startTime: 0,
    endTime: 10_000,
    samples: [3, 3, 2, 4, 3],
    timeDeltas: [1000, 1000, 5000, 1000, 2000],
  };
  const summary = summarizeProfile(profile);
  assert.equal(summary.durationMs, 10);
  assert.equal(summary.busyMs, 5);
  assert.deepEqual(summary.byArea, [
    { name: "controller/", selfMs: 4, percent: 80 },
    { name: "(garbage collector)", selfMs: 1, percent: 20 },
  ]);
  assert.equal(summary.topFunctions[0]?.name, "reconcile leaderworkerset/reconciler.ts:10");
});
