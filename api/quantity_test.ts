import assert from "node:assert/strict";
import {
  add,
  canonicalQuantity,
  cmp,
  isZero,
  parseQuantity,
  parseQuantityJSON,
  type Quantity,
  quantityToString,
} from "./quantity.ts";

Deno.test("canonicalQuantity() renders the spec §5.5 examples like Go", async (t) => {
  const cases: [string, string][] = [
    ["1000m", "1"],
    ["0.5", "500m"],
    ["1000", "1k"],
    ["1024Mi", "1Gi"],
    ["1.5Gi", "1536Mi"],
    ["4", "4"],
    ["100Mi", "100Mi"],
    ["1e3", "1e3"],
    ["0.5Ki", "512"],
    ["0", "0"],
    ["0Gi", "0"],
    ["0.000m", "0"],
  ];
  for (const [input, want] of cases) {
    await t.step(`${input} → ${want}`, () => assert.equal(canonicalQuantity(input), want));
  }
});

Deno.test("canonicalQuantity() keeps Go's quirks", async (t) => {
  const cases: [string, string, string][] = [
    ["+1", "+1", "a canonical-looking input is kept verbatim, sign included"],
    ["1.", "1.", "a trailing dot is kept too"],
    ["1E3", "1E3", "an upper-case exponent is kept"],
    ["1e4", "10e3", "exponents are multiples of 3"],
    ["1e-7", "100e-9", "negative exponents floor to a multiple of 3"],
    ["0.0001", "100u", "sub-milli values use the micro suffix, not 1m"],
    ["0.1n", "1n", "values below 1n round up to 1n"],
    ["1e-12", "1e-9", "also in exponent form"],
    ["-0.1n", "-1n", "rounding is away from zero"],
    ["1000E", "1", "Go has no suffix for 10^21 and drops it"],
    ["8Ei", "9223372036854775807", "BinarySI is capped at 2^63-1"],
    ["1023Ki", "1023Ki", "non-multiples of 1024 keep the smaller suffix"],
    ["1536Ki", "1536Ki", "1536Ki is 1.5Mi: not integral in Mi"],
    ["1024Ki", "1Mi", "multiples of 1024 move up"],
    ["1.5Ki", "1536", "small binary values fall back to DecimalSI"],
    ["-", "0", "a lone sign parses as zero"],
    [".", "0", "so does a lone dot"],
  ];
  for (const [input, want, why] of cases) {
    await t.step(`${input} → ${want} (${why})`, () => assert.equal(canonicalQuantity(input), want));
  }
});

Deno.test("parseQuantity() throws with Go's reason for invalid input", async (t) => {
  const cases: [string, RegExp][] = [
    ["", /quantities must match the regular expression/],
    ["abc", /quantities must match the regular expression/],
    ["1 ", /quantities must match the regular expression/],
    ["1K", /unable to parse quantity's suffix/],
    ["1e", /unable to parse quantity's suffix/],
    ["1mi", /unable to parse quantity's suffix/],
    [".e-12", /unable to parse numeric part of quantity/],
  ];
  for (const [input, reason] of cases) {
    await t.step(JSON.stringify(input), () => {
      assert.throws(() => parseQuantity(input), (e: Error) => reason.test(e.message) && e.message.includes("Cannot"));
    });
  }
});

Deno.test("parseQuantityJSON() trims only the spaces Go writes raw", () => {
  assert.equal(quantityToString(parseQuantityJSON(" 1Gi\u00a0")), "1Gi");
  assert.throws(() => parseQuantityJSON("\t1Gi"));
  assert.throws(() => parseQuantityJSON("\ufeff1"));
});

Deno.test("add() and cmp() are exact and follow Go's format rules", () => {
  const q = (s: string): Quantity => parseQuantity(s);
  assert.equal(quantityToString(add(q("500m"), q("1.5"))), "2");
  assert.equal(quantityToString(add(q("1Gi"), q("512Mi"))), "1536Mi");
  assert.equal(quantityToString(add(q("0"), q("1Ki"))), "1Ki", "a zero left side takes the right side's format");
  assert.equal(quantityToString(add(q("1k"), q("1Ki"))), "2024");
  assert.equal(quantityToString(add(q("9223372036854775807"), q("1"))), "9223372036854775808");
  assert.equal(cmp(q("1Gi"), q("1024Mi")), 0);
  assert.equal(cmp(q("999m"), q("1")), -1);
  assert.equal(cmp(q("1k"), q("1Ki")), -1);
  assert.equal(cmp(q("1n"), q("0")), 1);
  assert.equal(isZero(q("0Mi")), true);
  assert.equal(isZero(q("1n")), false);
});

interface GoldenQuantities {
  quantities: { in: string; out?: string; error?: string }[];
  quantityJSON: { in: string; out?: string; error?: string }[];
  quantitySums: { a: string; b: string; sum: string; cmp: number }[];
}

Deno.test("canonicalQuantity(), parseQuantityJSON(), add() and cmp() match every Go vector in tests/oracle/golden.json", () => {
  const golden: GoldenQuantities = JSON.parse(
    Deno.readTextFileSync(new URL("../tests/oracle/golden.json", import.meta.url)),
  );
  assert.ok(golden.quantities.length > 1000);
  const mismatches: string[] = [];
  for (const v of golden.quantities) {
    let out: string | undefined;
    try {
      out = canonicalQuantity(v.in);
    } catch {
      out = undefined;
    }
    if (v.error !== undefined ? out !== undefined : out !== v.out) {
      mismatches.push(`${JSON.stringify(v.in)}: Go ${v.out ?? "error"}, ours ${out ?? "error"}`);
    }
  }
  for (const v of golden.quantityJSON) {
    // What Quantity.UnmarshalJSON does with a value the API server wrote: null is zero, a number is its Go text
    // (String() matches Go's float64 text for these vectors), anything else but a string is an error.
    const value: unknown = JSON.parse(v.in);
    let out: string | undefined;
    try {
      if (value === null) out = JSON.stringify(quantityToString(parseQuantity("0")));
      else if (typeof value === "string" || typeof value === "number") {
        out = JSON.stringify(quantityToString(parseQuantityJSON(String(value))));
      }
    } catch {
      out = undefined;
    }
    if (v.error !== undefined ? out !== undefined : out !== v.out) {
      mismatches.push(`JSON ${v.in}: Go ${v.out ?? "error"}, ours ${out ?? "error"}`);
    }
  }
  for (const v of golden.quantitySums) {
    const a = parseQuantity(v.a);
    const b = parseQuantity(v.b);
    const sum = quantityToString(add(a, b));
    const c = cmp(a, b);
    if (sum !== v.sum || c !== v.cmp) mismatches.push(`${v.a} + ${v.b}: Go ${v.sum}/${v.cmp}, ours ${sum}/${c}`);
  }
  assert.deepEqual(mismatches, []);
});
