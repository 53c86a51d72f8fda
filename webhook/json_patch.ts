/**
 * RFC 6902 JSON Patch for admission responses: {@linkcode createJsonPatch} computes the operations that turn one
 * JSON document into another, {@linkcode applyJsonPatch} applies them (tests use it to check a webhook's answer the
 * way the API server does).
 *
 * The diff is small and exact rather than minimal: objects are compared key by key (removed keys → `remove`, new
 * keys → `add`, changed scalars → `replace`); arrays of equal length are compared element-wise, an array that only
 * grew at its end gets `add` operations on `/-`, any other array change replaces the whole array. Keys are escaped
 * per RFC 6901 (`~` → `~0`, `/` → `~1`; label keys such as `leaderworkerset.sigs.k8s.io/name` contain `/`).
 *
 * @module
 */

/** One RFC 6902 operation, as emitted by {@linkcode createJsonPatch} (never `move`, `copy` or `test`). */
export type JsonPatchOperation =
  | { op: "add"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "replace"; path: string; value: unknown };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An own member (never an inherited one such as `valueOf` or `constructor`). */
function member(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * Escapes one reference token per RFC 6901.
 *
 * @param token An object key or array index.
 * @returns The token with `~` as `~0` and `/` as `~1`.
 */
export function escapePointerToken(token: string): string {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

/**
 * Deep equality of JSON values (objects compared by key set, arrays by position). `undefined` members of objects
 * count as absent, as they do after `JSON.stringify`.
 *
 * @param a A JSON value.
 * @param b A JSON value.
 * @returns Whether both serialise to equal JSON (ignoring key order).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const aKeys = Object.keys(a).filter((k) => a[k] !== undefined);
    const bKeys = Object.keys(b).filter((k) => b[k] !== undefined);
    if (aKeys.length !== bKeys.length) return false;
    for (const key of aKeys) {
      if (!Object.hasOwn(b, key) || !jsonEqual(a[key], b[key])) return false;
    }
    return true;
  }
  return false;
}

/**
 * Computes a JSON Patch that transforms `before` into `after`.
 *
 * @param before The original document (e.g. the object of the AdmissionRequest).
 * @param after The desired document.
 * @returns The operations; empty when both are equal. Values in the operations are the `after` values themselves
 *   (not copies): serialise the patch before mutating `after`.
 * @example
 * createJsonPatch({ a: 1 }, { a: 2, b: [1] });
 * // [{ op: "replace", path: "/a", value: 2 }, { op: "add", path: "/b", value: [1] }]
 */
export function createJsonPatch(before: unknown, after: unknown): JsonPatchOperation[] {
  const operations: JsonPatchOperation[] = [];
  diff(before, after, "", operations);
  return operations;
}

function diff(before: unknown, after: unknown, path: string, out: JsonPatchOperation[]): void {
  if (jsonEqual(before, after)) return;
  if (isObject(before) && isObject(after)) {
    for (const key of Object.keys(before)) {
      if (before[key] === undefined) continue;
      if (member(after, key) === undefined) out.push({ op: "remove", path: `${path}/${escapePointerToken(key)}` });
    }
    for (const key of Object.keys(after)) {
      const value = after[key];
      if (value === undefined) continue;
      const childPath = `${path}/${escapePointerToken(key)}`;
      const old = member(before, key);
      if (old === undefined) out.push({ op: "add", path: childPath, value });
      else diff(old, value, childPath, out);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length === after.length) {
      for (let i = 0; i < after.length; i++) diff(before[i], after[i], `${path}/${i}`, out);
      return;
    }
    if (after.length > before.length && before.every((item, i) => jsonEqual(item, after[i]))) {
      for (let i = before.length; i < after.length; i++) out.push({ op: "add", path: `${path}/-`, value: after[i] });
      return;
    }
  }
  // Root (`""`) included: RFC 6902 allows replacing the whole document.
  out.push({ op: "replace", path, value: after });
}

/**
 * Applies a JSON Patch (the operations {@linkcode createJsonPatch} emits, plus `move`, `copy` and `test`) like the
 * API server does: strictly, failing on a missing path.
 *
 * @param document The document to patch. Not mutated.
 * @param operations The RFC 6902 operations.
 * @returns The patched document (a new object).
 * @throws {Error} When an operation does not apply (missing parent, bad index, failed `test`).
 */
export function applyJsonPatch(document: unknown, operations: readonly Record<string, unknown>[]): unknown {
  let root = structuredClone(document);
  for (const operation of operations) {
    const op = operation.op;
    const path = String(operation.path);
    switch (op) {
      case "add":
        root = put(root, path, structuredClone(operation.value), "add");
        break;
      case "replace":
        root = put(root, path, structuredClone(operation.value), "replace");
        break;
      case "remove":
        root = remove(root, path).document;
        break;
      case "move": {
        const removed = remove(root, String(operation.from));
        root = put(removed.document, path, removed.value, "add");
        break;
      }
      case "copy":
        root = put(root, path, structuredClone(get(root, String(operation.from))), "add");
        break;
      case "test":
        if (!jsonEqual(get(root, path), operation.value)) throw new Error(`JSON patch test failed at ${path}`);
        break;
      default:
        throw new Error(`Unsupported JSON patch operation ${JSON.stringify(op)}`);
    }
  }
  return root;
}

function parsePointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new Error(`JSON pointer must start with "/", got ${JSON.stringify(path)}`);
  return path.slice(1).split("/").map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function get(document: unknown, path: string): unknown {
  let current = document;
  for (const token of parsePointer(path)) {
    if (Array.isArray(current)) current = current[arrayIndex(current, token, false)];
    else if (isObject(current) && Object.hasOwn(current, token)) current = current[token];
    else throw new Error(`JSON patch path not found: ${path}`);
  }
  return current;
}

function arrayIndex(array: unknown[], token: string, forInsert: boolean): number {
  if (forInsert && token === "-") return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`Invalid JSON patch array index ${JSON.stringify(token)}`);
  const index = Number(token);
  if (index > array.length || (!forInsert && index === array.length)) {
    throw new Error(`JSON patch array index out of range: ${token}`);
  }
  return index;
}

function put(document: unknown, path: string, value: unknown, mode: "add" | "replace"): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const last = tokens.pop()!;
  const parent = get(document, tokens.map((t) => `/${escapePointerToken(t)}`).join(""));
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, mode === "add");
    if (mode === "add") parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) {
    if (mode === "replace" && !Object.hasOwn(parent, last)) throw new Error(`JSON patch path not found: ${path}`);
    // defineProperty: a key named `__proto__` must become a member, not the prototype.
    Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
  } else {
    throw new Error(`JSON patch parent is not a container: ${path}`);
  }
  return document;
}

function remove(document: unknown, path: string): { document: unknown; value: unknown } {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new Error("JSON patch cannot remove the whole document");
  const last = tokens.pop()!;
  const parent = get(document, tokens.map((t) => `/${escapePointerToken(t)}`).join(""));
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, false);
    const [value] = parent.splice(index, 1);
    return { document, value };
  }
  if (isObject(parent) && Object.hasOwn(parent, last)) {
    const value = parent[last];
    delete parent[last];
    return { document, value };
  }
  throw new Error(`JSON patch path not found: ${path}`);
}
