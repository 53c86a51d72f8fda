import assert from "node:assert/strict";
import {
  fillerPod,
  lwsManifest,
  lwsRollPatch,
  podToFail,
  rawManifests,
  rawRollPatch,
  REVISION_ENV,
} from "./manifests.ts";
import { FULL, lwsPodCount, presetProblems, SMALL } from "./presets.ts";

Deno.test("rawManifests() mirrors an LWS: a leader StatefulSet per LWS and a worker StatefulSet per group", () => {
  const { service, statefulSets } = rawManifests(7, { groups: 4, size: 4 }, "ns");
  assert.equal(service.spec?.clusterIP, "None");
  assert.deepEqual(statefulSets.map((s) => [s.object.metadata?.name, s.role, s.object.spec?.replicas]), [
    ["raw-7", "leader", 4],
    ["raw-7-0", "worker", 3],
    ["raw-7-1", "worker", 3],
    ["raw-7-2", "worker", 3],
    ["raw-7-3", "worker", 3],
  ]);
  // Workers start at ordinal 1, like LWS worker StatefulSets: pods raw-7-<g>-1 … raw-7-<g>-3.
  assert.deepEqual(statefulSets[1]?.object.spec?.ordinals, { start: 1 });
  const pods = statefulSets.reduce((n, s) => n + (s.object.spec?.replicas ?? 0), 0);
  assert.equal(pods, lwsPodCount({ lws: 1, groups: 4, size: 4 }));
  for (const { object } of statefulSets) {
    for (const [key, value] of Object.entries(object.spec?.selector.matchLabels ?? {})) {
      assert.equal(object.spec?.template.metadata?.labels?.[key], value, `${object.metadata?.name} template ${key}`);
    }
  }
});

Deno.test("lwsManifest() asks for groups × size pods that recreate their group on a restart", () => {
  const lws = lwsManifest(3, { groups: 4, size: 4 }, "ns");
  assert.equal(lws.metadata.name, "bench-3");
  assert.equal(lws.spec.replicas, 4);
  assert.equal(lws.spec.leaderWorkerTemplate.size, 4);
  assert.equal(lws.spec.leaderWorkerTemplate.restartPolicy, "RecreateGroupOnPodRestart");
  assert.deepEqual(lws.spec.rolloutStrategy?.rollingUpdateConfiguration, { maxUnavailable: 1, maxSurge: 1 });
});

Deno.test("lwsRollPatch() and rawRollPatch() change the revision env var", () => {
  const env = (patch: unknown) => JSON.stringify(patch).includes(`{"name":"${REVISION_ENV}","value":"2"}`);
  assert.ok(env(lwsRollPatch(2)));
  assert.ok(env(rawRollPatch("leader", 2)));
  assert.ok(env(rawRollPatch("worker", 2)));
});

Deno.test("podToFail() picks worker 1 of a group that moves with the index", () => {
  assert.deepEqual(podToFail("bench", 5, 4), { pod: "bench-5-1-1", leader: "bench-5-1" });
  assert.deepEqual(podToFail("raw", 4, 4), { pod: "raw-4-0-1", leader: "raw-4-0" });
});

Deno.test("fillerPod() binds pods round-robin to the fake nodes", () => {
  assert.equal(fillerPod(9, "f", 4).spec?.nodeName, "kwok-node-1");
  assert.equal(fillerPod(9, "f", 4).metadata?.ownerReferences, undefined);
});

Deno.test("presetProblems() accepts both presets and names what is wrong", () => {
  assert.deepEqual(presetProblems(FULL), []);
  assert.deepEqual(presetProblems(SMALL), []);
  assert.deepEqual(presetProblems({ ...SMALL, size: 1 }), ["size must be at least 2 (W4 fails a worker pod), got 1"]);
  assert.match(presetProblems({ ...FULL, nodes: 1 }).join(), /nodes hold 300 pods, the run needs up to 11000/);
});
