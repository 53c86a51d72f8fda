/**
 * Every sample of deploy/samples/, applied with kubectl into one namespace with the product running, becomes an
 * Available LWS with all its pods Running on the KWOK nodes.
 *
 * The samples' volume claims bind through the control plane's default StorageClass `standard`, and the KWOK nodes
 * are given `google.com/tpu` capacity (idempotently; harmless for other tests) so the TPU samples can schedule.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { clusterTest, type TestCluster } from "../cluster/harness.ts";
import {
  assertAvailableStatus,
  ensureTpuCapacity,
  podsOf,
  startProduct,
  waitAvailable,
  waitPodsRunning,
} from "./support/product.ts";

const samplesDir = join(import.meta.dirname!, "..", "..", "deploy", "samples");

function samples(): { file: string; lws: LeaderWorkerSet }[] {
  return [...Deno.readDirSync(samplesDir)]
    .filter((e) => e.isFile && /\.ya?ml$/.test(e.name))
    .map((e) => e.name)
    .sort()
    .map((file) => ({ file, lws: parse(Deno.readTextFileSync(join(samplesDir, file))) as LeaderWorkerSet }));
}

/**
 * Runs one sample in its own namespace with its own product: exclusive placement is exclusive against every LWS
 * group of the namespace (the anti-affinity selects any `group-key`), so samples sharing one namespace would block
 * each other, as they would upstream.
 */
async function runSample(cluster: TestCluster, file: string, lws: LeaderWorkerSet): Promise<number> {
  await using namespace = await cluster.freshNamespace(`sample-${lws.metadata.name}`);
  await using product = await startProduct(cluster, namespace.name);
  const started = Date.now();
  await cluster.kubectlOk(["apply", "-f", join(samplesDir, file)], { namespace: namespace.name });
  const name = lws.metadata.name!;
  const n = lws.spec.replicas ?? 1;
  const s = lws.spec.leaderWorkerTemplate.size ?? 1;
  assertAvailableStatus(await waitAvailable(product, name, { timeoutMs: 120_000 }));
  const elapsed = Date.now() - started;
  const pods = await waitPodsRunning(product, name, n * s);
  for (const pod of pods) assert.match(pod.spec?.nodeName ?? "", /^kwok-node-\d+$/, `${pod.metadata?.name}`);
  assert.equal((await podsOf(product, name)).length, n * s);
  await cluster.kubectlOk(["delete", "lws", name, "--wait=true", "--timeout=60s"], { namespace: namespace.name });
  return elapsed;
}

clusterTest("controllers: every sample becomes Available with all pods Running on KWOK nodes", async ({
  t,
  cluster,
}) => {
  await ensureTpuCapacity(cluster);
  const all = samples();
  const results = await Promise.allSettled(all.map(({ file, lws }) => runSample(cluster, file, lws)));
  for (const [i, { file, lws }] of all.entries()) {
    await t.step(file, () => {
      const result = results[i]!;
      if (result.status === "rejected") throw result.reason;
      const n = lws.spec.replicas ?? 1;
      const s = lws.spec.leaderWorkerTemplate.size ?? 1;
      console.log(`  ${file}: ${n} × ${s} Available ${(result.value / 1000).toFixed(1)} s after kubectl apply`);
    });
  }
});
