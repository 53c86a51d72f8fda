/**
 * Converts schemas of the Kubernetes API server's published OpenAPI v3 document (`GET /openapi/v3/api/v1`) into
 * structural CRD schemas, the way controller-gen renders core types embedded in a CRD: `$ref`/`allOf` inlined,
 * a `type` on every node, `resource.Quantity` and `IntOrString` as int-or-string, embedded `ObjectMeta` reduced to
 * `annotations`, `finalizers`, `labels`, `name`, `namespace`, descriptions dropped.
 *
 * Pure: a document in, a new schema out. Nothing here reads files or talks to a server.
 *
 * @module
 */

/** A schema node as it appears in the OpenAPI v3 document (unvalidated JSON). */
export type OpenApiSchema = { readonly [key: string]: unknown };

/** The part of an OpenAPI v3 document the conversion reads. */
export interface OpenApiDocument {
  components?: { schemas?: { readonly [name: string]: OpenApiSchema } };
}

/** A structural schema node of a CRD (`apiextensions.k8s.io/v1` JSONSchemaProps, the subset this project emits). */
export interface StructuralSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  format?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  items?: StructuralSchema;
  required?: string[];
  anyOf?: StructuralSchema[];
  "x-kubernetes-int-or-string"?: true;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: string;
  "x-kubernetes-preserve-unknown-fields"?: true;
}

/** Name of `k8s.io/api/core/v1.PodTemplateSpec` in the document. */
export const POD_TEMPLATE_SPEC = "io.k8s.api.core.v1.PodTemplateSpec";
/** Name of `k8s.io/api/core/v1.PersistentVolumeClaim` in the document. */
export const PERSISTENT_VOLUME_CLAIM = "io.k8s.api.core.v1.PersistentVolumeClaim";
/** Name of `resource.Quantity` in the document. */
export const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
/** Name of `intstr.IntOrString` in the document. */
export const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
/** Name of `metav1.ObjectMeta` in the document. */
export const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/** The pattern controller-gen puts on every `resource.Quantity` field. */
export const QUANTITY_PATTERN =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

/** The only `ObjectMeta` fields an embedded object's `metadata` keeps (spec §1.4; controller-gen's embedded meta). */
export const EMBEDDED_METADATA_FIELDS: readonly string[] = ["annotations", "finalizers", "labels", "name", "namespace"];

const REF_PREFIX = "#/components/schemas/";
const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);

/** Keys copied unchanged onto the structural node. */
const COPIED = new Set([
  "format",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
  "x-kubernetes-preserve-unknown-fields",
]);

/**
 * Keys dropped on purpose: documentation (descriptions are dropped inside core types, see
 * docs/decisions/crd-descriptions.md), strategic-merge-patch hints and markers a CRD schema cannot carry.
 */
const DROPPED = new Set([
  "description",
  // controller-gen ignores core types' `+enum` markers, so upstream's CRD has no enums inside embedded templates.
  // The API server serves them (the file in the Go module cache has none): dropping them also makes both inputs
  // generate the same CRD.
  "enum",
  "x-kubernetes-patch-merge-key",
  "x-kubernetes-patch-strategy",
  "x-kubernetes-unions",
  "x-kubernetes-group-version-kind",
]);

/** Keys the converter interprets itself. */
const HANDLED = new Set([
  "$ref",
  "allOf",
  "oneOf",
  "type",
  "default",
  "properties",
  "additionalProperties",
  "items",
  "required",
]);

/** The int-or-string shape of `IntOrString` (controller-gen). */
export function intOrStringSchema(): StructuralSchema {
  return { anyOf: [{ type: "integer" }, { type: "string" }], "x-kubernetes-int-or-string": true };
}

/** The int-or-string shape of `resource.Quantity`, with its pattern (controller-gen). */
export function quantitySchema(): StructuralSchema {
  return { ...intOrStringSchema(), pattern: QUANTITY_PATTERN };
}

/**
 * Converts the named schema of an OpenAPI v3 document into a structural CRD schema.
 *
 * - `$ref` and single-element `allOf: [{$ref}]` are inlined; keys beside the reference (e.g. a property's
 *   `default`) apply on top of the referenced schema.
 * - `resource.Quantity` becomes `anyOf: [integer, string]` + `x-kubernetes-int-or-string: true` + the quantity
 *   `pattern`; `IntOrString` the same without pattern.
 * - `metav1.ObjectMeta` becomes an object with only {@link EMBEDDED_METADATA_FIELDS}, as plain types without
 *   list markers (what controller-gen's `generateEmbeddedObjectMeta` emits); everything else in it would be pruned.
 * - `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`, `required` are kept;
 *   `required` is sorted.
 * - Defaults: explicit `+default=` markers are kept (`ports[].protocol: TCP`, `name: ""` of object references,
 *   `grpc.service: ""`, …). The zero-value defaults openapi-gen adds on its own are dropped, as controller-gen never
 *   emits them: `{}` on struct-typed fields, and the type's zero value on a field its parent lists as `required`
 *   (otherwise `containers[].name` would default to `""` and satisfy `required`) or on list items and map values.
 * - Descriptions, `enum`s (controller-gen ignores core `+enum` markers) and strategic-merge-patch hints are dropped.
 *
 * @param doc The OpenAPI v3 document (e.g. the API server's `/openapi/v3/api/v1`).
 * @param name A key of `components.schemas`, e.g. {@link POD_TEMPLATE_SPEC}.
 * @returns A new structural schema; the document is not modified.
 * @throws {Error} When the name or a reference is missing, references form a cycle, or a node uses a keyword the
 *   conversion does not know (so that a new Kubernetes version fails loudly instead of producing a wrong schema).
 * @example
 * const pod = structuralSchema(doc, POD_TEMPLATE_SPEC);
 * pod.properties?.spec?.required; // ["containers"]
 */
export function structuralSchema(doc: OpenApiDocument, name: string): StructuralSchema {
  return convertNamed(doc, name, [name]);
}

function lookup(doc: OpenApiDocument, name: string, path: readonly string[]): OpenApiSchema {
  const schema = doc.components?.schemas?.[name];
  if (!schema) throw new Error(`Cannot convert ${path.join(" > ")}: schema ${name} is not in the OpenAPI document`);
  return schema;
}

function convertNamed(doc: OpenApiDocument, name: string, path: readonly string[]): StructuralSchema {
  if (name === QUANTITY) return quantitySchema();
  if (name === INT_OR_STRING) return intOrStringSchema();
  if (name === OBJECT_META) return embeddedObjectMeta(doc, path);
  return convertNode(doc, lookup(doc, name, path), path);
}

/** The schema a `$ref` or `allOf: [{$ref}]` node points at, or undefined for an inline node. */
function referencedName(node: OpenApiSchema, path: readonly string[]): string | undefined {
  let ref = node.$ref;
  if (node.allOf !== undefined) {
    const allOf = node.allOf;
    if (!Array.isArray(allOf) || allOf.length !== 1 || !isRecord(allOf[0]) || typeof allOf[0].$ref !== "string") {
      throw new Error(`Cannot convert ${path.join(" > ")}: allOf must hold exactly one $ref, got ${json(allOf)}`);
    }
    if (ref !== undefined) throw new Error(`Cannot convert ${path.join(" > ")}: both $ref and allOf are set`);
    ref = allOf[0].$ref;
  }
  if (ref === undefined) return undefined;
  if (typeof ref !== "string" || !ref.startsWith(REF_PREFIX)) {
    throw new Error(
      `Cannot convert ${path.join(" > ")}: only local ${REF_PREFIX}* references are supported, got ${json(ref)}`,
    );
  }
  return ref.slice(REF_PREFIX.length);
}

/** Converts a node that may be a reference; `required` tells whether its parent lists it as required. */
function convertNode(
  doc: OpenApiDocument,
  node: OpenApiSchema,
  path: readonly string[],
  required = false,
): StructuralSchema {
  const unknown = Object.keys(node).filter((k) => !COPIED.has(k) && !DROPPED.has(k) && !HANDLED.has(k));
  if (unknown.length > 0) {
    throw new Error(`Cannot convert ${path.join(" > ")}: unsupported keywords ${unknown.sort().join(", ")}`);
  }
  const target = referencedName(node, path);
  let out: StructuralSchema;
  if (target !== undefined) {
    if (path.includes(target)) {
      throw new Error(`Cannot convert ${path.join(" > ")}: reference cycle through ${target}`);
    }
    // A node beside a reference only carries documentation, a default or markers: merge those on top.
    out = convertNamed(doc, target, [...path, target]);
    if (node.type !== undefined || node.properties !== undefined || node.items !== undefined) {
      throw new Error(`Cannot convert ${path.join(" > ")}: a reference with its own type or members is not supported`);
    }
  } else if (node.oneOf !== undefined) {
    out = convertOneOf(node, path);
  } else {
    out = convertInline(doc, node, path);
  }
  for (const key of COPIED) {
    if (node[key] !== undefined && !(key === "format" && node[key] === "int-or-string")) {
      (out as Record<string, unknown>)[key] = structuredClone(node[key]);
    }
  }
  if (node.default !== undefined && !isEnforcedZeroDefault(out, node.default, required)) {
    out.default = structuredClone(node.default);
  }
  if (out.type === undefined && out["x-kubernetes-int-or-string"] !== true) {
    throw new Error(`Cannot convert ${path.join(" > ")}: the node has no type, got ${json(node)}`);
  }
  return out;
}

/** `oneOf` appears only for the int-or-string types; anything else is not structural. */
function convertOneOf(node: OpenApiSchema, path: readonly string[]): StructuralSchema {
  const types = Array.isArray(node.oneOf) ? node.oneOf.map((s) => (isRecord(s) ? s.type : undefined)).sort() : [];
  if (json(types) === json(["integer", "string"]) || json(types) === json(["number", "string"])) {
    return intOrStringSchema();
  }
  throw new Error(
    `Cannot convert ${path.join(" > ")}: oneOf is only supported for int-or-string, got ${json(node.oneOf)}`,
  );
}

function convertInline(doc: OpenApiDocument, node: OpenApiSchema, path: readonly string[]): StructuralSchema {
  const type = node.type;
  if (typeof type !== "string" || !TYPES.has(type)) {
    throw new Error(`Cannot convert ${path.join(" > ")}: expected a type, got ${json(type)}`);
  }
  const out: StructuralSchema = { type: type as StructuralSchema["type"] };
  if (node.properties !== undefined) {
    if (!isRecord(node.properties)) throw new Error(`Cannot convert ${path.join(" > ")}: properties is not an object`);
    const required = stringList(node.required, path);
    out.properties = {};
    for (const [key, value] of Object.entries(node.properties)) {
      if (!isRecord(value)) throw new Error(`Cannot convert ${path.join(" > ")}.${key}: not a schema`);
      out.properties[key] = convertNode(doc, value, [...path, key], required.includes(key));
    }
  }
  if (node.required !== undefined) {
    const required = stringList(node.required, path);
    if (required.length > 0) out.required = [...required].sort();
  }
  if (node.items !== undefined) {
    if (!isRecord(node.items)) throw new Error(`Cannot convert ${path.join(" > ")}: items is not a schema`);
    // Elements cannot carry a `+default=` marker: a zero default there is openapi-gen's, like on a required field.
    out.items = convertNode(doc, node.items, [...path, "[]"], true);
  }
  if (node.additionalProperties !== undefined) {
    const extra = node.additionalProperties;
    if (typeof extra === "boolean") out.additionalProperties = extra;
    else if (isRecord(extra)) out.additionalProperties = convertNode(doc, extra, [...path, "{}"], true);
    else throw new Error(`Cannot convert ${path.join(" > ")}: additionalProperties is ${json(extra)}`);
  }
  return out;
}

/**
 * True for a default that openapi-gen adds by itself (kube-openapi `mustEnforceDefault`) rather than from a
 * `+default=` marker: `{}` on a struct, or the zero value of a field that is required (not `omitempty`).
 */
function isEnforcedZeroDefault(schema: StructuralSchema, value: unknown, required: boolean): boolean {
  if (isRecord(value) && Object.keys(value).length === 0) return true; // a struct (or Quantity) field
  if (!required) return false;
  switch (schema.type) {
    case "string":
      return value === "";
    case "integer":
    case "number":
      return value === 0;
    case "boolean":
      return value === false;
    default:
      return false;
  }
}

function embeddedObjectMeta(doc: OpenApiDocument, path: readonly string[]): StructuralSchema {
  const meta = lookup(doc, OBJECT_META, path);
  const properties = isRecord(meta.properties) ? meta.properties : {};
  const out: StructuralSchema = { type: "object", properties: {} };
  for (const key of EMBEDDED_METADATA_FIELDS) {
    const field = properties[key];
    if (!isRecord(field)) throw new Error(`Cannot convert ${path.join(" > ")}: ObjectMeta has no ${key}`);
    out.properties![key] = withoutMarkers(convertNode(doc, field, [...path, key]));
  }
  return out;
}

/** controller-gen's embedded ObjectMeta carries plain types only (e.g. `finalizers` without `listType: set`). */
function withoutMarkers(schema: StructuralSchema): StructuralSchema {
  const out: StructuralSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-")) continue;
    if (key === "items" || key === "additionalProperties") {
      (out as Record<string, unknown>)[key] = isRecord(value) ? withoutMarkers(value as StructuralSchema) : value;
    } else {
      (out as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}

/**
 * Lists the paths of nodes that break the structural-schema rules this converter promises: a node without `type`
 * (unless int-or-string or preserve-unknown-fields), or a leftover `$ref`, `allOf`, `oneOf` or `description`-free
 * keyword the CRD API rejects.
 *
 * @param schema The schema to check.
 * @param options `allowDescriptions`: descriptions are expected (LWS's own fields) rather than a violation.
 * @returns The offending paths with the reason; empty when the schema is structural.
 */
export function structuralViolations(
  schema: StructuralSchema,
  options: { allowDescriptions?: boolean } = {},
): string[] {
  const out: string[] = [];
  const visit = (node: StructuralSchema, path: string) => {
    const raw = node as Record<string, unknown>;
    for (const key of ["$ref", "allOf", "oneOf"]) if (raw[key] !== undefined) out.push(`${path}: has ${key}`);
    if (!options.allowDescriptions && node.description !== undefined) out.push(`${path}: has description`);
    if (
      node.type === undefined && !node["x-kubernetes-int-or-string"] && !node["x-kubernetes-preserve-unknown-fields"]
    ) {
      out.push(`${path}: has no type`);
    }
    for (const [key, child] of Object.entries(node.properties ?? {})) visit(child, `${path}.${key}`);
    if (node.items) visit(node.items, `${path}[]`);
    if (isRecord(node.additionalProperties)) visit(node.additionalProperties as StructuralSchema, `${path}{}`);
  };
  visit(schema, "");
  return out;
}

function stringList(value: unknown, path: readonly string[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new Error(`Cannot convert ${path.join(" > ")}: required must be a list of strings, got ${json(value)}`);
  }
  return value as string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function json(value: unknown): string {
  return JSON.stringify(value) ?? "undefined";
}
