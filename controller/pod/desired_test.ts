import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import {
  desiredPerReplicaService,
  desiredWorkerStatefulSet,
  podIdentity,
  podReconcilePlan,
  previousWorkerPods,
  workerStatefulSetCreatedEvent,
  workerStatefulSetFailedEvent,
} from "./desired.ts";

const GROUP_KEY = "0123456789abcdef0123456789abcdef01234567";
const OWNER = {
  apiVersion: "v1",
  kind: "Pod",
  name: "test-1",
  uid: "leader-uid",
  controller: true,
  blockOwnerDeletion: true,
};

function lws(patch: (l: LeaderWorkerSet) => void = () => {}): LeaderWorkerSet {
  const l: LeaderWorkerSet = {
    metadata: { name: "test", namespace: "ns", uid: "lws-uid", generation: 1 },
    spec: {
      replicas: 2,
      leaderWorkerTemplate: {
        size: 3,
        restartPolicy: "RecreateGroupOnPodRestart",
        workerTemplate: {
          metadata: { labels: { app: "w" } },
          spec: { containers: [{ name: "w", image: "worker" }], nodeSelector: { pool: "a" } },
        },
      },
      startupPolicy: "LeaderCreated",
      networkConfig: { subdomainPolicy: "Shared" },
    },
  };
  patch(l);
  return l;
}

function leader(patch: (p: Pod) => void = () => {}): Pod {
  const p: Pod = {
    metadata: {
      name: "test-1",
      namespace: "ns",
      uid: "leader-uid",
      labels: {
        "leaderworkerset.sigs.k8s.io/name": "test",
        "leaderworkerset.sigs.k8s.io/worker-index": "0",
        "leaderworkerset.sigs.k8s.io/group-index": "1",
        "leaderworkerset.sigs.k8s.io/group-key": GROUP_KEY,
        "leaderworkerset.sigs.k8s.io/template-revision-hash": "rev-a",
      },
    },
    spec: { containers: [{ name: "l", image: "leader" }] },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "False" }] },
  };
  patch(p);
  return p;
}

const GROUP_LABELS = {
  "leaderworkerset.sigs.k8s.io/group-index": "1",
  "leaderworkerset.sigs.k8s.io/name": "test",
  "leaderworkerset.sigs.k8s.io/group-key": GROUP_KEY,
};

Deno.test("desiredWorkerStatefulSet() builds the §6.4 StatefulSet", () => {
  const live = lws();
  assert.deepEqual(desiredWorkerStatefulSet(leader(), live, live), {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: {
      name: "test-1",
      namespace: "ns",
      labels: { ...GROUP_LABELS, "leaderworkerset.sigs.k8s.io/template-revision-hash": "rev-a" },
      ownerReferences: [OWNER],
    },
    spec: {
      serviceName: "test",
      replicas: 2,
      podManagementPolicy: "Parallel",
      ordinals: { start: 1 },
      selector: { matchLabels: GROUP_LABELS },
      template: {
        metadata: {
          labels: { app: "w", ...GROUP_LABELS, "leaderworkerset.sigs.k8s.io/template-revision-hash": "rev-a" },
          annotations: {
            "leaderworkerset.sigs.k8s.io/size": "3",
            "leaderworkerset.sigs.k8s.io/leader-name": "test-1",
          },
        },
        spec: { containers: [{ name: "w", image: "worker" }], nodeSelector: { pool: "a" } },
      },
    },
  });
});

Deno.test("desiredWorkerStatefulSet() takes revision fields from currentLws and metadata from the live LWS", async (t) => {
  const live = lws((l) => {
    l.metadata.labels = { team: "x", "leaderworkerset.sigs.k8s.io/group-index": "spoof" };
    l.metadata.annotations = {
      keep: "me",
      "leaderworkerset.sigs.k8s.io/exclusive-topology": "rack",
      "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology": "host",
    };
    l.spec.leaderWorkerTemplate.size = 5;
    l.spec.networkConfig = { subdomainPolicy: "Shared" };
  });
  const current = lws((l) => {
    l.metadata.annotations = { "leaderworkerset.sigs.k8s.io/exclusive-topology": "IGNORED" };
    l.spec.leaderWorkerTemplate.size = 4;
    l.spec.leaderWorkerTemplate.subGroupPolicy = { subGroupPolicyType: "LeaderExcluded", subGroupSize: 3 };
    l.spec.leaderWorkerTemplate.workerTemplate.spec!.containers[0]!.image = "worker:old";
    l.spec.networkConfig = { subdomainPolicy: "UniquePerReplica" };
    l.spec.leaderWorkerTemplate.volumeClaimTemplates = [{
      metadata: { name: "data", labels: { dropped: "yes" } },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    }];
    l.spec.leaderWorkerTemplate.persistentVolumeClaimRetentionPolicy = { whenScaled: "Delete" };
  });
  const sts = desiredWorkerStatefulSet(leader(), live, current, { leaderNodeTopologyValue: "rack-7" });
  await t.step("metadata from the live LWS, reserved labels win", () => {
    assert.deepEqual(sts.metadata?.labels, {
      team: "x",
      ...GROUP_LABELS,
      "leaderworkerset.sigs.k8s.io/template-revision-hash": "rev-a",
    });
    assert.deepEqual(sts.metadata?.annotations, live.metadata.annotations);
  });
  await t.step("size, subgroup policy, service name, PVCs from currentLws", () => {
    assert.equal(sts.spec?.replicas, 3);
    assert.equal(sts.spec?.serviceName, "test-1");
    assert.equal(sts.spec?.template.spec?.containers[0]?.image, "worker:old");
    assert.deepEqual(sts.spec?.volumeClaimTemplates, [{
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "ns" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    }]);
    assert.deepEqual(sts.spec?.persistentVolumeClaimRetentionPolicy, { whenDeleted: "", whenScaled: "Delete" });
  });
  await t.step("template annotations: exclusive keys from the live LWS", () => {
    assert.deepEqual(sts.spec?.template.metadata?.annotations, {
      "leaderworkerset.sigs.k8s.io/size": "4",
      "leaderworkerset.sigs.k8s.io/leader-name": "test-1",
      "leaderworkerset.sigs.k8s.io/exclusive-topology": "rack",
      "leaderworkerset.sigs.k8s.io/subgroup-policy-type": "LeaderExcluded",
      "leaderworkerset.sigs.k8s.io/subgroup-size": "3",
      "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology": "host",
    });
  });
  await t.step("exclusive nodeSelector merged into the user's", () => {
    assert.deepEqual(sts.spec?.template.spec?.nodeSelector, { pool: "a", rack: "rack-7" });
  });
  await t.step("inputs are not mutated", () => {
    assert.deepEqual(current.spec.leaderWorkerTemplate.workerTemplate.spec?.nodeSelector, { pool: "a" });
    assert.equal(current.spec.leaderWorkerTemplate.workerTemplate.metadata?.annotations, undefined);
  });
});

Deno.test("desiredWorkerStatefulSet() omits the subgroup type when unset and the nodeSelector without a value", () => {
  const live = lws((l) => {
    l.metadata.annotations = { "leaderworkerset.sigs.k8s.io/exclusive-topology": "rack" };
    l.spec.leaderWorkerTemplate.subGroupPolicy = { subGroupSize: 1 };
  });
  const sts = desiredWorkerStatefulSet(leader(), live, live);
  assert.equal(
    sts.spec?.template.metadata?.annotations?.["leaderworkerset.sigs.k8s.io/subgroup-policy-type"],
    undefined,
  );
  assert.equal(sts.spec?.template.metadata?.annotations?.["leaderworkerset.sigs.k8s.io/subgroup-size"], "1");
  assert.deepEqual(sts.spec?.template.spec?.nodeSelector, { pool: "a" });
});

Deno.test("desiredWorkerStatefulSet() marks workers of a TPU-requesting leader", async (t) => {
  const cases: { name: string; patch: (p: Pod) => void; want: boolean }[] = [
    { name: "no TPU", patch: () => {}, want: false },
    {
      name: "limit",
      patch: (p) => (p.spec!.containers[0]!.resources = { limits: { "google.com/tpu": "4" } }),
      want: true,
    },
    {
      name: "request only",
      patch: (p) => (p.spec!.containers[0]!.resources = { requests: { "google.com/tpu": "4" } }),
      want: true,
    },
    {
      name: "zero in another notation",
      patch: (p) => (p.spec!.containers[0]!.resources = { limits: { "google.com/tpu": "0m" } }),
      want: false,
    },
    {
      name: "init container",
      patch: (p) => (p.spec!.initContainers = [{ name: "i", resources: { requests: { "google.com/tpu": "1" } } }]),
      want: true,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const pod = leader(c.patch);
      const sts = desiredWorkerStatefulSet(pod, lws(), lws());
      assert.equal(
        sts.spec?.template.metadata?.annotations?.["leaderworkerset.sigs.k8s.io/leader-requests-tpus"],
        c.want ? "true" : undefined,
      );
    });
  }
});

Deno.test("desiredPerReplicaService() builds the §6.5 per-replica service", () => {
  assert.deepEqual(desiredPerReplicaService(leader(), lws()), {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "test-1",
      namespace: "ns",
      labels: { "leaderworkerset.sigs.k8s.io/name": "test" },
      ownerReferences: [OWNER],
    },
    spec: {
      clusterIP: "None",
      selector: { "leaderworkerset.sigs.k8s.io/name": "test", "leaderworkerset.sigs.k8s.io/group-index": "1" },
      publishNotReadyAddresses: true,
    },
  });
});

Deno.test("podIdentity() requires the name and worker-index labels", async (t) => {
  await t.step("leader", () => {
    assert.deepEqual(podIdentity(leader()), { lwsName: "test", workerIndex: "0", isLeader: true });
  });
  await t.step("missing or empty name", () => {
    const p = leader((p) => (p.metadata!.labels!["leaderworkerset.sigs.k8s.io/name"] = ""));
    assert.deepEqual(podIdentity(p), { error: "leaderworkerset.sigs.k8s.io/name label is unexpected missing" });
    assert.deepEqual(podIdentity({ metadata: {} }), {
      error: "leaderworkerset.sigs.k8s.io/name label is unexpected missing",
    });
  });
  await t.step("missing worker-index", () => {
    const p = leader((p) => delete p.metadata!.labels!["leaderworkerset.sigs.k8s.io/worker-index"]);
    assert.deepEqual(podIdentity(p), { error: "leaderworkerset.sigs.k8s.io/worker-index label is unexpected missing" });
  });
});

Deno.test("podReconcilePlan() follows §8.2 steps 5–12", async (t) => {
  const gang = { gangScheduling: false };
  await t.step("5. worker pods stop", () => {
    const p = leader((p) => (p.metadata!.labels!["leaderworkerset.sigs.k8s.io/worker-index"] = "2"));
    assert.deepEqual(podReconcilePlan(p, lws(), gang), { action: "stop", reason: "workerPod" });
  });
  await t.step("6. a leader with a leader-name annotation stops with a Warning", () => {
    const p = leader((p) => (p.metadata!.annotations = { "leaderworkerset.sigs.k8s.io/leader-name": "x" }));
    assert.deepEqual(podReconcilePlan(p, lws(), gang), {
      action: "stop",
      reason: "leaderNameAnnotation",
      event: {
        type: "Warning",
        reason: "FailedCreate",
        action: "Create",
        note: "leader pod ns/test-1 contains mistake annotation 'leaderworkerset.sigs.k8s.io/leader-name': " +
          "requires Kubernetes ≥v1.27 or v1.26 with StatefulSetStartOrdinal feature",
      },
    });
    const empty = leader((p) => (p.metadata!.annotations = { "leaderworkerset.sigs.k8s.io/leader-name": "" }));
    assert.equal(podReconcilePlan(empty, lws(), gang).action, "reconcile");
  });
  await t.step("7. a deleting leader stops before the per-replica service", () => {
    const p = leader((p) => (p.metadata = { ...p.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" }));
    const unique = lws((l) => (l.spec.networkConfig = { subdomainPolicy: "UniquePerReplica" }));
    assert.deepEqual(podReconcilePlan(p, unique, gang), { action: "stop", reason: "leaderDeleting" });
  });
  await t.step("8–12. UniquePerReplica, gang scheduling, build from the leader's revision", () => {
    const unique = lws((l) => (l.spec.networkConfig = { subdomainPolicy: "UniquePerReplica" }));
    assert.deepEqual(podReconcilePlan(leader(), unique, { gangScheduling: true }), {
      action: "reconcile",
      podGroup: true,
      perReplicaService: desiredPerReplicaService(leader(), unique),
      workerStatefulSet: { action: "build", revisionKey: "rev-a" },
    });
  });
  await t.step("10. size 1 builds no worker sts", () => {
    const plan = podReconcilePlan(leader(), lws((l) => (l.spec.leaderWorkerTemplate.size = 1)), gang);
    assert.deepEqual(plan, {
      action: "reconcile",
      podGroup: false,
      workerStatefulSet: { action: "skip", reason: "sizeOne" },
    });
  });
  await t.step("11. LeaderReady waits for the Ready condition", () => {
    const ready = lws((l) => (l.spec.startupPolicy = "LeaderReady"));
    const plan = podReconcilePlan(leader(), ready, gang);
    assert.equal(plan.action === "reconcile" && plan.workerStatefulSet.action, "skip");
    const readyLeader = leader((p) => (p.status!.conditions = [{ type: "Ready", status: "True" }]));
    const plan2 = podReconcilePlan(readyLeader, ready, gang);
    assert.deepEqual(plan2.action === "reconcile" && plan2.workerStatefulSet, {
      action: "build",
      revisionKey: "rev-a",
    });
  });
});

Deno.test("workerStatefulSetCreatedEvent() and workerStatefulSetFailedEvent() word the §8.2 step 16 events", () => {
  assert.deepEqual(workerStatefulSetCreatedEvent(leader()), {
    type: "Normal",
    reason: "GroupsProgressing",
    action: "Create",
    note: "Created worker statefulset for leader pod test-1",
  });
  assert.deepEqual(workerStatefulSetFailedEvent(leader(), "boom"), {
    type: "Warning",
    reason: "FailedCreate",
    action: "Create",
    note: "Failed to create worker statefulset for leader pod test-1: boom",
  });
});

Deno.test("previousWorkerPods() waits for the names a new worker StatefulSet would create, held by a previous one", () => {
  const leader: Pod = { metadata: { name: "web-2", namespace: "ns", uid: "leader-new" } };
  const stsOwner = (name: string, uid: string) => [{
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    name,
    uid,
    controller: true,
  }];
  const pods: Record<string, Pod> = {
    // Controlled by the previous worker sts `web-2` (gone, its pods not yet collected).
    "web-2-1": { metadata: { name: "web-2-1", ownerReferences: stsOwner("web-2", "old-sts") } },
    // Being deleted, whoever owns it.
    "web-2-2": { metadata: { name: "web-2-2", deletionTimestamp: "2026-11-26T00:54:06Z" } },
    // An orphan: a StatefulSet adopts it, nothing to wait for.
    "web-2-3": { metadata: { name: "web-2-3" } },
    // Another StatefulSet's pod that happens to have the name: KCM reports that conflict, we do not wait forever.
    "web-2-4": { metadata: { name: "web-2-4", ownerReferences: stsOwner("someone-else", "x") } },
    // Beyond the group size: not a name the new StatefulSet creates.
    "web-2-5": { metadata: { name: "web-2-5", deletionTimestamp: "2026-11-26T00:54:06Z" } },
  };
  const get = (name: string) => pods[name];
  assert.deepEqual(previousWorkerPods(leader, 5, get), ["web-2-1", "web-2-2"]);
  assert.deepEqual(previousWorkerPods(leader, 2, get), ["web-2-1"]);
  assert.deepEqual(previousWorkerPods(leader, 1, get), []);
  assert.deepEqual(previousWorkerPods(leader, 5, () => undefined), []);
});
