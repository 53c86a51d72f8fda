/**
 * The product as users run it — `deno task lws -- install`, then `deno task lws -- run` as a child process with
 * the binary's exact permissions — against the real control plane: the samples of deploy/samples/ become Available
 * (those that can share a namespace), a rolling update finishes, a group is recreated after a container restart, and `/metrics` (HTTPS,
 * TokenReview + SubjectAccessReview) exposes every metric family of issue 8 with sane values. Also measures the
 * start-up time to ready and the idle resident memory.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { clusterTest, eventually, RESTART_CONTAINERS_LABEL, type TestCluster } from "../cluster/harness.ts";
import { ensureTpuCapacity } from "./support/product.ts";
import { httpGet, lwsCommand, parseMetrics, ProductProcess } from "./support/product_process.ts";

const ROOT = join(import.meta.dirname!, "..", "..");
const SAMPLES = join(ROOT, "deploy", "samples");

/**
 * The samples that can share one namespace: exclusive placement (group or subgroup) keeps every other group of the
 * namespace off its topology domains, so those samples need a namespace of their own on 8 fake nodes. They are
 * covered by tests/integration/controller_samples_test.ts; everything else runs here, through the binary.
 */
function samples(): { file: string; lws: LeaderWorkerSet }[] {
  return [...Deno.readDirSync(SAMPLES)]
    .filter((e) => e.isFile && /\.ya?ml$/.test(e.name))
    .map((e) => e.name)
    .sort()
    .map((file) => ({ file, lws: parse(Deno.readTextFileSync(join(SAMPLES, file))) as LeaderWorkerSet }))
    .filter(({ lws }) =>
      !Object.keys(lws.metadata.annotations ?? {}).some((key) => key.endsWith("exclusive-topology"))
    );
}

/** A token allowed to `get /metrics` (ServiceAccount + ClusterRole + binding); `dispose` removes the cluster objects. */
async function metricsReader(
  cluster: TestCluster,
  namespace: string,
): Promise<{ token: string; dispose(): Promise<void> }> {
  const name = `lws-test-metrics-${namespace}`;
  await cluster.kubectlOk(["create", "serviceaccount", "scraper"], { namespace });
  await cluster.kubectlOk(["create", "clusterrole", name, "--verb=get", "--non-resource-url=/metrics"]);
  await cluster.kubectlOk([
    "create",
    "clusterrolebinding",
    name,
    `--clusterrole=${name}`,
    `--serviceaccount=${namespace}:scraper`,
  ]);
  const token = (await cluster.kubectlOk(["create", "token", "scraper", "--duration=1h"], { namespace })).trim();
  return {
    token,
    dispose: async () => {
      await cluster.kubectl(["delete", `clusterrolebinding/${name}`, `clusterrole/${name}`, "--ignore-not-found"]);
    },
  };
}

async function getLws(cluster: TestCluster, namespace: string, name: string): Promise<LeaderWorkerSet> {
  return JSON.parse(await cluster.kubectlOk(["get", "lws", name, "-o", "json"], { namespace })) as LeaderWorkerSet;
}

function condition(lws: LeaderWorkerSet, type: string): string | undefined {
  return lws.status?.conditions?.find((c) => c.type === type)?.status;
}

/** Waits like `eventually`, adding the namespace's LWS and pods to a timeout error. */
async function waitInNamespace<T>(
  cluster: TestCluster,
  namespace: string,
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  try {
    return await eventually(what, check, { timeoutMs, intervalMs: 500 });
  } catch (err) {
    const state = await cluster.kubectl(["get", "lws,sts,pods", "-o", "wide"], { namespace });
    throw new Error(`${(err as Error).message}\n${state.stdout}`);
  }
}

clusterTest("lws run: samples become Available, a rollout and a group recreation are measured in /metrics", async (
  { t, cluster, namespace },
) => {
  const install = await lwsCommand(["install", "--kubeconfig", cluster.kubeconfig]);
  assert.equal(install.code, 0, install.stderr);
  assert.match(install.stdout, /leaderworkersets\.leaderworkerset\.x-k8s\.io condition met \(Established\)/);

  const all = samples();
  await ensureTpuCapacity(cluster);
  const reader = await metricsReader(cluster, namespace);
  try {
    await using lws = await ProductProcess.start(cluster, { namespace });
    const ready = lws.find((l) => l.msg.startsWith("Ready in"))!;
    console.log(
      `lws run: ready ${ready.fields.startupMs} ms after start (process spawned ${
        ready.time - lws.spawnedAt
      } ms before ready), resident memory ${ready.fields.rssMiB} MiB`,
    );

    await t.step("the text log carries upstream's metrics line", () => {
      const line = lws.find((l) => l.logger === "controller-runtime.metrics" && l.msg === "Serving metrics server");
      assert.ok(line, lws.tail());
      assert.match(
        line.raw,
        /\tINFO\tcontroller-runtime\.metrics\tServing metrics server\t\{"bindAddress":"127\.0\.0\.1:\d+","secure":true\}$/,
      );
    });

    await t.step("every sample becomes Available", async () => {
      const applied = Date.now();
      await cluster.kubectlOk(["apply", ...all.flatMap(({ file }) => ["-f", join(SAMPLES, file)])], { namespace });
      for (const { lws: sample } of all) {
        const name = sample.metadata.name!;
        const live = await waitInNamespace(cluster, namespace, `${name} Available`, async () => {
          const current = await getLws(cluster, namespace, name);
          return condition(current, "Available") === "True" ? current : undefined;
        }, 180_000);
        assert.equal(live.status?.readyReplicas, sample.spec.replicas ?? 1, name);
      }
      console.log(`${all.length} samples Available ${Date.now() - applied} ms after kubectl apply`);
    });

    await t.step("a rolling update of minimal finishes", async () => {
      const patch = [{
        op: "replace",
        path: "/spec/leaderWorkerTemplate/workerTemplate/spec/containers/0/image",
        value: "nginx:1.28",
      }];
      await cluster.kubectlOk(["patch", "lws", "minimal", "--type=json", "-p", JSON.stringify(patch)], { namespace });
      await waitInNamespace(cluster, namespace, "minimal rolled out", async () => {
        const live = await getLws(cluster, namespace, "minimal");
        const pods = JSON.parse(
          await cluster.kubectlOk(["get", "pods", "-l", "leaderworkerset.sigs.k8s.io/name=minimal", "-o", "json"], {
            namespace,
          }),
        ) as { items: { spec: { containers: { image: string }[] }; status?: { phase?: string } }[] };
        return condition(live, "UpdateInProgress") === "False" && condition(live, "Available") === "True" &&
          live.status?.updatedReplicas === 1 && pods.items.length === 3 &&
          pods.items.every((p) => p.spec.containers[0]!.image === "nginx:1.28" && p.status?.phase === "Running");
      }, 180_000);
    });

    await t.step("a container restart recreates the group", async () => {
      const leaderUid = (await cluster.kubectlOk(["get", "pod", "minimal-0", "-o", "jsonpath={.metadata.uid}"], {
        namespace,
      })).trim();
      // Label only: `cluster.restartContainers()` waits to see the restart, but the controller may have recreated the
      // group (a fresh pod of the same name) before it looks.
      await cluster.kubectlOk(["label", "pod", "minimal-0-1", `${RESTART_CONTAINERS_LABEL}=true`], { namespace });
      await waitInNamespace(cluster, namespace, "a new leader pod minimal-0, Available again", async () => {
        const uid =
          (await cluster.kubectl(["get", "pod", "minimal-0", "-o", "jsonpath={.metadata.uid}"], { namespace }))
            .stdout.trim();
        const live = await getLws(cluster, namespace, "minimal");
        return uid !== "" && uid !== leaderUid && condition(live, "Available") === "True";
      }, 120_000);
    });

    await t.step("/metrics refuses requests without an allowed token", async () => {
      assert.equal((await httpGet(lws.url("metrics"))).status, 401);
      assert.equal((await httpGet(lws.url("metrics"), "not-a-token")).status, 401);
      const other = (await cluster.kubectlOk(["create", "token", "default", "--duration=10m"], { namespace })).trim();
      assert.equal((await httpGet(lws.url("metrics"), other)).status, 403);
    });

    await t.step("/metrics exposes every family with sane values", async () => {
      const { status, body } = await httpGet(lws.url("metrics"), reader.token);
      assert.equal(status, 200, body);
      const m = parseMetrics(body);
      const value = (name: string, labels: Record<string, string> = {}) => {
        const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
        let total: number | undefined;
        for (const [key, v] of m) {
          const [metric, rest = ""] = key.split("{");
          if (metric === name && want.every((w) => rest.includes(w))) total = (total ?? 0) + v;
        }
        return total;
      };
      const positive = (name: string, labels: Record<string, string> = {}) => {
        const v = value(name, labels);
        assert.ok(v !== undefined && v > 0, `${name}${JSON.stringify(labels)} = ${v}`);
        return v;
      };
      const present = (name: string, labels: Record<string, string> = {}) => {
        const v = value(name, labels);
        assert.ok(v !== undefined, `${name}${JSON.stringify(labels)} is missing`);
        return v;
      };
      for (const controller of ["leaderworkerset", "pod"]) {
        positive("controller_runtime_reconcile_total", { controller, result: "success" });
        present("controller_runtime_reconcile_errors_total", { controller });
        positive("controller_runtime_reconcile_time_seconds_count", { controller });
        present("workqueue_depth", { name: controller });
        positive("workqueue_adds_total", { name: controller });
        positive("workqueue_queue_duration_seconds_count", { name: controller });
        positive("workqueue_work_duration_seconds_count", { name: controller });
        present("workqueue_retries_total", { name: controller });
        present("controller_runtime_max_concurrent_reconciles", { controller });
      }
      for (
        const webhook of [
          "/mutate-leaderworkerset-x-k8s-io-v1-leaderworkerset",
          "/validate-leaderworkerset-x-k8s-io-v1-leaderworkerset",
          "/mutate--v1-pod",
          "/validate--v1-pod",
        ]
      ) {
        positive("controller_runtime_webhook_requests_total", { webhook, code: "200" });
        assert.equal(value("controller_runtime_webhook_requests_total", { webhook, code: "500" }), 0, webhook);
        assert.equal(value("controller_runtime_webhook_requests_in_flight", { webhook }), 0, webhook);
        positive("controller_runtime_webhook_latency_seconds_count", { webhook });
      }
      positive("rest_client_requests_total", { code: "200", method: "GET" });
      positive("rest_client_requests_total", { method: "PATCH" });
      positive("rest_client_request_duration_seconds_count");
      present("lws_watch_relists_total", { resource: "core/v1/pods" });
      positive("lws_cache_synced", { resource: "leaderworkerset.x-k8s.io/v1/leaderworkersets" });
      positive("lws_cache_objects", { resource: "core/v1/pods" });
      assert.equal(value("leader_election_master_status", { name: "b8b2488c.x-k8s.io" }), 1);
      for (const { lws: sample } of all) {
        const name = sample.metadata.name!;
        const desired = sample.spec.replicas ?? 1;
        assert.equal(value("lws_groups_desired", { namespace, name }), desired, name);
        assert.equal(value("lws_groups_ready", { namespace, name }), desired, name);
      }
      positive("lws_rollout_duration_seconds_count");
      const groups = positive("lws_group_ready_duration_seconds_count");
      assert.ok(groups >= all.length, `group start times observed: ${groups}`);
      const sum = value("lws_group_ready_duration_seconds_sum")!;
      assert.ok(sum / groups < 120, `mean group start time ${sum / groups} s`);
      assert.equal(
        value("lws_group_recreations_total", { namespace, name: "minimal", reason: "ContainerRestarted" }),
        1,
      );
      positive("process_resident_memory_bytes");
      positive("process_cpu_seconds_total");
      console.log(
        `idle-ish after the scenario: resident ${
          (value("process_resident_memory_bytes")! / 2 ** 20).toFixed(1)
        } MiB, heap ${(value("deno_heap_used_bytes")! / 2 ** 20).toFixed(1)} MiB, CPU ${
          value("process_cpu_seconds_total")!.toFixed(2)
        } s, ${value("rest_client_requests_total")} API requests`,
      );
    });

    await t.step("a graceful stop removes the webhook configurations and exits 0", async () => {
      const status = await lws.stop();
      assert.equal(status.code, 0, lws.tail());
      const left = await cluster.kubectl([
        "get",
        `mutatingwebhookconfiguration/lws-mutating-webhook-configuration-${namespace}`,
      ]);
      assert.notEqual(left.code, 0, "the mutating configuration is gone");
      assert.ok(
        lws.find((l) => l.msg === "Released lease lws-system/b8b2488c.x-k8s.io" || l.msg.startsWith("Released lease")),
      );
      const lwsCount = (await cluster.kubectlOk(["get", "lws", "-o", "name"], { namespace })).trim().split("\n").length;
      assert.equal(lwsCount, all.length, "nothing the user created is touched");
    });
  } finally {
    await reader.dispose();
    await cluster.kubectlOk(["delete", "lws", "--all", "--wait=false"], { namespace }).catch(() => {});
  }
});
