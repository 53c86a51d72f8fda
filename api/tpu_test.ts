import assert from "node:assert/strict";
import type { Container, PodSpec } from "kubernetes-types/core/v1.d.ts";
import { containerRequestsTpus, podRequestsTpus, tpuContainersOf } from "./tpu.ts";

type Resources = NonNullable<Container["resources"]>;

function container(name: string, resources?: Resources): Container {
  return { name, image: "busybox", ...(resources ? { resources } : {}) };
}

Deno.test("containerRequestsTpus() follows spec §9.5.1", async (t) => {
  const cases: { name: string; resources?: Resources; want: boolean }[] = [
    { name: "no resources", want: false },
    { name: "other resources only", resources: { limits: { cpu: "1" }, requests: { memory: "1Gi" } }, want: false },
    { name: "non-zero limit", resources: { limits: { "google.com/tpu": "4" } }, want: true },
    { name: "non-zero request, no limit", resources: { requests: { "google.com/tpu": "1" } }, want: true },
    { name: "zero limit", resources: { limits: { "google.com/tpu": "0" } }, want: false },
    {
      name: "zero limit wins over a non-zero request",
      resources: { limits: { "google.com/tpu": "0" }, requests: { "google.com/tpu": "4" } },
      want: false,
    },
    {
      name: "non-zero limit wins over a zero request",
      resources: { limits: { "google.com/tpu": "4" }, requests: { "google.com/tpu": "0" } },
      want: true,
    },
    { name: "zero in another unit (0Gi)", resources: { limits: { "google.com/tpu": "0Gi" } }, want: false },
    { name: "fractional non-zero (500m)", resources: { limits: { "google.com/tpu": "500m" } }, want: true },
    { name: "exponent form (4e0)", resources: { requests: { "google.com/tpu": "4e0" } }, want: true },
    { name: "spaces Go trims", resources: { limits: { "google.com/tpu": " 4 " } }, want: true },
    { name: "malformed counts as zero", resources: { limits: { "google.com/tpu": "four" } }, want: false },
    {
      name: "JSON number",
      resources: { limits: { "google.com/tpu": 4 as unknown as string } }, // the API accepts numbers too
      want: true,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => assert.equal(containerRequestsTpus(container("c", c.resources)), c.want));
  }
});

Deno.test("tpuContainersOf() lists requesting containers in order, then requesting init containers", () => {
  const tpu = { limits: { "google.com/tpu": "4" } };
  const spec: PodSpec = {
    containers: [container("a", tpu), container("b"), container("c", tpu)],
    initContainers: [container("i1"), container("i2", tpu)],
  };
  assert.deepEqual(tpuContainersOf(spec).map((c) => c.name), ["a", "c", "i2"]);
  assert.equal(tpuContainersOf(spec)[0], spec.containers[0]); // the objects themselves
  assert.deepEqual(tpuContainersOf(undefined), []);
});

Deno.test("podRequestsTpus() is true when any container or init container requests TPUs", async (t) => {
  const tpu = { requests: { "google.com/tpu": "1" } };
  const cases: { name: string; spec: PodSpec | undefined; want: boolean }[] = [
    { name: "no spec", spec: undefined, want: false },
    { name: "no TPU container", spec: { containers: [container("a"), container("b")] }, want: false },
    { name: "a regular container", spec: { containers: [container("a"), container("b", tpu)] }, want: true },
    {
      name: "only an init container",
      spec: { containers: [container("a")], initContainers: [container("i", tpu)] },
      want: true,
    },
  ];
  for (const c of cases) await t.step(c.name, () => assert.equal(podRequestsTpus(c.spec), c.want));
});
