/**
 * deploy/ (kustomize): the API server accepts it (`kubectl apply --server-side --dry-run=server -k deploy/`), the
 * objects carry upstream's names (spec §12.1), the Deployment is hardened and runs the binary the way its CLI and
 * configuration parser accept, the webhook configurations are exactly what webhook/configurations.ts builds in
 * service mode, and the CRD is the generated one.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import type { Deployment } from "kubernetes-types/apps/v1.d.ts";
import type { Service } from "kubernetes-types/core/v1.d.ts";
import { decodeConfiguration, defaultConfiguration, parseDuration, validateConfiguration } from "../../config.ts";
import { main } from "../../cli/mod.ts";
import type { RunFlags } from "../../config.ts";
import { buildWebhookConfigurations } from "../../webhook/configurations.ts";
import { clusterTest, type TestCluster } from "../cluster/harness.ts";

const ROOT = join(import.meta.dirname!, "..", "..");

interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

async function render(cluster: TestCluster): Promise<Rendered[]> {
  const text = await cluster.kubectlOk(["kustomize", join(ROOT, "deploy")]);
  return parseAllDocuments(text).map((d) => d.toJS() as Rendered);
}

function find<T>(objects: Rendered[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind} ${name} is missing`);
  return found as unknown as T;
}

Deno.test("deploy/crd/ is the generated CRD of crds/", async () => {
  const name = "leaderworkersets.leaderworkerset.x-k8s.io.yaml";
  assert.deepEqual(
    parse(await Deno.readTextFile(join(ROOT, "deploy", "crd", name))),
    parse(await Deno.readTextFile(join(ROOT, "crds", name))),
    "deploy/crd/ is stale: cp crds/leaderworkersets.leaderworkerset.x-k8s.io.yaml deploy/crd/",
  );
});

clusterTest("kubectl apply --server-side --dry-run=server -k deploy/ succeeds", async ({ cluster }) => {
  // Namespaced objects of a dry run need their namespace to exist already.
  await cluster.kubectlOk(["apply", "-f", "-"], {
    stdin: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "lws-system" } }),
  });
  const out = await cluster.kubectlOk(["apply", "--server-side", "--dry-run=server", "-k", join(ROOT, "deploy")]);
  const lines = out.trim().split("\n");
  assert.equal(lines.length, (await render(cluster)).length, out);
  assert.ok(lines.every((l) => l.endsWith("serverside-applied (server dry run)")), out);
});

clusterTest("deploy/ renders upstream's object names, hardened and wired to the binary", async ({ t, cluster }) => {
  const objects = await render(cluster);
  await t.step("names (spec §12.1) and common labels", () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`).sort();
    assert.deepEqual(names, [
      "ClusterRole//lws-manager-role",
      "ClusterRole//lws-metrics-reader",
      "ClusterRole//lws-proxy-role",
      "ClusterRoleBinding//lws-manager-rolebinding",
      "ClusterRoleBinding//lws-metrics-reader-rolebinding",
      "ClusterRoleBinding//lws-proxy-rolebinding",
      "ConfigMap/lws-system/lws-manager-config",
      "CustomResourceDefinition//leaderworkersets.leaderworkerset.x-k8s.io",
      "Deployment/lws-system/lws-controller-manager",
      "MutatingWebhookConfiguration//lws-mutating-webhook-configuration",
      "Namespace//lws-system",
      "Role/lws-system/lws-leader-election-role",
      "RoleBinding/lws-system/lws-leader-election-rolebinding",
      "Secret/lws-system/lws-webhook-server-cert",
      "Service/lws-system/lws-controller-manager-metrics-service",
      "Service/lws-system/lws-dashboard-service",
      "Service/lws-system/lws-webhook-service",
      "ServiceAccount/lws-system/lws-controller-manager",
      "ValidatingWebhookConfiguration//lws-validating-webhook-configuration",
    ]);
    for (const o of objects) {
      assert.equal(o.metadata.labels?.["app.kubernetes.io/name"], "lws", `${o.kind} ${o.metadata.name}`);
      assert.equal(o.metadata.labels?.["app.kubernetes.io/instance"], "lws", `${o.kind} ${o.metadata.name}`);
    }
  });

  const deployment = find<Deployment>(objects, "Deployment", "lws-controller-manager");
  const pod = deployment.spec!.template.spec!;
  const manager = pod.containers.find((c) => c.name === "manager")!;

  await t.step("Deployment: 2 replicas, non-root, read-only, seccomp, no capabilities, resources, probes", () => {
    assert.equal(deployment.spec!.replicas, 2);
    assert.deepEqual(deployment.spec!.selector.matchLabels, { "control-plane": "controller-manager" });
    assert.equal(pod.serviceAccountName, "lws-controller-manager");
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
    assert.ok(manager, "container manager");
    assert.deepEqual(manager.command, ["/manager"]);
    assert.equal(manager.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(manager.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(manager.securityContext?.capabilities?.drop, ["ALL"]);
    for (const kind of ["requests", "limits"] as const) {
      assert.ok(manager.resources?.[kind]?.cpu && manager.resources[kind]!.memory, `resources.${kind}`);
    }
    assert.deepEqual(manager.livenessProbe?.httpGet, { path: "/healthz", port: 8081 });
    assert.deepEqual(manager.readinessProbe?.httpGet, { path: "/readyz", port: 8081 });
    const ports = Object.fromEntries((manager.ports ?? []).map((p) => [p.name, p.containerPort]));
    assert.deepEqual(ports, { "webhook-server": 9443, metrics: 8443, health: 8081, dashboard: 8082 });
    const mounts = Object.fromEntries((manager.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
    assert.equal(mounts["/controller_manager_config.yaml"], "manager-config");
    assert.equal(mounts["/tmp/k8s-webhook-server/serving-certs"], "cert");
  });

  await t.step("the binary accepts the Deployment's arguments and the ConfigMap's configuration", async () => {
    const args = manager.args ?? [];
    assert.ok(args.includes("--config=/controller_manager_config.yaml"), args.join(" "));
    const seen: RunFlags[] = [];
    let err = "";
    const code = await main(args, {
      io: { out: () => {}, err: (text) => (err += text) },
      run: (flags) => (seen.push(flags), Promise.resolve(0)),
    });
    assert.equal(code, 0, err);
    const shutdownMs = parseDuration(seen[0]!.shutdownTimeout ?? "8s")!;
    assert.ok(shutdownMs < (pod.terminationGracePeriodSeconds ?? 30) * 1000, "graceful stop ends before SIGKILL");
    const configMap = find<{ data: Record<string, string> }>(objects, "ConfigMap", "lws-manager-config");
    const input = decodeConfiguration(
      configMap.data["controller_manager_config.yaml"]!,
      "ConfigMap lws-manager-config",
    );
    const config = defaultConfiguration(input);
    assert.deepEqual(validateConfiguration(config), []);
    assert.equal(config.leaderElection.leaderElect, true);
    assert.equal(config.internalCertManagement.enable, true);
  });

  await t.step("Services: webhook 443 → 9443, metrics https 8443, dashboard 8082", () => {
    const port = (name: string) => find<Service>(objects, "Service", name).spec!.ports![0]!;
    assert.deepEqual([port("lws-webhook-service").port, port("lws-webhook-service").targetPort], [443, 9443]);
    const metrics = port("lws-controller-manager-metrics-service");
    assert.deepEqual([metrics.name, metrics.port, metrics.targetPort], ["https", 8443, 8443]);
    assert.deepEqual([port("lws-dashboard-service").port, port("lws-dashboard-service").targetPort], [8082, 8082]);
    for (const name of ["lws-webhook-service", "lws-controller-manager-metrics-service", "lws-dashboard-service"]) {
      assert.deepEqual(find<Service>(objects, "Service", name).spec!.selector, {
        "control-plane": "controller-manager",
      });
    }
  });

  await t.step("webhook configurations in service mode, as webhook/configurations.ts builds them", () => {
    const built = buildWebhookConfigurations({
      target: { service: { namespace: "lws-system", name: "lws-webhook-service" } },
      labels: { "app.kubernetes.io/name": "lws", "app.kubernetes.io/instance": "lws" },
    });
    assert.deepEqual(
      find(objects, "MutatingWebhookConfiguration", "lws-mutating-webhook-configuration"),
      built.mutating,
    );
    assert.deepEqual(
      find(objects, "ValidatingWebhookConfiguration", "lws-validating-webhook-configuration"),
      built.validating,
    );
  });
});

Deno.test("the Dockerfile builds with the Deno version the project pins and runs the binary as non-root", async () => {
  const dockerfile = await Deno.readTextFile(join(ROOT, "Dockerfile"));
  assert.match(dockerfile, new RegExp(`deno@${Deno.version.deno.replaceAll(".", "\\.")}\\b`));
  assert.match(dockerfile, /deno task compile --target "\$target"/);
  assert.match(dockerfile, /^USER 65532:65532$/m);
  assert.match(dockerfile, /^ENTRYPOINT \["\/manager"\]$/m);
});
