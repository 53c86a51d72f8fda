import assert from "node:assert/strict";
import {
  ApiError,
  apiErrorFromResponse,
  apiErrorFromStatus,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  isTooManyRequests,
  retryAfterSeconds,
  TransportError,
} from "./errors.ts";

const status = (code: number, reason: string, message = `msg ${reason}`, details?: object) =>
  JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message, details });

const response = (code: number, headers: Record<string, string> = {}) => ({
  status: code,
  headers: new Headers(headers),
});

Deno.test("apiErrorFromResponse() maps Status bodies to typed predicates", async (t) => {
  const cases: [string, number, string, (e: unknown) => boolean][] = [
    ["NotFound", 404, "NotFound", isNotFound],
    ["AlreadyExists", 409, "AlreadyExists", isAlreadyExists],
    ["Conflict", 409, "Conflict", isConflict],
    ["Gone", 410, "Gone", isGone],
    ["Expired", 410, "Expired", isGone],
    ["Forbidden", 403, "Forbidden", isForbidden],
    ["TooManyRequests", 429, "TooManyRequests", isTooManyRequests],
    ["Invalid", 422, "Invalid", isInvalid],
  ];
  const all = [isNotFound, isAlreadyExists, isConflict, isGone, isForbidden, isTooManyRequests, isInvalid];
  for (const [label, code, reason, predicate] of cases) {
    await t.step(label, () => {
      const err = apiErrorFromResponse(response(code), status(code, reason), { method: "GET", url: "/x" });
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, code);
      assert.equal(err.reason, reason);
      assert.equal(err.message, `msg ${reason}`);
      assert.equal(err.status.code, code);
      assert.ok(predicate(err), `${label} predicate`);
      for (const other of all) {
        if (other !== predicate) assert.equal(other(err), false, `${other.name} must be false for ${label}`);
      }
    });
  }
});

Deno.test("apiErrorFromResponse() keeps AlreadyExists apart from Conflict on a 409", () => {
  const exists = apiErrorFromResponse(response(409), status(409, "AlreadyExists"));
  const conflict = apiErrorFromResponse(response(409), status(409, "Conflict"));
  assert.ok(isAlreadyExists(exists) && !isConflict(exists));
  assert.ok(isConflict(conflict) && !isAlreadyExists(conflict));
});

Deno.test("apiErrorFromResponse() synthesises a Status from a non-Status body, reason from the code", () => {
  const err = apiErrorFromResponse(response(404), "404 page not found\n", { method: "GET", url: "/apis/x" });
  assert.equal(err.reason, "NotFound");
  assert.ok(isNotFound(err));
  assert.match(err.message, /GET \/apis\/x: HTTP 404: 404 page not found/);
  const empty = apiErrorFromResponse(response(503), "");
  assert.equal(empty.reason, "ServiceUnavailable");
  assert.equal(empty.status.kind, "Status");
});

Deno.test("apiErrorFromResponse() decides by code when the Status has no reason", () => {
  const err = apiErrorFromResponse(response(409), JSON.stringify({ kind: "Status", code: 409, message: "x" }));
  assert.equal(err.reason, "Unknown");
  assert.ok(isConflict(err));
  assert.ok(!isAlreadyExists(err));
});

Deno.test("apiErrorFromResponse() carries details and Retry-After", async (t) => {
  await t.step("from the header", () => {
    const err = apiErrorFromResponse(
      response(429, { "Retry-After": "3" }),
      status(429, "TooManyRequests", "slow down", { retryAfterSeconds: 1 }),
    );
    assert.ok(isTooManyRequests(err));
    assert.equal(err.retryAfterSeconds, 3);
    assert.equal(retryAfterSeconds(err), 3);
  });
  await t.step("from status details", () => {
    const err = apiErrorFromResponse(response(429), status(429, "TooManyRequests", "slow", { retryAfterSeconds: 2 }));
    assert.equal(retryAfterSeconds(err), 2);
  });
  await t.step("absent", () => {
    assert.equal(retryAfterSeconds(apiErrorFromResponse(response(429), "")), undefined);
    assert.equal(retryAfterSeconds(new Error("x")), undefined);
  });
  await t.step("field causes", () => {
    const err = apiErrorFromResponse(
      response(422),
      status(422, "Invalid", "bad", { kind: "Pod", name: "p", causes: [{ field: "spec.containers", reason: "x" }] }),
    );
    assert.equal(err.details?.causes?.[0]?.field, "spec.containers");
    assert.equal(err.details?.name, "p");
  });
});

Deno.test("apiErrorFromStatus() turns a watch ERROR event into a Gone error", () => {
  const err = apiErrorFromStatus({ kind: "Status", code: 410, reason: "Expired", message: "too old resource version" });
  assert.equal(err.code, 410);
  assert.ok(isGone(err));
  assert.equal(err.message, "too old resource version");
});

Deno.test("isNotFound() and friends are false for transport errors and plain errors", () => {
  const transport = new TransportError("connection refused", { cause: new Error("ECONNREFUSED") });
  for (const predicate of [isNotFound, isConflict, isGone, isForbidden, isInvalid, isTooManyRequests]) {
    assert.equal(predicate(transport), false);
    assert.equal(predicate(new Error("x")), false);
    assert.equal(predicate(undefined), false);
  }
  assert.equal(transport.name, "TransportError");
  assert.ok(!(transport instanceof ApiError));
});
