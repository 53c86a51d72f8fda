import assert from "node:assert/strict";
import fc from "fast-check";
import { applyJsonPatch, createJsonPatch, escapePointerToken, jsonEqual } from "./json_patch.ts";

Deno.test("createJsonPatch() emits minimal operations for the shapes webhooks produce", async (t) => {
  const cases: { name: string; before: unknown; after: unknown; patch: unknown[] }[] = [
    {
      name: "equal documents give no operations",
      before: { a: [1, { b: 2 }] },
      after: { b: undefined, a: [1, { b: 2 }] },
      patch: [],
    },
    {
      name: "added, removed and replaced keys",
      before: { keep: 1, drop: 2, change: "x" },
      after: { keep: 1, change: "y", add: { n: null } },
      patch: [
        { op: "remove", path: "/drop" },
        { op: "replace", path: "/change", value: "y" },
        { op: "add", path: "/add", value: { n: null } },
      ],
    },
    {
      name: "keys with / and ~ are escaped",
      before: { labels: { "a/b": "1" } },
      after: { labels: { "a/b": "1", "x~y/z": "2" } },
      patch: [{ op: "add", path: "/labels/x~0y~1z", value: "2" }],
    },
    {
      name: "arrays of equal length are compared element-wise",
      before: { c: [{ name: "a" }, { name: "b" }] },
      after: { c: [{ name: "a" }, { name: "b", env: [] }] },
      patch: [{ op: "add", path: "/c/1/env", value: [] }],
    },
    {
      name: "appended array items are added at the end",
      before: { terms: [1] },
      after: { terms: [1, 2, 3] },
      patch: [{ op: "add", path: "/terms/-", value: 2 }, { op: "add", path: "/terms/-", value: 3 }],
    },
    {
      name: "other array changes replace the array",
      before: { env: [{ name: "A" }] },
      after: { env: [{ name: "L" }, { name: "A" }] },
      patch: [{ op: "replace", path: "/env", value: [{ name: "L" }, { name: "A" }] }],
    },
    {
      name: "a type change replaces the value",
      before: { v: { x: 1 } },
      after: { v: [1] },
      patch: [{ op: "replace", path: "/v", value: [1] }],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const patch = createJsonPatch(c.before, c.after);
      assert.deepEqual(patch, c.patch);
      assert.ok(jsonEqual(applyJsonPatch(c.before, patch as Record<string, unknown>[]), c.after));
    });
  }
});

Deno.test("createJsonPatch() patches always apply and reproduce the target", () => {
  const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)));
  fc.assert(
    fc.property(json, json, (before, after) => {
      const patch = JSON.parse(JSON.stringify(createJsonPatch(before, after)));
      const result = applyJsonPatch(before, patch);
      assert.deepEqual(JSON.parse(JSON.stringify(result)), after);
      assert.deepEqual(JSON.parse(JSON.stringify(before)), before); // input untouched
    }),
    { numRuns: 3000 },
  );
});

Deno.test("applyJsonPatch() fails like the API server on paths that do not exist", async (t) => {
  const cases: { name: string; op: Record<string, unknown> }[] = [
    { name: "add under a missing parent", op: { op: "add", path: "/a/b", value: 1 } },
    { name: "replace a missing key", op: { op: "replace", path: "/missing", value: 1 } },
    { name: "remove a missing key", op: { op: "remove", path: "/missing" } },
    { name: "index past the end", op: { op: "add", path: "/list/5", value: 1 } },
    { name: "failed test", op: { op: "test", path: "/list/0", value: 9 } },
  ];
  for (const c of cases) {
    await t.step(c.name, () => assert.throws(() => applyJsonPatch({ list: [1] }, [c.op])));
  }
  await t.step("move, copy and test work", () => {
    const out = applyJsonPatch({ a: 1, list: [1] }, [
      { op: "test", path: "/a", value: 1 },
      { op: "copy", from: "/a", path: "/b" },
      { op: "move", from: "/a", path: "/list/0" },
    ]);
    assert.deepEqual(out, { b: 1, list: [1, 1] });
  });
  await t.step("escapePointerToken() escapes ~ before /", () => assert.equal(escapePointerToken("~/"), "~0~1"));
});
