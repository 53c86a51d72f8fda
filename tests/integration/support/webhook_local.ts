/**
 * Runs the webhook in-process in local mode against the test control plane: HTTPS on 127.0.0.1, URL-based
 * configurations with unique names, limited to one test namespace (so other tests sharing the control plane never
 * reach it), removed again when the scope ends — whatever the test's outcome, because with `failurePolicy: Fail` a
 * configuration pointing at a stopped server would block pods.
 *
 * @module
 */
import type { TestCluster } from "../../cluster/harness.ts";
import { eventually } from "../../cluster/harness.ts";
import { buildUserAgent, createClient, type KubeClient } from "../../../kube/client.ts";
import { loadKubeConfig } from "../../../kube/kubeconfig.ts";
import { createWebhookMetricsRecorder } from "../../../webhook/metrics.ts";
import type { WebhookMetricsRecorder } from "../../../webhook/metrics.ts";
import { removeWebhookConfigurations, type RunningWebhook, startWebhook } from "../../../webhook/mod.ts";

/** A webhook serving one test namespace; `await using` stops it and removes its configurations. */
export interface LocalWebhook extends AsyncDisposable {
  readonly webhook: RunningWebhook;
  readonly metrics: WebhookMetricsRecorder;
  readonly client: KubeClient;
  readonly mutatingName: string;
  readonly validatingName: string;
  /** Requests served on a webhook path so far. */
  requests(path: string): number;
}

/**
 * Starts the webhook for `namespace` and waits until the API server calls it.
 *
 * @param cluster The test cluster.
 * @param namespace The only namespace the webhooks apply to.
 * @param options `caPropagationDelayMs` for rotation tests; the gang-scheduling switches of the pod webhook.
 * @returns The running webhook.
 */
export async function startLocalWebhook(
  cluster: TestCluster,
  namespace: string,
  options: { caPropagationDelayMs?: number; gangScheduling?: boolean; schedulingGroup?: boolean } = {},
): Promise<LocalWebhook> {
  const client = createClient(await loadKubeConfig({ path: cluster.kubeconfig }), {
    qps: 50,
    burst: 100,
    userAgent: buildUserAgent({ version: "v0.1.0-webhook-test" }),
  });
  const id = namespace.slice(-12);
  const names = { mutatingName: `lws-test-${id}-mutating`, validatingName: `lws-test-${id}-validating` };
  const controller = new AbortController();
  const metrics = createWebhookMetricsRecorder();
  let webhook: RunningWebhook | undefined;
  const stop = async () => {
    controller.abort();
    try {
      await webhook?.finished;
    } finally {
      await removeWebhookConfigurations(client, names).catch(() => {});
      client.close();
    }
  };
  try {
    webhook = await startWebhook({
      port: 0,
      hostname: "127.0.0.1",
      certificates: {
        mode: "local",
        client,
        ...names,
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
        unregisterOnStop: true,
      },
      metrics,
      signal: controller.signal,
      caPropagationDelayMs: options.caPropagationDelayMs,
      gangScheduling: options.gangScheduling,
      schedulingGroup: options.schedulingGroup,
    });
    await webhook.published;
    // The API server learns about new configurations through its informer: wait until our webhook is called.
    await eventually("the API server to call the local webhook", async () => {
      const before = requestsOn(metrics, "/validate-leaderworkerset-x-k8s-io-v1-leaderworkerset");
      await cluster.kubectl(["apply", "--dry-run=server", "-f", "-"], {
        namespace,
        stdin: JSON.stringify(probeLeaderWorkerSet()),
      });
      return requestsOn(metrics, "/validate-leaderworkerset-x-k8s-io-v1-leaderworkerset") > before;
    }, { timeoutMs: 30_000, intervalMs: 200 });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    webhook,
    metrics,
    client,
    ...names,
    requests: (path) => requestsOn(metrics, path),
    [Symbol.asyncDispose]: stop,
  };
}

function requestsOn(metrics: WebhookMetricsRecorder, path: string): number {
  return Object.entries(metrics.snapshot().requests)
    .filter(([key]) => key.startsWith(`${path} `))
    .reduce((sum, [, count]) => sum + count, 0);
}

function probeLeaderWorkerSet() {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: "webhook-probe" },
    spec: { leaderWorkerTemplate: { workerTemplate: { spec: { containers: [{ name: "c", image: "nginx" }] } } } },
  };
}
