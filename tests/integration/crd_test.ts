/**
 * The LeaderWorkerSet CRD against the real API server (no webhook, no controller): it installs, it is current for
 * the server's core types, and the server prunes, defaults, validates, scales and prints as spec §1 says.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { CRD_NAME } from "../../api/constants.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { buildLeaderWorkerSetCrd, CRD_FILE, renderCrd } from "../../crds/generate.ts";
import type { OpenApiDocument } from "../../crds/structural.ts";
import { clusterTest, type TestCluster } from "../cluster/harness.ts";

const crdPath = join(import.meta.dirname!, "..", "..", CRD_FILE);

async function installCrd(cluster: TestCluster): Promise<void> {
  await cluster.kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", crdPath]);
  await cluster.kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", `crd/${CRD_NAME}`]);
}

/** A LeaderWorkerSet with one nginx worker container; `spec` is merged on top of the minimal one. */
function lws(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name },
    spec: {
      leaderWorkerTemplate: {
        workerTemplate: { spec: { containers: [{ name: "worker", image: "nginx:1.27" }] } },
      },
      ...spec,
    },
  };
}

async function getLws(cluster: TestCluster, namespace: string, name: string): Promise<LeaderWorkerSet> {
  return JSON.parse(await cluster.kubectlOk(["get", "lws", name, "-o", "json"], { namespace })) as LeaderWorkerSet;
}

/** The first line where two texts differ, for a readable failure. */
function firstDifference(want: string, got: string): string {
  const a = want.split("\n");
  const b = got.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: generated ${JSON.stringify(a[i])}, committed ${JSON.stringify(b[i])}`;
  }
  return "no difference";
}

clusterTest("the CRD installs with server-side apply and becomes Established", async ({ cluster }) => {
  await installCrd(cluster);
  const crd = JSON.parse(await cluster.kubectlOk(["get", "crd", CRD_NAME, "-o", "json"])) as {
    status: {
      conditions: { type: string; status: string; message: string }[];
      acceptedNames: { shortNames: string[] };
    };
  };
  const conditions = Object.fromEntries(crd.status.conditions.map((c) => [c.type, c]));
  assert.equal(conditions.Established?.status, "True");
  assert.equal(conditions.NamesAccepted?.status, "True");
  assert.equal(conditions.NonStructuralSchema, undefined, conditions.NonStructuralSchema?.message);
  assert.deepEqual(crd.status.acceptedNames.shortNames, ["lws"]);
  const resources = await cluster.kubectlOk(["api-resources", "--api-group=leaderworkerset.x-k8s.io", "-o", "wide"]);
  assert.match(resources, /^leaderworkersets\s+lws\s+leaderworkerset\.x-k8s\.io\/v1\s+true\s+LeaderWorkerSet\s/m);
});

clusterTest("the committed CRD is current for the running API server's OpenAPI", async ({ cluster }) => {
  const doc = JSON.parse(await cluster.kubectlOk(["get", "--raw", "/openapi/v3/api/v1"])) as OpenApiDocument;
  const generated = renderCrd(buildLeaderWorkerSetCrd(doc));
  const committed = await Deno.readTextFile(crdPath);
  assert.ok(
    generated === committed,
    `${CRD_FILE} is not what crds/generate.ts makes from this API server (${
      firstDifference(generated, committed)
    }): run deno task crd:generate`,
  );
});

clusterTest("the API server stores the CRD schema exactly as generated", async ({ cluster }) => {
  await installCrd(cluster);
  const stored = JSON.parse(await cluster.kubectlOk(["get", "crd", CRD_NAME, "-o", "json"])) as {
    spec: { versions: { schema: unknown; subresources: unknown; additionalPrinterColumns: unknown }[] };
  };
  const committed = parse(await Deno.readTextFile(crdPath)) as ReturnType<typeof buildLeaderWorkerSetCrd>;
  const [want] = committed.spec.versions;
  const [got] = stored.spec.versions;
  assert.ok(want && got);
  // Nothing dropped or rewritten by the server's own pruning of the CRD object.
  assert.deepEqual(got.schema, want.schema);
  assert.deepEqual(got.subresources, want.subresources);
  assert.deepEqual(got.additionalPrinterColumns, want.additionalPrinterColumns);
});

clusterTest("the API server applies the CRD defaults of spec §1.4", async ({ cluster, namespace }) => {
  await installCrd(cluster);
  // rolloutStrategy.type is required but defaulted: defaulting runs before validation, so it may be left out.
  const manifest = lws("defaults", { rolloutStrategy: { rollingUpdateConfiguration: {} } });
  const template = (manifest.spec as { leaderWorkerTemplate: Record<string, unknown> }).leaderWorkerTemplate;
  template.subGroupPolicy = { subGroupSize: 1 };
  (template.workerTemplate as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0]!.ports = [
    { containerPort: 80 },
  ];
  await cluster.kubectlOk(["create", "-f", "-"], { namespace, stdin: JSON.stringify(manifest) });
  const got = await getLws(cluster, namespace, "defaults");
  assert.equal(got.spec.replicas, 1);
  assert.equal(got.spec.startupPolicy, "LeaderCreated");
  assert.equal(got.spec.leaderWorkerTemplate.size, 1);
  assert.equal(got.spec.leaderWorkerTemplate.restartPolicy, "RecreateGroupOnPodRestart");
  assert.equal(got.spec.leaderWorkerTemplate.subGroupPolicy?.subGroupPolicyType, "LeaderWorker");
  assert.deepEqual(got.spec.rolloutStrategy, {
    type: "RollingUpdate",
    rollingUpdateConfiguration: { maxSurge: 0, maxUnavailable: 1, partition: 0 },
  });
  // Core marker defaults apply inside the embedded template; openapi-gen's zero-value defaults do not.
  const container = got.spec.leaderWorkerTemplate.workerTemplate.spec!.containers[0]!;
  assert.deepEqual(container.ports, [{ containerPort: 80, protocol: "TCP" }]);
  assert.equal(container.resources, undefined);
  assert.equal(got.spec.networkConfig, undefined);
  assert.equal(got.spec.leaderWorkerTemplate.leaderTemplate, undefined);
});

clusterTest("the API server prunes embedded metadata to five fields", async ({ cluster, namespace }) => {
  await installCrd(cluster);
  const manifest = lws("pruned");
  const template = (manifest.spec as { leaderWorkerTemplate: { workerTemplate: Record<string, unknown> } })
    .leaderWorkerTemplate.workerTemplate;
  const metadata = {
    name: "n",
    namespace: "ns",
    labels: { a: "b" },
    annotations: { c: "d" },
    finalizers: ["example.com/f"],
    generateName: "g-",
    uid: "0000",
    ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "p", uid: "1" }],
  };
  template.metadata = metadata;
  // --validate=false: kubectl would otherwise ask the server to reject the unknown fields instead of pruning them.
  await cluster.kubectlOk(["create", "--validate=false", "-f", "-"], { namespace, stdin: JSON.stringify(manifest) });
  const got = await getLws(cluster, namespace, "pruned");
  assert.deepEqual(got.spec.leaderWorkerTemplate.workerTemplate.metadata, {
    name: "n",
    namespace: "ns",
    labels: { a: "b" },
    annotations: { c: "d" },
    finalizers: ["example.com/f"],
  });
});

clusterTest(
  "the API server rejects what the CRD schema forbids, naming the field",
  async ({ t, cluster, namespace }) => {
    await installCrd(cluster);
    const cases: [name: string, spec: Record<string, unknown>, message: RegExp][] = [
      [
        "replicas-negative",
        { replicas: -1 },
        /spec\.replicas: Invalid value: -1: spec\.replicas in body should be greater than or equal to 0/,
      ],
      [
        "replicas-too-many",
        { replicas: 1000001 },
        /spec\.replicas: Invalid value: 1000001: spec\.replicas in body should be less than or equal to 1000000/,
      ],
      ["bad-startup-policy", { startupPolicy: "Eventually" }, /spec\.startupPolicy: Unsupported value: "Eventually"/],
      ["network-config-empty", { networkConfig: {} }, /spec\.networkConfig\.subdomainPolicy: Required value/],
      [
        "bad-subdomain-policy",
        { networkConfig: { subdomainPolicy: "PerPod" } },
        /spec\.networkConfig\.subdomainPolicy: Unsupported value: "PerPod"/,
      ],
      [
        "no-worker-template",
        { leaderWorkerTemplate: { size: 2 } },
        /spec\.leaderWorkerTemplate\.workerTemplate: Required value/,
      ],
      [
        "bad-restart-policy",
        {
          leaderWorkerTemplate: { restartPolicy: "Always", workerTemplate: { spec: { containers: [{ name: "w" }] } } },
        },
        /spec\.leaderWorkerTemplate\.restartPolicy: Unsupported value: "Always"/,
      ],
      [
        "no-containers",
        { leaderWorkerTemplate: { workerTemplate: { spec: {} } } },
        /spec\.leaderWorkerTemplate\.workerTemplate\.spec\.containers: Required value/,
      ],
      [
        "bad-quantity",
        {
          leaderWorkerTemplate: {
            workerTemplate: { spec: { containers: [{ name: "w", resources: { requests: { cpu: "lots" } } }] } },
          },
        },
        /spec\.leaderWorkerTemplate\.workerTemplate\.spec\.containers\[0\]\.resources\.requests\.cpu: Invalid value: "lots"/,
      ],
    ];
    for (const [name, spec, message] of cases) {
      await t.step(name, async () => {
        const result = await cluster.kubectl(["create", "-f", "-"], {
          namespace,
          stdin: JSON.stringify(lws(name, spec)),
        });
        assert.notEqual(result.code, 0, `${name} was accepted`);
        assert.match(result.stderr, message);
      });
    }
  },
);

clusterTest("kubectl scale changes spec.replicas through the scale subresource", async ({ cluster, namespace }) => {
  await installCrd(cluster);
  await cluster.kubectlOk(["create", "-f", "-"], { namespace, stdin: JSON.stringify(lws("scaled")) });
  await cluster.kubectlOk(["scale", "lws/scaled", "--replicas=3"], { namespace });
  assert.equal((await getLws(cluster, namespace, "scaled")).spec.replicas, 3);
  const scale = JSON.parse(
    await cluster.kubectlOk([
      "get",
      "--raw",
      `/apis/leaderworkerset.x-k8s.io/v1/namespaces/${namespace}/leaderworkersets/scaled/scale`,
    ]),
  ) as { kind: string; spec: { replicas: number }; status: { replicas: number; selector?: string } };
  assert.equal(scale.kind, "Scale");
  assert.equal(scale.spec.replicas, 3);
  assert.equal(scale.status.replicas, 0); // no controller yet: status.replicas is absent
});

clusterTest("status is a subresource: spec writes keep it, status writes keep spec", async ({ cluster, namespace }) => {
  await installCrd(cluster);
  const manifest = { ...lws("status"), status: { readyReplicas: 5 } };
  await cluster.kubectlOk(["create", "-f", "-"], { namespace, stdin: JSON.stringify(manifest) });
  assert.equal((await getLws(cluster, namespace, "status")).status, undefined);
  await cluster.kubectlOk(
    [
      "patch",
      "lws/status",
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"readyReplicas":1},"spec":{"replicas":7}}',
    ],
    { namespace },
  );
  const got = await getLws(cluster, namespace, "status");
  assert.equal(got.status?.readyReplicas, 1);
  assert.equal(got.spec.replicas, 1);
});

clusterTest("kubectl get lws prints NAME READY DESIRED UP-TO-DATE AGE", async ({ cluster, namespace }) => {
  await installCrd(cluster);
  await cluster.kubectlOk(["create", "-f", "-"], {
    namespace,
    stdin: JSON.stringify(lws("printed", { replicas: 2 })),
  });
  const [header, row, ...rest] = (await cluster.kubectlOk(["get", "lws"], { namespace })).trimEnd().split("\n");
  assert.deepEqual(header?.trim().split(/\s+/), ["NAME", "READY", "DESIRED", "UP-TO-DATE", "AGE"]);
  assert.deepEqual(rest, []);
  // No controller runs yet: READY and UP-TO-DATE are empty, so the row has NAME, DESIRED and AGE only.
  const cells = row?.trim().split(/\s+/);
  assert.equal(cells?.[0], "printed");
  assert.equal(cells?.[1], "2");
  assert.match(cells?.[2] ?? "", /^\d+s$/);
  // Column positions: DESIRED sits under its header.
  assert.equal(row?.slice(header!.indexOf("DESIRED")).trim().split(/\s+/)[0], "2");
});
