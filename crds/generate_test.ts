import assert from "node:assert/strict";
import { parse } from "yaml";
import { buildLeaderWorkerSetCrd, HEADER, PRINTER_COLUMNS, renderCrd } from "./generate.ts";
import {
  INT_OR_STRING,
  OBJECT_META,
  type OpenApiDocument,
  type OpenApiSchema,
  PERSISTENT_VOLUME_CLAIM,
  POD_TEMPLATE_SPEC,
  QUANTITY,
  QUANTITY_PATTERN,
  type StructuralSchema,
  structuralSchema,
  structuralViolations,
} from "./structural.ts";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const wrapped = (name: string, extra: OpenApiSchema = {}) => ({ allOf: [ref(name)], ...extra });

/** A miniature of the API server's /openapi/v3/api/v1 document, shaped like the real one. */
function miniDocument(): OpenApiDocument {
  return {
    components: {
      schemas: {
        [QUANTITY]: { description: "Quantity is ...", oneOf: [{ type: "string" }, { type: "number" }] },
        [INT_OR_STRING]: {
          description: "IntOrString is ...",
          format: "int-or-string",
          oneOf: [{ type: "integer" }, { type: "string" }],
        },
        [OBJECT_META]: {
          type: "object",
          properties: {
            annotations: { type: "object", additionalProperties: { type: "string", default: "" } },
            finalizers: {
              type: "array",
              items: { type: "string", default: "" },
              "x-kubernetes-list-type": "set",
              "x-kubernetes-patch-strategy": "merge",
            },
            labels: { type: "object", additionalProperties: { type: "string", default: "" } },
            name: { type: "string" },
            namespace: { type: "string" },
            generateName: { type: "string" },
            ownerReferences: { type: "array", items: ref("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference") },
            uid: { type: "string" },
          },
        },
        "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference": {
          type: "object",
          properties: { uid: { type: "string", default: "" } },
          required: ["uid"],
        },
        [POD_TEMPLATE_SPEC]: {
          description: "PodTemplateSpec describes ...",
          type: "object",
          properties: {
            metadata: wrapped(OBJECT_META, { default: {}, description: "Standard object's metadata." }),
            spec: wrapped("io.k8s.api.core.v1.PodSpec", { default: {} }),
          },
        },
        "io.k8s.api.core.v1.PodSpec": {
          type: "object",
          properties: {
            containers: {
              type: "array",
              items: ref("io.k8s.api.core.v1.Container"),
              "x-kubernetes-list-map-keys": ["name"],
              "x-kubernetes-list-type": "map",
              "x-kubernetes-patch-merge-key": "name",
              "x-kubernetes-patch-strategy": "merge",
            },
            nodeSelector: {
              type: "object",
              additionalProperties: { type: "string", default: "" },
              "x-kubernetes-map-type": "atomic",
            },
            overhead: { type: "object", additionalProperties: ref(QUANTITY) },
            imagePullSecrets: { type: "array", items: wrapped("io.k8s.api.core.v1.LocalObjectReference", {}) },
          },
          required: ["containers"],
        },
        "io.k8s.api.core.v1.LocalObjectReference": {
          type: "object",
          properties: { name: { type: "string", default: "", description: "Name of the referent." } },
          "x-kubernetes-map-type": "atomic",
        },
        "io.k8s.api.core.v1.Container": {
          type: "object",
          properties: {
            name: { type: "string", default: "" },
            image: { type: "string" },
            ports: {
              type: "array",
              items: ref("io.k8s.api.core.v1.ContainerPort"),
              "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
              "x-kubernetes-list-type": "map",
            },
            resources: wrapped("io.k8s.api.core.v1.ResourceRequirements", { default: {} }),
            readinessProbe: ref("io.k8s.api.core.v1.Probe"),
          },
          required: ["name"],
        },
        "io.k8s.api.core.v1.ContainerPort": {
          type: "object",
          properties: {
            containerPort: { type: "integer", format: "int32", default: 0 },
            protocol: { type: "string", default: "TCP", enum: ["SCTP", "TCP", "UDP"] },
          },
          required: ["containerPort"],
        },
        "io.k8s.api.core.v1.ResourceRequirements": {
          type: "object",
          properties: {
            limits: { type: "object", additionalProperties: wrapped(QUANTITY, { default: {} }) },
            requests: { type: "object", additionalProperties: ref(QUANTITY) },
          },
        },
        "io.k8s.api.core.v1.Probe": {
          type: "object",
          properties: {
            httpGet: ref("io.k8s.api.core.v1.HTTPGetAction"),
            grpc: ref("io.k8s.api.core.v1.GRPCAction"),
          },
        },
        "io.k8s.api.core.v1.HTTPGetAction": {
          type: "object",
          properties: { port: wrapped(INT_OR_STRING, { description: "Name or number of the port." }) },
          required: ["port"],
        },
        "io.k8s.api.core.v1.GRPCAction": {
          type: "object",
          properties: {
            port: { type: "integer", format: "int32", default: 0 },
            service: { type: "string", default: "" },
          },
          required: ["port"],
        },
        [PERSISTENT_VOLUME_CLAIM]: {
          type: "object",
          properties: {
            apiVersion: { type: "string" },
            kind: { type: "string" },
            metadata: wrapped(OBJECT_META, { default: {} }),
            spec: wrapped("io.k8s.api.core.v1.PersistentVolumeClaimSpec", { default: {} }),
          },
          "x-kubernetes-group-version-kind": [{ group: "", kind: "PersistentVolumeClaim", version: "v1" }],
        },
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec": {
          type: "object",
          properties: {
            accessModes: { type: "array", items: { type: "string", default: "" }, "x-kubernetes-list-type": "atomic" },
            resources: wrapped("io.k8s.api.core.v1.ResourceRequirements", { default: {} }),
          },
        },
      },
    },
  };
}

/** Follows `properties` by name; `[]` steps into `items`, `{}` into `additionalProperties`. */
function at(schema: StructuralSchema, path: string): StructuralSchema {
  let node: StructuralSchema | undefined = schema;
  for (const step of path.split(".")) {
    if (step === "[]") node = node?.items;
    else if (step === "{}") node = node?.additionalProperties as StructuralSchema | undefined;
    else node = node?.properties?.[step];
    assert.ok(node, `no schema at ${path} (step ${step})`);
  }
  return node;
}

Deno.test("structuralSchema() inlines $ref and allOf references", () => {
  const pod = structuralSchema(miniDocument(), POD_TEMPLATE_SPEC);
  assert.deepEqual(structuralViolations(pod), []);
  assert.equal(at(pod, "spec").type, "object");
  assert.deepEqual(at(pod, "spec").required, ["containers"]);
  assert.equal(at(pod, "spec.containers.[].image").type, "string");
  assert.equal(at(pod, "spec.containers.[].readinessProbe.httpGet").type, "object");
  assert.ok(!JSON.stringify(pod).includes("$ref"));
  assert.ok(!JSON.stringify(pod).includes("allOf"));
});

Deno.test("structuralSchema() maps Quantity and IntOrString to int-or-string", async (t) => {
  const pod = structuralSchema(miniDocument(), POD_TEMPLATE_SPEC);
  const quantity = {
    anyOf: [{ type: "integer" }, { type: "string" }],
    pattern: QUANTITY_PATTERN,
    "x-kubernetes-int-or-string": true,
  };
  for (
    const [path, want] of [
      ["spec.containers.[].resources.limits.{}", quantity],
      ["spec.containers.[].resources.requests.{}", quantity],
      ["spec.overhead.{}", quantity],
      ["spec.containers.[].readinessProbe.httpGet.port", {
        anyOf: [{ type: "integer" }, { type: "string" }],
        "x-kubernetes-int-or-string": true,
      }],
    ] as const
  ) {
    await t.step(path, () => assert.deepEqual(at(pod, path), want));
  }
  await t.step("the quantity pattern accepts quantities and rejects other strings", () => {
    const re = new RegExp(QUANTITY_PATTERN);
    for (const ok of ["1", "500m", "1.5Gi", "2e3", "+1k", ".5"]) assert.ok(re.test(ok), ok);
    for (const bad of ["", "1.5 Gi", "one", "1GB"]) assert.ok(!re.test(bad), bad);
  });
});

Deno.test("structuralSchema() restricts embedded metadata to five plain fields", async (t) => {
  const doc = miniDocument();
  const want: StructuralSchema = {
    type: "object",
    properties: {
      annotations: { type: "object", additionalProperties: { type: "string" } },
      finalizers: { type: "array", items: { type: "string" } },
      labels: { type: "object", additionalProperties: { type: "string" } },
      name: { type: "string" },
      namespace: { type: "string" },
    },
  };
  await t.step("PodTemplateSpec.metadata", () => {
    assert.deepEqual(at(structuralSchema(doc, POD_TEMPLATE_SPEC), "metadata"), want);
  });
  await t.step("PersistentVolumeClaim.metadata", () => {
    assert.deepEqual(at(structuralSchema(doc, PERSISTENT_VOLUME_CLAIM), "metadata"), want);
  });
});

Deno.test("structuralSchema() keeps marker defaults and drops openapi-gen zero-value defaults", async (t) => {
  const pod = structuralSchema(miniDocument(), POD_TEMPLATE_SPEC);
  const cases: [path: string, want: unknown][] = [
    ["spec.containers.[].ports.[].protocol", "TCP"], // +default="TCP"
    ["spec.imagePullSecrets.[].name", ""], // +default="" on an optional field
    ["spec.containers.[].readinessProbe.grpc.service", ""], // +default=""
    ["spec.containers.[].name", undefined], // required: "" would satisfy `required`
    ["spec.containers.[].ports.[].containerPort", undefined], // required: 0
    ["spec.containers.[].readinessProbe.grpc.port", undefined],
    ["spec.containers.[].resources", undefined], // {} on a struct
    ["spec", undefined],
    ["metadata", undefined],
    ["spec.nodeSelector.{}", undefined], // not required, but the map value has no marker: see below
  ];
  for (const [path, want] of cases) {
    await t.step(`${path} → ${JSON.stringify(want)}`, () => assert.deepEqual(at(pod, path).default, want));
  }
});

Deno.test("structuralSchema() keeps list and map markers, sorts required, drops docs and patch hints", () => {
  const doc = miniDocument();
  const pod = structuralSchema(doc, POD_TEMPLATE_SPEC);
  assert.deepEqual(at(pod, "spec.containers"), {
    ...at(pod, "spec.containers"),
    type: "array",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
  });
  assert.deepEqual(at(pod, "spec.containers.[].ports")["x-kubernetes-list-map-keys"], ["containerPort", "protocol"]);
  assert.equal(at(pod, "spec.nodeSelector")["x-kubernetes-map-type"], "atomic");
  assert.equal(at(pod, "spec.imagePullSecrets.[]")["x-kubernetes-map-type"], "atomic");
  assert.equal(
    at(structuralSchema(doc, PERSISTENT_VOLUME_CLAIM), "spec.accessModes")["x-kubernetes-list-type"],
    "atomic",
  );
  const text = JSON.stringify([pod, structuralSchema(doc, PERSISTENT_VOLUME_CLAIM)]);
  for (
    const gone of [
      "description",
      '"enum"',
      "x-kubernetes-patch",
      "x-kubernetes-group-version-kind",
      '"format":"int-or-string"',
    ]
  ) {
    assert.ok(!text.includes(gone), gone);
  }

  const unsorted = miniDocument();
  (unsorted.components!.schemas!["io.k8s.api.core.v1.Container"] as { required: string[] }).required = [
    "name",
    "image",
  ];
  assert.deepEqual(at(structuralSchema(unsorted, POD_TEMPLATE_SPEC), "spec.containers.[]").required, ["image", "name"]);
});

Deno.test("structuralSchema() fails loudly on what it cannot convert", async (t) => {
  const broken = (patch: (schemas: Record<string, OpenApiSchema>) => void) => {
    const doc = miniDocument();
    patch(doc.components!.schemas! as Record<string, OpenApiSchema>);
    return doc;
  };
  const cases: [name: string, doc: OpenApiDocument, message: RegExp][] = [
    ["a missing schema", miniDocument(), /not in the OpenAPI document/],
    [
      "a reference cycle",
      broken((s) => {
        s["io.k8s.api.core.v1.Probe"] = { type: "object", properties: { again: ref(POD_TEMPLATE_SPEC) } };
      }),
      /reference cycle through io\.k8s\.api\.core\.v1\.PodTemplateSpec/,
    ],
    [
      "an unknown keyword",
      broken((s) => {
        s["io.k8s.api.core.v1.GRPCAction"] = { type: "object", "x-kubernetes-validations": [{ rule: "true" }] };
      }),
      /unsupported keywords x-kubernetes-validations/,
    ],
    [
      "a node without type",
      broken((s) => {
        s["io.k8s.api.core.v1.GRPCAction"] = { properties: {} };
      }),
      /expected a type/,
    ],
    [
      "a oneOf that is not int-or-string",
      broken((s) => {
        s["io.k8s.api.core.v1.GRPCAction"] = { oneOf: [{ type: "boolean" }, { type: "string" }] };
      }),
      /oneOf is only supported for int-or-string/,
    ],
  ];
  for (const [name, doc, message] of cases) {
    await t.step(name, () => {
      const target = name === "a missing schema" ? "io.k8s.api.core.v1.Nope" : POD_TEMPLATE_SPEC;
      assert.throws(() => structuralSchema(doc, target), message);
    });
  }
});

Deno.test("buildLeaderWorkerSetCrd() declares identity, subresources and printer columns", () => {
  const crd = buildLeaderWorkerSetCrd(miniDocument());
  assert.equal(crd.metadata.name, "leaderworkersets.leaderworkerset.x-k8s.io");
  assert.deepEqual(crd.spec.names, {
    kind: "LeaderWorkerSet",
    listKind: "LeaderWorkerSetList",
    plural: "leaderworkersets",
    singular: "leaderworkerset",
    shortNames: ["lws"],
  });
  assert.equal(crd.spec.scope, "Namespaced");
  assert.equal(crd.spec.versions.length, 1);
  const [v1] = crd.spec.versions;
  assert.ok(v1);
  assert.deepEqual([v1.name, v1.served, v1.storage], ["v1", true, true]);
  assert.deepEqual(v1.subresources, {
    status: {},
    scale: {
      specReplicasPath: ".spec.replicas",
      statusReplicasPath: ".status.replicas",
      labelSelectorPath: ".status.hpaPodSelector",
    },
  });
  assert.deepEqual(v1.additionalPrinterColumns.map((c) => [c.name, c.type, c.jsonPath]), [
    ["Ready", "integer", ".status.readyReplicas"],
    ["Desired", "integer", ".spec.replicas"],
    ["Up-to-date", "integer", ".status.updatedReplicas"],
    ["Age", "date", ".metadata.creationTimestamp"],
  ]);
  assert.equal(PRINTER_COLUMNS[3]?.description, undefined);
});

Deno.test("buildLeaderWorkerSetCrd() types every LWS field as spec §1.4 and §1.5 say", async (t) => {
  const schema = buildLeaderWorkerSetCrd(miniDocument()).spec.versions[0]!.schema.openAPIV3Schema;
  const strip = (s: StructuralSchema) => {
    const { description: _d, properties: _p, items: _i, ...rest } = s;
    return rest;
  };
  const intOrString: StructuralSchema = {
    anyOf: [{ type: "integer" }, { type: "string" }],
    "x-kubernetes-int-or-string": true,
  };
  const cases: [string, StructuralSchema][] = [
    ["spec", { type: "object", required: ["leaderWorkerTemplate"] }],
    ["spec.replicas", { type: "integer", format: "int32", default: 1, minimum: 0, maximum: 1000000 }],
    ["spec.leaderWorkerTemplate", { type: "object", required: ["workerTemplate"] }],
    ["spec.leaderWorkerTemplate.size", { type: "integer", format: "int32", default: 1 }],
    ["spec.leaderWorkerTemplate.restartPolicy", {
      type: "string",
      default: "RecreateGroupOnPodRestart",
      enum: ["Default", "RecreateGroupOnPodRestart", "RecreateGroupAfterStart", "None"],
    }],
    ["spec.leaderWorkerTemplate.subGroupPolicy", { type: "object" }],
    ["spec.leaderWorkerTemplate.subGroupPolicy.subGroupPolicyType", {
      type: "string",
      default: "LeaderWorker",
      enum: ["LeaderWorker", "LeaderExcluded"],
    }],
    ["spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize", { type: "integer", format: "int32" }],
    ["spec.leaderWorkerTemplate.volumeClaimTemplates", { type: "array" }],
    ["spec.leaderWorkerTemplate.persistentVolumeClaimRetentionPolicy", { type: "object" }],
    ["spec.leaderWorkerTemplate.persistentVolumeClaimRetentionPolicy.whenDeleted", { type: "string" }],
    ["spec.leaderWorkerTemplate.persistentVolumeClaimRetentionPolicy.whenScaled", { type: "string" }],
    ["spec.rolloutStrategy", { type: "object", required: ["type"] }],
    ["spec.rolloutStrategy.type", { type: "string", default: "RollingUpdate", enum: ["RollingUpdate"] }],
    ["spec.rolloutStrategy.rollingUpdateConfiguration", { type: "object" }],
    ["spec.rolloutStrategy.rollingUpdateConfiguration.partition", { type: "integer", format: "int32", default: 0 }],
    ["spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable", { ...intOrString, default: 1 }],
    ["spec.rolloutStrategy.rollingUpdateConfiguration.maxSurge", { ...intOrString, default: 0 }],
    ["spec.startupPolicy", { type: "string", default: "LeaderCreated", enum: ["LeaderCreated", "LeaderReady"] }],
    ["spec.networkConfig", { type: "object", required: ["subdomainPolicy"] }],
    ["spec.networkConfig.subdomainPolicy", { type: "string", enum: ["Shared", "UniquePerReplica"] }],
    ["status", { type: "object" }],
    ["status.conditions", { type: "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] }],
    ["status.readyReplicas", { type: "integer", format: "int32" }],
    ["status.updatedReplicas", { type: "integer", format: "int32" }],
    ["status.replicas", { type: "integer", format: "int32" }],
    ["status.hpaPodSelector", { type: "string" }],
    ["status.observedGeneration", { type: "integer", format: "int64" }],
  ];
  for (const [path, want] of cases) {
    await t.step(path, () => assert.deepEqual(strip(at(schema, path)), want));
  }
  await t.step("spec fields are exactly those of §1.4", () => {
    assert.deepEqual(Object.keys(at(schema, "spec").properties!).sort(), [
      "leaderWorkerTemplate",
      "networkConfig",
      "replicas",
      "rolloutStrategy",
      "startupPolicy",
    ]);
    assert.deepEqual(Object.keys(at(schema, "spec.leaderWorkerTemplate").properties!).sort(), [
      "leaderTemplate",
      "persistentVolumeClaimRetentionPolicy",
      "restartPolicy",
      "size",
      "subGroupPolicy",
      "volumeClaimTemplates",
      "workerTemplate",
    ]);
  });
  await t.step("status.conditions[] is the standard metav1.Condition", () => {
    const condition = at(schema, "status.conditions.[]");
    assert.deepEqual(condition.required, ["lastTransitionTime", "message", "reason", "status", "type"]);
    assert.equal(at(condition, "message").maxLength, 32768);
    assert.equal(at(condition, "type").maxLength, 316);
    assert.equal(at(condition, "reason").pattern, "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$");
    assert.deepEqual(at(condition, "status").enum, ["True", "False", "Unknown"]);
    assert.equal(at(condition, "lastTransitionTime").format, "date-time");
  });
  await t.step("embedded templates are the converted core schemas, described only at the top", () => {
    const core = structuralSchema(miniDocument(), POD_TEMPLATE_SPEC);
    for (const name of ["leaderTemplate", "workerTemplate"]) {
      const { description, ...rest } = at(schema, `spec.leaderWorkerTemplate.${name}`);
      assert.ok(description);
      assert.deepEqual(rest, core);
    }
    assert.deepEqual(
      at(schema, "spec.leaderWorkerTemplate.volumeClaimTemplates.[]"),
      structuralSchema(miniDocument(), PERSISTENT_VOLUME_CLAIM),
    );
    assert.deepEqual(structuralViolations(schema, { allowDescriptions: true }), []);
  });
});

Deno.test("renderCrd() writes the header and a deterministic, sorted YAML document", () => {
  const text = renderCrd(buildLeaderWorkerSetCrd(miniDocument()));
  assert.ok(text.startsWith(`${HEADER}\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n`));
  assert.match(text.split("\n")[0]!, /^# Code generated by .*DO NOT EDIT\.$/);
  assert.ok(text.endsWith("\n"));
  assert.deepEqual(parse(text), buildLeaderWorkerSetCrd(miniDocument()));

  // The same document with every key order reversed renders byte for byte the same.
  const reverse = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(reverse);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverse(v)]));
    }
    return value;
  };
  assert.equal(renderCrd(buildLeaderWorkerSetCrd(reverse(miniDocument()) as OpenApiDocument)), text);
  const keys = [...text.matchAll(/^ {10}([a-zA-Z]+):/gm)].map((m) => m[1]);
  assert.deepEqual(keys, [...keys].sort());
});
