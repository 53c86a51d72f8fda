import assert from "node:assert/strict";
import type { Container } from "kubernetes-types/core/v1.d.ts";
import {
  addTimes,
  isSupportedPodLevelResource,
  podRequests,
  type PodSpecWithResources as PodSpec,
  toResourceList,
} from "./pod_requests.ts";

const c = (name: string, requests?: Record<string, string>, extra: Partial<Container> = {}): Container => ({
  name,
  ...(requests ? { resources: { requests } } : {}),
  ...extra,
});
const sidecar = (name: string, requests: Record<string, string>): Container =>
  c(name, requests, { restartPolicy: "Always" });

Deno.test("podRequests() follows Kubernetes' effective pod request rule", async (t) => {
  const cases: [string, PodSpec, Record<string, string>][] = [
    ["no containers", { containers: [] }, {}],
    ["no requests, limits only (a TPU limit counts nothing)", {
      containers: [{ name: "a", resources: { limits: { "google.com/tpu": "4", cpu: "2" } } }],
    }, {}],
    ["regular containers are summed, quantities exactly", {
      containers: [c("a", { cpu: "100m", memory: "1Gi" }), c("b", { cpu: "0.2", memory: "512Mi" }), c("d")],
    }, { cpu: "300m", memory: "1536Mi" }],
    ["sums that a float would get wrong stay exact", {
      containers: [c("a", { cpu: "0.1" }), c("b", { cpu: "0.2" }), c("d", { memory: "1n" }), c("e", { memory: "1" })],
    }, { cpu: "300m", memory: "1000000001n" }],
    ["a big init container wins over the sum", {
      initContainers: [c("init", { cpu: "4", memory: "100Mi" })],
      containers: [c("a", { cpu: "1", memory: "1Gi" }), c("b", { cpu: "1" })],
    }, { cpu: "4", memory: "1Gi" }],
    ["init containers take the maximum, not the sum", {
      initContainers: [c("i1", { cpu: "3" }), c("i2", { cpu: "2", memory: "2Gi" })],
      containers: [c("a", { cpu: "1", memory: "1Gi" })],
    }, { cpu: "3", memory: "2Gi" }],
    ["a sidecar adds to the containers and to the init containers after it", {
      initContainers: [
        c("before", { cpu: "2" }),
        sidecar("proxy", { cpu: "500m", memory: "64Mi" }),
        c("after", {
          cpu: "2",
        }),
      ],
      containers: [c("a", { cpu: "1", memory: "1Gi" })],
    }, { cpu: "2500m", memory: "1088Mi" }],
    ["sidecars only: summed with the containers", {
      initContainers: [sidecar("s1", { cpu: "1" }), sidecar("s2", { cpu: "1", "example.com/x": "1" })],
      containers: [c("a", { cpu: "1" })],
    }, { cpu: "3", "example.com/x": "1" }],
    ["restartPolicy other than Always is a plain init container", {
      initContainers: [c("i", { cpu: "5" }, { restartPolicy: "Never" as Container["restartPolicy"] })],
      containers: [c("a", { cpu: "1" })],
    }, { cpu: "5" }],
    ["pod-level requests replace cpu and memory only, other resources stay", {
      resources: { requests: { cpu: "8", memory: "16Gi" } },
      containers: [c("a", { cpu: "1", memory: "1Gi", "google.com/tpu": "4" })],
    }, { cpu: "8", memory: "16Gi", "google.com/tpu": "4" }],
    ["pod-level requests: only the named supported resource is replaced", {
      resources: { requests: { memory: "4Gi" } },
      containers: [c("a", { cpu: "1", memory: "1Gi" })],
    }, { cpu: "1", memory: "4Gi" }],
    ["pod-level hugepages are supported", {
      resources: { requests: { "hugepages-2Mi": "1Gi" } },
      containers: [c("a", { cpu: "1" })],
    }, { cpu: "1", "hugepages-2Mi": "1Gi" }],
    ["pod-level requests naming only unsupported resources are ignored", {
      resources: { requests: { "example.com/x": "9" } },
      containers: [c("a", { cpu: "1" })],
    }, { cpu: "1" }],
    ["pod-level limits alone change nothing", {
      resources: { limits: { cpu: "8" } },
      containers: [c("a", { cpu: "1" })],
    }, { cpu: "1" }],
    ["overhead is added last, after pod-level resources", {
      resources: { requests: { cpu: "2" } },
      overhead: { cpu: "250m", memory: "120Mi" },
      containers: [c("a", { cpu: "1", memory: "1Gi" })],
    }, { cpu: "2250m", memory: "1144Mi" }],
    ["everything together", {
      initContainers: [c("setup", { cpu: "3", memory: "3Gi" }), sidecar("log", { cpu: "100m", memory: "100Mi" })],
      containers: [c("a", { cpu: "1", memory: "1Gi" })],
      overhead: { cpu: "100m" },
    }, { cpu: "3100m", memory: "3Gi" }],
  ];
  for (const [name, spec, want] of cases) {
    await t.step(name, () => assert.deepEqual(toResourceList(podRequests(spec)), want));
  }
});

Deno.test("podRequests() of nothing is empty and it rejects a non-quantity", () => {
  assert.deepEqual(toResourceList(podRequests(undefined)), {});
  assert.throws(() => podRequests({ containers: [c("a", { cpu: "lots" })] }), /quantity/);
});

Deno.test("addTimes() adds the worker term n times exactly", async (t) => {
  const leader = podRequests({ containers: [c("l", { cpu: "500m", memory: "1Gi" })] });
  const worker = podRequests({ containers: [c("w", { cpu: "1.5", "google.com/tpu": "4" })] });
  await t.step("n = 0 is the leader alone", () => {
    assert.deepEqual(toResourceList(addTimes(leader, worker, 0)), { cpu: "500m", memory: "1Gi" });
  });
  await t.step("n = 3", () => {
    assert.deepEqual(toResourceList(addTimes(leader, worker, 3)), {
      cpu: "5",
      "google.com/tpu": "12",
      memory: "1Gi",
    });
  });
  await t.step("n large, no rounding", () => {
    const tiny = podRequests({ containers: [c("w", { cpu: "1m" })] });
    assert.deepEqual(toResourceList(addTimes(new Map(), tiny, 1_000_001)), { cpu: "1000001m" });
  });
});

Deno.test("isSupportedPodLevelResource() is cpu, memory and hugepages-*", () => {
  assert.deepEqual(
    ["cpu", "memory", "hugepages-1Gi", "ephemeral-storage", "google.com/tpu"].map(isSupportedPodLevelResource),
    [true, true, true, false, false],
  );
});
