/**
 * Go `encoding/json` serialisation of generic JSON values (`map[string]interface{}` and friends), byte for byte
 * (spec §5.4.2). Used for ControllerRevision `data`, whose bytes are hashed.
 *
 * @module
 */

/** A JSON value as `JSON.parse` returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Renders a number the way Go's `encoding/json` renders a float64: shortest round-trip digits, plain notation for
 * magnitudes in [1e-6, 1e21) and exponent notation (`1e+21`, `1e-7`) outside it. Integers print without a decimal
 * point or exponent.
 *
 * @param n A finite number.
 * @returns Go's text for `n`.
 * @throws {Error} For NaN and ±Infinity (Go refuses them too).
 * @example
 * ```ts
 * goFloatString(8080); // "8080"
 * goFloatString(1.5e-7); // "1.5e-7"
 * ```
 */
export function goFloatString(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`Cannot encode JSON number: Go rejects ${n}`);
  if (Object.is(n, -0)) return "-0";
  // ECMAScript's Number::toString picks the same shortest digits and switches to exponent notation at the same
  // thresholds (1e21 and 1e-6) as Go; only the exponent's spelling could differ, and Go strips "e-07" to "e-7".
  return String(n);
}

/**
 * Compares two strings by their UTF-8 byte sequences (= by code points), which is how Go sorts map keys.
 * JavaScript's default `<` compares UTF-16 code units and orders U+E000–U+FFFF after astral characters.
 *
 * @param a A string.
 * @param b Another string.
 * @returns Negative, zero or positive like `Array.prototype.sort` comparators.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–U+DFFF) encode code points above U+FFFF: move them above U+E000–U+FFFF.
    x = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    y = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Replaces lone surrogates by U+FFFD. A Go string cannot hold them: Go's JSON decoder turns an unpaired `\ud800`
 * escape (the only way JSON text can carry one) into U+FFFD, and the encoder then writes that character raw.
 */
function wellFormed(s: string): string {
  return s.isWellFormed() ? s : s.toWellFormed();
}

const HEX = "0123456789abcdef";

/**
 * Quotes a string like Go's `encoding/json` with HTML escaping on: `"` `\` and control characters escaped
 * (`\b \f \n \r \t` short forms, others `\u00xx` lowercase), `<` `>` `&` as `\u003c` `\u003e` `\u0026`,
 * U+2028/U+2029 as `\u2028`/`\u2029`; everything else raw.
 *
 * @param s The string.
 * @returns The JSON string literal, quotes included.
 */
export function goQuote(s: string): string {
  s = wellFormed(s);
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20) {
      switch (c) {
        case 0x08:
          esc = "\\b";
          break;
        case 0x0c:
          esc = "\\f";
          break;
        case 0x0a:
          esc = "\\n";
          break;
        case 0x0d:
          esc = "\\r";
          break;
        case 0x09:
          esc = "\\t";
          break;
        default:
          esc = "\\u00" + HEX[c >> 4] + HEX[c & 0xf];
      }
    } else if (c === 0x22) {
      esc = '\\"';
    } else if (c === 0x5c) {
      esc = "\\\\";
    } else if (c === 0x3c) {
      esc = "\\u003c";
    } else if (c === 0x3e) {
      esc = "\\u003e";
    } else if (c === 0x26) {
      esc = "\\u0026";
    } else if (c === 0x2028) {
      esc = "\\u2028";
    } else if (c === 0x2029) {
      esc = "\\u2029";
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/**
 * Serialises a JSON value exactly like Go's `json.Marshal` on the result of `json.Unmarshal` into `interface{}`:
 * object keys sorted by UTF-8 bytes at every level, no whitespace, Go string escaping ({@link goQuote}), numbers
 * as float64 ({@link goFloatString}).
 *
 * @param value A JSON value (plain objects, arrays, strings, finite numbers, booleans, null).
 * @returns The canonical JSON text (no trailing newline).
 * @throws {Error} For values JSON cannot hold (undefined, functions, bigint, non-finite numbers).
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: "<x>" }); // '{"a":"\\u003cx\\u003e","b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts, "$");
  return parts.join("");
}

function write(value: unknown, out: string[], path: string): void {
  if (value === null) {
    out.push("null");
  } else if (typeof value === "string") {
    out.push(goQuote(value));
  } else if (typeof value === "number") {
    out.push(goFloatString(value));
  } else if (typeof value === "boolean") {
    out.push(value ? "true" : "false");
  } else if (Array.isArray(value)) {
    out.push("[");
    value.forEach((item, i) => {
      if (i > 0) out.push(",");
      write(item, out, `${path}[${i}]`);
    });
    out.push("]");
  } else if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => [wellFormed(k), v] as const)
      .sort(([a], [b]) => compareUtf8(a, b));
    out.push("{");
    entries.forEach(([k, v], i) => {
      if (i > 0) out.push(",");
      out.push(goQuote(k), ":");
      write(v, out, `${path}.${k}`);
    });
    out.push("}");
  } else {
    throw new Error(`Cannot encode JSON: unsupported ${typeof value} at ${path}`);
  }
}
