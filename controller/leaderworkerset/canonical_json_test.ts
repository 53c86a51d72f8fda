import assert from "node:assert/strict";
import { canonicalJson, compareUtf8, goFloatString, goQuote } from "./canonical_json.ts";

Deno.test("canonicalJson() sorts keys by UTF-8 bytes at every level", () => {
  const value = { b: 1, a: { z: null, "😀": 1, "\ue000": 2, é: 3, Z: 4 }, A: [{ y: 1, x: 2 }] };
  assert.equal(
    canonicalJson(value),
    '{"A":[{"x":2,"y":1}],"a":{"Z":4,"z":null,"é":3,"\ue000":2,"😀":1},"b":1}',
  );
});

Deno.test("compareUtf8() orders astral characters after U+E000–U+FFFF, unlike UTF-16", () => {
  const keys = ["😀", "\uffff", "\ue000", "a", "\u00ff", "\u0100"];
  assert.deepEqual([...keys].sort(compareUtf8), ["a", "\u00ff", "\u0100", "\ue000", "\uffff", "😀"]);
  assert.deepEqual([...keys].sort(), ["a", "\u00ff", "\u0100", "😀", "\ue000", "\uffff"], "JavaScript's default");
  assert.equal(compareUtf8("ab", "abc") < 0, true);
  assert.equal(compareUtf8("same", "same"), 0);
});

Deno.test("goQuote() escapes like Go's encoding/json with HTML escaping", async (t) => {
  const cases: [string, string][] = [
    ["plain", '"plain"'],
    ['q"b\\', '"q\\"b\\\\"'],
    ["<a>&", '"\\u003ca\\u003e\\u0026"'],
    ["\n\r\t\b\f", '"\\n\\r\\t\\b\\f"'],
    ["\u0000\u0001\u000b\u001f", '"\\u0000\\u0001\\u000b\\u001f"'],
    ["\u007f", '"\u007f"'],
    ["\u2028\u2029", '"\\u2028\\u2029"'],
    ["/", '"/"'],
    ["naïve 😀 日本", '"naïve 😀 日本"'],
    ["\ud800x\udfff", '"\ufffdx\ufffd"'],
  ];
  for (const [input, want] of cases) {
    await t.step(JSON.stringify(input), () => assert.equal(goQuote(input), want));
  }
});

Deno.test("goFloatString() renders numbers like Go's float64 encoding", async (t) => {
  const cases: [number, string][] = [
    [0, "0"],
    [-0, "-0"],
    [8080, "8080"],
    [-5, "-5"],
    [0.5, "0.5"],
    [1e20, "100000000000000000000"],
    [1e21, "1e+21"],
    [1.5e-7, "1.5e-7"],
    [0.000001, "0.000001"],
    [9007199254740993, "9007199254740992"],
  ];
  for (const [input, want] of cases) {
    await t.step(want, () => assert.equal(goFloatString(input), want));
  }
  assert.throws(() => goFloatString(NaN), /Go rejects NaN/);
});

Deno.test("canonicalJson() refuses values JSON cannot hold", () => {
  assert.throws(() => canonicalJson({ a: undefined }), /unsupported undefined at \$\.a/);
  assert.throws(() => canonicalJson([1n]), /unsupported bigint at \$\[0\]/);
});
