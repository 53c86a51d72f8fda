import assert from "node:assert/strict";
import type { LeaderWorkerSet } from "../../api/types.ts";
import {
  desiredLeaderStatefulSet,
  desiredSharedService,
  reducedVolumeClaimTemplates,
  wantsSharedService,
} from "./desired.ts";

const KEY = "abcdef0123";
const OWNER = {
  apiVersion: "leaderworkerset.x-k8s.io/v1",
  kind: "LeaderWorkerSet",
  name: "test",
  uid: "uid-1",
  controller: true,
  blockOwnerDeletion: true,
};

function lws(patch: (l: LeaderWorkerSet) => void = () => {}): LeaderWorkerSet {
  const l: LeaderWorkerSet = {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: "test", namespace: "ns", uid: "uid-1", generation: 1 },
    spec: {
      replicas: 4,
      leaderWorkerTemplate: {
        size: 3,
        restartPolicy: "RecreateGroupOnPodRestart",
        workerTemplate: {
          metadata: { labels: { app: "w" }, annotations: { note: "w" } },
          spec: { containers: [{ name: "c", image: "nginx" }] },
        },
      },
      rolloutStrategy: {
        type: "RollingUpdate",
        rollingUpdateConfiguration: { maxUnavailable: 1, maxSurge: 0, partition: 0 },
      },
      startupPolicy: "LeaderCreated",
      networkConfig: { subdomainPolicy: "Shared" },
    },
  };
  patch(l);
  return l;
}

Deno.test("desiredLeaderStatefulSet() builds the §6.3 apply configuration", () => {
  const sts = desiredLeaderStatefulSet(lws(), { revisionKey: KEY, partition: 2, replicas: 5 });
  assert.deepEqual(sts, {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: {
      name: "test",
      namespace: "ns",
      labels: {
        "leaderworkerset.sigs.k8s.io/name": "test",
        "leaderworkerset.sigs.k8s.io/template-revision-hash": KEY,
      },
      annotations: { "leaderworkerset.sigs.k8s.io/replicas": "4" },
      ownerReferences: [OWNER],
    },
    spec: {
      serviceName: "test",
      replicas: 5,
      podManagementPolicy: "Parallel",
      selector: {
        matchLabels: { "leaderworkerset.sigs.k8s.io/name": "test", "leaderworkerset.sigs.k8s.io/worker-index": "0" },
      },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2, maxUnavailable: 1 } },
      template: {
        metadata: {
          labels: {
            app: "w",
            "leaderworkerset.sigs.k8s.io/worker-index": "0",
            "leaderworkerset.sigs.k8s.io/name": "test",
            "leaderworkerset.sigs.k8s.io/template-revision-hash": KEY,
          },
          annotations: { note: "w", "leaderworkerset.sigs.k8s.io/size": "3" },
        },
        spec: { containers: [{ name: "c", image: "nginx" }] },
      },
    },
  });
});

Deno.test("desiredLeaderStatefulSet() propagates LWS metadata and lets reserved keys win", async (t) => {
  const live = lws((l) => {
    l.metadata.labels = { team: "a", "leaderworkerset.sigs.k8s.io/name": "spoof" };
    l.metadata.annotations = {
      owner: "me",
      "leaderworkerset.sigs.k8s.io/replicas": "99",
      "leaderworkerset.sigs.k8s.io/exclusive-topology": "rack",
      "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology": "host",
    };
    l.spec.leaderWorkerTemplate.leaderTemplate = {
      metadata: { labels: { "leaderworkerset.sigs.k8s.io/worker-index": "7", role: "leader" } },
      spec: { containers: [{ name: "l", image: "leader" }] },
    };
  });
  const sts = desiredLeaderStatefulSet(live, { revisionKey: KEY, partition: 0, replicas: 4 });
  await t.step("labels and annotations", () => {
    assert.deepEqual(sts.metadata?.labels, {
      team: "a",
      "leaderworkerset.sigs.k8s.io/name": "test",
      "leaderworkerset.sigs.k8s.io/template-revision-hash": KEY,
    });
    assert.deepEqual(sts.metadata?.annotations, {
      owner: "me",
      "leaderworkerset.sigs.k8s.io/replicas": "4",
      "leaderworkerset.sigs.k8s.io/exclusive-topology": "rack",
      "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology": "host",
    });
  });
  await t.step("template is the leader template; subgroup-exclusive needs a subGroupPolicy", () => {
    assert.deepEqual(sts.spec?.template.spec, { containers: [{ name: "l", image: "leader" }] });
    assert.deepEqual(sts.spec?.template.metadata?.labels, {
      role: "leader",
      "leaderworkerset.sigs.k8s.io/worker-index": "0",
      "leaderworkerset.sigs.k8s.io/name": "test",
      "leaderworkerset.sigs.k8s.io/template-revision-hash": KEY,
    });
    assert.deepEqual(sts.spec?.template.metadata?.annotations, {
      "leaderworkerset.sigs.k8s.io/size": "3",
      "leaderworkerset.sigs.k8s.io/exclusive-topology": "rack",
    });
  });
  await t.step("the input is not mutated", () => {
    assert.deepEqual(live.spec.leaderWorkerTemplate.leaderTemplate?.metadata?.labels, {
      "leaderworkerset.sigs.k8s.io/worker-index": "7",
      role: "leader",
    });
  });
});

Deno.test("desiredLeaderStatefulSet() adds subgroup, subdomain and exclusive annotations to the template", async (t) => {
  const cases: { name: string; patch: (l: LeaderWorkerSet) => void; want: Record<string, string> }[] = [
    {
      name: "subgroup policy with exclusive annotations",
      patch: (l) => {
        l.metadata.annotations = {
          "leaderworkerset.sigs.k8s.io/exclusive-topology": "rack",
          "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology": "host",
        };
        l.spec.leaderWorkerTemplate.subGroupPolicy = { subGroupPolicyType: "LeaderExcluded", subGroupSize: 2 };
      },
      want: {
        note: "w",
        "leaderworkerset.sigs.k8s.io/size": "3",
        "leaderworkerset.sigs.k8s.io/exclusive-topology": "rack",
        "leaderworkerset.sigs.k8s.io/subgroup-policy-type": "LeaderExcluded",
        "leaderworkerset.sigs.k8s.io/subgroup-size": "2",
        "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology": "host",
      },
    },
    {
      name: "empty exclusive annotations are not copied; subgroup type defaults to LeaderWorker",
      patch: (l) => {
        l.metadata.annotations = {
          "leaderworkerset.sigs.k8s.io/exclusive-topology": "",
          "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology": "",
        };
        l.spec.leaderWorkerTemplate.subGroupPolicy = { subGroupSize: 1 };
      },
      want: {
        note: "w",
        "leaderworkerset.sigs.k8s.io/size": "3",
        "leaderworkerset.sigs.k8s.io/subgroup-policy-type": "LeaderWorker",
        "leaderworkerset.sigs.k8s.io/subgroup-size": "1",
      },
    },
    {
      name: "UniquePerReplica adds the camel-case subdomainPolicy annotation",
      patch: (l) => {
        l.spec.networkConfig = { subdomainPolicy: "UniquePerReplica" };
      },
      want: {
        note: "w",
        "leaderworkerset.sigs.k8s.io/size": "3",
        "leaderworkerset.sigs.k8s.io/subdomainPolicy": "UniquePerReplica",
      },
    },
    {
      name: "user annotations with reserved keys are overridden",
      patch: (l) => {
        l.spec.leaderWorkerTemplate.workerTemplate.metadata!.annotations = { "leaderworkerset.sigs.k8s.io/size": "9" };
      },
      want: { "leaderworkerset.sigs.k8s.io/size": "3" },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const sts = desiredLeaderStatefulSet(lws(c.patch), { revisionKey: KEY, partition: 0, replicas: 4 });
      assert.deepEqual(sts.spec?.template.metadata?.annotations, c.want);
      assert.equal(sts.spec?.serviceName, "test");
    });
  }
});

Deno.test("desiredLeaderStatefulSet() sets maxUnavailable to max(1, mu + ms)", async (t) => {
  const cases: [replicas: number, mu: number | string, ms: number | string, want: number][] = [
    [4, 1, 0, 1],
    [4, 2, 1, 3],
    [4, "50%", "50%", 4],
    [3, "50%", "50%", 3], // mu floor(1.5)=1, ms ceil(1.5)=2
    [4, 0, 10, 4], // ms capped at N
    [4, 10, 0, 10], // mu not capped
    [0, 0, 0, 1], // replicas 0
    [5, "10%", "10%", 1], // mu 0, ms 1
  ];
  for (const [replicas, mu, ms, want] of cases) {
    await t.step(`N=${replicas} mu=${mu} ms=${ms} → ${want}`, () => {
      const sts = desiredLeaderStatefulSet(
        lws((l) => {
          l.spec.replicas = replicas;
          l.spec.rolloutStrategy!.rollingUpdateConfiguration = { maxUnavailable: mu, maxSurge: ms, partition: 0 };
        }),
        { revisionKey: KEY, partition: 0, replicas },
      );
      assert.equal(sts.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, want);
      assert.equal(sts.metadata?.annotations?.["leaderworkerset.sigs.k8s.io/replicas"], String(replicas));
    });
  }
});

Deno.test("desiredLeaderStatefulSet() reduces volume claim templates and copies the retention policy", () => {
  const live = lws((l) => {
    l.spec.leaderWorkerTemplate.volumeClaimTemplates = [
      {
        metadata: { name: "data", labels: { drop: "me" }, annotations: { drop: "me" } },
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: "fast",
          volumeMode: "Filesystem",
          resources: { requests: { storage: "1Gi" }, limits: { storage: "2Gi" } },
          selector: { matchLabels: { drop: "me" } },
          volumeName: "pv-1",
          dataSource: { kind: "PersistentVolumeClaim", name: "x" },
        },
      },
      { metadata: { name: "bare" }, spec: { resources: {} } },
    ];
    l.spec.leaderWorkerTemplate.persistentVolumeClaimRetentionPolicy = { whenDeleted: "Delete" };
  });
  const sts = desiredLeaderStatefulSet(live, { revisionKey: KEY, partition: 0, replicas: 4 });
  assert.deepEqual(sts.spec?.volumeClaimTemplates, [
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "ns" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "fast",
        volumeMode: "Filesystem",
        resources: { requests: { storage: "1Gi" }, limits: { storage: "2Gi" } },
      },
    },
    { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "bare", namespace: "ns" }, spec: {} },
  ]);
  assert.deepEqual(sts.spec?.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Delete", whenScaled: "" });
  assert.equal(reducedVolumeClaimTemplates({ workerTemplate: {}, volumeClaimTemplates: [] }, "ns"), undefined);
  const plain = desiredLeaderStatefulSet(lws(), { revisionKey: KEY, partition: 0, replicas: 4 });
  assert.equal("volumeClaimTemplates" in plain.spec!, false);
  assert.equal("persistentVolumeClaimRetentionPolicy" in plain.spec!, false);
});

Deno.test("desiredLeaderStatefulSet() throws on an unscalable maxSurge", () => {
  const bad = lws((l) => {
    l.spec.rolloutStrategy!.rollingUpdateConfiguration!.maxSurge = "5";
  });
  assert.throws(
    () => desiredLeaderStatefulSet(bad, { revisionKey: KEY, partition: 0, replicas: 4 }),
    /invalid value for IntOrString: invalid type: string is not a percentage/,
  );
});

Deno.test("desiredSharedService() builds the §6.5 shared headless service", () => {
  assert.deepEqual(desiredSharedService(lws()), {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "test",
      namespace: "ns",
      labels: { "leaderworkerset.sigs.k8s.io/name": "test" },
      ownerReferences: [OWNER],
    },
    spec: {
      clusterIP: "None",
      selector: { "leaderworkerset.sigs.k8s.io/name": "test" },
      publishNotReadyAddresses: true,
    },
  });
});

Deno.test("wantsSharedService() is true for an absent or Shared network config", () => {
  assert.equal(wantsSharedService(lws()), true);
  assert.equal(wantsSharedService(lws((l) => delete l.spec.networkConfig)), true);
  assert.equal(wantsSharedService(lws((l) => (l.spec.networkConfig = { subdomainPolicy: "UniquePerReplica" }))), false);
});
