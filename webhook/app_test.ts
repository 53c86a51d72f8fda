import assert from "node:assert/strict";
import { WEBHOOK_PATH_MUTATE_POD, WEBHOOK_PATH_VALIDATE_LWS, WEBHOOK_PATH_VALIDATE_POD } from "../api/constants.ts";
import { ManualClock } from "../kube/clock.ts";
import { type AdmissionReview, decodeAdmissionReview, encodeAdmissionReview } from "./admission.ts";
import { createWebhookApp, WEBHOOK_PATHS } from "./app.ts";
import { createWebhookMetricsRecorder } from "./metrics.ts";
import { admit, reviewBody } from "./_testing.ts";

const JSON_HEADERS = { "content-type": "application/json" };

async function post(app: ReturnType<typeof createWebhookApp>, path: string, init: RequestInit) {
  const res = await app.request(path, { method: "POST", headers: JSON_HEADERS, ...init });
  return { status: res.status, review: await res.json() as AdmissionReview };
}

Deno.test("createWebhookApp() refuses requests that are not admission reviews", async (t) => {
  const app = createWebhookApp({ maxBodyBytes: 1024 });
  const cases: { name: string; init: RequestInit; status: number; message: RegExp }[] = [
    { name: "empty body", init: { body: "" }, status: 400, message: /request body is empty/ },
    { name: "not JSON", init: { body: "{" }, status: 400, message: /Cannot decode AdmissionReview/ },
    { name: "JSON array", init: { body: "[]" }, status: 400, message: /must be a JSON object/ },
    {
      name: "wrong kind",
      init: { body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "Pod" }) },
      status: 400,
      message: /expected kind AdmissionReview/,
    },
    {
      name: "unsupported version",
      init: { body: JSON.stringify({ apiVersion: "admission.k8s.io/v2", kind: "AdmissionReview", request: {} }) },
      status: 400,
      message: /unsupported apiVersion/,
    },
    {
      name: "no request",
      init: { body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }) },
      status: 400,
      message: /request is missing/,
    },
    {
      name: "no uid",
      init: {
        body: JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {} }),
      },
      status: 400,
      message: /uid must be a non-empty string/,
    },
    {
      name: "unknown operation",
      init: {
        body: JSON.stringify({
          apiVersion: "admission.k8s.io/v1",
          kind: "AdmissionReview",
          request: { uid: "u", operation: "PATCH" },
        }),
      },
      status: 400,
      message: /request.operation must be one of/,
    },
    {
      name: "wrong content type",
      init: { body: reviewBody({ operation: "CREATE" }), headers: { "content-type": "text/plain" } },
      status: 400,
      message: /contentType=text\/plain, expected application\/json/,
    },
    {
      name: "declared body over the limit",
      init: { body: "x".repeat(2000) },
      status: 413,
      message: /request entity is too large; limit is 1024 bytes/,
    },
    {
      name: "streamed body over the limit",
      init: {
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < 3; i++) controller.enqueue(new TextEncoder().encode("x".repeat(500)));
            controller.close();
          },
        }),
      },
      status: 413,
      message: /request entity is too large/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const { status, review } = await post(app, WEBHOOK_PATH_MUTATE_POD, c.init);
      assert.equal(status, c.status);
      assert.equal(review.kind, "AdmissionReview");
      assert.equal(review.response?.allowed, false);
      assert.equal(review.response?.status?.code, c.status);
      assert.match(review.response?.status?.message ?? "", c.message);
    });
  }
  await t.step("GET is not allowed", async () => {
    const res = await app.request(WEBHOOK_PATH_MUTATE_POD);
    assert.equal(res.status, 405);
    await res.body?.cancel();
  });
  await t.step("unknown path is 404", async () => {
    const res = await app.request("/mutate-nothing", { method: "POST" });
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
  await t.step("a body within the limit is served", async () => {
    const result = await admit(app, WEBHOOK_PATH_VALIDATE_POD, { operation: "CREATE", object: {} });
    assert.equal(result.status, 200);
    assert.equal(result.response.allowed, true);
  });
});

Deno.test("createWebhookApp() answers 408 when the body does not arrive in time", async () => {
  const clock = new ManualClock(0);
  const app = createWebhookApp({ clock, bodyTimeoutMs: 5000 });
  let cancelled = false;
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("{"));
    },
    cancel() {
      cancelled = true;
    },
  });
  const pending = post(app, WEBHOOK_PATH_MUTATE_POD, { body });
  await new Promise((resolve) => setTimeout(resolve, 0));
  await clock.advance(5000);
  const { status, review } = await pending;
  assert.equal(status, 408);
  assert.equal(review.response?.status?.code, 408);
  assert.ok(cancelled);
});

Deno.test("createWebhookApp() echoes uid and version and turns a throwing handler into a 500 refusal", async () => {
  const app = createWebhookApp({
    handlers: {
      [WEBHOOK_PATH_VALIDATE_LWS]: () => {
        throw new Error("boom");
      },
    },
  });
  const body = JSON.stringify({
    apiVersion: "admission.k8s.io/v1beta1",
    kind: "AdmissionReview",
    request: { uid: "abc-123", operation: "CREATE", object: {} },
  });
  const { status, review } = await post(app, WEBHOOK_PATH_VALIDATE_LWS, { body });
  assert.equal(status, 200);
  assert.deepEqual(review, {
    apiVersion: "admission.k8s.io/v1beta1",
    kind: "AdmissionReview",
    response: {
      uid: "abc-123",
      allowed: false,
      status: { metadata: {}, code: 500, message: "panic: boom [recovered]" },
    },
  });
});

Deno.test("createWebhookApp() reports requests by path and code, in-flight and latency", async () => {
  const metrics = createWebhookMetricsRecorder();
  const app = createWebhookApp({ metrics });
  const before = metrics.snapshot();
  for (const path of WEBHOOK_PATHS) {
    assert.equal(before.requests[`${path} 200`], 0);
    assert.equal(before.requests[`${path} 500`], 0);
  }
  await admit(app, WEBHOOK_PATH_MUTATE_POD, { operation: "CREATE", object: { metadata: {} } });
  await admit(app, WEBHOOK_PATH_MUTATE_POD, { operation: "DELETE" });
  await post(app, WEBHOOK_PATH_MUTATE_POD, { body: "nope" });
  const after = metrics.snapshot();
  assert.equal(after.requests[`${WEBHOOK_PATH_MUTATE_POD} 200`], 2);
  assert.equal(after.requests[`${WEBHOOK_PATH_MUTATE_POD} 400`], 1);
  assert.equal(after.inFlight[WEBHOOK_PATH_MUTATE_POD], 0);
  assert.equal(after.latencies[WEBHOOK_PATH_MUTATE_POD]?.length, 3);
  assert.ok(after.latencies[WEBHOOK_PATH_MUTATE_POD]!.every((s) => s >= 0 && s < 5));
});

Deno.test("createWebhookApp() survives metrics hooks that throw", async () => {
  const app = createWebhookApp({
    metrics: {
      registerPath() {
        throw new Error("x");
      },
      requestStarted() {
        throw new Error("x");
      },
      requestFinished() {
        throw new Error("x");
      },
    },
  });
  const result = await admit(app, WEBHOOK_PATH_VALIDATE_POD, { operation: "CREATE", object: {} });
  assert.equal(result.response.allowed, true);
});

Deno.test("encodeAdmissionReview() follows controller-runtime's response shapes", async (t) => {
  await t.step("allowed without patch", () => {
    assert.deepEqual(encodeAdmissionReview("u", { allowed: true }).response, {
      uid: "u",
      allowed: true,
      status: { metadata: {}, code: 200 },
    });
  });
  await t.step("patch is base64 JSON with patchType JSONPatch", () => {
    const response = encodeAdmissionReview("u", {
      allowed: true,
      patch: [{ op: "add", path: "/metadata/labels/ü", value: "✓" }],
    }).response!;
    assert.equal(response.patchType, "JSONPatch");
    const decoded = new TextDecoder().decode(Uint8Array.from(atob(response.patch!), (c) => c.charCodeAt(0)));
    assert.deepEqual(JSON.parse(decoded), [{ op: "add", path: "/metadata/labels/ü", value: "✓" }]);
  });
  await t.step("empty patch is no patch", () => {
    assert.equal(encodeAdmissionReview("u", { allowed: true, patch: [] }).response!.patchType, undefined);
  });
  await t.step("decodeAdmissionReview() accepts a minimal review", () => {
    const decoded = decodeAdmissionReview(reviewBody({ operation: "CONNECT" }));
    assert.ok("review" in decoded);
  });
});
