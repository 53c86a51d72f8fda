/**
 * `/readyz` of `lws run` turns 200 only once the informer caches are synced and the webhook serves with a published
 * certificate — shown by running the product as a ServiceAccount that may do neither at first, then granting the
 * permissions one at a time. `/healthz` stays 200 throughout.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { clusterTest, eventually, type TestCluster } from "../cluster/harness.ts";
import { httpGet, lwsCommand, ProductProcess, writeTokenKubeconfig } from "./support/product_process.ts";

async function readyz(lws: ProductProcess): Promise<{ status: number; body: string }> {
  return await httpGet(`${healthUrl(lws)}/readyz?verbose`);
}

function healthUrl(lws: ProductProcess): string {
  const line = lws.find((l) => l.msg.startsWith("Serving health probes on"));
  if (!line) throw new Error("no health server yet");
  return String(line.fields.url);
}

async function apply(cluster: TestCluster, objects: unknown[]): Promise<void> {
  await cluster.kubectlOk(["apply", "-f", "-"], {
    stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  });
}

clusterTest("lws run: /readyz waits for synced caches and a served, published certificate", async (
  { t, cluster, namespace },
) => {
  const install = await lwsCommand(["install", "--kubeconfig", cluster.kubeconfig]);
  assert.equal(install.code, 0, install.stderr);
  await cluster.kubectlOk(["create", "serviceaccount", "limited"], { namespace });
  const token = (await cluster.kubectlOk(["create", "token", "limited", "--duration=1h"], { namespace })).trim();
  const dir = await Deno.makeTempDir();
  const webhookRole = `lws-test-webhooks-${namespace}`;
  try {
    const kubeconfig = join(dir, "kubeconfig");
    await writeTokenKubeconfig(kubeconfig, cluster, token);
    await using lws = await ProductProcess.start(cluster, {
      namespace,
      kubeconfig,
      name: "lws (limited)",
      waitReady: false,
      args: ["--no-controllers", "--leader-elect=false", "--metrics-bind-address", "0"],
    });
    await lws.waitForLog("health server", (l) => l.msg.startsWith("Serving health probes on"));

    await t.step("not ready while nothing can be listed or registered", async () => {
      await eventually(
        "the webhook server to start",
        async () => (await readyz(lws)).body.includes("CA bundle not published"),
        {
          timeoutMs: 30_000,
        },
      );
      for (let i = 0; i < 3; i++) {
        const { status, body } = await readyz(lws);
        assert.equal(status, 500, body);
        assert.match(body, /\[-\]informers failed: not synced: /);
        assert.match(body, /\[-\]webhook failed: CA bundle not published/);
        assert.equal((await httpGet(`${healthUrl(lws)}/healthz`)).status, 200);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });

    await t.step("caches synced, certificate not published: still not ready", async () => {
      await apply(cluster, [
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: "read", namespace },
          rules: [
            {
              apiGroups: ["leaderworkerset.x-k8s.io"],
              resources: ["leaderworkersets"],
              verbs: ["get", "list", "watch"],
            },
            { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
            { apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get", "list", "watch"] },
            { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["get", "list", "watch"] },
          ],
        },
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: "read", namespace },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read" },
          subjects: [{ kind: "ServiceAccount", name: "limited", namespace }],
        },
      ]);
      const body = await eventually("informers synced", async () => {
        const { body } = await readyz(lws);
        return body.includes("[+]informers ok") ? body : undefined;
      }, { timeoutMs: 60_000, intervalMs: 250 });
      assert.match(body, /\[-\]webhook failed: CA bundle not published/);
      assert.equal((await readyz(lws)).status, 500);
      assert.equal(lws.find((l) => l.msg.startsWith("Ready in")), undefined);
    });

    await t.step("ready once the webhook configurations can be registered", async () => {
      const names = [
        `lws-mutating-webhook-configuration-${namespace}`,
        `lws-validating-webhook-configuration-${namespace}`,
      ];
      await apply(cluster, [
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRole",
          metadata: { name: webhookRole },
          rules: [
            {
              apiGroups: ["admissionregistration.k8s.io"],
              resources: ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
              verbs: ["create"],
            },
            {
              apiGroups: ["admissionregistration.k8s.io"],
              resources: ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
              resourceNames: names,
              verbs: ["get", "list", "watch", "patch", "update", "delete"],
            },
          ],
        },
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRoleBinding",
          metadata: { name: webhookRole },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: webhookRole },
          subjects: [{ kind: "ServiceAccount", name: "limited", namespace }],
        },
      ]);
      const granted = Date.now();
      await eventually("/readyz 200", async () => (await readyz(lws)).status === 200, {
        timeoutMs: 90_000,
        intervalMs: 250,
      });
      const { body } = await readyz(lws);
      assert.equal(body, "[+]ping ok\n[+]informers ok\n[+]webhook ok\n[+]shutdown ok\nreadyz check passed\n");
      await lws.waitForLog("Ready", (l) => l.msg.startsWith("Ready in"));
      console.log(
        `ready ${Date.now() - granted} ms after the webhook permissions were granted (publish retries back off)`,
      );
    });

    await t.step("a graceful stop exits with code 0", async () => {
      const status = await lws.stop();
      assert.equal(status.code, 0, lws.tail());
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await cluster.kubectl([
      "delete",
      `clusterrolebinding/${webhookRole}`,
      `clusterrole/${webhookRole}`,
      "--ignore-not-found",
    ]);
  }
});
