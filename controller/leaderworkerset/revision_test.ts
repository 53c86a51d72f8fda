import assert from "node:assert/strict";
import type { ControllerRevision } from "kubernetes-types/apps/v1.d.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import {
  applyRevision,
  buildControllerRevision,
  buildRevisionPatch,
  controllerRevisionBody,
  fnv1Hash32,
  hashRevisionData,
  isTemplateUnchanged,
  nextRevisionNumber,
  revisionData,
  revisionHash,
  revisionKey,
  revisionsOf,
  safeEncodeHash,
} from "./revision.ts";

const IMAGE = "docker.io/nginxinc/nginx-unprivileged:1.27";

/** The default LWS of upstream's e2e tests (spec §5.4.4). */
function sample(options: { worker?: string; policy?: "Shared" | "UniquePerReplica" } = {}): LeaderWorkerSet {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: "test-sample", namespace: "default", uid: "uid-1" },
    spec: {
      replicas: 1,
      leaderWorkerTemplate: {
        leaderTemplate: { spec: { containers: [{ name: "leader", image: IMAGE }] } },
        workerTemplate: {
          spec: {
            containers: [{
              name: options.worker ?? "worker",
              image: IMAGE,
              ports: [{ containerPort: 8080, protocol: "TCP" }],
            }],
          },
        },
        size: 2,
        restartPolicy: "RecreateGroupOnPodRestart",
      },
      networkConfig: { subdomainPolicy: options.policy ?? "Shared" },
    },
  };
}

Deno.test("revisionData() and revisionHash() reproduce the spec §5.4.4 vectors", () => {
  assert.equal(
    revisionData(sample()),
    '{"spec":{"leaderWorkerTemplate":{"$patch":"replace","leaderTemplate":{"metadata":{},"spec":{"containers":[{"image":"docker.io/nginxinc/nginx-unprivileged:1.27","name":"leader","resources":{}}]}},"restartPolicy":"RecreateGroupOnPodRestart","size":2,"workerTemplate":{"metadata":{},"spec":{"containers":[{"image":"docker.io/nginxinc/nginx-unprivileged:1.27","name":"worker","ports":[{"containerPort":8080,"protocol":"TCP"}],"resources":{}}]}}},"networkConfig":{"$patch":"replace","subdomainPolicy":"Shared"}}}',
  );
  assert.equal(fnv1Hash32(new TextEncoder().encode(revisionData(sample()))), 3687927682);
  assert.equal(revisionHash(sample()), "7bdcf6cbd6");
  assert.equal(revisionHash(sample({ worker: "new-worker-name" })), "6956876d89");
  assert.equal(revisionHash(sample({ policy: "UniquePerReplica" })), "675dbb7bc5");
});

Deno.test("buildRevisionPatch() defaults a missing networkConfig to Shared", () => {
  const lws = sample();
  delete lws.spec.networkConfig;
  assert.deepEqual(buildRevisionPatch(lws).spec, buildRevisionPatch(sample()).spec);
  assert.equal(revisionHash(lws), "7bdcf6cbd6");
});

Deno.test("fnv1Hash32() is FNV-1, not FNV-1a", () => {
  assert.equal(fnv1Hash32(new Uint8Array()), 2166136261);
  assert.equal(fnv1Hash32(new TextEncoder().encode("a")), 0x050c5d7e);
  assert.equal(fnv1Hash32(new TextEncoder().encode("foobar")), 0x31f0b262);
});

Deno.test("safeEncodeHash() maps decimal digits through Go's SafeEncodeString alphabet", () => {
  assert.equal(safeEncodeHash(1234567890), "56789bcdf4");
  assert.equal(safeEncodeHash(0), "4");
  assert.equal(safeEncodeHash(3687927682), "7bdcf6cbd6");
  assert.equal(hashRevisionData(""), safeEncodeHash(2166136261));
});

Deno.test("buildControllerRevision() builds the §5.4.5 object and returns the exact bytes", () => {
  const lws = sample();
  const built = buildControllerRevision(lws, { revisionNumber: 3 });
  assert.equal(built.hash, "7bdcf6cbd6");
  assert.equal(built.key, "7bdcf6cbd6");
  assert.equal(built.data, revisionData(lws));
  assert.deepEqual(built.revision, {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: "test-sample-7bdcf6cbd6-3",
      namespace: "default",
      labels: {
        "leaderworkerset.sigs.k8s.io/name": "test-sample",
        "leaderworkerset.sigs.k8s.io/template-revision-hash": "7bdcf6cbd6",
      },
      ownerReferences: [{
        apiVersion: "leaderworkerset.x-k8s.io/v1",
        kind: "LeaderWorkerSet",
        name: "test-sample",
        uid: "uid-1",
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    data: JSON.parse(built.data),
    revision: 3,
  });
  assert.equal(revisionKey(built.revision), "7bdcf6cbd6");
});

Deno.test("controllerRevisionBody() splices the canonical bytes verbatim", () => {
  const lws = sample();
  lws.spec.leaderWorkerTemplate.workerTemplate.metadata = { annotations: { b: "<&>", a: "😀", "\ue000": "x" } };
  const built = buildControllerRevision(lws, { revisionNumber: 2 });
  const body = controllerRevisionBody(built);
  assert.ok(body.includes(`"data":${built.data}`));
  assert.deepEqual(JSON.parse(body), built.revision);
  assert.notEqual(JSON.stringify(built.revision.data), built.data, "a generic serializer would change the bytes");
});

Deno.test("buildControllerRevision() uses a legacy key for the label but the hash in the name", () => {
  const built = buildControllerRevision(sample(), { revisionNumber: 1, key: "legacykey" });
  assert.equal(built.revision.metadata.name, "test-sample-7bdcf6cbd6-1");
  assert.equal(revisionKey(built.revision), "legacykey");
});

Deno.test("buildControllerRevision() cuts the name prefix to 220 bytes", () => {
  const lws = sample();
  lws.metadata.name = "a".repeat(253);
  const { revision, hash } = buildControllerRevision(lws, { revisionNumber: 12 });
  assert.equal(revision.metadata.name, `${"a".repeat(220)}-${hash}-12`);
  assert.equal(revision.metadata.labels?.["leaderworkerset.sigs.k8s.io/name"], "a".repeat(253));
});

function rev(name: string, revision: number, extra: Partial<NonNullable<ControllerRevision["metadata"]>> = {}) {
  return {
    metadata: { name, namespace: "default", labels: { "leaderworkerset.sigs.k8s.io/name": "test-sample" }, ...extra },
    revision,
  } satisfies ControllerRevision;
}

Deno.test("revisionsOf() keeps revisions owned by this LWS or by no controller", () => {
  const lws = sample();
  const owner = (uid: string, controller: boolean) => ({
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    name: "test-sample",
    uid,
    controller,
  });
  const all = [
    rev("owned", 1, { ownerReferences: [owner("uid-1", true)] }),
    rev("orphan", 2),
    rev("non-controller-owner", 3, { ownerReferences: [owner("uid-other", false)] }),
    rev("other-uid", 4, { ownerReferences: [owner("uid-other", true)] }),
    rev("other-namespace", 5, { namespace: "elsewhere" }),
    rev("other-name", 6, { labels: { "leaderworkerset.sigs.k8s.io/name": "other" } }),
    rev("no-labels", 7, { labels: undefined }),
  ];
  assert.deepEqual(revisionsOf(lws, all).map((r) => r.metadata.name), ["owned", "orphan", "non-controller-owner"]);
});

Deno.test("nextRevisionNumber() is one more than the highest, or 1", () => {
  assert.equal(nextRevisionNumber([]), 1);
  assert.equal(nextRevisionNumber([rev("a", 2), rev("b", 7), rev("c", 3)]), 8);
});

Deno.test("applyRevision() replaces the template and networkConfig wholesale and keeps the rest", () => {
  const old = buildControllerRevision(sample({ worker: "old", policy: "UniquePerReplica" }), { revisionNumber: 1 });
  const live = sample();
  live.spec.replicas = 5;
  const restored = applyRevision(live, old.revision);
  assert.equal(restored.spec.replicas, 5);
  assert.deepEqual(restored.metadata, live.metadata);
  assert.equal(restored.spec.networkConfig?.subdomainPolicy, "UniquePerReplica");
  assert.equal(restored.spec.leaderWorkerTemplate.workerTemplate.spec?.containers[0]?.name, "old");
  assert.equal(Object.hasOwn(restored.spec.leaderWorkerTemplate, "$patch"), false);
  assert.equal(live.spec.networkConfig?.subdomainPolicy, "Shared", "the live object is not modified");
  assert.equal(revisionHash(restored), old.hash);
});

Deno.test("applyRevision() keeps the live networkConfig when the revision predates it", () => {
  const live = sample({ policy: "UniquePerReplica" });
  const data = { spec: { leaderWorkerTemplate: { $patch: "replace", size: 4, workerTemplate: {} } } };
  const restored = applyRevision(live, { data });
  assert.equal(restored.spec.networkConfig?.subdomainPolicy, "UniquePerReplica");
  assert.equal(restored.spec.leaderWorkerTemplate.size, 4);
});

Deno.test("isTemplateUnchanged() compares canonical bytes, then falls back to semantic equality", async (t) => {
  const lws = sample();
  const base = buildControllerRevision(lws, { revisionNumber: 1 }).revision;
  await t.step("same template", () => assert.equal(isTemplateUnchanged(lws, base), true));
  await t.step("stored data in another key order (as the API returns it)", () => {
    const reordered = JSON.parse(JSON.stringify(base.data, Object.keys(base.data as object).reverse()));
    assert.equal(isTemplateUnchanged(lws, { data: { ...reordered, ...(base.data as object) } }), true);
  });
  await t.step("legacy creationTimestamp: null in stored data", () => {
    const data = JSON.parse(revisionData(lws));
    data.spec.leaderWorkerTemplate.workerTemplate.metadata.creationTimestamp = null;
    data.spec.leaderWorkerTemplate.leaderTemplate.metadata.creationTimestamp = null;
    assert.equal(isTemplateUnchanged(lws, { data }), true);
  });
  await t.step(
    "stored data as a string",
    () => assert.equal(isTemplateUnchanged(lws, { data: revisionData(lws) as never }), true),
  );
  await t.step("a real change", () => assert.equal(isTemplateUnchanged(sample({ worker: "x" }), base), false));
  await t.step("replicas are not part of the revision", () => {
    const scaled = sample();
    scaled.spec.replicas = 9;
    assert.equal(isTemplateUnchanged(scaled, base), true);
  });
});
