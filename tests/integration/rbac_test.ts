/**
 * The install's RBAC (deploy/rbac/) is least privilege and sufficient:
 *
 * - no rule of any role uses a wildcard, and `lws-manager-role` is exactly spec §12.2's table;
 * - `lws run` with a kubeconfig holding a token of deploy/'s ServiceAccount (bound to deploy/'s roles only) completes
 *   the sample scenarios — create, scale, roll, recreate a group, delete — plus leader election in `lws-system`, the
 *   in-cluster certificate management (Secret + CA injection, `--webhook-cert-mode internal`) and TokenReview /
 *   SubjectAccessReview for `/metrics`, without a single Forbidden in its log.
 *
 * Local-mode webhook registration (create/patch/delete of webhook configurations) is not part of the in-cluster
 * role, so the pods' webhook is served by a second process with the admin kubeconfig.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import type { PolicyRule } from "kubernetes-types/rbac/v1.d.ts";
import { buildWebhookConfigurations } from "../../webhook/configurations.ts";
import { clusterTest, eventually, RESTART_CONTAINERS_LABEL, type TestCluster } from "../cluster/harness.ts";
import {
  httpGet,
  lwsCommand,
  ProductProcess,
  removeLocalWebhooks,
  writeTokenKubeconfig,
} from "./support/product_process.ts";

const ROOT = join(import.meta.dirname!, "..", "..");
const RBAC_DIR = join(ROOT, "deploy", "rbac");

interface RoleObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules: PolicyRule[];
}

function roles(): RoleObject[] {
  return [...Deno.readDirSync(RBAC_DIR)]
    .filter((e) => e.name.endsWith(".yaml"))
    .map((e) => parse(Deno.readTextFileSync(join(RBAC_DIR, e.name))) as RoleObject)
    .filter((o) => o.kind === "ClusterRole" || o.kind === "Role");
}

/** Every (group, resource or URL, verb) a set of rules grants, as `group/resource:verb`. */
function grants(rules: PolicyRule[]): string[] {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const verb of rule.verbs) {
      for (const url of rule.nonResourceURLs ?? []) out.add(`url ${url}:${verb}`);
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) out.add(`${group}/${resource}:${verb}`);
      }
    }
  }
  return [...out].sort();
}

/** Spec §12.2's table, row by row. */
function table(rows: [groups: string[], resources: string[], verbs: string[]][]): string[] {
  return grants(rows.map(([apiGroups, resources, verbs]) => ({ apiGroups, resources, verbs })));
}

const ALL = ["create", "delete", "get", "list", "patch", "update", "watch"];

Deno.test("deploy/rbac/ roles contain no wildcard", () => {
  const found = roles();
  assert.ok(found.length >= 4, `only ${found.length} roles`);
  for (const role of found) {
    for (const [i, rule] of role.rules.entries()) {
      const fields = [rule.verbs, rule.apiGroups, rule.resources, rule.resourceNames, rule.nonResourceURLs];
      for (const values of fields) {
        for (const value of values ?? []) {
          assert.ok(!value.includes("*"), `${role.kind} ${role.metadata.name} rules[${i}] has a wildcard: ${value}`);
        }
      }
    }
  }
});

Deno.test("deploy/rbac/ roles are exactly spec §12.2's", () => {
  const byName = new Map(roles().map((r) => [r.metadata.name, r]));
  assert.deepEqual(
    grants(byName.get("lws-manager-role")!.rules),
    table([
      [[""], ["nodes"], ["get", "list", "watch", "update", "patch"]],
      [[""], ["pods", "services"], ALL],
      [[""], ["pods/finalizers"], ["update"]],
      [[""], ["secrets"], ["get", "list", "update", "watch"]],
      [["", "events.k8s.io"], ["events"], ["create", "get", "list", "patch", "update", "watch"]],
      [["admissionregistration.k8s.io"], ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"], [
        "get",
        "list",
        "update",
        "watch",
      ]],
      [["apps"], ["controllerrevisions", "statefulsets"], ALL],
      [["apps"], ["controllerrevisions/finalizers", "statefulsets/finalizers"], ["update"]],
      [["apps"], ["controllerrevisions/status", "statefulsets/status"], ["get", "patch", "update"]],
      [["leaderworkerset.x-k8s.io"], ["leaderworkersets"], ALL],
      [["leaderworkerset.x-k8s.io"], ["leaderworkersets/finalizers"], ["update"]],
      [["leaderworkerset.x-k8s.io"], ["leaderworkersets/status"], ["get", "patch", "update"]],
    ]),
  );
  const election = byName.get("lws-leader-election-role")!;
  assert.equal(election.kind, "Role");
  assert.equal(election.metadata.namespace, "lws-system");
  assert.deepEqual(
    grants(election.rules),
    table([
      [[""], ["configmaps"], ["get", "list", "watch", "create", "update", "patch", "delete"]],
      [["coordination.k8s.io"], ["leases"], ["get", "list", "watch", "create", "update", "patch", "delete"]],
      [["", "events.k8s.io"], ["events"], ["create", "patch"]],
    ]),
  );
  assert.deepEqual(
    grants(byName.get("lws-proxy-role")!.rules),
    table([[["authentication.k8s.io"], ["tokenreviews"], ["create"]], [["authorization.k8s.io"], [
      "subjectaccessreviews",
    ], ["create"]]]),
  );
  assert.deepEqual(grants(byName.get("lws-metrics-reader")!.rules), ["url /metrics:get"]);
});

const RBAC_KINDS = new Set(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);

/** The RBAC objects of deploy/ (plus the empty webhook Secret), as kustomize renders them. */
async function rbacObjects(cluster: TestCluster): Promise<Record<string, unknown>[]> {
  const rendered = await cluster.kubectlOk(["kustomize", join(ROOT, "deploy")]);
  return parseAllDocuments(rendered)
    .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
    .filter((o) => RBAC_KINDS.has(o.kind) || (o.kind === "Secret" && o.metadata.name === "lws-webhook-server-cert"));
}

clusterTest("lws run with deploy/'s ServiceAccount token completes the sample scenarios", async (
  { t, cluster, namespace },
) => {
  const install = await lwsCommand(["install", "--kubeconfig", cluster.kubeconfig]);
  assert.equal(install.code, 0, install.stderr);
  const objects = await rbacObjects(cluster);
  await cluster.kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", "-"], {
    stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  });
  // The in-cluster webhook configurations, made unreachable (they match no namespace) so only the CA injection of
  // the certificate management is exercised.
  const { mutating, validating } = buildWebhookConfigurations({
    target: { service: { namespace: "lws-system", name: "lws-webhook-service" } },
    namespaceSelector: { matchLabels: { "lws-test.x-k8s.io/never": "true" } },
  });
  await cluster.kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", "-"], {
    stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: [mutating, validating] }),
  });
  const lease = `lws-rbac-${namespace.slice(-6)}`;
  const dir = await Deno.makeTempDir();
  try {
    const token = (await cluster.kubectlOk(["create", "token", "lws-controller-manager", "--duration=1h"], {
      namespace: "lws-system",
    })).trim();
    const kubeconfig = join(dir, "kubeconfig");
    await writeTokenKubeconfig(kubeconfig, cluster, token);

    await using _webhook = await ProductProcess.start(cluster, {
      namespace,
      name: "webhook (admin)",
      args: ["--no-controllers", "--no-dashboard", "--leader-elect=false", "--metrics-bind-address", "0"],
    });
    await using lws = await ProductProcess.start(cluster, {
      namespace,
      kubeconfig,
      name: "lws (service account)",
      args: [
        "--webhook-cert-mode",
        "internal",
        "--leader-elect-resource-namespace",
        "lws-system",
        "--leader-elect-resource-name",
        lease,
      ],
    });
    await lws.waitForLog("leading", (l) => l.msg === "Starting controllers");

    await t.step("certificates are managed in the Secret and injected", async () => {
      const secret = JSON.parse(
        await cluster.kubectlOk(["get", "secret", "lws-webhook-server-cert", "-o", "json"], {
          namespace: "lws-system",
        }),
      ) as { data?: Record<string, string> };
      assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"]);
      const bundle = (await cluster.kubectlOk([
        "get",
        "mutatingwebhookconfiguration",
        "lws-mutating-webhook-configuration",
        "-o",
        "jsonpath={.webhooks[0].clientConfig.caBundle}",
      ])).trim();
      assert.equal(bundle, secret.data!["ca.crt"]);
    });

    await t.step("create, scale, roll, recreate a group, delete", async () => {
      await cluster.kubectlOk([
        "apply",
        "-f",
        join(ROOT, "deploy/samples/minimal.yaml"),
        "-f",
        join(ROOT, "deploy/samples/unique-per-replica.yaml"),
      ], {
        namespace,
      });
      const available = async (name: string, replicas: number) => {
        const live = JSON.parse(await cluster.kubectlOk(["get", "lws", name, "-o", "json"], { namespace }));
        return live.status?.readyReplicas === replicas && live.status?.updatedReplicas === replicas &&
          live.status?.conditions?.some((c: { type: string; status: string }) =>
            c.type === "Available" && c.status === "True"
          );
      };
      const wait = (what: string, check: () => Promise<boolean>) =>
        eventually(what, check, { timeoutMs: 120_000, intervalMs: 500 }).catch((err) => {
          throw new Error(`${err.message}\n${lws.tail()}`);
        });
      await wait("minimal Available", () => available("minimal", 1));
      await wait("unique-per-replica Available", () => available("unique-per-replica", 2));
      await cluster.kubectlOk(["scale", "lws/minimal", "--replicas=2"], { namespace });
      await wait("minimal scaled to 2", () => available("minimal", 2));
      const patch = [{
        op: "replace",
        path: "/spec/leaderWorkerTemplate/workerTemplate/spec/containers/0/image",
        value: "nginx:1.28",
      }];
      await cluster.kubectlOk(["patch", "lws", "minimal", "--type=json", "-p", JSON.stringify(patch)], { namespace });
      await wait("minimal rolled out", async () => {
        const images = await cluster.kubectlOk([
          "get",
          "pods",
          "-l",
          "leaderworkerset.sigs.k8s.io/name=minimal",
          "-o",
          "jsonpath={.items[*].spec.containers[0].image}",
        ], { namespace });
        return images.trim().split(/\s+/).filter((i) => i === "nginx:1.28").length === 6 &&
          await available("minimal", 2);
      });
      const uid =
        (await cluster.kubectlOk(["get", "pod", "minimal-1", "-o", "jsonpath={.metadata.uid}"], { namespace }))
          .trim();
      // Label only: `cluster.restartContainers()` waits to see the restart, but the controller may have recreated the
      // group (a fresh pod of the same name) before it looks.
      await cluster.kubectlOk(["label", "pod", "minimal-1-2", `${RESTART_CONTAINERS_LABEL}=true`], { namespace });
      await wait("group 1 recreated", async () => {
        const now = await cluster.kubectl(["get", "pod", "minimal-1", "-o", "jsonpath={.metadata.uid}"], { namespace });
        return now.stdout.trim() !== "" && now.stdout.trim() !== uid && await available("minimal", 2);
      });
      await cluster.kubectlOk(["delete", "lws", "unique-per-replica", "--wait=false"], { namespace });
      await wait(
        "unique-per-replica's StatefulSets gone",
        async () =>
          (await cluster.kubectlOk([
            "get",
            "sts",
            "-l",
            "leaderworkerset.sigs.k8s.io/name=unique-per-replica",
            "-o",
            "name",
          ], {
            namespace,
          })).trim() === "",
      );
    });

    await t.step("/metrics authenticates and authorises with the service account's own roles", async () => {
      const { status, body } = await httpGet(lws.url("metrics"), token);
      assert.equal(status, 200, body);
      assert.match(body, /controller_runtime_reconcile_total\{controller="leaderworkerset",result="success"\} [1-9]/);
    });

    await t.step("nothing was forbidden", () => {
      const forbidden = lws.lines.filter((l) => /forbidden/i.test(l.raw));
      assert.deepEqual(forbidden.map((l) => l.raw), []);
    });

    const status = await lws.stop();
    assert.equal(status.code, 0, lws.tail());
  } finally {
    await Deno.remove(dir, { recursive: true });
    await removeLocalWebhooks(cluster, namespace);
    await cluster.kubectl([
      "delete",
      "mutatingwebhookconfiguration/lws-mutating-webhook-configuration",
      "validatingwebhookconfiguration/lws-validating-webhook-configuration",
      "--ignore-not-found",
    ]);
    await cluster.kubectl(["delete", "lease", lease, "--ignore-not-found"], { namespace: "lws-system" });
    await cluster.kubectl([
      "delete",
      "clusterrolebinding/lws-manager-rolebinding",
      "clusterrolebinding/lws-proxy-rolebinding",
      "clusterrolebinding/lws-metrics-reader-rolebinding",
      "clusterrole/lws-manager-role",
      "clusterrole/lws-proxy-role",
      "clusterrole/lws-metrics-reader",
      "--ignore-not-found",
    ]);
  }
});
