import assert from "node:assert/strict";
import type { ControllerRevision, StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Node, Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet, RestartPolicyType } from "../../api/types.ts";
import { ManualClock } from "../../kube/clock.ts";
import { type Action, TerminalError } from "../../kube/controller.ts";
import { apiError, FakeClient, FakeEvents, storeOf } from "../testing/fakes.ts";
import { buildControllerRevision, revisionHash } from "../leaderworkerset/revision.ts";
import {
  DeletedPods,
  ExpiringSet,
  POD_GROUP_INDEX,
  type PodContext,
  podGroupIndexer,
  reconcilePod,
} from "./reconciler.ts";
import { gangProvider } from "./gang.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const DELETED = "2026-01-01T00:00:00Z";

function lws(o: {
  policy?: RestartPolicyType;
  subdomain?: "Shared" | "UniquePerReplica";
  annotations?: Record<string, string>;
  deleting?: boolean;
} = {}): LeaderWorkerSet {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: {
      name: "test",
      namespace: "ns",
      uid: "lws-uid",
      annotations: o.annotations,
      ...(o.deleting ? { deletionTimestamp: DELETED } : {}),
    },
    spec: {
      replicas: 1,
      leaderWorkerTemplate: {
        size: 3,
        restartPolicy: o.policy ?? "RecreateGroupOnPodRestart",
        workerTemplate: { spec: { containers: [{ name: "w", image: "nginx:1" }] } },
      },
      networkConfig: { subdomainPolicy: o.subdomain ?? "Shared" },
    },
  };
}

const LIVE = lws();
const KEY = revisionHash(LIVE);
const REVISION: ControllerRevision = JSON.parse(
  JSON.stringify(buildControllerRevision(LIVE, { revisionNumber: 1 }).revision),
);

function leader(o: { uid?: string; nodeName?: string; deleting?: boolean; annotations?: Record<string, string> } = {}) {
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "test-0",
      namespace: "ns",
      uid: o.uid ?? "leader-uid",
      labels: {
        [`${P}name`]: "test",
        [`${P}worker-index`]: "0",
        [`${P}group-index`]: "0",
        [`${P}group-key`]: "gk",
        [`${P}template-revision-hash`]: KEY,
      },
      annotations: o.annotations,
      ...(o.deleting ? { deletionTimestamp: DELETED } : {}),
    },
    spec: { containers: [{ name: "w" }], nodeName: o.nodeName },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  };
  return pod;
}

function worker(w: number, o: { uid?: string; restarts?: number; phase?: string } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `test-0-${w}`,
      namespace: "ns",
      uid: o.uid ?? `worker-${w}-uid`,
      labels: {
        [`${P}name`]: "test",
        [`${P}worker-index`]: String(w),
        [`${P}group-index`]: "0",
        [`${P}group-key`]: "gk",
        [`${P}template-revision-hash`]: KEY,
      },
      ownerReferences: [{
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        name: "test-0",
        uid: "wsts-uid",
        controller: true,
      }],
    },
    spec: { containers: [{ name: "w" }] },
    status: {
      phase: o.phase ?? "Running",
      containerStatuses: [{ name: "w", image: "i", imageID: "", ready: true, restartCount: o.restarts ?? 0 }],
    },
  };
}

const WORKER_STS: StatefulSet = {
  metadata: {
    name: "test-0",
    namespace: "ns",
    uid: "wsts-uid",
    labels: { [`${P}name`]: "test" },
    ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "test-0", uid: "leader-uid", controller: true }],
  },
};

function setup(o: {
  lws?: LeaderWorkerSet;
  pods?: Pod[];
  statefulSets?: StatefulSet[];
  services?: Service[];
  revisions?: ControllerRevision[];
} = {}) {
  const client = new FakeClient();
  // The server holds the StatefulSets the cache shows (a live read before a group restart confirms them).
  client.respond((call) =>
    call.verb === "get" && call.resource === "statefulsets"
      ? o.statefulSets?.find((sts) => sts.metadata?.name === call.name)
      : undefined
  );
  const events = new FakeEvents();
  const clock = new ManualClock(Date.parse("2026-05-01T12:00:00Z"));
  const pods = storeOf(o.pods ?? [], { [POD_GROUP_INDEX]: podGroupIndexer });
  const ctx: PodContext = {
    client,
    events,
    deletedPods: new DeletedPods(clock),
    deletedLeaders: new ExpiringSet(clock),
    stores: {
      leaderWorkerSets: storeOf([o.lws ?? LIVE]),
      pods,
      statefulSets: storeOf(o.statefulSets ?? []),
      services: storeOf(o.services ?? []),
      revisions: storeOf(o.revisions ?? [REVISION]),
    },
  };
  const unfollow = ctx.deletedPods.follow(pods);
  const run = (name: string): Promise<Action> =>
    reconcilePod({ namespace: "ns", name }, ctx, { signal: new AbortController().signal });
  return { client, events, ctx, clock, pods, run, unfollow };
}

Deno.test("reconcilePod() creates the worker sts of a leader from its revision", async () => {
  const { client, events, run } = setup({ pods: [leader()] });
  assert.equal(await run("test-0"), "awaitChange");
  const [create] = client.of("create", "statefulsets");
  const sts = create?.object as StatefulSet;
  assert.equal(create?.options?.fieldManager, "lws");
  assert.equal(sts.metadata?.name, "test-0");
  assert.equal(sts.spec?.replicas, 2);
  assert.deepEqual(sts.spec?.ordinals, { start: 1 });
  assert.equal(sts.metadata?.ownerReferences?.[0]?.uid, "leader-uid");
  assert.equal(sts.metadata?.labels?.[`${P}template-revision-hash`], KEY);
  assert.deepEqual(events.notes(), ["GroupsProgressing: Created worker statefulset for leader pod test-0"]);
  assert.equal(events.recorded[0]?.regarding.kind, "LeaderWorkerSet");
  assert.equal(events.recorded[0]?.related?.name, "test-0");
});

Deno.test("reconcilePod() waits for the revision, and never touches an existing worker sts", async (t) => {
  await t.step("revision missing: requeue after 1 s", async () => {
    const { client, run } = setup({ pods: [leader()], revisions: [] });
    assert.deepEqual(await run("test-0"), { requeueAfterMs: 1000 });
    assert.deepEqual(client.calls, []);
  });
  await t.step("pods of a previous worker sts still hold the names: requeue, create once they are gone", async () => {
    const old: Pod = {
      metadata: {
        name: "test-0-1",
        namespace: "ns",
        uid: "old-worker",
        ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "test-0", uid: "old", controller: true }],
      },
    };
    const { client, pods, run } = setup({ pods: [leader(), old] });
    assert.deepEqual(await run("test-0"), { requeueAfterMs: 250 });
    assert.deepEqual(client.calls, []);
    pods.writer.apply({ type: "delete", object: old });
    assert.equal(await run("test-0"), "awaitChange");
    assert.equal(client.of("create", "statefulsets").length, 1);
  });
  await t.step("worker sts exists", async () => {
    const { client, run } = setup({ pods: [leader()], statefulSets: [WORKER_STS] });
    assert.equal(await run("test-0"), "awaitChange");
    assert.deepEqual(client.calls, []);
  });
  await t.step("AlreadyExists from a stale cache: silent", async () => {
    const { client, events, run } = setup({ pods: [leader()] });
    client.respond((call) => {
      if (call.verb === "create") throw apiError(409, "AlreadyExists");
    });
    assert.equal(await run("test-0"), "awaitChange");
    assert.deepEqual(events.notes(), []);
  });
  await t.step("other create errors: FailedCreate and retry", async () => {
    const { client, events, run } = setup({ pods: [leader()] });
    client.respond((call) => {
      if (call.verb === "create") throw apiError(403, "Forbidden", "nope");
    });
    await assert.rejects(run("test-0"), /nope/);
    assert.deepEqual(events.notes(), ["FailedCreate: Failed to create worker statefulset for leader pod test-0: nope"]);
  });
});

Deno.test("reconcilePod() creates the per-replica service for UniquePerReplica", async () => {
  const { client, run } = setup({ lws: lws({ subdomain: "UniquePerReplica" }), pods: [leader()] });
  await run("test-0");
  const [svc] = client.of("create", "services");
  assert.equal(svc?.name, "test-0");
  assert.deepEqual((svc?.object as Service).spec?.selector, { [`${P}name`]: "test", [`${P}group-index`]: "0" });
});

Deno.test("reconcilePod() pins workers to the leader's topology domain", async (t) => {
  const exclusive = lws({ annotations: { [`${P}exclusive-topology`]: "zone" } });
  await t.step("leader not scheduled: wait", async () => {
    const { client, run } = setup({ lws: exclusive, pods: [leader()] });
    assert.equal(await run("test-0"), "awaitChange");
    assert.deepEqual(client.calls, []);
  });
  await t.step("leader scheduled: nodeSelector from its node", async () => {
    const { client, run } = setup({ lws: exclusive, pods: [leader({ nodeName: "n1" })] });
    client.respond((call) =>
      call.verb === "get" ? { metadata: { name: "n1", labels: { zone: "z1" } } } satisfies Node : undefined
    );
    await run("test-0");
    assert.deepEqual(client.of("get").map((c) => [c.resource, c.name]), [["nodes", "n1"]]);
    const sts = client.of("create", "statefulsets")[0]?.object as StatefulSet;
    assert.deepEqual(sts.spec?.template.spec?.nodeSelector, { zone: "z1" });
  });
  await t.step("node without the label: error", async () => {
    const { client, run } = setup({ lws: exclusive, pods: [leader({ nodeName: "n1" })] });
    client.respond((call) => (call.verb === "get" ? { metadata: { name: "n1" } } : undefined));
    await assert.rejects(run("test-0"), /node does not have topology label: $/);
  });
  await t.step("node missing: error (retried)", async () => {
    const { run } = setup({ lws: exclusive, pods: [leader({ nodeName: "n1" })] });
    await assert.rejects(run("test-0"), (err: Error) => err.name === "ApiError");
  });
});

Deno.test("reconcilePod() stops for a mistaken leader-name annotation, a deleting LWS, missing labels", async (t) => {
  await t.step("leader-name annotation", async () => {
    const { client, events, run } = setup({ pods: [leader({ annotations: { [`${P}leader-name`]: "x" } })] });
    await run("test-0");
    assert.deepEqual(client.calls, []);
    assert.equal(events.recorded[0]?.type, "Warning");
    assert.match(events.recorded[0]?.note ?? "", /^leader pod ns\/test-0 contains mistake annotation/);
  });
  await t.step("LWS being deleted", async () => {
    const { client, run } = setup({ lws: lws({ deleting: true }), pods: [leader(), worker(1, { restarts: 1 })] });
    assert.equal(await run("test-0-1"), "awaitChange");
    assert.equal(await run("test-0"), "awaitChange");
    assert.deepEqual(client.calls, []);
  });
  await t.step("missing worker-index label: terminal", async () => {
    const pod = leader();
    const labels = { ...pod.metadata!.labels };
    delete labels[`${P}worker-index`];
    const { run } = setup({ pods: [{ ...pod, metadata: { ...pod.metadata, labels } }] });
    await assert.rejects(run("test-0"), TerminalError);
  });
});

Deno.test("reconcilePod() recreates the group once per failure", async (t) => {
  await t.step("a restarted worker deletes the leader (Foreground, UID precondition), once", async () => {
    const { client, events, run } = setup({
      pods: [leader(), worker(1, { restarts: 1 }), worker(2, { restarts: 1 })],
      statefulSets: [WORKER_STS],
    });
    assert.equal(await run("test-0-1"), "awaitChange");
    const [del] = client.of("delete", "pods");
    assert.equal(del?.name, "test-0");
    assert.equal(del?.options?.propagationPolicy, "Foreground");
    assert.deepEqual(del?.options?.preconditions, { uid: "leader-uid" });
    assert.deepEqual(events.notes(), [
      "RecreateGroup: Worker pod test-0-1 failed, deleted leader pod test-0 to recreate group 0",
    ]);
    assert.equal(events.recorded[0]?.related?.name, "test-0");
    // The cache has not shown the deletion yet: the same worker again, and another worker of the group.
    await run("test-0-1");
    await run("test-0-2");
    assert.equal(client.of("delete").length, 1);
    assert.equal(events.recorded.length, 1);
  });
  await t.step("a leader replaced meanwhile (UID precondition fails): no event", async () => {
    const { client, events, run } = setup({ pods: [leader(), worker(1, { restarts: 1 })], statefulSets: [WORKER_STS] });
    client.respond((call) => {
      if (call.verb === "delete") throw apiError(409, "Conflict");
    });
    assert.equal(await run("test-0-1"), "awaitChange");
    assert.deepEqual(events.notes(), []);
  });
  await t.step("a worker whose StatefulSet is already gone on the server (stale cache): no restart", async () => {
    const { client, events, run } = setup({ pods: [leader(), worker(1, { restarts: 1 })], statefulSets: [WORKER_STS] });
    client.respond((call) => {
      if (call.verb === "get" && call.resource === "statefulsets") throw apiError(404, "NotFound");
    });
    await run("test-0-1");
    assert.deepEqual(client.of("delete"), []);
    assert.deepEqual(events.notes(), []);
  });
  await t.step("None: nothing", async () => {
    const { client, run } = setup({
      lws: lws({ policy: "None" }),
      pods: [leader(), worker(1, { restarts: 1 })],
      statefulSets: [WORKER_STS],
    });
    await run("test-0-1");
    assert.deepEqual(client.of("delete"), []);
  });
  for (const policy of ["RecreateGroupOnPodRestart", "RecreateGroupAfterStart"] as const) {
    await t.step(`${policy}: a worker deleted at once (gone before its reconcile) still counts`, async () => {
      const { client, events, pods, run, unfollow } = setup({
        lws: lws({ policy }),
        pods: [leader(), worker(1), worker(2, { phase: "Failed" })],
        statefulSets: [WORKER_STS],
      });
      // The StatefulSet controller deletes the Failed pod (grace 0) and creates a new one of the same name.
      pods.writer.apply({ type: "delete", object: worker(2, { phase: "Failed" }) });
      pods.writer.apply({ type: "apply", object: worker(2, { uid: "new-uid", phase: "Pending" }) });
      await run("test-0-2");
      await run("test-0-2");
      assert.equal(client.of("delete").length, 1);
      assert.deepEqual(events.notes(), [
        "RecreateGroup: Worker pod test-0-2 failed, deleted leader pod test-0 to recreate group 0",
      ]);
      unfollow();
    });
  }
  await t.step("a deleted worker of a deleted leader: nothing", async () => {
    const { client, pods, run, unfollow } = setup({ pods: [leader({ deleting: true }), worker(1)] });
    pods.writer.apply({ type: "delete", object: worker(1) });
    await run("test-0-1");
    assert.deepEqual(client.calls, []);
    unfollow();
  });
});

Deno.test("DeletedPods hands out a deleted state once, marked deleted, within its TTL", async () => {
  const clock = new ManualClock(0);
  const deleted = new DeletedPods(clock, 1000);
  deleted.record(worker(1));
  const taken = deleted.take("ns", "test-0-1");
  assert.ok(taken?.metadata?.deletionTimestamp);
  assert.ok(deleted.isTombstone(taken!));
  assert.equal(deleted.take("ns", "test-0-1"), undefined);
  deleted.record(worker(1));
  await clock.advance(1001);
  assert.equal(deleted.take("ns", "test-0-1"), undefined);
  assert.equal(deleted.size, 0);

  const set = new ExpiringSet(clock, 1000);
  set.add("a");
  assert.ok(set.has("a"));
  await clock.advance(1001);
  assert.ok(!set.has("a"));
});

Deno.test("reconcilePod() creates the leader's PodGroup once when gang scheduling is configured", async (t) => {
  const GROUP = `test-0-${KEY}`;
  const gangLeader = () => leader({ annotations: { "scheduling.k8s.io/group-name": GROUP } });
  const withGang = (s: ReturnType<typeof setup>, name: "volcano" | "workload") => {
    s.ctx.gang = { provider: gangProvider(name)!, known: new ExpiringSet(s.clock) };
    return s;
  };
  await t.step("volcano: GET, create before the worker sts, then nothing more for this leader", async () => {
    const { client, run } = withGang(setup({ pods: [gangLeader()] }), "volcano");
    await run("test-0");
    assert.deepEqual(client.calls.map((c) => `${c.verb} ${c.resource} ${c.name}`), [
      `get podgroups ${GROUP}`,
      `create podgroups ${GROUP}`,
      "create statefulsets test-0",
    ]);
    const pg = client.of("create", "podgroups")[0]!.object as Record<string, unknown>;
    assert.equal(pg.apiVersion, "scheduling.volcano.sh/v1beta1");
    assert.deepEqual((pg.spec as Record<string, unknown>).minMember, 3);
    client.calls.length = 0;
    await run("test-0");
    assert.deepEqual(client.of("get", "podgroups"), []);
  });
  await t.step("workload: an existing PodGroup is not created again", async () => {
    const { client, run } = withGang(setup({ pods: [gangLeader()] }), "workload");
    client.respond((call) => call.verb === "get" && call.resource === "podgroups" ? { metadata: {} } : undefined);
    await run("test-0");
    assert.deepEqual(client.of("create", "podgroups"), []);
    assert.equal(client.of("get", "podgroups")[0]?.namespace, "ns");
  });
  await t.step("AlreadyExists is fine", async () => {
    const { client, events, run } = withGang(setup({ pods: [gangLeader()] }), "workload");
    client.respond((call) => {
      if (call.verb === "create" && call.resource === "podgroups") throw apiError(409, "AlreadyExists");
    });
    await run("test-0");
    assert.deepEqual(events.notes(), ["GroupsProgressing: Created worker statefulset for leader pod test-0"]);
  });
  await t.step("API not served (404 on create): a Warning naming the API and gates, and a retried error", async () => {
    const { client, events, run } = withGang(setup({ pods: [gangLeader()] }), "workload");
    client.respond((call) => {
      if (call.verb === "create" && call.resource === "podgroups") throw apiError(404, "NotFound");
    });
    await assert.rejects(run("test-0"), /scheduling\.k8s\.io\/v1beta1 podgroups is not served/);
    assert.equal(events.recorded[0]?.type, "Warning");
    assert.match(events.notes()[0]!, /^FailedCreate: Cannot create PodGroup .*GenericWorkload=true/);
    assert.deepEqual(client.of("create", "statefulsets"), [], "no worker sts without the PodGroup");
  });
  await t.step("a leader without the group-name annotation gets none; no gang, no PodGroup calls", async () => {
    const a = withGang(setup({ pods: [leader()] }), "volcano");
    await a.run("test-0");
    assert.deepEqual(a.client.of("get", "podgroups"), []);
    const b = setup({ pods: [gangLeader()] });
    await b.run("test-0");
    assert.deepEqual(b.client.of("get", "podgroups"), []);
  });
});
