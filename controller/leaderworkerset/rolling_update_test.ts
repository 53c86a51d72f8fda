import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { IntOrString, LeaderWorkerSet } from "../../api/types.ts";
import {
  isStatefulSetReady,
  leaderStatefulSetEvents,
  nextPartition,
  partitionMovedNote,
  type ReplicaState,
  replicaStates,
  rollingUpdateParameters,
  rolloutBudget,
  surgeReplicas,
  unreadyReplicas,
} from "./rolling_update.ts";

const NEW = "new-key";
const OLD = "old-key";

function lws(
  o: { replicas?: number; size?: number; mu?: IntOrString; ms?: IntOrString; partition?: number } = {},
): LeaderWorkerSet {
  return {
    metadata: { name: "test", namespace: "ns", uid: "u", generation: 1 },
    spec: {
      replicas: o.replicas ?? 4,
      leaderWorkerTemplate: { size: o.size ?? 2, workerTemplate: { spec: { containers: [] } } },
      rolloutStrategy: {
        type: "RollingUpdate",
        rollingUpdateConfiguration: { maxUnavailable: o.mu ?? 1, maxSurge: o.ms ?? 0, partition: o.partition ?? 0 },
      },
    },
  };
}

function leaderPod(i: number, key: string, ready: boolean, name = `test-${i}`): Pod {
  return {
    metadata: {
      name,
      labels: {
        "leaderworkerset.sigs.k8s.io/name": "test",
        "leaderworkerset.sigs.k8s.io/worker-index": "0",
        "leaderworkerset.sigs.k8s.io/group-index": String(i),
        "leaderworkerset.sigs.k8s.io/template-revision-hash": key,
      },
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function workerSts(i: number, key: string, ready: boolean, name = `test-${i}`): StatefulSet {
  return {
    metadata: {
      name,
      labels: {
        "leaderworkerset.sigs.k8s.io/name": "test",
        "leaderworkerset.sigs.k8s.io/group-index": String(i),
        "leaderworkerset.sigs.k8s.io/template-revision-hash": key,
      },
    },
    spec: { replicas: 1, selector: {}, template: {}, serviceName: "test" },
    status: { replicas: 1, availableReplicas: ready ? 1 : 0, currentRevision: "r1", updateRevision: "r1" },
  };
}

function leaderSts(replicas: number, partition: number, annotationReplicas?: string): StatefulSet {
  const sts: StatefulSet = {
    metadata: { name: "test", labels: { "leaderworkerset.sigs.k8s.io/name": "test" }, annotations: {} },
    spec: {
      replicas,
      selector: {},
      template: {},
      serviceName: "test",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition } },
    },
  };
  if (annotationReplicas !== undefined) {
    sts.metadata!.annotations!["leaderworkerset.sigs.k8s.io/replicas"] = annotationReplicas;
  }
  return sts;
}

/** Groups 0..n-1 given as [key, ready] of both leader and worker sts. */
function world(groups: [key: string, ready: boolean][]): { leaderPods: Pod[]; statefulSets: StatefulSet[] } {
  return {
    leaderPods: groups.map(([key, ready], i) => leaderPod(i, key, ready)),
    statefulSets: groups.map(([key, ready], i) => workerSts(i, key, ready)),
  };
}

/** The object with a deletionTimestamp (a copy). */
function deleting<T extends { metadata?: object }>(o: T): T {
  return { ...o, metadata: { ...o.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } };
}

const RU: ReplicaState = { ready: true, updated: true };
const R_: ReplicaState = { ready: true, updated: false };
const _U: ReplicaState = { ready: false, updated: true };
const __: ReplicaState = { ready: false, updated: false };

Deno.test("rolloutBudget() scales maxUnavailable down and maxSurge up, capped at N", async (t) => {
  const cases: [string, LeaderWorkerSet, { maxUnavailable: number; maxSurge: number; burst: number }][] = [
    ["defaults", { metadata: {}, spec: { leaderWorkerTemplate: { workerTemplate: {} } } }, {
      maxUnavailable: 1,
      maxSurge: 0,
      burst: 1,
    }],
    ["percent", lws({ replicas: 3, mu: "50%", ms: "50%" }), { maxUnavailable: 1, maxSurge: 2, burst: 5 }],
    ["surge capped", lws({ replicas: 4, ms: 10 }), { maxUnavailable: 1, maxSurge: 4, burst: 8 }],
    ["100% surge", lws({ replicas: 4, ms: "100%", mu: "0%" }), { maxUnavailable: 0, maxSurge: 4, burst: 8 }],
  ];
  for (const [name, input, want] of cases) {
    await t.step(name, () => {
      const b = rolloutBudget(input);
      assert.deepEqual({ maxUnavailable: b.maxUnavailable, maxSurge: b.maxSurge, burst: b.burst }, want);
    });
  }
  assert.throws(() => rolloutBudget(lws({ mu: "x%" })), /invalid value for IntOrString/);
});

Deno.test("surgeReplicas() matches the §7.7 reference values", async (t) => {
  const cases: [n: number, ms: number, mu: number, u: number, want: number][] = [
    [1, 1, 0, 1, 2],
    [4, 2, 1, 2, 5],
    [2, 2, 1, 2, 3],
    [1, 1, 0, 0, 1],
    [1, 1, 1, 1, 1],
    [3, 0, 0, 1, 3],
  ];
  for (const [n, ms, mu, u, want] of cases) {
    await t.step(`(N=${n}, ms=${ms}, mu=${mu}, u=${u}) → ${want}`, () => {
      const r = surgeReplicas(u, {
        budget: { replicas: n, maxSurge: ms, maxUnavailable: mu },
        stsReplicas: want,
        lwsName: "x",
      });
      assert.deepEqual(r, { replicas: want });
    });
  }
});

Deno.test("surgeReplicas() reports deleting surge replicas", async (t) => {
  const budget = { replicas: 4, maxSurge: 3, maxUnavailable: 1 };
  await t.step("one replica", () => {
    assert.deepEqual(surgeReplicas(2, { budget, stsReplicas: 6, lwsName: "lws" }).event, {
      type: "Normal",
      reason: "GroupsProgressing",
      action: "Delete",
      note: "deleting surge replica lws-5",
    });
  });
  await t.step("several replicas", () => {
    const r = surgeReplicas(0, { budget, stsReplicas: 7, lwsName: "lws" });
    assert.equal(r.replicas, 4);
    assert.equal(r.event?.note, "deleting surge replicas from lws-4 to lws-6");
  });
  await t.step("no event when not shrinking", () => {
    assert.equal(surgeReplicas(3, { budget, stsReplicas: 6, lwsName: "lws" }).event, undefined);
    assert.equal(surgeReplicas(4, { budget, stsReplicas: 7, lwsName: "lws" }).event, undefined);
  });
});

Deno.test("nextPartition() follows §7.6", async (t) => {
  const cases: { name: string; states: ReplicaState[]; step: number; current: number; want: number }[] = [
    { name: "start of a rollout, step 1", states: [R_, R_, R_, R_], step: 1, current: 4, want: 3 },
    { name: "waits for the rolled group", states: [R_, R_, R_, _U], step: 1, current: 3, want: 3 },
    { name: "moves once the tail is ready", states: [R_, R_, R_, RU], step: 1, current: 3, want: 2 },
    { name: "step 2", states: [R_, R_, R_, R_], step: 2, current: 4, want: 2 },
    { name: "step larger than R", states: [R_, R_, R_, R_], step: 10, current: 4, want: 0 },
    // An unready group below the base eats the budget: base 3, +1 for group 0, then lowered back over nothing.
    { name: "unready below the base", states: [__, R_, R_, R_], step: 1, current: 4, want: 4 },
    // Base 3, +1 for group 0 → 4, then lowered over the unready group 3 so the rollout cannot get stuck.
    { name: "unready at the boundary", states: [__, R_, R_, __], step: 1, current: 4, want: 3 },
    // Base 3, +2 → 5, lowered over unready group 4 and already-updated group 3.
    { name: "updated at the boundary", states: [__, __, R_, RU, _U], step: 2, current: 5, want: 3 },
    { name: "never raised", states: [R_, R_, R_, R_], step: 1, current: 1, want: 1 },
    { name: "all done", states: [RU, RU, RU, RU], step: 1, current: 2, want: 0 },
    { name: "empty", states: [], step: 1, current: 0, want: 0 },
    { name: "surge tail counts", states: [R_, R_, R_, R_, RU], step: 1, current: 4, want: 3 },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      assert.equal(
        nextPartition(c.states, { replicas: c.states.length, step: c.step, current: c.current }),
        c.want,
      );
    });
  }
});

Deno.test("replicaStates() reads leader pods and worker StatefulSets by group index", async (t) => {
  await t.step("ready/updated combinations", () => {
    const w = world([[NEW, true], [OLD, true], [NEW, false], [OLD, false]]);
    assert.deepEqual(replicaStates(lws(), { stsReplicas: 4, revisionKey: NEW, ...w }), [RU, R_, _U, __]);
  });
  await t.step("missing, misnamed and surplus objects", () => {
    const w = world([[NEW, true], [NEW, true], [NEW, true]]);
    w.leaderPods[1] = leaderPod(1, NEW, true, "other-1");
    w.statefulSets.splice(2, 1);
    w.leaderPods.push(leaderPod(9, NEW, true)); // beyond stsReplicas
    w.statefulSets.push(leaderSts(4, 0)); // the leader sts: no group-index label
    assert.deepEqual(replicaStates(lws(), { stsReplicas: 4, revisionKey: NEW, ...w }), [RU, __, __, __]);
  });
  await t.step("worker sts revision and readiness count", () => {
    const w = world([[NEW, true], [NEW, true]]);
    w.statefulSets[0] = workerSts(0, OLD, true);
    w.statefulSets[1]!.status!.updateRevision = "r2";
    assert.deepEqual(replicaStates(lws(), { stsReplicas: 2, revisionKey: NEW, ...w }), [R_, _U]);
  });
  await t.step("size 1 ignores StatefulSets", () => {
    const w = { leaderPods: [leaderPod(0, NEW, true), leaderPod(1, OLD, false)], statefulSets: [] };
    assert.deepEqual(replicaStates(lws({ size: 1 }), { stsReplicas: 2, revisionKey: NEW, ...w }), [RU, __]);
  });
  await t.step("a group whose leader pod or worker sts is being deleted is not ready (stricter than §7.5)", () => {
    const w = world([[NEW, true], [NEW, true], [OLD, true]]);
    w.leaderPods[0] = deleting(w.leaderPods[0]!); // still Running and Ready
    w.statefulSets[1] = deleting(w.statefulSets[1]!); // still available
    assert.deepEqual(replicaStates(lws(), { stsReplicas: 3, revisionKey: NEW, ...w }), [_U, _U, R_]);
    const single = { leaderPods: [w.leaderPods[0]!], statefulSets: [] };
    assert.deepEqual(replicaStates(lws({ size: 1 }), { stsReplicas: 1, revisionKey: NEW, ...single }), [_U]);
  });
  await t.step("a pod not Running is not ready", () => {
    const pod = leaderPod(0, NEW, true);
    pod.status!.phase = "Pending";
    assert.deepEqual(
      replicaStates(lws({ size: 1 }), { stsReplicas: 1, revisionKey: NEW, leaderPods: [pod], statefulSets: [] }),
      [_U],
    );
  });
});

Deno.test("isStatefulSetReady() compares spec.replicas with availableReplicas and the revisions", () => {
  assert.equal(isStatefulSetReady(workerSts(0, NEW, true)), true);
  assert.equal(isStatefulSetReady(workerSts(0, NEW, false)), false);
  const s = workerSts(0, NEW, true);
  s.status!.currentRevision = "a";
  assert.equal(isStatefulSetReady(s), false);
});

Deno.test("unreadyReplicas() counts desired groups not ready and updated", () => {
  assert.equal(unreadyReplicas([RU, R_, _U, __, __], 4), 3);
  assert.equal(unreadyReplicas([RU], 3), 2);
});

Deno.test("rollingUpdateParameters() covers every §7.4 branch", async (t) => {
  const params = (
    l: LeaderWorkerSet,
    sts: StatefulSet | undefined,
    o: { updated?: boolean; groups?: [string, boolean][] } = {},
  ) =>
    rollingUpdateParameters(l, {
      leaderStatefulSet: sts,
      revisionKey: NEW,
      lwsUpdated: o.updated ?? false,
      ...world(o.groups ?? []),
    });
  const ready = (...keys: string[]): [string, boolean][] => keys.map((k) => [k, true]);
  const cases: {
    name: string;
    got: () => ReturnType<typeof rollingUpdateParameters>;
    want: { partition: number; replicas: number; notes?: string[] };
  }[] = [
    { name: "1. no leader sts → (0, N)", got: () => params(lws(), undefined), want: { partition: 0, replicas: 4 } },
    {
      name: "1. … then max with P",
      got: () => params(lws({ partition: 2 }), undefined),
      want: { partition: 2, replicas: 4 },
    },
    {
      name: "2. lwsUpdated, no surge → (min(N, stsReplicas), N)",
      got: () => params(lws(), leaderSts(4, 0, "4"), { updated: true }),
      want: { partition: 4, replicas: 4 },
    },
    {
      name: "2. lwsUpdated with surge → surgeReplicas(N)",
      got: () => params(lws({ ms: 4 }), leaderSts(4, 0, "4"), { updated: true }),
      want: { partition: 4, replicas: 7 },
    },
    {
      name: "2. lwsUpdated while scaling up → replicas N (§7.7 reference: (2, 3))",
      got: () => params(lws({ replicas: 3, size: 1, mu: 0, ms: 1 }), leaderSts(2, 0, "2"), { updated: true }),
      want: { partition: 2, replicas: 3 },
    },
    {
      // u = N = 4 > ms = 1 → burst 5, below the 6 existing.
      name: "2. lwsUpdated with more surge groups than the new burst → delete event",
      got: () => params(lws({ ms: 1, mu: 3 }), leaderSts(6, 0, "4"), { updated: true }),
      want: { partition: 4, replicas: 5, notes: ["deleting surge replica test-5"] },
    },
    {
      name: "3. steady state → (0, N)",
      got: () => params(lws(), leaderSts(4, 0)),
      want: { partition: 0, replicas: 4 },
    },
    {
      name: "4. scale-up → (curPartition, N) (§7.7 reference: (0, 3))",
      got: () => params(lws({ replicas: 3, size: 1, mu: 0, ms: 1 }), leaderSts(2, 0, "2")),
      want: { partition: 0, replicas: 3 },
    },
    {
      name: "4. scale-up mid-rollout keeps the partition",
      got: () => params(lws({ replicas: 6 }), leaderSts(4, 3, "4")),
      want: { partition: 3, replicas: 6 },
    },
    {
      // Scale-down from 6 to 4 while the partition is at 5: partition min(5, burst 4) = 4.
      name: "6. replicas changed mid-rollout → (min(curPartition, burst), surge(u))",
      got: () => params(lws(), leaderSts(6, 5, "6"), { groups: ready(OLD, OLD, OLD, OLD, NEW, NEW) }),
      want: { partition: 4, replicas: 4, notes: ["deleting surge replicas from test-4 to test-5"] },
    },
    {
      name: "6. replicas changed with surge allowed",
      got: () => params(lws({ ms: 2 }), leaderSts(6, 1, "6"), { groups: ready(NEW, NEW, NEW, NEW, NEW, NEW) }),
      want: { partition: 1, replicas: 4, notes: ["deleting surge replicas from test-4 to test-5"] },
    },
    {
      name: "7. partition moves by nextPartition, replicas by surge(u)",
      got: () => params(lws(), leaderSts(4, 3, "4"), { groups: ready(OLD, OLD, OLD, NEW) }),
      want: { partition: 2, replicas: 4 },
    },
    {
      name: "7. the spec partition is a floor",
      got: () => params(lws({ partition: 2 }), leaderSts(4, 2, "4"), { groups: ready(OLD, OLD, NEW, NEW) }),
      want: { partition: 2, replicas: 4 },
    },
    {
      // N=4, ms=2, mu=1, stsReplicas 5 (one surge group missing): step = 1 + 2 - (6 - 5) = 2; base 3; the unready
      // surge group 4 lowers the partition to 4, then group 3 (ready, old) is the base.
      name: "7. missing surge groups shrink the step",
      got: () =>
        params(lws({ ms: 2 }), leaderSts(5, 4, "4"), {
          groups: [[OLD, true], [OLD, true], [OLD, true], [OLD, true], [NEW, false]],
        }),
      want: { partition: 3, replicas: 6 },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const r = c.got();
      assert.deepEqual(
        { partition: r.partition, replicas: r.replicas, notes: r.events.map((e) => e.note) },
        { ...c.want, notes: c.want.notes ?? [] },
      );
    });
  }
  await t.step("6. replicas annotation missing or invalid → Go's Atoi error", () => {
    const groups = ready(NEW, NEW, NEW, OLD);
    assert.throws(() => params(lws(), leaderSts(4, 2), { groups }), {
      message: 'strconv.Atoi: parsing "": invalid syntax',
    });
    assert.throws(() => params(lws(), leaderSts(4, 2, "four"), { groups }), {
      message: 'strconv.Atoi: parsing "four": invalid syntax',
    });
  });
});

Deno.test("leaderStatefulSetEvents() reports creation and partition moves", async (t) => {
  const l = lws();
  await t.step("created", () => {
    assert.deepEqual(leaderStatefulSetEvents(l, { previous: undefined, lwsUpdated: false, partition: 0 }), [{
      type: "Normal",
      reason: "GroupsProgressing",
      action: "Create",
      note: "Created leader statefulset test",
    }]);
  });
  await t.step("moved by one", () => {
    assert.deepEqual(leaderStatefulSetEvents(l, { previous: leaderSts(4, 3), lwsUpdated: false, partition: 2 }), [{
      type: "Normal",
      reason: "GroupsUpdating",
      action: "Update",
      note: "Updating replica 2",
    }]);
  });
  await t.step("moved by several", () => {
    assert.equal(
      leaderStatefulSetEvents(l, { previous: leaderSts(4, 4), lwsUpdated: false, partition: 1 })[0]?.note,
      "Updating replicas 1 to 3 (inclusive)",
    );
  });
  await t.step("not when a revision was created or nothing moved", () => {
    assert.deepEqual(leaderStatefulSetEvents(l, { previous: leaderSts(4, 0), lwsUpdated: true, partition: 4 }), []);
    assert.deepEqual(leaderStatefulSetEvents(l, { previous: leaderSts(4, 2), lwsUpdated: false, partition: 2 }), []);
  });
  await t.step("partitionMovedNote() upwards, literally", () => {
    assert.equal(partitionMovedNote(1, 3), "Updating replicas 3 to 0 (inclusive)");
  });
});

Deno.test("rollingUpdateParameters() holds the partition while a group below it is being deleted", () => {
  // N=4, mu=1: group 3 is updated and ready, group 2 is next; group 0's leader is terminating (a restart, a drain).
  const w = world([[OLD, true], [OLD, true], [OLD, true], [NEW, true]]);
  const sts = leaderSts(4, 3, "4");
  const inputs = { leaderStatefulSet: sts, revisionKey: NEW, lwsUpdated: false, ...w };
  inputs.statefulSets = [sts, ...w.statefulSets];
  assert.equal(rollingUpdateParameters(lws(), inputs).partition, 2, "with every group up, group 2 rolls");
  w.leaderPods[0] = deleting(w.leaderPods[0]!);
  assert.equal(rollingUpdateParameters(lws(), inputs).partition, 3, "group 0 going down uses the budget");
});
