/**
 * The admission webhooks against the real control plane, served in-process in local mode (URL registration on
 * 127.0.0.1, limited to each test's namespace): LWS validation and defaulting through kubectl, pod mutation of
 * StatefulSet-like pods, the object selector keeping other pods away, and certificate rotation under load.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { CRD_NAME, WEBHOOK_PATH_MUTATE_POD } from "../../api/constants.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { CRD_FILE } from "../../crds/generate.ts";
import { LEADER_WORKER_SETS, PODS } from "../../kube/resources.ts";
import { clusterTest, type TestCluster } from "../cluster/harness.ts";
import { startLocalWebhook } from "./support/webhook_local.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

async function installCrd(cluster: TestCluster): Promise<void> {
  const root = new URL("../../", import.meta.url).pathname;
  await cluster.kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", join(root, CRD_FILE)]);
  await cluster.kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", `crd/${CRD_NAME}`]);
}

function lws(name: string, spec: Record<string, unknown> = {}): LeaderWorkerSet {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name },
    spec: {
      replicas: 2,
      leaderWorkerTemplate: {
        size: 3,
        workerTemplate: { spec: { containers: [{ name: "worker", image: "nginx" }] } },
      },
      ...spec,
    },
  } as LeaderWorkerSet;
}

/** A pod as the leader StatefulSet of `<lws>` would create it for group `g` (before admission). */
function leaderPod(lwsName: string, group: number, size: number): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${lwsName}-${group}`,
      labels: { [`${P}name`]: lwsName, [`${P}worker-index`]: "0", [`${P}template-revision-hash`]: "rev" },
      annotations: { [`${P}size`]: String(size) },
    },
    spec: {
      hostname: `${lwsName}-${group}`,
      subdomain: lwsName,
      containers: [{ name: "leader", image: "nginx", env: [{ name: "USER_VAR", value: "kept" }] }],
    },
  };
}

/** A pod as the worker StatefulSet of group `g` would create it. */
function workerPod(namespace: string, lwsName: string, group: number, worker: number, size: number): Pod {
  const leader = `${lwsName}-${group}`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${leader}-${worker}`,
      labels: {
        [`${P}name`]: lwsName,
        [`${P}group-index`]: String(group),
        [`${P}group-key`]: sha1(`${namespace}/${leader}`),
        [`${P}template-revision-hash`]: "rev",
      },
      annotations: { [`${P}size`]: String(size), [`${P}leader-name`]: leader },
    },
    spec: { hostname: `${leader}-${worker}`, subdomain: lwsName, containers: [{ name: "worker", image: "nginx" }] },
  };
}

clusterTest("webhook: kubectl apply of an invalid LWS is refused with the webhook's message", async ({
  cluster,
  namespace,
}) => {
  await installCrd(cluster);
  await using _webhook = await startLocalWebhook(cluster, namespace);
  const single = await cluster.kubectl(["apply", "-f", "-"], {
    namespace,
    stdin: JSON.stringify(
      lws("bad-size", {
        leaderWorkerTemplate: { size: 0, workerTemplate: { spec: { containers: [{ name: "c", image: "nginx" }] } } },
      }),
    ),
  });
  assert.notEqual(single.code, 0);
  assert.match(
    single.stderr,
    /admission webhook "vleaderworkerset\.kb\.io" denied the request: spec\.leaderWorkerTemplate\.size: Invalid value: 0: size must be equal or greater than 1/,
  );
  const several = await cluster.kubectl(["apply", "-f", "-"], {
    namespace,
    stdin: JSON.stringify(lws("bad-rollout", {
      rolloutStrategy: {
        type: "RollingUpdate",
        rollingUpdateConfiguration: { maxUnavailable: 0, maxSurge: "x", partition: -1 },
      },
    })),
  });
  assert.notEqual(several.code, 0);
  const RU = "spec.rolloutStrategy.rollingUpdateConfiguration";
  assert.ok(
    several.stderr.includes(
      `admission webhook "vleaderworkerset.kb.io" denied the request: [${RU}.maxSurge: Invalid value: "x": a valid percent string must be a numeric string followed by an ending '%'`,
    ),
    several.stderr,
  );
  assert.ok(several.stderr.includes(`${RU}.partition: Invalid value: -1: must be greater than or equal to 0`));
  const listed = await cluster.kubectlOk(["get", "leaderworkersets", "-o", "name"], { namespace });
  assert.equal(listed.trim(), "");
});

clusterTest("webhook: an LWS without rolloutStrategy and networkConfig gets them defaulted", async ({
  cluster,
  namespace,
}) => {
  await installCrd(cluster);
  await using webhook = await startLocalWebhook(cluster, namespace);
  await cluster.kubectlOk(["apply", "-f", "-"], {
    namespace,
    stdin: JSON.stringify(
      lws("defaults", {
        leaderWorkerTemplate: {
          size: 2,
          restartPolicy: "Default",
          workerTemplate: { spec: { containers: [{ name: "c", image: "nginx" }] } },
        },
      }),
    ),
  });
  const stored = await webhook.client.get<LeaderWorkerSet>(LEADER_WORKER_SETS, "defaults", { namespace });
  assert.deepEqual(stored.spec.rolloutStrategy, {
    type: "RollingUpdate",
    rollingUpdateConfiguration: { maxSurge: 0, maxUnavailable: 1, partition: 0 },
  });
  assert.deepEqual(stored.spec.networkConfig, { subdomainPolicy: "Shared" });
  assert.equal(stored.spec.leaderWorkerTemplate.restartPolicy, "None");
  assert.equal(stored.spec.startupPolicy, "LeaderCreated"); // CRD default, not the webhook's
});

clusterTest("webhook: LWS pods get labels and env; other pods never reach the webhook", async ({
  cluster,
  namespace,
}) => {
  await using webhook = await startLocalWebhook(cluster, namespace);
  const { client } = webhook;

  const leader = await client.create<Pod>(PODS, leaderPod("sample", 0, 3), { namespace });
  assert.equal(leader.metadata?.labels?.[`${P}group-index`], "0");
  assert.equal(leader.metadata?.labels?.[`${P}group-key`], sha1(`${namespace}/sample-0`));
  assert.deepEqual(leader.spec?.containers[0]?.env, [
    { name: "LWS_LEADER_ADDRESS", value: `sample-0.sample.${namespace}` },
    { name: "LWS_GROUP_SIZE", value: "3" },
    { name: "LWS_WORKER_INDEX", value: "0" },
    { name: "USER_VAR", value: "kept" },
  ]);

  const worker = await client.create<Pod>(PODS, workerPod(namespace, "sample", 0, 2, 3), { namespace });
  assert.equal(worker.metadata?.labels?.[`${P}worker-index`], "2");
  assert.deepEqual(worker.spec?.containers[0]?.env, [
    { name: "LWS_LEADER_ADDRESS", value: `sample-0.sample.${namespace}` },
    { name: "LWS_GROUP_SIZE", value: "3" },
    { name: "LWS_WORKER_INDEX", value: "2" },
  ]);

  // A pod the webhook cannot complete is refused by it.
  const broken = leaderPod("sample", 1, 3);
  delete broken.metadata!.annotations;
  await assert.rejects(
    client.create<Pod>(PODS, broken, { namespace }),
    /admission webhook "mpod\.kb\.io" denied the request: size annotation is unexpectedly missing for pod sample-1/,
  );

  // The object selector keeps pods without the name label away from the webhook.
  const before = webhook.requests(WEBHOOK_PATH_MUTATE_POD);
  const plain = await client.create<Pod>(PODS, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "plain", labels: { app: "not-lws" } },
    spec: { containers: [{ name: "c", image: "nginx" }] },
  }, { namespace });
  assert.equal(plain.spec?.containers[0]?.env, undefined);
  assert.equal(webhook.requests(WEBHOOK_PATH_MUTATE_POD), before);
  assert.ok(webhook.requests("/validate--v1-pod") >= 2); // leader and worker (the refused one stopped at mutation)
});

clusterTest("webhook: rotating certificates while pods are created fails no admission", async ({
  cluster,
  namespace,
}) => {
  await using webhook = await startLocalWebhook(cluster, namespace, { caPropagationDelayMs: 3000 });
  const { client } = webhook;
  let stop = false;
  let created = 0;
  const failures: string[] = [];
  const creator = async (id: number) => {
    for (let group = 0; !stop; group++) {
      const pod = leaderPod(`rot${id}`, group, 2);
      try {
        const out = await client.create<Pod>(PODS, pod, { namespace });
        if (out.spec?.containers[0]?.env?.[0]?.name !== "LWS_LEADER_ADDRESS") {
          failures.push(`${pod.metadata!.name} was admitted without mutation`);
        }
        created++;
      } catch (err) {
        failures.push(`${pod.metadata!.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  const creators = [0, 1, 2].map(creator);
  try {
    const firstServing = webhook.webhook.certificates.current()!.cert;
    await waitFor(() => created >= 10, "pods before the rotation");
    webhook.webhook.rotateCertificates("serving");
    await waitFor(() => webhook.webhook.certificates.current()!.cert !== firstServing, "the serving rotation");
    const afterServing = created;
    await waitFor(() => created >= afterServing + 10, "pods after the serving rotation");
    const servingBefore = webhook.webhook.certificates.current()!.cert;
    webhook.webhook.rotateCertificates("all");
    await waitFor(() => webhook.webhook.certificates.current()!.cert !== servingBefore, "the CA rotation", 60_000);
    const afterCa = created;
    await waitFor(() => created >= afterCa + 10, "pods after the CA rotation");
  } finally {
    stop = true;
    await Promise.all(creators);
  }
  assert.deepEqual(failures, []);
  console.log(`rotation test: ${created} pods admitted across a serving and a CA rotation`);
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
