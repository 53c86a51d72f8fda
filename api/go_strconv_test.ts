import assert from "node:assert/strict";
import { goAtoi, goQuote } from "./go_strconv.ts";

Deno.test("goAtoi() parses like Go's strconv.Atoi on 64-bit", async (t) => {
  const cases: [string, { value: number } | { error: string }][] = [
    ["0", { value: 0 }],
    ["42", { value: 42 }],
    ["+7", { value: 7 }],
    ["-7", { value: -7 }],
    ["007", { value: 7 }],
    ["9223372036854775807", { value: 9223372036854775807 }],
    ["-9223372036854775808", { value: -9223372036854775808 }],
    ["9223372036854775808", { error: 'strconv.Atoi: parsing "9223372036854775808": value out of range' }],
    ["", { error: 'strconv.Atoi: parsing "": invalid syntax' }],
    [" 1", { error: 'strconv.Atoi: parsing " 1": invalid syntax' }],
    ["1_000", { error: 'strconv.Atoi: parsing "1_000": invalid syntax' }],
    ["1.0", { error: 'strconv.Atoi: parsing "1.0": invalid syntax' }],
    ["0x10", { error: 'strconv.Atoi: parsing "0x10": invalid syntax' }],
    ["+", { error: 'strconv.Atoi: parsing "+": invalid syntax' }],
    ["٣", { error: 'strconv.Atoi: parsing "٣": invalid syntax' }], // non-ASCII digits
    ["a\tb", { error: 'strconv.Atoi: parsing "a\\tb": invalid syntax' }], // quoted with %q
    ["\x01", { error: 'strconv.Atoi: parsing "\\x01": invalid syntax' }],
  ];
  for (const [input, want] of cases) {
    await t.step(JSON.stringify(input), () => assert.deepEqual(goAtoi(input), want));
  }
});

Deno.test("goQuote() quotes like Go's strconv.Quote", async (t) => {
  const cases: [string, string][] = [
    ["abc", '"abc"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ["\n\t\x07", '"\\n\\t\\a"'],
    ["\x00\x7f", '"\\x00\\x7f"'],
    ["héllo 世界", '"héllo 世界"'],
    ["\u200b", '"\\u200b"'],
    ["\u{e0001}", '"\\U000e0001"'],
  ];
  for (const [input, want] of cases) {
    await t.step(JSON.stringify(input), () => assert.equal(goQuote(input), want));
  }
});
