/**
 * The local control plane itself: fake nodes and their labels, the real scheduler and StatefulSet controller with
 * KWOK's pod stages, the failure/restart stages, webhooks served from the host, and the fault-injection calls.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import { request } from "../cluster/api.ts";
import { clusterTest, eventually, requireCluster, type TestCluster, TOPOLOGY_LABELS } from "../cluster/harness.ts";
import { createCertificateAuthority, createLeafCertificate } from "../cluster/pki.ts";

async function getJson<T>(cluster: TestCluster, args: string[], namespace?: string): Promise<T> {
  return JSON.parse(await cluster.kubectlOk(["get", ...args, "-o", "json"], { namespace })) as T;
}

function apply(cluster: TestCluster, namespace: string, object: unknown): Promise<string> {
  return cluster.kubectlOk(["apply", "-f", "-"], { namespace, stdin: JSON.stringify(object) });
}

function isReady(pod: Pod): boolean {
  return pod.status?.phase === "Running" &&
    (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

async function readyPod(cluster: TestCluster, namespace: string, name: string): Promise<Pod> {
  return await eventually(`pod ${namespace}/${name} Running and Ready`, async () => {
    const pod = await getJson<Pod>(cluster, ["pod", name], namespace);
    return isReady(pod) ? pod : undefined;
  });
}

function plainPod(name: string, containers: string[]): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { containers: containers.map((c) => ({ name: c, image: "registry.k8s.io/pause:3.10" })) },
  };
}

Deno.test("requireCluster() finds fake nodes labelled with zone, rack, node pool and hostname", async () => {
  const cluster = await requireCluster();
  const nodes = (await getJson<{ items: Node[] }>(cluster, ["nodes"])).items;
  assert.ok(nodes.length >= 8, `expected at least 8 nodes, got ${nodes.length}`);
  for (const node of nodes) {
    const labels = node.metadata?.labels ?? {};
    assert.equal(labels[TOPOLOGY_LABELS.hostname], node.metadata?.name);
    for (const key of [TOPOLOGY_LABELS.zone, TOPOLOGY_LABELS.rack, TOPOLOGY_LABELS.nodePool]) {
      assert.ok(labels[key], `node ${node.metadata?.name} lacks label ${key}`);
    }
    assert.ok(Number(node.status?.allocatable?.pods) >= 110, `allocatable pods of ${node.metadata?.name}`);
    assert.ok(node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"), "node Ready");
  }
  const distinct = (key: string) => new Set(nodes.map((n) => n.metadata?.labels?.[key])).size;
  assert.ok(distinct(TOPOLOGY_LABELS.zone) >= 2, "at least 2 zones");
  assert.ok(distinct(TOPOLOGY_LABELS.rack) >= 2, "at least 2 racks");
  assert.ok(distinct(TOPOLOGY_LABELS.nodePool) >= 2, "at least 2 node pools");
});

clusterTest("a StatefulSet's pods are placed by the scheduler and become Running and Ready", async ({
  cluster,
  namespace,
}) => {
  const labels = { app: "web" };
  const statefulSet: StatefulSet = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "web" },
    spec: {
      replicas: 3,
      serviceName: "web",
      podManagementPolicy: "Parallel",
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{ name: "main", image: "registry.k8s.io/pause:3.10" }],
          // Real scheduling: only zone-b, and one pod per node.
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{
                  matchExpressions: [{ key: TOPOLOGY_LABELS.zone, operator: "In", values: ["zone-b"] }],
                }],
              },
            },
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [{
                labelSelector: { matchLabels: labels },
                topologyKey: TOPOLOGY_LABELS.hostname,
              }],
            },
          },
        },
      },
    },
  };
  await apply(cluster, namespace, statefulSet);
  await eventually("StatefulSet web to have 3 ready replicas", async () => {
    const sts = await getJson<StatefulSet>(cluster, ["statefulset", "web"], namespace);
    return sts.status?.readyReplicas === 3;
  });
  const pods = (await getJson<{ items: Pod[] }>(cluster, ["pods"], namespace)).items;
  assert.deepEqual(pods.map((p) => p.metadata?.name).sort(), ["web-0", "web-1", "web-2"]);
  const nodes = (await getJson<{ items: Node[] }>(cluster, ["nodes"])).items;
  const zoneOf = new Map(nodes.map((n) => [n.metadata?.name, n.metadata?.labels?.[TOPOLOGY_LABELS.zone]]));
  for (const pod of pods) {
    assert.ok(isReady(pod), `${pod.metadata?.name} Running and Ready`);
    assert.equal(zoneOf.get(pod.spec?.nodeName), "zone-b", `${pod.metadata?.name} on ${pod.spec?.nodeName}`);
    assert.ok(pod.status?.podIP, "KWOK assigns a pod IP");
  }
  assert.equal(new Set(pods.map((p) => p.spec?.nodeName)).size, 3, "anti-affinity: one pod per node");
});

clusterTest("failPod() turns a Running pod Failed with exit code 1", async ({ cluster, namespace }) => {
  await apply(cluster, namespace, plainPod("victim", ["main"]));
  await readyPod(cluster, namespace, "victim");
  await cluster.failPod(namespace, "victim");
  const pod = await getJson<Pod>(cluster, ["pod", "victim"], namespace);
  assert.equal(pod.status?.phase, "Failed");
  assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 1);
});

clusterTest("restartContainers() raises every restartCount while the pod stays Running", async ({
  cluster,
  namespace,
}) => {
  await apply(cluster, namespace, plainPod("flaky", ["main", "sidecar"]));
  await readyPod(cluster, namespace, "flaky");
  for (const expected of [1, 2]) {
    await cluster.restartContainers(namespace, "flaky");
    const pod = await getJson<Pod>(cluster, ["pod", "flaky"], namespace);
    assert.ok(isReady(pod), "still Running and Ready");
    assert.equal(pod.metadata?.labels?.["lws-test.x-k8s.io/restart-container"], undefined, "trigger label removed");
    for (const status of pod.status?.containerStatuses ?? []) {
      assert.equal(status.restartCount, expected, `${status.name} restartCount`);
      assert.equal(status.lastState?.terminated?.exitCode, 1, `${status.name} lastState.terminated`);
      assert.ok(status.state?.running, `${status.name} running`);
    }
  }
});

clusterTest("the API server calls an admission webhook served on https://127.0.0.1", async ({
  cluster,
  namespace,
}) => {
  const dir = await Deno.makeTempDir({ prefix: "lws-webhook-" });
  try {
    const ca = await createCertificateAuthority(dir, "webhook-ca");
    const serving = await createLeafCertificate(dir, "webhook", ca, {
      subject: "/CN=localhost",
      usage: ["server"],
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
    });
    const calls: string[] = [];
    await using server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(serving.cert),
      key: await Deno.readTextFile(serving.key),
      onListen: () => {},
    }, async (req) => {
      const review = await req.json() as { request: { uid: string; name?: string; namespace?: string } };
      calls.push(review.request.name ?? "");
      const denied = review.request.name === "deny-me";
      return Response.json({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: {
          uid: review.request.uid,
          allowed: !denied,
          ...(denied ? { status: { code: 403, message: "denied by the host webhook" } } : {}),
        },
      });
    });
    const webhookName = `host-webhook-${namespace}`;
    await apply(cluster, namespace, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: webhookName },
      webhooks: [{
        name: "configmaps.lws-test.x-k8s.io",
        clientConfig: {
          url: `https://127.0.0.1:${server.addr.port}/validate`,
          caBundle: btoa(await Deno.readTextFile(ca.cert)),
        },
        rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"] }],
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
        failurePolicy: "Fail",
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        timeoutSeconds: 5,
      }],
    });
    try {
      // The API server picks up new webhook configurations from an informer: retry until ours is in force.
      const rejection = await eventually("the webhook to reject deny-me", async () => {
        const result = await cluster.kubectl(["create", "configmap", "deny-me"], { namespace });
        if (result.code === 0) await cluster.kubectlOk(["delete", "configmap", "deny-me"], { namespace });
        return result.code !== 0 && result.stderr.includes("denied by the host webhook") ? result.stderr : undefined;
      });
      assert.match(rejection, /admission webhook "configmaps\.lws-test\.x-k8s\.io" denied the request/);
      await cluster.kubectlOk(["create", "configmap", "allow-me"], { namespace });
      assert.ok(calls.includes("allow-me"), `webhook saw ${JSON.stringify(calls)}`);
    } finally {
      await cluster.kubectlOk(["delete", "validatingwebhookconfiguration", webhookName]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

clusterTest("stopApiserver() and startApiserver() kill and restart kube-apiserver with its data", async ({
  cluster,
  namespace,
}) => {
  await cluster.kubectlOk(["create", "configmap", "survivor", "--from-literal=k=v"], { namespace });
  await cluster.stopApiserver();
  await assert.rejects(request(`${cluster.server}/readyz`, cluster.credentials, { timeoutMs: 2_000 }));
  const down = await cluster.kubectl(["get", "namespaces", "--request-timeout=2s"]);
  assert.notEqual(down.code, 0, "kubectl fails while the API server is down");
  await cluster.startApiserver();
  await cluster.startApiserver(); // a no-op when it runs
  const value = await cluster.kubectlOk(["get", "configmap", "survivor", "-o", "jsonpath={.data.k}"], { namespace });
  assert.equal(value, "v");
}, { exclusive: true });

clusterTest("compactEtcd() expires old resourceVersions: exact lists and re-watches from them get 410 Gone", async ({
  cluster,
  namespace,
}) => {
  const base = `${cluster.server}/api/v1/namespaces/${namespace}/configmaps`;
  await cluster.kubectlOk(["create", "configmap", "counter", "--from-literal=n=0"], { namespace });
  const listed = await request(base, cluster.credentials);
  const oldVersion = (JSON.parse(listed.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  for (const n of [1, 2, 3]) {
    const patch = JSON.stringify({ data: { n: String(n) } });
    await cluster.kubectlOk(["patch", "configmap", "counter", "-p", patch], { namespace });
  }
  // A watcher that lost its connection to a restarted API server re-watches from the last version it saw.
  await cluster.stopApiserver();
  await cluster.startApiserver();
  // The fresh watch cache starts at the current revision, so an exact list at the old version goes to etcd, which
  // still has it...
  const exact = `${base}?resourceVersion=${oldVersion}&resourceVersionMatch=Exact`;
  const before = await request(exact, cluster.credentials);
  assert.equal(before.status, 200, `before compaction: ${before.body.slice(0, 300)}`);
  // ...until etcd is compacted.
  await cluster.compactEtcd();
  const after = await request(exact, cluster.credentials);
  assert.equal(after.status, 410, `after compaction: ${after.body.slice(0, 300)}`);
  // The re-watch: 410 either as the HTTP status or as an ERROR event carrying a 410 Status.
  const watch = await request(`${base}?watch=1&resourceVersion=${oldVersion}&timeoutSeconds=5`, cluster.credentials);
  const gone = watch.status === 410 ||
    watch.body.split("\n").filter((l) => l.trim()).some((line) => {
      const event = JSON.parse(line) as { type: string; object: { code?: number } };
      return event.type === "ERROR" && event.object.code === 410;
    });
  assert.ok(gone, `expected 410 Gone, got ${watch.status}: ${watch.body.slice(0, 500)}`);
}, { exclusive: true });

Deno.test("requireCluster() throws a clear error when no cluster is recorded", async () => {
  const empty = await Deno.makeTempDir({ prefix: "lws-no-cluster-" });
  try {
    await assert.rejects(requireCluster({ dir: empty }), /no cluster is recorded.*\n.*deno task cluster:up/);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
