import assert from "node:assert/strict";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { ManualClock } from "../../kube/clock.ts";
import type { Action } from "../../kube/controller.ts";
import { apiError, FakeClient, FakeEvents, storeOf } from "../testing/fakes.ts";
import { buildControllerRevision, revisionData, revisionHash } from "./revision.ts";
import {
  LEADER_POD_INDEX,
  leaderPodIndexer,
  type LeaderWorkerSetContext,
  RecentWrites,
  reconcileLeaderWorkerSet,
} from "./reconciler.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const KEY = { namespace: "ns", name: "test" };

function lws(o: { replicas?: number; size?: number; image?: string; policy?: string; deleting?: boolean } = {}) {
  const object: LeaderWorkerSet = {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: "test", namespace: "ns", uid: "lws-uid", generation: 1, resourceVersion: "7" },
    spec: {
      replicas: o.replicas ?? 2,
      leaderWorkerTemplate: {
        size: o.size ?? 1,
        restartPolicy: "RecreateGroupOnPodRestart",
        workerTemplate: { spec: { containers: [{ name: "w", image: o.image ?? "nginx:1" }] } },
      },
      rolloutStrategy: { type: "RollingUpdate", rollingUpdateConfiguration: { maxUnavailable: 1, maxSurge: 0 } },
      startupPolicy: "LeaderCreated",
      networkConfig: { subdomainPolicy: (o.policy ?? "Shared") as "Shared" },
    },
  };
  return o.deleting
    ? { ...object, metadata: { ...object.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } }
    : object;
}

function revision(of: LeaderWorkerSet, number: number): ControllerRevision {
  const built = buildControllerRevision(of, { revisionNumber: number });
  return JSON.parse(JSON.stringify(built.revision));
}

function leaderSts(key: string, o: { replicas?: number; partition?: number; generation?: number } = {}): StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: {
      name: "test",
      namespace: "ns",
      uid: "sts-uid",
      generation: o.generation ?? 1,
      labels: { [`${P}name`]: "test", [`${P}template-revision-hash`]: key },
      annotations: { [`${P}replicas`]: String(o.replicas ?? 2) },
    },
    spec: {
      replicas: o.replicas ?? 2,
      selector: {},
      serviceName: "test",
      template: {},
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: o.partition ?? 0 } },
    },
  };
}

function leaderPod(g: number, key: string): Pod {
  return {
    metadata: {
      name: `test-${g}`,
      namespace: "ns",
      labels: {
        [`${P}name`]: "test",
        [`${P}worker-index`]: "0",
        [`${P}group-index`]: String(g),
        [`${P}template-revision-hash`]: key,
      },
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  };
}

function setup(o: {
  lws?: LeaderWorkerSet[];
  statefulSets?: StatefulSet[];
  pods?: Pod[];
  services?: Service[];
  revisions?: ControllerRevision[];
} = {}) {
  const client = new FakeClient();
  const events = new FakeEvents();
  const clock = new ManualClock(Date.parse("2026-05-01T12:00:00Z"));
  const ctx: LeaderWorkerSetContext = {
    client,
    events,
    clock,
    recent: new RecentWrites(clock),
    stores: {
      leaderWorkerSets: storeOf(o.lws ?? []),
      statefulSets: storeOf(o.statefulSets ?? []),
      pods: storeOf(o.pods ?? [], { [LEADER_POD_INDEX]: leaderPodIndexer }),
      services: storeOf(o.services ?? []),
      revisions: storeOf(o.revisions ?? []),
    },
  };
  const run = (): Promise<Action> => reconcileLeaderWorkerSet(KEY, ctx, { signal: new AbortController().signal });
  return { client, events, ctx, clock, run };
}

Deno.test("reconcileLeaderWorkerSet() builds a new LWS: revision, leader sts, shared service, status", async () => {
  const live = lws();
  const { client, events, run } = setup({ lws: [live] });
  assert.equal(await run(), "awaitChange");
  const key = revisionHash(live);

  const [create] = client.of("create", "controllerrevisions");
  assert.ok(create?.bodyText?.endsWith(`"data":${revisionData(live)}}`), "the canonical bytes are spliced verbatim");
  assert.equal(create?.name, `test-${key}-1`);
  assert.equal(create?.options?.fieldManager, "lws");

  const [apply] = client.of("apply", "statefulsets");
  assert.deepEqual(apply?.options?.fieldManager, "lws");
  assert.equal(apply?.options?.force, true);
  const sts = apply?.object as StatefulSet;
  assert.equal(sts.metadata?.labels?.[`${P}template-revision-hash`], key);
  assert.equal(sts.spec?.replicas, 2);
  assert.equal(sts.spec?.updateStrategy?.rollingUpdate?.partition, 0);

  assert.equal(client.of("create", "services")[0]?.name, "test");
  const status = client.of("updateStatus")[0]?.object as LeaderWorkerSet;
  assert.equal(status.metadata.resourceVersion, "7", "conditional on the cached version");
  assert.equal(status.status?.conditions?.[0]?.type, "Progressing");
  assert.equal(status.status?.hpaPodSelector, `${P}name=test,${P}worker-index=0`);

  assert.deepEqual(events.notes(), [
    `CreatingRevision: Creating revision with key ${key} for a newly created LeaderWorkerSet`,
    "GroupsProgressing: Created leader statefulset test",
    "GroupsProgressing: Replicas are progressing, with 0 groups ready of total 2 groups",
  ]);
  assert.ok(events.recorded.every((e) => e.regarding.kind === "LeaderWorkerSet" && e.regarding.name === "test"));
  assert.equal(events.recorded[1]?.related?.kind, "ControllerRevision");
});

Deno.test("reconcileLeaderWorkerSet() leaves a missing or deleting LWS alone", async (t) => {
  await t.step("missing", async () => {
    const { client, run } = setup();
    assert.equal(await run(), "awaitChange");
    assert.deepEqual(client.calls, []);
  });
  await t.step("being deleted", async () => {
    const { client, run } = setup({ lws: [lws({ deleting: true })] });
    assert.equal(await run(), "awaitChange");
    assert.deepEqual(client.calls, []);
  });
  await t.step("leader sts being deleted: requeue after 5 s", async () => {
    const plain = leaderSts("k");
    const sts = { ...plain, metadata: { ...plain.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } };
    const { client, run } = setup({ lws: [lws()], statefulSets: [sts] });
    assert.deepEqual(await run(), { requeueAfterMs: 5000 });
    assert.deepEqual(client.calls, []);
  });
});

Deno.test("reconcileLeaderWorkerSet() creates one revision per template change, even from a stale cache", async () => {
  const old = lws();
  const oldKey = revisionHash(old);
  const changed = lws({ image: "nginx:2" });
  const newKey = revisionHash(changed);
  const { client, events, run } = setup({
    lws: [changed],
    statefulSets: [leaderSts(oldKey)],
    revisions: [revision(old, 1)],
    pods: [leaderPod(0, oldKey), leaderPod(1, oldKey)],
  });
  client.respond((call) =>
    call.verb === "apply"
      ? {
        ...(call.object as StatefulSet),
        metadata: { ...(call.object as StatefulSet).metadata, uid: "sts-uid", generation: 2 },
      }
      : undefined
  );
  await run();
  const creates = client.of("create", "controllerrevisions");
  assert.equal(creates.length, 1);
  assert.equal(creates[0]?.name, `test-${newKey}-2`);
  const first = client.of("apply")[0]?.object as StatefulSet;
  assert.equal(first.spec?.updateStrategy?.rollingUpdate?.partition, 2, "rollout starts from the top");
  assert.equal(first.metadata?.labels?.[`${P}template-revision-hash`], newKey);

  // The watch has not delivered the new sts or revision yet: the same stale cache again.
  await run();
  assert.equal(client.of("create", "controllerrevisions").length, 1, "no duplicate revision");
  const second = client.of("apply")[1]?.object as StatefulSet;
  assert.equal(second.metadata?.labels?.[`${P}template-revision-hash`], newKey);
  assert.equal(second.spec?.updateStrategy?.rollingUpdate?.partition, 1, "the rollout moves on");
  assert.deepEqual(events.notes().filter((n) => n.startsWith("CreatingRevision")), [
    `CreatingRevision: Creating revision with key ${newKey} for updated LWS`,
  ]);
  assert.ok(events.notes().includes("GroupsUpdating: Updating replica 1"));
});

Deno.test("reconcileLeaderWorkerSet() requeues a status conflict without an event", async () => {
  const { client, events, run } = setup({ lws: [lws()] });
  client.respond((call) => {
    if (call.verb === "updateStatus") throw apiError(409, "Conflict");
  });
  assert.deepEqual(await run(), { requeueAfterMs: 200 });
  assert.ok(!events.notes().some((n) => n.includes("Replicas are progressing")));
});

Deno.test("reconcileLeaderWorkerSet() reports a failed apply as FailedCreate or FailedUpdate", async (t) => {
  for (const existing of [false, true]) {
    await t.step(existing ? "sts existed" : "sts absent", async () => {
      const live = lws();
      const key = revisionHash(live);
      const { client, events, run } = setup({
        lws: [live],
        statefulSets: existing ? [leaderSts(key)] : [],
        revisions: [revision(live, 1)],
      });
      client.respond((call) => {
        if (call.verb === "apply") throw apiError(422, "Invalid", "boom");
      });
      await assert.rejects(run(), /boom/);
      assert.deepEqual(
        events.notes(),
        existing ? ["FailedUpdate: Failed to update leader statefulset test: boom"] : [
          `CreatingRevision: Creating revision with key ${key} for a newly created LeaderWorkerSet`,
          "FailedCreate: Failed to create leader statefulset test: boom",
        ],
      );
      assert.equal(events.recorded.at(-1)?.type, "Warning");
    });
  }
});

Deno.test("reconcileLeaderWorkerSet() truncates other revisions once the update is done", async () => {
  const live = lws();
  const key = revisionHash(live);
  const old = revision(lws({ image: "nginx:0" }), 1);
  const { client, events, run } = setup({
    lws: [{ ...live, status: { hpaPodSelector: "x" } }],
    statefulSets: [leaderSts(key)],
    revisions: [old, revision(live, 2)],
    pods: [leaderPod(0, key), leaderPod(1, key)],
    services: [{ metadata: { name: "test", namespace: "ns", labels: { [`${P}name`]: "test" } } }],
  });
  await run();
  assert.deepEqual(client.of("delete").map((c) => c.name), [old.metadata?.name]);
  assert.deepEqual(client.of("create"), [], "no revision, no service: both exist");
  assert.ok(events.notes().includes("AllGroupsReady: All replicas are ready, with 2 groups ready of total 2 groups"));
  const written = client.of("updateStatus")[0]?.object as LeaderWorkerSet;
  assert.equal(written.status?.hpaPodSelector, "x", "hpaPodSelector is never rewritten");
});

Deno.test("reconcileLeaderWorkerSet() creates no shared service for UniquePerReplica", async () => {
  const { client, run } = setup({ lws: [lws({ policy: "UniquePerReplica" })] });
  await run();
  assert.deepEqual(client.of("create", "services"), []);
});

Deno.test("reconcileLeaderWorkerSet() looks again while the pod cache lags the leader sts", async () => {
  const live = lws();
  const key = revisionHash(live);
  const { client, run } = setup({
    lws: [live],
    statefulSets: [leaderSts(key)],
    revisions: [revision(live, 1)],
    pods: [leaderPod(0, key)],
  });
  client.respond((call) =>
    call.verb === "apply" ? { ...(call.object as StatefulSet), status: { replicas: 2, readyReplicas: 2 } } : undefined
  );
  assert.deepEqual(await run(), { requeueAfterMs: 1000 });
});

Deno.test("RecentWrites trusts the cache again once it caught up or the TTL passed", async () => {
  const clock = new ManualClock(0);
  const recent = new RecentWrites(clock, 1000);
  const live = lws();
  const cached = leaderSts("a", { generation: 1 });
  const mine = { ...leaderSts("b", { generation: 2 }) };
  recent.rememberLeaderStatefulSet(live, mine);
  assert.equal(recent.leaderStatefulSet(live, cached), mine);
  assert.equal(recent.leaderStatefulSet(live, undefined), mine);
  const caughtUp = leaderSts("b", { generation: 2 });
  assert.equal(recent.leaderStatefulSet(live, caughtUp), caughtUp);
  assert.equal(recent.leaderStatefulSet(live, cached), cached, "forgotten once caught up");
  recent.rememberLeaderStatefulSet(live, mine);
  await clock.advance(1001);
  assert.equal(recent.leaderStatefulSet(live, undefined), undefined, "expired");

  const rev = revision(live, 1);
  recent.rememberRevision(live, rev);
  assert.deepEqual(recent.revisions(live, []), [rev]);
  assert.deepEqual(recent.revisions(live, [rev]), [rev]);
  assert.equal(recent.size, 0);
  recent.rememberRevision(live, rev);
  recent.forgetName(KEY);
  assert.deepEqual(recent.revisions(live, []), []);
});
