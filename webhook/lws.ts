/**
 * The LeaderWorkerSet admission webhooks: defaulting (spec §3, `mleaderworkerset.kb.io`) and validation (spec §4,
 * `vleaderworkerset.kb.io`). Thin wrappers around `api/defaults.ts` and `api/validation.ts`, pure functions of the
 * AdmissionRequest.
 *
 * @module
 */
import type { LeaderWorkerSet } from "../api/types.ts";
import { defaultLeaderWorkerSet } from "../api/defaults.ts";
import { aggregateErrors, validateLeaderWorkerSetCreate, validateLeaderWorkerSetUpdate } from "../api/validation.ts";
import { type AdmissionHandler, allowed, denied, errored, patched } from "./admission.ts";

/**
 * The LWS mutating webhook: on CREATE and UPDATE applies {@linkcode defaultLeaderWorkerSet} and answers with the
 * JSON patch (no patch when nothing changed); other operations are admitted untouched.
 *
 * @returns The handler.
 */
export function createLwsMutatingHandler(): AdmissionHandler {
  return (request) => {
    if (request.operation !== "CREATE" && request.operation !== "UPDATE") return allowed();
    if (request.object === undefined || request.object === null) {
      return errored(400, "there is no content to decode");
    }
    const { lws, changed } = defaultLeaderWorkerSet(request.object as LeaderWorkerSet);
    return changed ? patched(request.object, lws) : allowed();
  };
}

/**
 * The LWS validating webhook: CREATE runs rules V1–V20, UPDATE additionally U1–U4 against the old object; DELETE
 * (and CONNECT) are not validated. Every field error is returned in one 403 denial, rendered by `aggregateErrors`.
 *
 * @returns The handler.
 */
export function createLwsValidatingHandler(): AdmissionHandler {
  return (request) => {
    let errors;
    if (request.operation === "CREATE") {
      errors = validateLeaderWorkerSetCreate(request.object);
    } else if (request.operation === "UPDATE") {
      errors = validateLeaderWorkerSetUpdate(request.oldObject, request.object);
    } else {
      return allowed();
    }
    return errors.length === 0 ? allowed() : denied(aggregateErrors(errors));
  };
}
