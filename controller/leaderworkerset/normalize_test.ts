import assert from "node:assert/strict";
import { normalizeGo, normalizeLeaderWorkerTemplate, normalizeNetworkConfig } from "./normalize.ts";
import { GO_ROOTS, GO_STRUCTS, GO_TYPES_SOURCE } from "./go_types_gen.ts";

Deno.test("normalizeGo() emits non-pointer structs and non-omitempty fields, drops empty omitempty ones", () => {
  assert.deepEqual(
    normalizeGo({ spec: { containers: [{ name: "a", image: "", command: [] }] } }, "corev1.PodTemplateSpec"),
    {
      metadata: {},
      spec: { containers: [{ name: "a", resources: {} }] },
    },
  );
  assert.deepEqual(normalizeGo({}, "corev1.PodTemplateSpec"), { metadata: {}, spec: { containers: null } });
  assert.deepEqual(normalizeGo({ spec: { containers: [] } }, "corev1.PodTemplateSpec"), {
    metadata: {},
    spec: { containers: [] },
  });
});

Deno.test("normalizeGo() keeps pointer fields unless null", () => {
  const container = {
    name: "c",
    securityContext: { privileged: false },
    livenessProbe: { terminationGracePeriodSeconds: 0, tcpSocket: { port: 0 } },
    lifecycle: null,
  };
  assert.deepEqual(normalizeGo(container, "corev1.Container"), {
    name: "c",
    resources: {},
    securityContext: { privileged: false },
    livenessProbe: { terminationGracePeriodSeconds: 0, tcpSocket: { port: 0 } },
  });
});

Deno.test("normalizeGo() drops unknown fields and matches names case-sensitively", () => {
  assert.deepEqual(normalizeGo({ name: "c", Image: "x", unknown: 1 }, "corev1.Container"), {
    name: "c",
    resources: {},
  });
});

Deno.test("normalizeGo() re-renders quantities and defaults them to 0", () => {
  assert.deepEqual(
    normalizeGo({ requests: { cpu: "1000m", memory: 1024 }, limits: { cpu: 0.5 } }, "corev1.ResourceRequirements"),
    { requests: { cpu: "1", memory: "1024" }, limits: { cpu: "500m" } },
  );
  assert.deepEqual(normalizeGo({ resource: "limits.cpu" }, "corev1.ResourceFieldSelector"), {
    resource: "limits.cpu",
    divisor: "0",
  });
  assert.throws(
    () => normalizeGo({ requests: { cpu: "1 core" } }, "corev1.ResourceRequirements"),
    /\$\.requests\["cpu"\]/,
  );
});

Deno.test("normalizeGo() keeps IntOrString types and zero-fills absent ones", () => {
  assert.deepEqual(normalizeGo({ port: "http" }, "corev1.HTTPGetAction"), { port: "http" });
  assert.deepEqual(normalizeGo({ port: 80 }, "corev1.TCPSocketAction"), { port: 80 });
  assert.deepEqual(normalizeGo({}, "corev1.TCPSocketAction"), { port: 0 });
  assert.throws(() => normalizeGo({ port: 1.5 }, "corev1.TCPSocketAction"), /int32 or a string/);
});

Deno.test("normalizeGo() handles GRPCAction.service, a pointer without omitempty", () => {
  assert.deepEqual(normalizeGo({ port: 1 }, "corev1.GRPCAction"), { port: 1, service: null });
  assert.deepEqual(normalizeGo({ port: 1, service: "" }, "corev1.GRPCAction"), { port: 1, service: "" });
});

Deno.test("normalizeGo() drops a zero creationTimestamp (omitzero) and re-renders times in UTC", () => {
  assert.deepEqual(normalizeGo({ creationTimestamp: null, name: "x" }, "metav1.ObjectMeta"), { name: "x" });
  assert.deepEqual(normalizeGo({ creationTimestamp: "2026-01-02T03:04:05.678+02:00" }, "metav1.ObjectMeta"), {
    creationTimestamp: "2026-01-02T01:04:05Z",
  });
  assert.deepEqual(normalizeGo({ creationTimestamp: "0001-01-01T00:00:00Z" }, "metav1.ObjectMeta"), {});
  assert.deepEqual(normalizeGo({ type: "Resizing", status: "True" }, "corev1.PersistentVolumeClaimCondition"), {
    type: "Resizing",
    status: "True",
    lastProbeTime: null,
    lastTransitionTime: null,
  });
});

Deno.test("normalizeGo() flattens embedded structs (TypeMeta, VolumeSource)", () => {
  assert.deepEqual(normalizeGo({ apiVersion: "v1", kind: "PersistentVolumeClaim" }, "corev1.PersistentVolumeClaim"), {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {},
    spec: { resources: {} },
    status: {},
  });
  assert.deepEqual(normalizeGo({ name: "v", emptyDir: {} }, "corev1.Volume"), { name: "v", emptyDir: {} });
});

Deno.test("normalizeGo() throws where Go's decoder would, naming the path", () => {
  assert.throws(
    () => normalizeGo({ containers: [{ name: 1 }] }, "corev1.PodSpec"),
    /\$\.containers\[0\]\.name: expected a string, got 1/,
  );
  assert.throws(() => normalizeGo({ terminationGracePeriodSeconds: "30" }, "corev1.PodSpec"), /expected an integer/);
  assert.throws(() => normalizeGo({}, "corev1.NoSuchType"), /no Go type corev1\.NoSuchType/);
});

Deno.test("normalizeLeaderWorkerTemplate() and normalizeNetworkConfig() follow the LWS Go types", () => {
  assert.deepEqual(normalizeLeaderWorkerTemplate({ size: 0, subGroupPolicy: {}, restartPolicy: "" }), {
    workerTemplate: { metadata: {}, spec: { containers: null } },
    size: 0,
    subGroupPolicy: {},
  });
  assert.equal(normalizeNetworkConfig(undefined), null);
  assert.deepEqual(normalizeNetworkConfig({}), { subdomainPolicy: null });
});

Deno.test("go_types_gen.ts describes the roots from k8s.io/api v0.36", () => {
  assert.match(GO_TYPES_SOURCE.k8sApi, /^v0\.36\./);
  for (const root of Object.values(GO_ROOTS)) assert.ok(GO_STRUCTS[root], root);
  for (const [name, fields] of Object.entries(GO_STRUCTS)) {
    for (const f of fields) {
      const leaf = f.type.replace(/^(\*|\[\]|map\[string\])+/, "");
      const known = ["string", "bool", "int", "float", "quantity", "intOrString", "time", "rawJSON"].includes(leaf);
      assert.ok(known || GO_STRUCTS[leaf], `${name}.${f.json}: ${f.type}`);
    }
  }
});
