/**
 * Kubernetes' standard name and ObjectMeta validation (`k8s.io/apimachinery/pkg/util/validation` and
 * `.../api/validation`), reproduced with its exact message texts. The `is*` functions return the list of problems
 * (empty when valid), like their Go counterparts; `validate*` functions return field errors.
 *
 * Lengths are UTF-8 byte lengths, as in Go. Map keys are checked in sorted order (Go iterates maps randomly, so
 * upstream's order is unspecified).
 *
 * @module
 */
import { type FieldError, invalid, required, tooLong } from "./field_error.ts";
import { isObject } from "./_json.ts";

/** Maximum length of a DNS-1035 label. */
export const DNS1035_LABEL_MAX_LENGTH = 63;
/** Maximum length of a DNS-1123 label. */
export const DNS1123_LABEL_MAX_LENGTH = 63;
/** Maximum length of a DNS-1123 subdomain. */
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
/** Maximum length of the name part of a qualified name. */
export const QUALIFIED_NAME_MAX_LENGTH = 63;
/** Maximum length of a label value. */
export const LABEL_VALUE_MAX_LENGTH = 63;
/** Maximum total size of all annotation keys and values of one object, in bytes (256 KiB). */
export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

const encoder = new TextEncoder();

/** Length of a string in UTF-8 bytes, what Go's `len()` returns. */
function utf8Length(value: string): number {
  return encoder.encode(value).length;
}

const DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const PERCENT_FMT = "[0-9]+%";
const PERCENT_ERR = "a valid percent string must be a numeric string followed by an ending '%'";

const anchored = (fmt: string): RegExp => new RegExp(`^${fmt}$`);
const DNS1035_LABEL = anchored(DNS1035_LABEL_FMT);
const DNS1123_LABEL = anchored(DNS1123_LABEL_FMT);
const DNS1123_SUBDOMAIN = anchored(DNS1123_SUBDOMAIN_FMT);
const QUALIFIED_NAME = anchored(QUALIFIED_NAME_FMT);
const LABEL_VALUE = anchored(LABEL_VALUE_FMT);
const PERCENT = anchored(PERCENT_FMT);

/** Kubernetes' `IsNegativeErrorMsg`. */
export const NEGATIVE_ERROR_MESSAGE = "must be greater than or equal to 0";

/**
 * Kubernetes' `MaxLenError`: `must be no more than <n> characters`.
 *
 * @param length The maximum length.
 * @returns The message.
 */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/**
 * Kubernetes' `EmptyError`: `must be non-empty`.
 *
 * @returns The message.
 */
export function emptyError(): string {
  return "must be non-empty";
}

/**
 * Kubernetes' `RegexError`: `<msg> (e.g. '<ex1>',  or '<ex2>', regex used for validation is '<fmt>')`. The double
 * space after the first example is upstream's and is part of the exact text.
 *
 * @param message What the value must look like.
 * @param fmt The regex, as shown to the user.
 * @param examples Valid examples.
 * @returns The message.
 */
export function regexError(message: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${fmt}')`;
  let out = message + " (e.g. ";
  examples.forEach((example, i) => {
    if (i > 0) out += " or ";
    out += `'${example}', `;
  });
  return out + `regex used for validation is '${fmt}')`;
}

/**
 * Checks a DNS-1035 label (`[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters): LWS names must be one.
 *
 * @param value The candidate.
 * @returns Problems, empty when valid.
 */
export function isDNS1035Label(value: string): string[] {
  const errors: string[] = [];
  if (utf8Length(value) > DNS1035_LABEL_MAX_LENGTH) errors.push(maxLenError(DNS1035_LABEL_MAX_LENGTH));
  if (!DNS1035_LABEL.test(value)) errors.push(regexError(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, "my-name", "abc-123"));
  return errors;
}

/**
 * Checks a DNS-1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters), e.g. a namespace name.
 *
 * @param value The candidate.
 * @returns Problems, empty when valid.
 */
export function isDNS1123Label(value: string): string[] {
  const errors: string[] = [];
  if (utf8Length(value) > DNS1123_LABEL_MAX_LENGTH) errors.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!DNS1123_LABEL.test(value)) {
    if (DNS1123_SUBDOMAIN.test(value)) errors.push("must not contain dots");
    else errors.push(regexError(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, "my-name", "123-abc"));
  }
  return errors;
}

/**
 * Checks a DNS-1123 subdomain (dot-separated DNS-1123 labels, at most 253 characters).
 *
 * @param value The candidate.
 * @returns Problems, empty when valid.
 */
export function isDNS1123Subdomain(value: string): string[] {
  const errors: string[] = [];
  if (utf8Length(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errors.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errors.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, "example.com"));
  }
  return errors;
}

/**
 * Checks a qualified name (label keys, annotation keys, finalizers): an optional DNS-1123 subdomain prefix and `/`,
 * then a name of at most 63 characters matching `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
 *
 * @param value The candidate.
 * @returns Problems, empty when valid.
 */
export function isQualifiedName(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errors.push("prefix part " + emptyError());
    else errors.push(...isDNS1123Subdomain(prefix).map((message) => "prefix part " + message));
  } else {
    return [
      "a qualified name " + regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc") +
      " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errors.push("name part " + emptyError());
  else if (utf8Length(name) > QUALIFIED_NAME_MAX_LENGTH) {
    errors.push("name part " + maxLenError(QUALIFIED_NAME_MAX_LENGTH));
  }
  if (!QUALIFIED_NAME.test(name)) {
    errors.push("name part " + regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"));
  }
  return errors;
}

/**
 * Checks a label value: empty, or at most 63 characters matching `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`.
 *
 * @param value The candidate.
 * @returns Problems, empty when valid.
 */
export function isValidLabelValue(value: string): string[] {
  const errors: string[] = [];
  if (utf8Length(value) > LABEL_VALUE_MAX_LENGTH) errors.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!LABEL_VALUE.test(value)) {
    errors.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  }
  return errors;
}

/**
 * Checks a percent string (`[0-9]+%`), as used by int-or-string rollout parameters.
 *
 * @param value The candidate.
 * @returns Problems, empty when valid.
 */
export function isValidPercent(value: string): string[] {
  return PERCENT.test(value) ? [] : [regexError(PERCENT_ERR, PERCENT_FMT, "1%", "93%")];
}

/** A name check in the style of Kubernetes' `ValidateNameFunc`: `prefix` is true for `generateName`. */
export type NameValidator = (name: string, prefix: boolean) => string[];

/**
 * Kubernetes' `NameIsDNS1035Label`: for a `generateName` prefix the trailing `-` is masked first (upstream's
 * `maskTrailingDash`, which replaces the last *two* characters by `a` — a quirk kept on purpose).
 *
 * @param name The name or generateName.
 * @param prefix Whether `name` is a generateName prefix.
 * @returns Problems, empty when valid.
 */
export function nameIsDNS1035Label(name: string, prefix: boolean): string[] {
  return isDNS1035Label(prefix ? maskTrailingDash(name) : name);
}

function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith("-") ? name.slice(0, -2) + "a" : name;
}

/**
 * Validates a map of labels: every key must be a qualified name and every value a valid label value. Errors are
 * reported at `path` itself (not per key), with the key or value as the offending value, like Kubernetes.
 *
 * @param labels The labels; `undefined`/`null` is valid; a non-object or a non-string value is an error.
 * @param path Field path of the map, e.g. `metadata.labels`.
 * @returns Field errors, empty when valid.
 */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (!isObject(labels)) return [invalid(path, labels, "must be a map of string keys to string values")];
  const errors: FieldError[] = [];
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key];
    errors.push(...isQualifiedName(key).map((message) => invalid(path, key, message)));
    if (typeof value !== "string") errors.push(invalid(`${path}.${key}`, value, "must be a string"));
    else errors.push(...isValidLabelValue(value).map((message) => invalid(path, value, message)));
  }
  return errors;
}

/**
 * Validates a map of annotations: every key must be a qualified name (checked lower-cased, so upper case is
 * allowed) and keys plus values together must not exceed 256 KiB.
 *
 * @param annotations The annotations; `undefined`/`null` is valid; a non-object or a non-string value is an error.
 * @param path Field path of the map, e.g. `metadata.annotations`.
 * @returns Field errors, empty when valid.
 */
export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isObject(annotations)) return [invalid(path, annotations, "must be a map of string keys to string values")];
  const errors: FieldError[] = [];
  let totalSize = 0;
  for (const key of Object.keys(annotations).sort()) {
    const value = annotations[key];
    errors.push(...isQualifiedName(key.toLowerCase()).map((message) => invalid(path, key, message)));
    if (typeof value !== "string") errors.push(invalid(`${path}.${key}`, value, "must be a string"));
    else totalSize += utf8Length(value);
    totalSize += utf8Length(key);
  }
  if (totalSize > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) errors.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return errors;
}

/**
 * Validates finalizers: each must be a qualified name, and `orphan` together with `foregroundDeletion` is invalid.
 *
 * @param finalizers The finalizer list; `undefined`/`null` is valid.
 * @param path Field path of the list, e.g. `metadata.finalizers`.
 * @returns Field errors, empty when valid.
 */
export function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  if (finalizers === undefined || finalizers === null) return [];
  if (!Array.isArray(finalizers)) return [invalid(path, finalizers, "must be a list of strings")];
  const errors: FieldError[] = [];
  for (const [i, finalizer] of finalizers.entries()) {
    if (typeof finalizer !== "string") errors.push(invalid(`${path}[${i}]`, finalizer, "must be a string"));
    else errors.push(...isQualifiedName(finalizer).map((message) => invalid(path, finalizer, message)));
  }
  if (finalizers.includes("orphan") && finalizers.includes("foregroundDeletion")) {
    errors.push(invalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set"));
  }
  return errors;
}

/** Options of {@linkcode validateObjectMeta}. */
export interface ValidateObjectMetaOptions {
  /** Field path of the metadata; default `metadata`. */
  path?: string;
  /** Whether the object is namespaced (namespace required) or cluster-scoped (namespace forbidden); default true. */
  requiresNamespace?: boolean;
  /** Check for `name` and `generateName`; default {@linkcode nameIsDNS1035Label}. */
  nameFn?: NameValidator;
}

/**
 * Kubernetes' `ValidateObjectMeta` for what an admission webhook sees: generateName and name (via `nameFn`; a
 * missing name is `Required value: name or generateName is required`), namespace (required and a DNS-1123 label,
 * or forbidden), non-negative generation, labels, annotations and finalizers. Owner references and managed fields
 * are not checked (the API server validates them itself).
 *
 * @param meta The `metadata` value, of any shape; a non-object gives one error.
 * @param options Path, namespace requirement and name check.
 * @returns Field errors in Kubernetes' order; empty when valid.
 */
export function validateObjectMeta(meta: unknown, options: ValidateObjectMetaOptions = {}): FieldError[] {
  const path = options.path ?? "metadata";
  const nameFn = options.nameFn ?? nameIsDNS1035Label;
  if (meta === undefined || meta === null) meta = {};
  if (!isObject(meta)) return [invalid(path, meta, "must be an object")];
  const errors: FieldError[] = [];

  const generateName = meta.generateName;
  if (typeof generateName === "string" && generateName.length > 0) {
    errors.push(...nameFn(generateName, true).map((m) => invalid(`${path}.generateName`, generateName, m)));
  } else if (generateName !== undefined && generateName !== null && typeof generateName !== "string") {
    errors.push(invalid(`${path}.generateName`, generateName, "must be a string"));
  }

  const name = meta.name;
  if (name === undefined || name === null || name === "") {
    errors.push(required(`${path}.name`, "name or generateName is required"));
  } else if (typeof name !== "string") {
    errors.push(invalid(`${path}.name`, name, "must be a string"));
  } else {
    errors.push(...nameFn(name, false).map((m) => invalid(`${path}.name`, name, m)));
  }

  const namespace = meta.namespace;
  const hasNamespace = namespace !== undefined && namespace !== null && namespace !== "";
  if (options.requiresNamespace ?? true) {
    if (!hasNamespace) errors.push(required(`${path}.namespace`));
    else if (typeof namespace !== "string") errors.push(invalid(`${path}.namespace`, namespace, "must be a string"));
    else errors.push(...isDNS1123Label(namespace).map((m) => invalid(`${path}.namespace`, namespace, m)));
  } else if (hasNamespace) {
    errors.push({
      type: "Forbidden",
      field: `${path}.namespace`,
      value: undefined,
      detail: "not allowed on this type",
    });
  }

  const generation = meta.generation;
  if (typeof generation === "number" && generation < 0) {
    errors.push(invalid(`${path}.generation`, generation, NEGATIVE_ERROR_MESSAGE));
  }
  errors.push(...validateLabels(meta.labels, `${path}.labels`));
  errors.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  errors.push(...validateFinalizers(meta.finalizers, `${path}.finalizers`));
  return errors;
}
