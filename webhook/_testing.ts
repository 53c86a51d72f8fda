/**
 * Test helpers of the webhook package: send an AdmissionReview through the app with `app.request()` and apply the
 * returned patch like the API server does. Test-only.
 *
 * @module
 */
import type { Hono } from "hono";
import { type AdmissionRequest, type AdmissionResponse, type AdmissionReview, decodePatch } from "./admission.ts";
import { applyJsonPatch } from "./json_patch.ts";

let counter = 0;

/** What {@linkcode admit} returns. */
export interface AdmitResult {
  /** HTTP status. */
  status: number;
  /** The AdmissionResponse. */
  response: AdmissionResponse;
  /** The object after applying the patch (the request object itself when there is no patch). */
  object: unknown;
  /** The decoded patch operations. */
  patch: Record<string, unknown>[];
}

/**
 * Builds an AdmissionReview request body.
 *
 * @param request Request fields; `uid` defaults to a fresh value.
 * @returns The JSON body.
 */
export function reviewBody(request: Partial<AdmissionRequest> & Pick<AdmissionRequest, "operation">): string {
  const review: AdmissionReview = {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: { uid: `uid-${++counter}`, ...request },
  };
  return JSON.stringify(review);
}

/**
 * Posts an AdmissionReview to `path` and decodes the answer; checks the uid echo.
 *
 * @param app The webhook app.
 * @param path The webhook path.
 * @param request Request fields (operation, object, oldObject, namespace, ...).
 * @returns Status, response, patched object and patch.
 * @throws {Error} When the response is not an AdmissionReview echoing the uid.
 */
export async function admit(
  app: Hono,
  path: string,
  request: Partial<AdmissionRequest> & Pick<AdmissionRequest, "operation">,
): Promise<AdmitResult> {
  const body = reviewBody(request);
  const uid = JSON.parse(body).request.uid;
  const res = await app.request(path, { method: "POST", body, headers: { "content-type": "application/json" } });
  const review = await res.json() as AdmissionReview;
  if (review.kind !== "AdmissionReview" || review.response === undefined) {
    throw new Error(`Not an AdmissionReview: ${JSON.stringify(review)}`);
  }
  if (review.response.uid !== uid) throw new Error(`uid not echoed: ${review.response.uid} != ${uid}`);
  const patch = decodePatch(review.response);
  if (review.response.patch !== undefined && review.response.patchType !== "JSONPatch") {
    throw new Error(`patch without patchType JSONPatch: ${JSON.stringify(review.response)}`);
  }
  return { status: res.status, response: review.response, object: applyJsonPatch(request.object, patch), patch };
}
