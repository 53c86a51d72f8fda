/**
 * Typed errors of the kube/ layer.
 *
 * - {@linkcode ApiError}: the API server answered with a non-2xx status. It carries the HTTP status, the
 *   `metav1.Status` body (synthesised when the body is not a Status) and the `reason`.
 * - {@linkcode TransportError}: no HTTP answer at all (DNS, TCP, TLS, a cut stream, an unreadable body).
 *
 * The predicates follow apimachinery's `k8s.io/apimachinery/pkg/api/errors`: a known `reason` decides; when the
 * server sent no (or an unknown) reason, the HTTP status code decides.
 *
 * @module
 */
import type { Status, StatusDetails } from "kubernetes-types/meta/v1.d.ts";

/** Status reasons the API server uses (`metav1.StatusReason`), as far as this code looks at them. */
export type StatusReason =
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Expired"
  | "Invalid"
  | "Forbidden"
  | "Unauthorized"
  | "TooManyRequests"
  | "BadRequest"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "RequestEntityTooLarge"
  | "UnsupportedMediaType"
  | "InternalError"
  | "ServerTimeout"
  | "Timeout"
  | "ServiceUnavailable"
  | "Unknown";

const KNOWN_REASONS: ReadonlySet<string> = new Set<StatusReason>([
  "NotFound",
  "AlreadyExists",
  "Conflict",
  "Gone",
  "Expired",
  "Invalid",
  "Forbidden",
  "Unauthorized",
  "TooManyRequests",
  "BadRequest",
  "MethodNotAllowed",
  "NotAcceptable",
  "RequestEntityTooLarge",
  "UnsupportedMediaType",
  "InternalError",
  "ServerTimeout",
  "Timeout",
  "ServiceUnavailable",
]);

/** What a request was, for error messages. */
export interface RequestDescription {
  /** HTTP method, e.g. `GET`. */
  method: string;
  /** Request URL (path and query; the server part may be included). */
  url: string;
}

/**
 * The API server answered with a non-2xx status.
 *
 * `message` is the Status message when there is one (that is what kubectl prints), otherwise a summary of the
 * response. `status` is the metav1.Status as received or synthesised from the HTTP status.
 */
export class ApiError extends Error {
  /** HTTP status code of the response (or `status.code` for a Status delivered in a watch ERROR event). */
  readonly code: number;
  /** `status.reason`, or `"Unknown"` when the server gave none. */
  readonly reason: string;
  /** `status.details` (name, group, kind, causes, retryAfterSeconds), when present. */
  readonly details: StatusDetails | undefined;
  /** The metav1.Status body (synthesised when the server sent something else). */
  readonly status: Status;
  /** Seconds to wait before retrying: the `Retry-After` header, else `status.details.retryAfterSeconds`. */
  readonly retryAfterSeconds: number | undefined;
  /** The request that failed, when known. */
  readonly request: RequestDescription | undefined;

  /**
   * @param status the metav1.Status (its `code` is used when `options.code` is absent)
   * @param options HTTP status code, Retry-After seconds and the request, when known
   */
  constructor(
    status: Status,
    options: { code?: number; retryAfterSeconds?: number; request?: RequestDescription } = {},
  ) {
    const code = options.code ?? status.code ?? 0;
    const reason = status.reason && status.reason !== "" ? status.reason : "Unknown";
    const message = status.message && status.message !== ""
      ? status.message
      : `${options.request ? `${options.request.method} ${options.request.url}: ` : ""}HTTP ${code} (${reason})`;
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.reason = reason;
    this.details = status.details;
    this.status = status;
    this.retryAfterSeconds = options.retryAfterSeconds ?? positiveOrUndefined(status.details?.retryAfterSeconds);
    this.request = options.request;
  }
}

/**
 * No HTTP answer: connection refused, TLS failure, a stream cut mid-response, an undecodable body.
 * `cause` holds the underlying error. Never thrown for an aborted request: those reject with the signal's reason.
 */
export class TransportError extends Error {
  /** The request that failed, when known. */
  readonly request: RequestDescription | undefined;

  /**
   * @param message what failed, in sentence case
   * @param options the underlying error and the request
   */
  constructor(message: string, options: { cause?: unknown; request?: RequestDescription } = {}) {
    super(message, { cause: options.cause });
    this.name = "TransportError";
    this.request = options.request;
  }
}

/**
 * Builds an {@linkcode ApiError} from a non-2xx response's status, headers and body text. A body that is a
 * metav1.Status is used as is; any other body becomes the message of a synthesised Status whose reason is derived
 * from the HTTP status code (like client-go's `newUnstructuredResponseError`).
 *
 * @param response status code and headers of the response
 * @param body the response body as text (may be empty)
 * @param request the request, for the message
 * @returns the error (never throws)
 */
export function apiErrorFromResponse(
  response: { status: number; headers: Headers },
  body: string,
  request?: RequestDescription,
): ApiError {
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  let status: Status | undefined;
  const trimmed = body.trim();
  if (trimmed.startsWith("{")) {
    try {
      const parsed = JSON.parse(trimmed) as { kind?: unknown };
      if (parsed && parsed.kind === "Status") status = parsed as Status;
    } catch {
      // Not JSON: fall through to a synthesised Status.
    }
  }
  if (!status) {
    const snippet = trimmed.length > 512 ? `${trimmed.slice(0, 512)}…` : trimmed;
    const reason = reasonForCode(response.status);
    status = {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      code: response.status,
      reason,
      message: `${request ? `${request.method} ${request.url}: ` : ""}HTTP ${response.status}${
        snippet ? `: ${snippet}` : ""
      }`,
    };
  }
  return new ApiError(status, { code: response.status, retryAfterSeconds: retryAfter, request });
}

/**
 * Builds an {@linkcode ApiError} from a metav1.Status received in a watch `ERROR` event.
 *
 * @param status the Status object of the event
 * @returns the error; its `code` is `status.code` (e.g. 410 with reason `Expired` for a too-old resourceVersion)
 */
export function apiErrorFromStatus(status: Status): ApiError {
  return new ApiError(status);
}

/** The `reason` the API server would give for a bare HTTP status code (apimachinery's `reasonForCode`). */
export function reasonForCode(code: number): StatusReason {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "ServerTimeout";
    default:
      return "Unknown";
  }
}

function positiveOrUndefined(n: number | undefined): number | undefined {
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Parses a `Retry-After` header given in seconds (the API server never sends an HTTP date). */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const n = Number.parseInt(value.trim(), 10);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The error's reason when it is known, otherwise `undefined` so that the code decides. */
function knownReason(err: ApiError): string | undefined {
  return KNOWN_REASONS.has(err.reason) ? err.reason : undefined;
}

function matches(err: unknown, reason: StatusReason, code: number): boolean {
  if (!(err instanceof ApiError)) return false;
  const known = knownReason(err);
  return known !== undefined ? known === reason : err.code === code;
}

/** `true` for a 404 / reason `NotFound`. */
export function isNotFound(err: unknown): err is ApiError {
  return matches(err, "NotFound", 404);
}

/** `true` for reason `AlreadyExists` (a 409 on create). */
export function isAlreadyExists(err: unknown): err is ApiError {
  return err instanceof ApiError && err.reason === "AlreadyExists";
}

/**
 * `true` for reason `Conflict`: an optimistic-concurrency failure (stale resourceVersion, failed delete
 * precondition, server-side apply field conflict), or a bare 409.
 */
export function isConflict(err: unknown): err is ApiError {
  return matches(err, "Conflict", 409);
}

/**
 * `true` when the requested resourceVersion is too old: reason `Gone` or `Expired`, or HTTP 410 (a watch ERROR
 * event carries `{code: 410, reason: "Expired"}`). The watcher relists on this.
 */
export function isGone(err: unknown): err is ApiError {
  if (!(err instanceof ApiError)) return false;
  if (err.reason === "Gone" || err.reason === "Expired") return true;
  return knownReason(err) === undefined && err.code === 410;
}

/** `true` for a 403 / reason `Forbidden` (RBAC denial, or an admission webhook's denial). */
export function isForbidden(err: unknown): err is ApiError {
  return matches(err, "Forbidden", 403);
}

/** `true` for a 401 / reason `Unauthorized`. */
export function isUnauthorized(err: unknown): err is ApiError {
  return matches(err, "Unauthorized", 401);
}

/**
 * `true` for a 429 / reason `TooManyRequests` (API priority and fairness, eviction budget). Wait
 * {@linkcode retryAfterSeconds} before retrying.
 */
export function isTooManyRequests(err: unknown): err is ApiError {
  return matches(err, "TooManyRequests", 429);
}

/** `true` for a 422 / reason `Invalid`: validation failed; `details.causes` lists the fields. */
export function isInvalid(err: unknown): err is ApiError {
  return matches(err, "Invalid", 422);
}

/**
 * Seconds the server asked to wait before a retry (the `Retry-After` header, else
 * `status.details.retryAfterSeconds`), or `undefined`.
 */
export function retryAfterSeconds(err: unknown): number | undefined {
  return err instanceof ApiError ? err.retryAfterSeconds : undefined;
}
