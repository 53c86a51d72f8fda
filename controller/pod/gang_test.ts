import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { PodSpecWithResources } from "../../api/pod_requests.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import {
  desiredSchedulingPodGroup,
  desiredVolcanoPodGroup,
  gangMinMember,
  gangMinResources,
  gangProvider,
  podGroupNameOf,
  podGroupNotServedMessage,
  SCHEDULER_PROVIDER_NAMES,
} from "./gang.ts";

const P = "leaderworkerset.sigs.k8s.io/";

function lws(edit: (l: LeaderWorkerSet) => void = () => {}): LeaderWorkerSet {
  const l: LeaderWorkerSet = {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: "infer", namespace: "ns", uid: "lws-uid" },
    spec: {
      replicas: 2,
      leaderWorkerTemplate: {
        size: 4,
        workerTemplate: {
          spec: { containers: [{ name: "w", resources: { requests: { cpu: "1", "google.com/tpu": "4" } } }] },
        },
      },
    },
  };
  edit(l);
  return l;
}

const LABELS = { [`${P}name`]: "infer", [`${P}group-index`]: "1", [`${P}template-revision-hash`]: "abc12345" };

const LEADER: Pod = {
  metadata: {
    name: "infer-1",
    namespace: "ns",
    uid: "leader-uid",
    labels: LABELS,
    annotations: { "scheduling.k8s.io/group-name": "infer-1-abc12345" },
  },
};

const OWNER = {
  apiVersion: "v1",
  kind: "Pod",
  name: "infer-1",
  uid: "leader-uid",
  controller: true,
  blockOwnerDeletion: true,
};

/** What both providers' PodGroups carry in metadata. */
const METADATA = { name: "infer-1-abc12345", namespace: "ns", labels: LABELS, ownerReferences: [OWNER] };

Deno.test("desiredVolcanoPodGroup() is spec §10's table", async (t) => {
  await t.step("defaults: no annotations, no queue", () => {
    assert.deepEqual(desiredVolcanoPodGroup(LEADER, lws()), {
      apiVersion: "scheduling.volcano.sh/v1beta1",
      kind: "PodGroup",
      metadata: METADATA,
      spec: { minMember: 4, minResources: { cpu: "4", "google.com/tpu": "16" } },
    });
  });
  await t.step("volcano.sh/ annotations are inherited, the queue annotation becomes spec.queue", () => {
    const pg = desiredVolcanoPodGroup(
      LEADER,
      lws((l) => {
        l.metadata.annotations = {
          "volcano.sh/task-spec": "x",
          "volcano.sh/preemptable": "false",
          "scheduling.volcano.sh/queue-name": "q1",
          "other.io/a": "b",
        };
      }),
    );
    assert.deepEqual(pg.metadata.annotations, { "volcano.sh/task-spec": "x", "volcano.sh/preemptable": "false" });
    assert.equal(pg.spec.queue, "q1");
  });
  await t.step("LeaderReady: minMember 1, minResources still the whole group", () => {
    const pg = desiredVolcanoPodGroup(LEADER, lws((l) => (l.spec.startupPolicy = "LeaderReady")));
    assert.equal(pg.spec.minMember, 1);
    assert.deepEqual(pg.spec.minResources, { cpu: "4", "google.com/tpu": "16" });
  });
});

Deno.test("gangMinResources() is leader + (S − 1) × worker", async (t) => {
  await t.step("leader template with init, sidecar, pod-level resources and overhead", () => {
    const l = lws((l) => {
      l.spec.leaderWorkerTemplate.size = 3;
      l.spec.leaderWorkerTemplate.leaderTemplate = {
        spec: {
          initContainers: [
            { name: "fetch", resources: { requests: { cpu: "6", memory: "1Gi" } } },
            { name: "proxy", restartPolicy: "Always", resources: { requests: { cpu: "250m", memory: "64Mi" } } },
          ],
          containers: [{ name: "l", resources: { requests: { cpu: "500m", memory: "2Gi" } } }],
          overhead: { cpu: "100m" },
        },
      };
      // Pod-level requests on the worker replace its containers' cpu and memory.
      (l.spec.leaderWorkerTemplate.workerTemplate.spec as PodSpecWithResources).resources = {
        requests: { cpu: "2", memory: "8Gi" },
      };
    });
    // leader: cpu max(0.5 + 0.25, 6) + 0.1 = 6.1; memory max(2Gi + 64Mi, 1Gi) = 2112Mi
    // workers: 2 × (cpu 2, memory 8Gi, tpu 4)
    assert.deepEqual(gangMinResources(l), { cpu: "10100m", "google.com/tpu": "8", memory: "18496Mi" });
  });
  await t.step("size 1: the leader (the worker template without a leader template)", () => {
    assert.deepEqual(gangMinResources(lws((l) => (l.spec.leaderWorkerTemplate.size = 1))), {
      cpu: "1",
      "google.com/tpu": "4",
    });
  });
  await t.step("nothing requested: empty", () => {
    const l = lws((l) => (l.spec.leaderWorkerTemplate.workerTemplate.spec = { containers: [{ name: "w" }] }));
    assert.deepEqual(gangMinResources(l), {});
  });
  await t.step("minMember is the size", () => assert.equal(gangMinMember(lws()), 4));
});

Deno.test("desiredSchedulingPodGroup() is a Workload API gang of the group", () => {
  assert.deepEqual(desiredSchedulingPodGroup(LEADER, lws()), {
    apiVersion: "scheduling.k8s.io/v1beta1",
    kind: "PodGroup",
    metadata: METADATA,
    spec: { schedulingPolicy: { gang: { minCount: 4 } } },
  });
});

Deno.test("gangProvider() knows volcano and workload", () => {
  assert.deepEqual(SCHEDULER_PROVIDER_NAMES, ["volcano", "workload"]);
  assert.equal(gangProvider("volcano")?.resource.group, "scheduling.volcano.sh");
  assert.equal(gangProvider("workload")?.resource.group, "scheduling.k8s.io");
  assert.equal(gangProvider("kueue"), undefined);
  assert.equal(gangProvider("toString"), undefined);
  assert.equal(gangProvider(undefined), undefined);
  assert.match(
    podGroupNotServedMessage(gangProvider("workload")!, "a-0-x"),
    /^Cannot create PodGroup a-0-x: scheduling\.k8s\.io\/v1beta1 podgroups is not served .*GenericWorkload.*runtime-config=scheduling\.k8s\.io\/v1beta1=true/,
  );
});

Deno.test("podGroupNameOf() reads the group-name annotation", () => {
  assert.equal(podGroupNameOf(LEADER), "infer-1-abc12345");
  assert.equal(podGroupNameOf({ metadata: { annotations: { "scheduling.k8s.io/group-name": "" } } }), undefined);
  assert.equal(podGroupNameOf({}), undefined);
});
