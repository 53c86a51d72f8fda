/**
 * Kubernetes field errors (`k8s.io/apimachinery/pkg/util/validation/field`) and their exact text rendering, as the
 * LWS validating webhook returns them (spec §4).
 *
 * @module
 */
import { goQuote } from "./go_strconv.ts";

/** The kind of a field error; each renders as a fixed phrase (see {@linkcode renderFieldError}). */
export type FieldErrorType =
  | "NotFound"
  | "Required"
  | "Duplicate"
  | "Invalid"
  | "NotSupported"
  | "Forbidden"
  | "TooLong"
  | "TooMany"
  | "Internal"
  | "TypeInvalid";

/**
 * One validation failure: what kind, at which field path (e.g. `spec.replicas`), with which offending value and
 * which detail text. `value` is only rendered for the types that carry one (not for `Required`, `Forbidden`,
 * `TooLong`, `Internal`).
 */
export interface FieldError {
  /** The kind of error. */
  type: FieldErrorType;
  /** Dotted field path, e.g. `spec.leaderWorkerTemplate.size`. */
  field: string;
  /** The offending value; `undefined` and `null` render as `null`. */
  value: unknown;
  /** Human-readable detail; may be empty. */
  detail: string;
}

const PHRASES: Record<FieldErrorType, string> = {
  NotFound: "Not found",
  Required: "Required value",
  Duplicate: "Duplicate value",
  Invalid: "Invalid value",
  NotSupported: "Unsupported value",
  Forbidden: "Forbidden",
  TooLong: "Too long",
  TooMany: "Too many",
  Internal: "Internal error",
  TypeInvalid: "Invalid value",
};

const WITHOUT_VALUE: ReadonlySet<FieldErrorType> = new Set(["Required", "Forbidden", "TooLong", "Internal"]);

/**
 * Builds an `Invalid` field error.
 *
 * @param field Dotted field path.
 * @param value The offending value.
 * @param detail Why it is invalid.
 * @returns The field error.
 */
export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: "Invalid", field, value, detail };
}

/**
 * Builds a `Required` field error (renders as `<field>: Required value[: <detail>]`).
 *
 * @param field Dotted field path.
 * @param detail Optional detail; empty renders nothing after `Required value`.
 * @returns The field error.
 */
export function required(field: string, detail = ""): FieldError {
  return { type: "Required", field, value: undefined, detail };
}

/**
 * Builds a `TooLong` field error with Kubernetes' detail `may not be more than <n> bytes`.
 *
 * @param field Dotted field path.
 * @param maxLength The limit in bytes.
 * @returns The field error.
 */
export function tooLong(field: string, maxLength: number): FieldError {
  return {
    type: "TooLong",
    field,
    value: "<value omitted>",
    detail: `may not be more than ${maxLength} ${maxLength === 1 ? "byte" : "bytes"}`,
  };
}

/**
 * Renders a value as Kubernetes' `field.Error` does: `null` for absent values, integers, other numbers and booleans
 * plainly, strings Go-quoted (`"50%"`), anything else as JSON (with Go's escaping of `<`, `>`, `&`).
 *
 * @param value Any value.
 * @returns Its rendering.
 */
export function renderValue(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (typeof value === "string") return goQuote(value);
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.replace(/[<>&\u2028\u2029]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  } catch {
    return String(value);
  }
}

/**
 * Renders one field error exactly as Kubernetes does: `<field>: <phrase>[: <value>][: <detail>]`, e.g.
 * `spec.replicas: Invalid value: -1: replicas must be equal or greater than 0` or `metadata.namespace: Required value`.
 *
 * @param error The field error.
 * @returns Its text.
 */
export function renderFieldError(error: FieldError): string {
  let body = PHRASES[error.type] ?? "Invalid value";
  if (!WITHOUT_VALUE.has(error.type)) body += `: ${renderValue(error.value)}`;
  if (error.detail.length > 0) body += `: ${error.detail}`;
  return `${error.field}: ${body}`;
}

/**
 * Aggregates field errors into one message as `field.ErrorList.ToAggregate().Error()` does: errors with identical
 * text are dropped after the first; one remaining error renders alone, several render as `[e1, e2, ...]`.
 *
 * @param errors The field errors, in the order they were found.
 * @returns The message; `""` for no errors.
 * @example
 * aggregateErrors(validateLeaderWorkerSetCreate(lws)); // "[spec.replicas: Invalid value: -1: ..., ...]"
 */
export function aggregateErrors(errors: readonly FieldError[]): string {
  const messages = [...new Set(errors.map(renderFieldError))];
  if (messages.length === 0) return "";
  if (messages.length === 1) return messages[0]!;
  return `[${messages.join(", ")}]`;
}
