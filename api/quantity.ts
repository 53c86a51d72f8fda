/**
 * An exact port of Kubernetes `resource.Quantity` (k8s.io/apimachinery/pkg/api/resource): parsing, the canonical
 * `String()` / JSON form, and the little arithmetic the controller needs (spec §5.5).
 *
 * Values are exact: `unscaled × 10^scale` with BigInt arithmetic, so nothing passes through a float. The port
 * reproduces the Go library's observable quirks, because ControllerRevision hashes depend on them:
 *
 * - a string that `ParseQuantity` recognises as already canonical is kept verbatim (Go caches it), so `"1e3"`,
 *   `"+1"`, `"1."` and `"1E3"` render as written, while `"1000m"` renders `"1"` and `"0.5"` renders `"500m"`;
 * - the format family of the input is kept (BinarySI `Ki`…`Ei`, DecimalSI `n`…`E`, DecimalExponent `e<n>`);
 *   the largest suffix leaving an integer mantissa is chosen, with decimal exponents a multiple of 3;
 * - BinarySI values below 1024 in magnitude or not integral are rendered in DecimalSI (`0.5Ki` → `512`);
 * - non-zero values are rounded up (away from zero) to a multiple of 1n (`1e-12` → `1e-9`, `0.1n` → `1n`);
 * - BinarySI magnitudes above 2^63−1 are capped there; DecimalSI exponents above 18 lose their suffix
 *   (Go prints `1000E` as `1`).
 *
 * @module
 */

/** The format family of a quantity, as Go names it. */
export type QuantityFormat = "DecimalExponent" | "BinarySI" | "DecimalSI";

/**
 * A parsed quantity. Plain data; treat it as immutable.
 *
 * The exact value is `unscaled × 10^scale`. `cached` is the input string when Go would keep it verbatim.
 */
export interface Quantity {
  /** Unscaled value (sign included). */
  readonly unscaled: bigint;
  /** Power of ten applied to `unscaled`. */
  readonly scale: number;
  /** Format family used when rendering. */
  readonly format: QuantityFormat;
  /** The string `String()` returns unchanged, when the parser found it canonical. */
  readonly cached?: string;
}

const MAX_INT64 = (1n << 63n) - 1n;
const NANO = -9;

const DECIMAL_SUFFIXES: ReadonlyMap<number, string> = new Map([
  [-9, "n"],
  [-6, "u"],
  [-3, "m"],
  [0, ""],
  [3, "k"],
  [6, "M"],
  [9, "G"],
  [12, "T"],
  [15, "P"],
  [18, "E"],
]);
const BINARY_SUFFIXES: ReadonlyMap<number, string> = new Map([
  [10, "Ki"],
  [20, "Mi"],
  [30, "Gi"],
  [40, "Ti"],
  [50, "Pi"],
  [60, "Ei"],
]);
interface SuffixMeaning {
  base: 2 | 10;
  exponent: number;
  format: QuantityFormat;
}
const SUFFIX_BY_NAME: ReadonlyMap<string, SuffixMeaning> = new Map<string, SuffixMeaning>([
  ...[...DECIMAL_SUFFIXES].map((
    [exponent, s],
  ): [string, SuffixMeaning] => [s, { base: 10, exponent, format: "DecimalSI" }]),
  ...[...BINARY_SUFFIXES].map((
    [exponent, s],
  ): [string, SuffixMeaning] => [s, { base: 2, exponent, format: "BinarySI" }]),
]);

const FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const NUMERIC = "unable to parse numeric part of quantity";
const SUFFIX = "unable to parse quantity's suffix";

class QuantityError extends Error {
  constructor(input: string, reason: string) {
    super(`Cannot parse quantity ${JSON.stringify(input)}: ${reason}`);
    this.name = "QuantityError";
  }
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

interface Parts {
  positive: boolean;
  /** The leading numeric text, sign included (Go's `value`). */
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

/** Go's `parseQuantityString`, character for character. */
function splitQuantity(str: string): Parts {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === "-") {
      positive = false;
      pos++;
    } else if (str[0] === "+") {
      pos++;
    }
  }
  // Strip leading zeros.
  for (let i = pos;; i++) {
    if (i >= end) return { positive, value: "0", num: "0", denom: "", suffix: "" };
    if (str[i] !== "0") break;
    pos++;
  }
  // Numerator.
  let num: string;
  for (let i = pos;; i++) {
    if (i >= end) return { positive, value: str.slice(0, end), num: str.slice(pos, end), denom: "", suffix: "" };
    if (!isDigit(str[i])) {
      num = str.slice(pos, i);
      pos = i;
      break;
    }
  }
  if (num.length === 0) num = "0";
  let denom = "";
  if (pos < end && str[pos] === ".") {
    pos++;
    for (let i = pos;; i++) {
      if (i >= end) return { positive, value: str.slice(0, end), num, denom: str.slice(pos, end), suffix: "" };
      if (!isDigit(str[i])) {
        denom = str.slice(pos, i);
        pos = i;
        break;
      }
    }
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  for (let i = pos;; i++) {
    if (i >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart, end) };
    if (!"eEinumkKMGTP".includes(str[i]!)) {
      pos = i;
      break;
    }
  }
  if (pos < end && (str[pos] === "-" || str[pos] === "+")) pos++;
  for (let i = pos;; i++) {
    if (i >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart, end) };
    if (!isDigit(str[i])) break;
  }
  throw new QuantityError(str, FORMAT_WRONG);
}

/** Go's `suffixer.interpret`. */
function interpretSuffix(input: string, suffix: string): SuffixMeaning {
  const known = SUFFIX_BY_NAME.get(suffix);
  if (known) return known;
  if (suffix.length > 1 && (suffix[0] === "e" || suffix[0] === "E")) {
    const digits = suffix.slice(1);
    if (/^[+-]?[0-9]+$/.test(digits)) {
      const parsed = BigInt(digits);
      if (parsed >= -(1n << 63n) && parsed <= MAX_INT64) {
        // Go converts the int64 exponent with int32(parsed): it wraps.
        return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)), format: "DecimalExponent" };
      }
    }
  }
  throw new QuantityError(input, SUFFIX);
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const abs = (n: bigint): bigint => (n < 0n ? -n : n);

/**
 * Parses a quantity exactly like Go's `resource.ParseQuantity`.
 *
 * @param input The quantity text, e.g. `"500m"`, `"1.5Gi"`, `"1e3"`. Surrounding whitespace is not allowed (Go's
 *   JSON decoding trims it before parsing; {@link parseQuantityJSON} does that).
 * @returns The parsed quantity.
 * @throws {Error} When the text is not a quantity, with Go's reason in the message.
 * @example
 * ```ts
 * quantityToString(parseQuantity("1024Mi")); // "1Gi"
 * ```
 */
export function parseQuantity(input: string): Quantity {
  if (input.length === 0) throw new QuantityError(input, FORMAT_WRONG);
  if (input === "0") return { unscaled: 0n, scale: 0, format: "DecimalSI", cached: "0" };
  const { positive, value, num, denom, suffix } = splitQuantity(input);
  const { base, exponent, format } = interpretSuffix(input, suffix);

  // Go's fast path (int64 arithmetic) is the only one that keeps the input string; its value is exact, so
  // only the cache decision is taken from it.
  let precision: number;
  let scale = 0;
  let mantissa = 1n;
  if (format === "BinarySI") {
    if (exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(exponent);
      precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = exponent;
    precision = 18 - (num.length + denom.length);
  }
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= NANO) {
      const shifted = num + denom;
      const v = BigInt(shifted);
      const result = v * mantissa;
      if (result <= MAX_INT64) {
        const unscaled = positive ? result : -result;
        let canonical: boolean;
        if (format === "BinarySI") {
          canonical = exponent % 10 === 0 && (v & 7n) !== 0n;
        } else {
          canonical = scale % 3 === 0 && !shifted.endsWith("000") && shifted[0] !== "0";
        }
        return canonical ? { unscaled, scale, format, cached: input } : { unscaled, scale, format };
      }
    }
  }

  // Go's slow path (inf.Dec): the numeric text must contain a digit.
  if (!/[0-9]/.test(value)) throw new QuantityError(input, NUMERIC);
  let magnitude = BigInt(num + denom);
  let s = -denom.length;
  if (base === 10) {
    s += exponent;
  } else {
    magnitude *= 1n << BigInt(exponent);
  }
  // Round non-zero values up (away from zero) to a multiple of 1n.
  if (magnitude !== 0n && s < NANO) {
    const divisor = pow10(NANO - s);
    magnitude = (magnitude + divisor - 1n) / divisor;
    s = NANO;
  }
  let outFormat = format;
  if (format === "BinarySI" && compareMagnitude(magnitude, s, MAX_INT64, 0) > 0) {
    magnitude = MAX_INT64;
    s = 0;
  }
  if (format === "BinarySI" && magnitude !== 0n && compareMagnitude(magnitude, s, 1n, 0) < 0) {
    outFormat = "DecimalSI";
  }
  return { unscaled: positive ? magnitude : -magnitude, scale: s, format: outFormat };
}

/** Compares a×10^as with b×10^bs. */
function compareMagnitude(a: bigint, as: number, b: bigint, bs: number): number {
  const s = Math.min(as, bs);
  const x = a * pow10(as - s);
  const y = b * pow10(bs - s);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Removes factors of `factor` from `n` (sign kept); returns the rest and how many were removed. */
function removeFactors(n: bigint, factor: bigint): [bigint, number] {
  let times = 0;
  let m = abs(n);
  while (m !== 0n && m % factor === 0n) {
    m /= factor;
    times++;
  }
  return [n < 0n ? -m : m, times];
}

/**
 * Renders a quantity the way Go's `Quantity.String()` and `MarshalJSON` do (without the JSON quotes).
 *
 * @param q The quantity.
 * @returns The canonical text, or the original text when the parser kept it.
 * @example
 * ```ts
 * quantityToString(parseQuantity("0.5")); // "500m"
 * ```
 */
export function quantityToString(q: Quantity): string {
  if (q.cached !== undefined && q.cached.length > 0) return q.cached;
  if (q.unscaled === 0n) return "0";
  let format = q.format;
  let integral: bigint | undefined;
  if (format === "BinarySI") {
    if (compareMagnitude(abs(q.unscaled), q.scale, 1024n, 0) < 0) {
      format = "DecimalSI";
    } else if (q.scale >= 0) {
      integral = q.unscaled * pow10(q.scale);
    } else {
      const d = pow10(-q.scale);
      if (q.unscaled % d === 0n) integral = q.unscaled / d;
      else format = "DecimalSI";
    }
  }
  if (format === "BinarySI" && integral !== undefined) {
    const [amount, times] = removeFactors(integral, 1024n);
    return `${amount}${BINARY_SUFFIXES.get(times * 10) ?? ""}`;
  }
  let [amount, times] = removeFactors(q.unscaled, 10n);
  let exponent = q.scale + times;
  const r = ((exponent % 3) + 3) % 3;
  amount *= pow10(r);
  exponent -= r;
  let suffix: string;
  if (format === "DecimalExponent") {
    suffix = exponent === 0 ? "" : `e${exponent}`;
  } else {
    suffix = DECIMAL_SUFFIXES.get(exponent) ?? "";
  }
  return `${amount}${suffix}`;
}

/**
 * Canonicalises a quantity string: `quantityToString(parseQuantity(input))`.
 *
 * @param input The quantity text.
 * @returns What Go's `resource.MustParse(input).String()` returns.
 * @throws {Error} When the text is not a quantity.
 */
export function canonicalQuantity(input: string): string {
  return quantityToString(parseQuantity(input));
}

// Go's Quantity.UnmarshalJSON strips the quotes from the raw JSON text and trims unicode.IsSpace characters,
// without unescaping. The API server writes tab, newline, CR, VT, FF and U+2028/U+2029 as escapes, so those reach
// the parser as a backslash sequence and fail; only the spaces written raw are trimmed.
const GO_RAW_SPACE =
  /^[ \u0085\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+|[ \u0085\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+$/g;

/**
 * Parses a JSON quantity value the way Go's `Quantity.UnmarshalJSON` sees it when the JSON was written by the API
 * server (Go's encoder): surrounding spaces that Go writes raw are trimmed, then {@link parseQuantity}. Characters
 * Go writes as escapes (control characters, U+2028, U+2029) are not trimmed and make the value invalid, as in Go.
 *
 * @param text The decoded string value, or the Go rendering of a JSON number (`goFloatString`).
 * @returns The parsed quantity.
 * @throws {Error} When the text is not a quantity.
 */
export function parseQuantityJSON(text: string): Quantity {
  return parseQuantity(text.replace(GO_RAW_SPACE, ""));
}

/**
 * Reports whether a quantity is zero (Go's `IsZero`).
 *
 * @param q The quantity.
 * @returns `true` for any zero value, whatever its format.
 */
export function isZero(q: Quantity): boolean {
  return q.unscaled === 0n;
}

/**
 * Adds two quantities exactly (Go's `Add`). The result takes the format of `a`, or of `b` when `a` is zero; it is
 * never kept verbatim, so it renders canonically.
 *
 * @param a The first quantity.
 * @param b The second quantity.
 * @returns A new quantity `a + b`.
 * @example
 * ```ts
 * quantityToString(add(parseQuantity("500m"), parseQuantity("1.5"))); // "2"
 * ```
 */
export function add(a: Quantity, b: Quantity): Quantity {
  const s = Math.min(a.scale, b.scale);
  const unscaled = a.unscaled * pow10(a.scale - s) + b.unscaled * pow10(b.scale - s);
  return { unscaled, scale: s, format: a.unscaled === 0n ? b.format : a.format };
}

/**
 * Compares two quantities by value (Go's `Cmp`).
 *
 * @param a The first quantity.
 * @param b The second quantity.
 * @returns -1 when `a < b`, 0 when equal, 1 when `a > b`.
 */
export function cmp(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const s = Math.min(a.scale, b.scale);
  const x = a.unscaled * pow10(a.scale - s);
  const y = b.unscaled * pow10(b.scale - s);
  return x < y ? -1 : x > y ? 1 : 0;
}
