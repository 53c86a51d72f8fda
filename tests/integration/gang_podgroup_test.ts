/**
 * The PodGroups of the `volcano` gang-scheduling provider (spec §10), field by field, on the real control plane with
 * Volcano's PodGroup CRD installed (tests/fixtures/volcano/, Volcano v1.10.0) but no Volcano scheduler — the default
 * kube-scheduler places the pods, which does not matter here: this checks the objects LWS writes.
 *
 * - LeaderCreated: one PodGroup per group, named by every pod's `scheduling.k8s.io/group-name` annotation
 *   (`<lws>-<g>-<revision key>`), labels, inherited `volcano.sh/` annotations, queue, owner = leader pod, minMember
 *   = size, minResources = exact effective requests (init container, sidecar) of leader + (S − 1) workers;
 * - LeaderReady: minMember 1;
 * - a rolling update (template change) and a resize (size change): new PodGroups for the new revision, the old
 *   ones garbage-collected with the old leader pods;
 * - deleting the LWS removes its PodGroups (garbage collection through the leader pods).
 *
 * The CRD fixture is also what the Volcano real-scheduler tests install.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { PolicyRule } from "kubernetes-types/rbac/v1.d.ts";
import { parseAllDocuments } from "yaml";
import { decodeConfiguration, defaultConfiguration, validateConfiguration } from "../../config.ts";
import type { VolcanoPodGroup } from "../../controller/pod/gang.ts";
import { VOLCANO_POD_GROUPS } from "../../kube/resources.ts";
import { clusterTest, eventually, type TestCluster } from "../cluster/harness.ts";
import {
  kubectlApply,
  listObjects,
  lwsManifest,
  podsOf,
  type Product,
  revisionsOfLws,
  startProduct,
  waitAvailable,
} from "./support/product.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const GROUP_NAME = "scheduling.k8s.io/group-name";
const ROOT = join(import.meta.dirname!, "..", "..");
/** Volcano's PodGroup CRD (v1.10.0), shared with the Volcano scheduler tests. */
export const VOLCANO_PODGROUP_CRD = join(ROOT, "tests", "fixtures", "volcano", "scheduling.volcano.sh_podgroups.yaml");

/** Installs Volcano's PodGroup CRD (server-side apply, idempotent) and waits until it is Established. */
export async function installVolcanoPodGroupCrd(cluster: TestCluster): Promise<void> {
  await cluster.kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", VOLCANO_PODGROUP_CRD]);
  await cluster.kubectlOk([
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    "crd/podgroups.scheduling.volcano.sh",
  ]);
}

async function podGroupsOf(product: Product, lws: string): Promise<VolcanoPodGroup[]> {
  return (await listObjects<VolcanoPodGroup>(product, VOLCANO_POD_GROUPS, `${P}name=${lws}`))
    .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
}

/** The revision key every pod of the LWS carries, once they all carry the same one (and there are `count`). */
async function settledKey(product: Product, lws: string, count: number): Promise<string> {
  return await eventually(`${count} pods of ${lws} on one revision`, async () => {
    const pods = (await podsOf(product, lws)).filter((p) => !p.metadata?.deletionTimestamp);
    const keys = new Set(pods.map((p) => p.metadata?.labels?.[`${P}template-revision-hash`]));
    const revisions = await revisionsOfLws(product, lws);
    const latest = revisions.at(-1)?.metadata?.labels?.[`${P}template-revision-hash`];
    return pods.length === count && keys.size === 1 && keys.has(latest) ? latest : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 });
}

/** Waits until the PodGroups of the LWS are exactly `<lws>-<g>-<key>` for g < replicas, and returns them. */
async function waitPodGroups(product: Product, lws: string, replicas: number, key: string) {
  const want = Array.from({ length: replicas }, (_, g) => `${lws}-${g}-${key}`).sort();
  return await eventually(`PodGroups ${want.join(", ")}`, async () => {
    const groups = (await podGroupsOf(product, lws)).filter((g) => !g.metadata.deletionTimestamp);
    const names = groups.map((g) => g.metadata.name);
    return JSON.stringify(names) === JSON.stringify(want) ? groups : undefined;
  }, { timeoutMs: 120_000, intervalMs: 250 });
}

function assertPodGroup(
  pg: VolcanoPodGroup,
  expected: {
    lws: string;
    group: number;
    key: string;
    leader: Pod;
    minMember: number;
    minResources: Record<string, string>;
    annotations?: Record<string, string>;
    queue?: string;
  },
) {
  const name = `${expected.lws}-${expected.group}-${expected.key}`;
  assert.equal(pg.apiVersion, "scheduling.volcano.sh/v1beta1");
  assert.equal(pg.kind, "PodGroup");
  assert.equal(pg.metadata.name, name);
  assert.deepEqual(pg.metadata.labels, {
    [`${P}name`]: expected.lws,
    [`${P}group-index`]: String(expected.group),
    [`${P}template-revision-hash`]: expected.key,
  });
  assert.deepEqual(pg.metadata.annotations, expected.annotations, `${name} annotations`);
  assert.deepEqual(pg.metadata.ownerReferences, [{
    apiVersion: "v1",
    kind: "Pod",
    name: expected.leader.metadata?.name,
    uid: expected.leader.metadata?.uid,
    controller: true,
    blockOwnerDeletion: true,
  }]);
  assert.equal(pg.spec.minMember, expected.minMember, `${name} minMember`);
  assert.deepEqual(pg.spec.minResources, expected.minResources, `${name} minResources`);
  assert.equal(pg.spec.queue, expected.queue, `${name} queue`);
}

/** Every pod of the LWS names its group's PodGroup. */
async function assertPodAnnotations(product: Product, lws: string, key: string) {
  for (const pod of await podsOf(product, lws)) {
    const g = pod.metadata?.labels?.[`${P}group-index`];
    assert.equal(pod.metadata?.annotations?.[GROUP_NAME], `${lws}-${g}-${key}`, `${pod.metadata?.name}`);
  }
}

clusterTest(
  "gang volcano: PodGroups per group and revision, field by field, through rollout, resize and delete",
  async ({
    t,
    cluster,
    namespace,
  }) => {
    await installVolcanoPodGroupCrd(cluster);
    await using product = await startProduct(cluster, namespace, { gangProvider: "volcano" });

    const annotations = {
      "volcano.sh/preemptable": "false",
      "volcano.sh/task-topology": "x",
      "scheduling.volcano.sh/queue-name": "inference",
      "example.com/not-volcano": "kept off",
    };
    const manifest = lwsManifest("gang", {
      replicas: 2,
      size: 3,
      annotations,
      spec: {
        leaderWorkerTemplate: {
          leaderTemplate: {
            spec: {
              initContainers: [
                { name: "fetch", image: "busybox", resources: { requests: { cpu: "300m", memory: "64Mi" } } },
                {
                  name: "proxy",
                  image: "envoy",
                  restartPolicy: "Always",
                  resources: { requests: { cpu: "50m", memory: "32Mi" } },
                },
              ],
              containers: [{
                name: "leader",
                image: "nginx:1.27",
                resources: { requests: { cpu: "100m", memory: "1Gi" } },
              }],
            },
          },
          workerTemplate: {
            spec: {
              containers: [{
                name: "worker",
                image: "nginx:1.27",
                resources: { requests: { cpu: "0.1", memory: "0.5Gi" } },
              }],
            },
          },
        },
      },
    });
    // leader: cpu max(100m + 50m, 300m) = 300m; memory max(1Gi + 32Mi, 64Mi) = 1056Mi; + 2 workers × (100m, 512Mi)
    const minResources = { cpu: "500m", memory: "2080Mi" };
    const inherited = { "volcano.sh/preemptable": "false", "volcano.sh/task-topology": "x" };
    const queue = "inference";

    /** Waits for `replicas` groups of `pods` pods on a revision other than `previous`, then checks every PodGroup. */
    const settleAndCheck = async (
      o: { pods: number; previous?: string; minMember: number; minResources: Record<string, string> },
    ) => {
      const key = await eventually("a new revision", async () => {
        const k = await settledKey(product, "gang", o.pods);
        return k !== o.previous ? k : undefined;
      }, { timeoutMs: 180_000, intervalMs: 500 });
      await waitAvailable(product, "gang");
      const groups = await waitPodGroups(product, "gang", 2, key);
      const pods = await podsOf(product, "gang");
      for (const [g, pg] of groups.entries()) {
        const leader = pods.find((p) => p.metadata?.name === `gang-${g}`)!;
        const { minMember, minResources } = o;
        assertPodGroup(pg, {
          lws: "gang",
          group: g,
          key,
          leader,
          minMember,
          minResources,
          annotations: inherited,
          queue,
        });
      }
      await assertPodAnnotations(product, "gang", key);
      return key;
    };

    let key = "";
    await t.step("LeaderCreated: one PodGroup per group, spec §10's fields", async () => {
      await kubectlApply(product, manifest);
      key = await settleAndCheck({ pods: 6, minMember: 3, minResources });
    });

    const updated = structuredClone(manifest);
    updated.spec.leaderWorkerTemplate.workerTemplate.spec!.containers[0]!.image = "nginx:1.28";
    await t.step("rolling update: new PodGroups for the new revision, the old ones collected", async () => {
      await kubectlApply(product, updated);
      key = await settleAndCheck({ pods: 6, previous: key, minMember: 3, minResources });
    });

    await t.step("resize to 2: new PodGroups with minMember 2 and the smaller minResources", async () => {
      updated.spec.leaderWorkerTemplate.size = 2;
      await kubectlApply(product, updated);
      await settleAndCheck({ pods: 4, previous: key, minMember: 2, minResources: { cpu: "400m", memory: "1568Mi" } });
    });

    await t.step("LeaderReady: minMember 1; no volcano.sh/ annotations: none on the PodGroup, no queue", async () => {
      await kubectlApply(
        product,
        lwsManifest("ready", {
          replicas: 1,
          size: 2,
          spec: {
            startupPolicy: "LeaderReady",
            leaderWorkerTemplate: {
              workerTemplate: {
                spec: { containers: [{ name: "w", image: "nginx:1.27", resources: { requests: { cpu: "10m" } } }] },
              },
            },
          },
        }),
      );
      await waitAvailable(product, "ready");
      const readyKey = await settledKey(product, "ready", 2);
      const [pg] = await waitPodGroups(product, "ready", 1, readyKey);
      const leader = (await podsOf(product, "ready")).find((p) => p.metadata?.name === "ready-0")!;
      assertPodGroup(pg!, {
        lws: "ready",
        group: 0,
        key: readyKey,
        leader,
        minMember: 1,
        minResources: { cpu: "20m" },
      });
    });

    await t.step("deleting the LWS garbage-collects its PodGroups", async () => {
      await cluster.kubectlOk(["delete", "lws", "gang", "--wait=false"], { namespace });
      await eventually("the PodGroups of gang to be gone", async () => {
        return (await podGroupsOf(product, "gang")).length === 0;
      }, { timeoutMs: 120_000, intervalMs: 500 });
      assert.equal((await podGroupsOf(product, "ready")).length, 1, "the other LWS keeps its PodGroup");
    });
  },
);

clusterTest(
  "deploy/components/gang-*: the PodGroup rule and the provider, only in gang installs",
  async ({ t, cluster }) => {
    const tmp = await Deno.makeTempDir({ prefix: "lws-gang-overlay-" });
    try {
      const deploy = relative(tmp, join(ROOT, "deploy"));
      const render = async (component?: string) => {
        await Deno.writeTextFile(
          join(tmp, "kustomization.yaml"),
          JSON.stringify({
            resources: [deploy],
            ...(component ? { components: [`${deploy}/components/${component}`] } : {}),
          }),
        );
        return parseAllDocuments(await cluster.kubectlOk(["kustomize", tmp])).map((d) =>
          d.toJS() as { kind: string; metadata: { name: string }; rules?: PolicyRule[]; data?: Record<string, string> }
        );
      };
      const podGroupRules = (objects: Awaited<ReturnType<typeof render>>) =>
        objects.find((o) => o.kind === "ClusterRole" && o.metadata.name === "lws-manager-role")!.rules!
          .filter((r) => r.resources?.includes("podgroups"));
      const provider = (objects: Awaited<ReturnType<typeof render>>) => {
        const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "lws-manager-config")!;
        const config = defaultConfiguration(decodeConfiguration(cm.data!["controller_manager_config.yaml"]!, "cm"));
        assert.deepEqual(validateConfiguration(config), []);
        return config.gangSchedulingManagement?.schedulerProvider;
      };
      await t.step("plain install: no PodGroup rule, no provider", async () => {
        const objects = await render();
        assert.deepEqual(podGroupRules(objects), []);
        assert.equal(provider(objects), undefined);
      });
      for (
        const [component, group, name] of [
          ["gang-volcano", "scheduling.volcano.sh", "volcano"],
          ["gang-workload", "scheduling.k8s.io", "workload"],
        ] as const
      ) {
        await t.step(component, async () => {
          const objects = await render(component);
          assert.deepEqual(podGroupRules(objects), [{
            apiGroups: [group],
            resources: ["podgroups"],
            verbs: ["create", "get", "list", "watch"],
          }]);
          assert.equal(provider(objects), name);
        });
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
);
