/**
 * Leader election of the product, with separate `lws run` processes and upstream's timings (lease 15 s, renew
 * deadline 10 s, retry 2 s): only the leader reconciles; a leader killed with SIGKILL is replaced once its lease
 * expires and the new leader reconciles a change made meanwhile; a leader stopped with SIGTERM releases the lease
 * and is replaced within seconds.
 *
 * Topology: one process serves the webhook (`--no-controllers`), the candidates run the controllers only
 * (`--no-webhook`): a local-mode webhook registration belongs to one process (its CA lives in memory), so a
 * candidate's death must not take admission with it. In-cluster every replica serves the webhook behind the Service.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { clusterTest, eventually, type TestCluster } from "../cluster/harness.ts";
import { type LogLine, lwsCommand, ProductProcess } from "./support/product_process.ts";

const LEASE_MS = 15_000;
const RETRY_MS = 2_000;
/** client-go's acquire retries are jittered up to 1 + 1.2 × the retry period. */
const MAX_RETRY_MS = RETRY_MS * 2.2;

const isStarting = (l: LogLine) => l.logger === "lws.run" && l.msg === "Starting controllers";
const isCampaigning = (l: LogLine) => l.logger === "lws.run" && l.msg.startsWith("Campaigning for lease");

const candidateArgs = ["--no-webhook", "--no-dashboard", "--metrics-bind-address", "0"];

async function getJson<T>(cluster: TestCluster, namespace: string, what: string): Promise<T> {
  return JSON.parse(await cluster.kubectlOk(["get", what, "-o", "json"], { namespace })) as T;
}

async function available(cluster: TestCluster, namespace: string, replicas: number): Promise<boolean> {
  const lws = await getJson<LeaderWorkerSet>(cluster, namespace, "lws/minimal");
  return lws.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") === true &&
    lws.status?.readyReplicas === replicas;
}

async function scale(cluster: TestCluster, namespace: string, replicas: number): Promise<void> {
  await cluster.kubectlOk(["scale", "lws/minimal", `--replicas=${replicas}`], { namespace });
}

/** Resolves with the time the leader StatefulSet first asks for `replicas`. */
function stsReplicas(cluster: TestCluster, namespace: string, replicas: number, timeoutMs: number): Promise<number> {
  return eventually(`leader StatefulSet minimal with ${replicas} replicas`, async () => {
    const sts = await getJson<StatefulSet>(cluster, namespace, "sts/minimal").catch(() => undefined);
    return sts?.spec?.replicas === replicas ? Date.now() : undefined;
  }, { timeoutMs, intervalMs: 100 });
}

clusterTest("lws run: a killed leader is replaced within the lease, a stopped one within seconds", async (
  { t, cluster, namespace },
) => {
  const install = await lwsCommand(["install", "--kubeconfig", cluster.kubeconfig]);
  assert.equal(install.code, 0, install.stderr);

  await using _webhook = await ProductProcess.start(cluster, {
    namespace,
    name: "webhook",
    args: ["--no-controllers", "--no-dashboard", "--leader-elect=false", "--metrics-bind-address", "0"],
  });
  const a = await ProductProcess.start(cluster, { namespace, name: "candidate-a", args: candidateArgs });
  await using _a = a;
  await a.waitForLog("candidate-a leads", isStarting, { timeoutMs: 30_000 });
  const b = await ProductProcess.start(cluster, { namespace, name: "candidate-b", args: candidateArgs });
  await using _b = b;
  await b.waitForLog("candidate-b campaigns", isCampaigning);

  await t.step("only the leader reconciles", async () => {
    await cluster.kubectlOk(["apply", "-f", "deploy/samples/minimal.yaml"], { namespace });
    await eventually("minimal Available", () => available(cluster, namespace, 1), { timeoutMs: 60_000 });
    assert.equal(b.find(isStarting), undefined, `candidate-b must not run controllers\n${b.tail()}`);
  });

  await t.step("SIGKILL: the other candidate takes over once the lease expires and reconciles", async () => {
    const killed = Date.now();
    a.kill("SIGKILL");
    await a.status;
    await scale(cluster, namespace, 2);
    const started = await b.waitForLog("candidate-b leads", isStarting, { timeoutMs: 60_000 });
    const reconciled = await stsReplicas(cluster, namespace, 2, 30_000);
    const takeover = started.time - killed;
    console.log(
      `SIGKILL: candidate-b leads ${takeover} ms after the kill (lease ${LEASE_MS} ms), reconciles the scale-up ${
        reconciled - killed
      } ms after it`,
    );
    assert.ok(takeover <= LEASE_MS + 2 * MAX_RETRY_MS, `takeover after ${takeover} ms`);
    assert.ok(reconciled - started.time < 10_000, `reconciled ${reconciled - started.time} ms after taking over`);
    await eventually("minimal Available with 2 groups", () => available(cluster, namespace, 2), { timeoutMs: 60_000 });
  });

  await t.step("SIGTERM: the leader releases the lease and a standby takes over within seconds", async () => {
    await using c = await ProductProcess.start(cluster, { namespace, name: "candidate-c", args: candidateArgs });
    await c.waitForLog("candidate-c campaigns", isCampaigning);
    const stopped = Date.now();
    b.kill("SIGTERM");
    const status = await b.status;
    assert.equal(status.code, 0, b.tail());
    assert.ok(b.find((l) => l.msg.startsWith("Released lease")), b.tail());
    await scale(cluster, namespace, 3);
    const started = await c.waitForLog("candidate-c leads", isStarting, { timeoutMs: 30_000 });
    const reconciled = await stsReplicas(cluster, namespace, 3, 30_000);
    const handover = started.time - stopped;
    console.log(
      `SIGTERM: candidate-b stopped in ${b.lines.at(-1)!.time - stopped} ms; candidate-c leads ${handover} ms after ` +
        `the signal and reconciles ${reconciled - stopped} ms after it`,
    );
    assert.ok(handover <= 2 * MAX_RETRY_MS + 2_000, `handover after ${handover} ms`);
    await eventually("minimal Available with 3 groups", () => available(cluster, namespace, 3), { timeoutMs: 60_000 });
  });
});
