/**
 * Restart policies on the real control plane (spec §8.3), driven through KWOK stages: a worker container restart,
 * a leader container restart and a failed worker pod. With `RecreateGroupOnPodRestart` and
 * `RecreateGroupAfterStart` each failure recreates the group exactly once (one `RecreateGroup` event, one new leader
 * UID, new worker pods); with `None` nothing but the failed pod is replaced.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { RestartPolicyType } from "../../api/types.ts";
import {
  clusterTest,
  eventually,
  FAIL_POD_LABEL,
  RESTART_CONTAINERS_LABEL,
  type TestCluster,
} from "../cluster/harness.ts";
import {
  countEvents,
  eventsOf,
  kubectlApply,
  lwsManifest,
  podsOf,
  type Product,
  sleep,
  startProduct,
  waitAvailable,
  waitPodsRunning,
} from "./support/product.ts";

const SIZE = 3;

interface Failure {
  what: string;
  /** The pod that fails (group 0). */
  pod: (lws: string) => string;
  inject: (cluster: TestCluster, namespace: string, pod: string) => Promise<void>;
}

const FAILURES: Failure[] = [
  {
    what: "a worker container restarts",
    pod: (lws) => `${lws}-0-1`,
    inject: (cluster, ns, pod) => injectAndWait(cluster, ns, pod, RESTART_CONTAINERS_LABEL, restarted),
  },
  {
    what: "the leader container restarts",
    pod: (lws) => `${lws}-0`,
    inject: (cluster, ns, pod) => injectAndWait(cluster, ns, pod, RESTART_CONTAINERS_LABEL, restarted),
  },
  {
    what: "a worker pod fails",
    pod: (lws) => `${lws}-0-2`,
    inject: (cluster, ns, pod) => injectAndWait(cluster, ns, pod, FAIL_POD_LABEL, (p) => p.status?.phase === "Failed"),
  },
];

function restarted(pod: Pod): boolean {
  return (pod.status?.containerStatuses ?? []).some((c) => c.restartCount > 0);
}

/**
 * Labels the pod for a KWOK stage and waits until that pod (this UID) shows the effect or is gone. (The harness's
 * `failPod`/`restartContainers` wait for the effect on the pod *name*, which a group recreation — or the
 * StatefulSet controller replacing a Failed pod at once — can make unobservable.)
 */
async function injectAndWait(
  cluster: TestCluster,
  namespace: string,
  name: string,
  label: string,
  happened: (pod: Pod) => boolean,
): Promise<void> {
  const get = async () => {
    const result = await cluster.kubectl(["get", "pod", name, "-o", "json"], { namespace });
    return result.code === 0 ? JSON.parse(result.stdout) as Pod : undefined;
  };
  const uid = (await get())?.metadata?.uid;
  await cluster.kubectlOk(["label", "pod", name, `${label}=true`, "--overwrite"], { namespace });
  await eventually(`pod ${name} (${uid}) to react to ${label}`, async () => {
    const pod = await get();
    return pod === undefined || pod.metadata?.uid !== uid || happened(pod);
  }, { timeoutMs: 60_000, intervalMs: 100 });
}

function uidOf(pods: Pod[], name: string): string | undefined {
  return pods.find((p) => p.metadata?.name === name)?.metadata?.uid;
}

async function exercise(product: Product, policy: RestartPolicyType, name: string, step: Deno.TestContext["step"]) {
  const { cluster, namespace } = product;
  const recreates = policy !== "None";
  await waitAvailable(product, name);
  let expectedEvents = 0;
  for (const failure of FAILURES) {
    await step(`${policy}: ${failure.what}`, async () => {
      const before = await waitPodsRunning(product, name, SIZE);
      const leaderBefore = uidOf(before, `${name}-0`)!;
      const failing = failure.pod(name);
      const started = Date.now();
      await failure.inject(cluster, namespace, failing);
      if (recreates) {
        expectedEvents++;
        await eventually(`a new leader for ${name}`, async () => {
          const pods = await podsOf(product, name);
          const uid = uidOf(pods, `${name}-0`);
          return uid !== undefined && uid !== leaderBefore;
        }, { timeoutMs: 60_000 });
      }
      const lws = await waitAvailable(product, name);
      const after = await waitPodsRunning(product, name, SIZE);
      const recovered = Date.now() - started;
      // Nothing else happens: no second recreation for the same failure.
      await sleep(3_000);
      const settled = await waitPodsRunning(product, name, SIZE);
      assert.deepEqual(settled.map((p) => p.metadata?.uid), after.map((p) => p.metadata?.uid), "group stays put");
      const events = await eventsOf(product, name);
      assert.equal(countEvents(events, "RecreateGroup"), expectedEvents, JSON.stringify(events, null, 1));
      if (recreates) {
        assert.equal(
          countEvents(
            events,
            "RecreateGroup",
            `Worker pod ${failing} failed, deleted leader pod ${name}-0 to recreate group 0`,
          ),
          1,
        );
        for (const pod of before) {
          assert.notEqual(uidOf(after, pod.metadata!.name!), pod.metadata?.uid, `${pod.metadata?.name} recreated`);
        }
      } else {
        assert.equal(uidOf(after, `${name}-0`), leaderBefore, "leader kept");
        for (const pod of before) {
          const replaced = uidOf(after, pod.metadata!.name!) !== pod.metadata?.uid;
          const expectReplaced = failure.what === "a worker pod fails" && pod.metadata?.name === failing;
          assert.equal(replaced, expectReplaced, `${pod.metadata?.name} replaced: ${replaced}`);
        }
      }
      assert.equal(lws.status?.readyReplicas, 1);
      console.log(`  ${policy}, ${failure.what}: recovered in ${(recovered / 1000).toFixed(1)} s`);
    });
  }
}

for (const policy of ["RecreateGroupOnPodRestart", "RecreateGroupAfterStart", "None"] as const) {
  clusterTest(`controllers: restart policy ${policy}`, async ({ t, cluster, namespace }) => {
    await using product = await startProduct(cluster, namespace);
    const name = `restart-${policy.length}`;
    await kubectlApply(
      product,
      lwsManifest(name, { size: SIZE, spec: { leaderWorkerTemplate: { restartPolicy: policy } } }),
    );
    await exercise(product, policy, name, t.step.bind(t));
  });
}
