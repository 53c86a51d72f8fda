/**
 * The AdmissionReview codec: decoding `admission.k8s.io/v1` reviews, and building responses with
 * controller-runtime's semantics (spec §3, §4, §15.4):
 *
 * - every response echoes the request `uid` and carries a `status` (code 200 unless denied or errored);
 * - a mutation answers with a base64 RFC 6902 patch and `patchType: JSONPatch`, and with no patch at all when
 *   nothing changed;
 * - a denial is `allowed: false` with `status.code` 403, `status.reason` `Forbidden` and the message.
 *
 * Everything here is pure.
 *
 * @module
 */
import type { Status } from "kubernetes-types/meta/v1.d.ts";
import { createJsonPatch, type JsonPatchOperation } from "./json_patch.ts";

/** `apiVersion` of the reviews this webhook speaks (registrations list only `v1`; `v1beta1` is echoed too). */
export const ADMISSION_API_VERSION = "admission.k8s.io/v1";
const ACCEPTED_API_VERSIONS: ReadonlySet<string> = new Set([ADMISSION_API_VERSION, "admission.k8s.io/v1beta1"]);

/** Admission operations. */
export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

/** A group/version/kind as the AdmissionRequest carries it. */
export interface GroupVersionKind {
  /** API group (`""` for core). */
  group: string;
  /** API version. */
  version: string;
  /** Kind. */
  kind: string;
}

/** A group/version/resource as the AdmissionRequest carries it. */
export interface GroupVersionResource {
  /** API group (`""` for core). */
  group: string;
  /** API version. */
  version: string;
  /** Resource (plural). */
  resource: string;
}

/** The `request` of an AdmissionReview (`admission.k8s.io/v1` AdmissionRequest). Objects are raw JSON. */
export interface AdmissionRequest {
  /** Identifies this admission call; the response must echo it. */
  uid: string;
  /** Kind of the object. */
  kind?: GroupVersionKind;
  /** Resource being admitted. */
  resource?: GroupVersionResource;
  /** Subresource, e.g. `status`; empty for the main resource. */
  subResource?: string;
  /** Name of the object; may be empty on CREATE with `generateName`. */
  name?: string;
  /** Namespace of the object. */
  namespace?: string;
  /** The operation. */
  operation: Operation;
  /** Who made the request. */
  userInfo?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  /** The new object (CREATE, UPDATE); absent on DELETE. */
  object?: unknown;
  /** The existing object (UPDATE, DELETE). */
  oldObject?: unknown;
  /** Whether the request is a dry run (our webhooks have no side effects, so it changes nothing). */
  dryRun?: boolean;
  /** Operation options (CreateOptions, UpdateOptions, ...). */
  options?: unknown;
}

/** The `response` of an AdmissionReview. */
export interface AdmissionResponse {
  /** The request's `uid`. */
  uid: string;
  /** Whether the request is admitted. */
  allowed: boolean;
  /** Result details; always present (controller-runtime fills in code 200). */
  status?: Status;
  /** Base64 of the JSON patch document. */
  patch?: string;
  /** Always `JSONPatch` when `patch` is set. */
  patchType?: "JSONPatch";
  /** Warnings shown to the client. */
  warnings?: string[];
}

/** A full AdmissionReview as it travels over the wire. */
export interface AdmissionReview {
  /** `admission.k8s.io/v1` (or the request's version, echoed). */
  apiVersion: string;
  /** `AdmissionReview`. */
  kind: "AdmissionReview";
  /** Present in requests. */
  request?: AdmissionRequest;
  /** Present in responses. */
  response?: AdmissionResponse;
}

/**
 * The outcome of a webhook handler, before it is turned into an AdmissionResponse: admitted (optionally with patch
 * operations) or refused with an HTTP-like code and a message.
 */
export type AdmissionResult =
  | { allowed: true; patch?: JsonPatchOperation[]; warnings?: string[] }
  | { allowed: false; code: number; reason?: string; message: string };

/** A webhook handler: a pure function of the AdmissionRequest. It must not throw (the app turns a throw into 500). */
export type AdmissionHandler = (request: AdmissionRequest) => AdmissionResult;

/** Result of {@linkcode decodeAdmissionReview}. */
export type DecodeResult = { review: AdmissionReview & { request: AdmissionRequest } } | { error: string };

const OPERATIONS: ReadonlySet<string> = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Decodes and checks an AdmissionReview request body.
 *
 * @param body The raw request body.
 * @returns The review, or an error message for a body that is not JSON, not an AdmissionReview of a supported
 *   version, or has no `request` with a string `uid` and a known `operation`.
 * @example
 * const decoded = decodeAdmissionReview(await request.text());
 * if ("error" in decoded) return badRequest(decoded.error);
 */
export function decodeAdmissionReview(body: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    return { error: `Cannot decode AdmissionReview: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isObject(parsed)) return { error: "Cannot decode AdmissionReview: body must be a JSON object" };
  if (parsed.kind !== "AdmissionReview" || typeof parsed.apiVersion !== "string") {
    return {
      error: `Cannot decode AdmissionReview: expected kind AdmissionReview, got apiVersion ${
        JSON.stringify(parsed.apiVersion)
      } kind ${JSON.stringify(parsed.kind)}`,
    };
  }
  if (!ACCEPTED_API_VERSIONS.has(parsed.apiVersion)) {
    return { error: `Cannot decode AdmissionReview: unsupported apiVersion ${JSON.stringify(parsed.apiVersion)}` };
  }
  const request = parsed.request;
  if (!isObject(request)) return { error: "Cannot decode AdmissionReview: request is missing" };
  if (typeof request.uid !== "string" || request.uid === "") {
    return { error: "Cannot decode AdmissionReview: request.uid must be a non-empty string" };
  }
  if (typeof request.operation !== "string" || !OPERATIONS.has(request.operation)) {
    return {
      error: `Cannot decode AdmissionReview: request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got ${
        JSON.stringify(request.operation)
      }`,
    };
  }
  return { review: parsed as unknown as AdmissionReview & { request: AdmissionRequest } };
}

/**
 * An admitting result without changes (controller-runtime `Allowed("")`).
 *
 * @returns `{ allowed: true }`.
 */
export function allowed(): AdmissionResult {
  return { allowed: true };
}

/**
 * A denial with controller-runtime's `Denied(message)` shape: code 403, reason `Forbidden`.
 *
 * @param message What the client sees after `admission webhook "<name>" denied the request: `.
 * @returns The denial.
 */
export function denied(message: string): AdmissionResult {
  return { allowed: false, code: 403, reason: "Forbidden", message };
}

/**
 * A failed admission with an error code (controller-runtime `Errored(code, err)`): no reason, just code and message.
 *
 * @param code HTTP-like code, e.g. 400 or 500.
 * @param message The error text.
 * @returns The refusal.
 */
export function errored(code: number, message: string): AdmissionResult {
  return { allowed: false, code, message };
}

/**
 * An admitting result that patches `before` into `after` (controller-runtime `PatchResponseFromRaw`).
 *
 * @param before The object as received.
 * @param after The object as it should be stored.
 * @returns `{ allowed: true }` with the patch operations, or without a patch when both are equal.
 */
export function patched(before: unknown, after: unknown): AdmissionResult {
  const patch = createJsonPatch(before, after);
  return patch.length === 0 ? { allowed: true } : { allowed: true, patch };
}

/**
 * Encodes a handler result as the AdmissionReview to send back.
 *
 * @param uid The request uid to echo (empty when the request could not be decoded).
 * @param result What the handler decided.
 * @param apiVersion The request's AdmissionReview version (echoed), default `admission.k8s.io/v1`.
 * @returns The response review.
 */
export function encodeAdmissionReview(
  uid: string,
  result: AdmissionResult,
  apiVersion: string = ADMISSION_API_VERSION,
): AdmissionReview {
  const response: AdmissionResponse = { uid, allowed: result.allowed };
  if (result.allowed) {
    response.status = { metadata: {}, code: 200 };
    if (result.patch !== undefined && result.patch.length > 0) {
      response.patch = encodeBase64(JSON.stringify(result.patch));
      response.patchType = "JSONPatch";
    }
    if (result.warnings !== undefined && result.warnings.length > 0) response.warnings = result.warnings;
  } else {
    const status: Status = { metadata: {}, message: result.message, code: result.code };
    if (result.reason !== undefined) status.reason = result.reason;
    response.status = status;
  }
  return { apiVersion, kind: "AdmissionReview", response };
}

/**
 * Decodes the base64 patch of a response into its operations (for tests and diagnostics).
 *
 * @param response An AdmissionResponse.
 * @returns The JSON patch operations; empty when the response has no patch.
 */
export function decodePatch(response: AdmissionResponse): Record<string, unknown>[] {
  if (response.patch === undefined) return [];
  const bytes = Uint8Array.from(atob(response.patch), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}
