/**
 * Package-internal helpers for inspecting JSON values of unknown shape.
 *
 * @module
 */

/** A JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/**
 * Whether a value is a JSON object.
 *
 * @param value Any value.
 * @returns True for non-null, non-array objects.
 */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Whether a value is absent on the wire: `undefined` or `null` (Go decodes both to a nil pointer).
 *
 * @param value Any value.
 * @returns True for `undefined` and `null`.
 */
export function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}
