/**
 * Go's `strconv.Quote` (`%q`) and `strconv.Atoi`, reproduced exactly because their results and error texts show up
 * in what LWS returns (field errors, webhook denials). Shared by api/, the controllers and the webhook. Pure.
 *
 * @module
 */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SHORT_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

/**
 * Quotes a string the way Go's `strconv.Quote` (and `fmt`'s `%q`) does: printable runes verbatim, `"` and `\`
 * backslash-escaped, `\a \b \f \n \r \t \v` short escapes, other ASCII controls as `\xNN`, other non-printable runes
 * as `\uNNNN` / `\UNNNNNNNN` (lower-case hex). A lone surrogate (impossible in Go strings) prints as U+FFFD.
 *
 * @param value The string to quote.
 * @returns The quoted string, including the surrounding double quotes.
 */
export function goQuote(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === "\\") out += "\\" + char;
    else if (code >= 0xd800 && code <= 0xdfff) out += "\ufffd";
    else if (PRINTABLE.test(char)) out += char;
    else if (SHORT_ESCAPES[char] !== undefined) out += SHORT_ESCAPES[char];
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else if (code < 0x10000) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += "\\U" + code.toString(16).padStart(8, "0");
  }
  return out + '"';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses a decimal integer like Go's `strconv.Atoi` on a 64-bit platform: optional `+`/`-`, then ASCII digits only
 * (no spaces, no underscores), within the int64 range.
 *
 * @param text The text to parse.
 * @returns `{ value }`, or `{ error }` with Go's error text (`strconv.Atoi: parsing "x": invalid syntax` or
 *   `... value out of range`). Values beyond 2^53 are rounded to the nearest double.
 * @example
 * ```ts
 * goAtoi("+3"); // { value: 3 }
 * goAtoi("3 "); // { error: 'strconv.Atoi: parsing "3 ": invalid syntax' }
 * ```
 */
export function goAtoi(text: string): { value: number } | { error: string } {
  if (!/^[+-]?[0-9]+$/.test(text)) return { error: `strconv.Atoi: parsing ${goQuote(text)}: invalid syntax` };
  const big = BigInt(text);
  if (big < INT64_MIN || big > INT64_MAX) {
    return { error: `strconv.Atoi: parsing ${goQuote(text)}: value out of range` };
  }
  return { value: Number(big) };
}
