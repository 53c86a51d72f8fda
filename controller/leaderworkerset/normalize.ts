/**
 * Go normalisation (spec §5.4.3): what JSON read from the API server looks like after upstream decodes it into the
 * Kubernetes Go structs and encodes it again with `encoding/json`. Driven by the generated table in
 * `go_types_gen.ts`, so field names, `omitempty`/`omitzero`, pointer-ness and element types come from the real Go
 * type definitions.
 *
 * The rules, per Go type:
 * - struct: unknown fields are dropped (JSON names match case-sensitively, like Kubernetes' decoder); a field is
 *   omitted only when tagged `omitempty` and empty, or `omitzero` and zero. Non-pointer structs are never empty,
 *   so they are always emitted (`resources: {}`, `metadata: {}`).
 * - absent and `null` decode to the Go zero value: `""`, `0`, `false`, nil pointers/slices/maps (`null` unless
 *   omitted), zero structs.
 * - `resource.Quantity` re-renders as Go does (`api/quantity.ts`), a zero or absent one as `"0"`.
 * - `intstr.IntOrString` keeps its JSON type; absent or `null` becomes `0`.
 * - `metav1.Time` re-renders as RFC 3339 in UTC without fractional seconds; zero is `null` (or omitted by
 *   `omitzero`, which is how `creationTimestamp` disappears).
 *
 * Input that Go would refuse to decode (a string where a number belongs, a fraction in an integer field, an invalid
 * quantity) throws, because upstream's decode would fail too.
 *
 * @module
 */
import { isZero, parseQuantityJSON, type Quantity, quantityToString } from "../../api/quantity.ts";
import { goFloatString, type JsonValue } from "./canonical_json.ts";
import { GO_ROOTS, GO_STRUCTS } from "./go_types_gen.ts";

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Result of decoding a JSON value into a Go value and encoding it again. */
interface Encoded {
  /** The re-encoded JSON. */
  value: JsonValue;
  /** Go's `isEmptyValue` (what `omitempty` tests). */
  empty: boolean;
  /** Go's zero test (what `omitzero` tests). */
  zero: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function fail(path: string, what: string, v: unknown): never {
  throw new Error(`Cannot normalise ${path}: ${what}, got ${JSON.stringify(v)}`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Go's metav1.Time round trip: parse RFC 3339, print UTC seconds; `undefined` for the zero time. */
function goTime(s: string, path: string): string | undefined {
  const m = RFC3339.exec(s);
  if (!m) fail(path, "expected an RFC 3339 time", s);
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(sec), 0);
  if (zone !== "Z") {
    const sign = zone!.startsWith("-") ? -1 : 1;
    const offset = Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6));
    date.setTime(date.getTime() - sign * offset * 60_000);
  }
  const nanos = frac ? Number(frac.slice(1).padEnd(9, "0").slice(0, 9)) : 0;
  const zeroTime = new Date(0);
  zeroTime.setUTCFullYear(1, 0, 1);
  zeroTime.setUTCHours(0, 0, 0, 0);
  if (date.getTime() === zeroTime.getTime() && nanos === 0) return undefined;
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${
    pad(date.getUTCHours())
  }:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}Z`;
}

function encode(type: string, v: unknown, path: string): Encoded {
  const absent = v === undefined || v === null;
  if (type.startsWith("*")) {
    if (absent) return { value: null, empty: true, zero: true };
    const inner = encode(type.slice(1), v, path);
    return { value: inner.value, empty: false, zero: false };
  }
  if (type.startsWith("[]")) {
    if (absent) return { value: null, empty: true, zero: true };
    if (!Array.isArray(v)) fail(path, "expected an array", v);
    const elem = type.slice(2);
    const value = v.map((item, i) => encode(elem, item, `${path}[${i}]`).value);
    return { value, empty: value.length === 0, zero: false };
  }
  if (type.startsWith("map[string]")) {
    if (absent) return { value: null, empty: true, zero: true };
    if (!isObject(v)) fail(path, "expected an object", v);
    const elem = type.slice("map[string]".length);
    const value: JsonObject = {};
    for (const [k, item] of Object.entries(v)) value[k] = encode(elem, item, `${path}[${JSON.stringify(k)}]`).value;
    const empty = Object.keys(value).length === 0;
    return { value, empty, zero: false };
  }
  switch (type) {
    case "string": {
      if (absent) return { value: "", empty: true, zero: true };
      if (typeof v !== "string") fail(path, "expected a string", v);
      return { value: v, empty: v === "", zero: v === "" };
    }
    case "bool": {
      if (absent) return { value: false, empty: true, zero: true };
      if (typeof v !== "boolean") fail(path, "expected a boolean", v);
      return { value: v, empty: !v, zero: !v };
    }
    case "int": {
      if (absent) return { value: 0, empty: true, zero: true };
      if (typeof v !== "number" || !Number.isInteger(v)) fail(path, "expected an integer", v);
      return { value: v, empty: v === 0, zero: v === 0 };
    }
    case "float": {
      if (absent) return { value: 0, empty: true, zero: true };
      if (typeof v !== "number") fail(path, "expected a number", v);
      return { value: v, empty: v === 0, zero: v === 0 };
    }
    case "quantity": {
      // Go's Quantity.UnmarshalJSON sees the raw JSON text: a string's contents or a number's literal. The API
      // server prints numbers as Go float64s, which goFloatString reproduces.
      let text: string;
      if (absent) text = "0";
      else if (typeof v === "string") text = v;
      else if (typeof v === "number") text = goFloatString(v);
      else fail(path, "expected a quantity", v);
      let q: Quantity;
      try {
        q = parseQuantityJSON(text);
      } catch (e) {
        fail(path, (e as Error).message, v);
      }
      return { value: quantityToString(q), empty: false, zero: isZero(q) };
    }
    case "intOrString": {
      if (absent) return { value: 0, empty: false, zero: true };
      if (typeof v === "string") return { value: v, empty: false, zero: false };
      if (typeof v === "number" && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
        return { value: v, empty: false, zero: v === 0 };
      }
      fail(path, "expected an int32 or a string", v);
      break;
    }
    case "time": {
      if (absent) return { value: null, empty: false, zero: true };
      if (typeof v !== "string") fail(path, "expected a time string", v);
      const t = goTime(v, path);
      return t === undefined ? { value: null, empty: false, zero: true } : { value: t, empty: false, zero: false };
    }
    case "rawJSON": {
      // metav1.FieldsV1 keeps its raw JSON.
      if (absent) return { value: null, empty: false, zero: true };
      return { value: v as JsonValue, empty: false, zero: false };
    }
  }
  const fields = GO_STRUCTS[type];
  if (!fields) throw new Error(`Cannot normalise ${path}: no Go type ${type} in go_types_gen.ts`);
  if (!absent && !isObject(v)) fail(path, `expected an object (${type})`, v);
  const src = absent ? {} : v as Record<string, unknown>;
  const value: JsonObject = {};
  let zero = true;
  for (const f of fields) {
    const item = Object.hasOwn(src, f.json) ? src[f.json] : undefined;
    const e = encode(f.type, item, `${path}.${f.json}`);
    if (!e.zero) zero = false;
    if (f.omitempty && e.empty) continue;
    if (f.omitzero && e.zero) continue;
    value[f.json] = e.value;
  }
  return { value, empty: false, zero };
}

/**
 * Normalises a JSON value as if Go decoded it into the named Go type and encoded it again.
 *
 * @param value JSON as read from the API server (not modified).
 * @param goType A type expression over {@link GO_STRUCTS}, e.g. `"corev1.PodTemplateSpec"` or
 *   `"[]corev1.PersistentVolumeClaim"`.
 * @param options `path` names the value in error messages (default `$`).
 * @returns A new JSON value.
 * @throws {Error} When Go's decoder would refuse the value, naming the path.
 * @example
 * ```ts
 * normalizeGo({ spec: { containers: [{ name: "a" }] } }, "corev1.PodTemplateSpec");
 * // { metadata: {}, spec: { containers: [{ name: "a", resources: {} }] } }
 * ```
 */
export function normalizeGo(value: unknown, goType: string, options: { path?: string } = {}): JsonValue {
  return encode(goType, value, options.path ?? "$").value;
}

/**
 * Normalises `spec.leaderWorkerTemplate` (Go type `LeaderWorkerTemplate`).
 *
 * @param template The template as read from the API server; `undefined` gives the zero value.
 * @returns A new, normalised object.
 * @throws {Error} When Go's decoder would refuse the value.
 */
export function normalizeLeaderWorkerTemplate(template: unknown): JsonObject {
  return normalizeGo(template, GO_ROOTS.leaderWorkerTemplate, { path: "spec.leaderWorkerTemplate" }) as JsonObject;
}

/**
 * Normalises `spec.networkConfig` (Go type `*NetworkConfig`).
 *
 * @param config The network config as read from the API server.
 * @returns A new object, or `null` when the config is absent or null.
 * @throws {Error} When Go's decoder would refuse the value.
 */
export function normalizeNetworkConfig(config: unknown): JsonObject | null {
  return normalizeGo(config, `*${GO_ROOTS.networkConfig}`, { path: "spec.networkConfig" }) as JsonObject | null;
}
