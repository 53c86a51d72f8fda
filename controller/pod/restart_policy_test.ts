import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet, RestartPolicyType } from "../../api/types.ts";
import { restartLookups, restartPolicyDecision, type RestartPolicyInputs, restartTriggered } from "./restart_policy.ts";

const DELETED = "2026-01-01T00:00:00Z";

function lws(policy: RestartPolicyType, annotations?: Record<string, string>): LeaderWorkerSet {
  return {
    metadata: { name: "test", namespace: "ns", annotations },
    spec: { replicas: 1, leaderWorkerTemplate: { size: 3, restartPolicy: policy, workerTemplate: {} } },
  };
}

interface PodOptions {
  phase?: string;
  restarts?: number;
  initRestarts?: number;
  deleting?: boolean;
  revision?: string;
  uid?: string;
  owner?: { kind: string; name: string; uid: string };
}

function pod(name: string, workerIndex: number, o: PodOptions = {}): Pod {
  const p: Pod = {
    metadata: {
      name,
      namespace: "ns",
      uid: o.uid ?? `${name}-uid`,
      labels: {
        "leaderworkerset.sigs.k8s.io/name": "test",
        "leaderworkerset.sigs.k8s.io/group-index": "0",
        "leaderworkerset.sigs.k8s.io/worker-index": String(workerIndex),
        "leaderworkerset.sigs.k8s.io/template-revision-hash": o.revision ?? "rev",
      },
      ownerReferences: o.owner === undefined
        ? undefined
        : [{ apiVersion: "apps/v1", ...o.owner, controller: true, blockOwnerDeletion: true }],
    },
    status: {
      phase: o.phase ?? "Running",
      containerStatuses: [{
        name: "c",
        image: "i",
        imageID: "",
        ready: true,
        restartCount: o.restarts ?? 0,
      }],
      initContainerStatuses: [{ name: "i", image: "i", imageID: "", ready: true, restartCount: o.initRestarts ?? 0 }],
    },
  };
  if (o.deleting === true) p.metadata = { ...p.metadata, deletionTimestamp: DELETED };
  return p;
}

function workerSts(o: { uid?: string; leaderUid?: string; leaderName?: string } = {}): StatefulSet {
  return {
    metadata: {
      name: "test-0",
      namespace: "ns",
      uid: o.uid ?? "sts-uid",
      ownerReferences: [{
        apiVersion: "v1",
        kind: "Pod",
        name: o.leaderName ?? "test-0",
        uid: o.leaderUid ?? "test-0-uid",
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
  };
}

const STS_OWNER = { kind: "StatefulSet", name: "test-0", uid: "sts-uid" };
const LEADER_OWNER = { kind: "StatefulSet", name: "test", uid: "leader-sts-uid" };

function groupOf(...extra: Pod[]): Pod[] {
  const base = [
    pod("test-0", 0, { owner: LEADER_OWNER }),
    pod("test-0-1", 1, { owner: STS_OWNER }),
    pod("test-0-2", 2, { owner: STS_OWNER }),
  ];
  for (const p of extra) {
    const i = base.findIndex((b) => b.metadata?.name === p.metadata?.name);
    if (i >= 0) base[i] = p;
  }
  return base;
}

Deno.test("restartTriggered() fires on deletion or on a restarted container of a Running/Pending pod", async (t) => {
  const cases: [string, PodOptions, boolean][] = [
    ["running, no restarts", {}, false],
    ["running, restarted", { restarts: 1 }, true],
    ["pending, init container restarted", { phase: "Pending", initRestarts: 2 }, true],
    ["failed, restarted", { phase: "Failed", restarts: 1 }, false],
    ["succeeded, restarted", { phase: "Succeeded", restarts: 1 }, false],
    ["being deleted", { deleting: true }, true],
    ["being deleted, failed", { deleting: true, phase: "Failed" }, true],
  ];
  for (const [name, options, want] of cases) {
    await t.step(name, () => assert.equal(restartTriggered(pod("test-0-1", 1, options)), want));
  }
});

Deno.test("restartPolicyDecision() applies §8.3 to each policy", async (t) => {
  const worker = pod("test-0-1", 1, { restarts: 1, owner: STS_OWNER });
  const leader = pod("test-0", 0, { owner: LEADER_OWNER });
  const inputs = (l: LeaderWorkerSet, extra: Partial<RestartPolicyInputs> = {}): RestartPolicyInputs => ({
    lws: l,
    groupPods: groupOf(worker),
    leader,
    workerStatefulSet: workerSts(),
    ...extra,
  });
  const DELETE = {
    action: "deleteLeader",
    leader,
    eventNote: "Worker pod test-0-1 failed, deleted leader pod test-0 to recreate group 0",
    event: {
      type: "Normal",
      reason: "RecreateGroup",
      action: "Delete",
      note: "Worker pod test-0-1 failed, deleted leader pod test-0 to recreate group 0",
    },
  };

  await t.step("None does nothing", () => {
    assert.deepEqual(restartPolicyDecision(worker, inputs(lws("None"))), { action: "none" });
  });
  await t.step("deprecated Default does nothing", () => {
    assert.deepEqual(restartPolicyDecision(worker, inputs(lws("Default"))), { action: "none" });
  });
  await t.step("RecreateGroupOnPodRestart deletes the leader", () => {
    assert.deepEqual(restartPolicyDecision(worker, inputs(lws("RecreateGroupOnPodRestart"))), DELETE);
  });
  await t.step("RecreateGroupAfterStart deletes the leader of a started group", () => {
    assert.deepEqual(restartPolicyDecision(worker, inputs(lws("RecreateGroupAfterStart"))), DELETE);
  });
  await t.step("no trigger, no action", () => {
    const healthy = pod("test-0-1", 1, { owner: STS_OWNER });
    assert.deepEqual(restartPolicyDecision(healthy, inputs(lws("RecreateGroupOnPodRestart"))), { action: "none" });
  });
  await t.step("a deleted worker triggers too", () => {
    const deleted = pod("test-0-1", 1, { deleting: true, owner: STS_OWNER });
    const d = restartPolicyDecision(deleted, inputs(lws("RecreateGroupOnPodRestart")));
    assert.equal(d.action, "deleteLeader");
  });
  await t.step("the leader restarting deletes itself; the note still says Worker", () => {
    const restarted = pod("test-0", 0, { restarts: 3, owner: LEADER_OWNER });
    const d = restartPolicyDecision(restarted, {
      lws: lws("RecreateGroupOnPodRestart"),
      groupPods: groupOf(restarted),
    });
    assert.equal(d.action, "deleteLeader");
    assert.equal(d.action === "deleteLeader" && d.leader, restarted);
    assert.equal(
      d.action === "deleteLeader" && d.eventNote,
      "Worker pod test-0 failed, deleted leader pod test-0 to recreate group 0",
    );
  });
});

Deno.test("restartPolicyDecision() leaves pending groups alone only after-start", async (t) => {
  const worker = pod("test-0-1", 1, { restarts: 1, owner: STS_OWNER });
  const leader = pod("test-0", 0, { owner: LEADER_OWNER });
  const missingOne = [leader, worker]; // 2 pods, size 3
  const onePending = groupOf(worker, pod("test-0-2", 2, { phase: "Pending", owner: STS_OWNER }));
  const cases: [string, LeaderWorkerSet, Pod[], string][] = [
    ["OnPodRestart, a pod missing", lws("RecreateGroupOnPodRestart"), missingOne, "deleteLeader"],
    ["OnPodRestart, a pod Pending", lws("RecreateGroupOnPodRestart"), onePending, "deleteLeader"],
    ["AfterStart, a pod missing", lws("RecreateGroupAfterStart"), missingOne, "none"],
    ["AfterStart, a pod Pending", lws("RecreateGroupAfterStart"), onePending, "none"],
    [
      "experimental annotation (empty value), a pod Pending",
      lws("RecreateGroupOnPodRestart", { "leaderworkerset.sigs.k8s.io/experimental-recreate-group-after-start": "" }),
      onePending,
      "none",
    ],
    [
      "experimental annotation, started group",
      lws("RecreateGroupOnPodRestart", { "leaderworkerset.sigs.k8s.io/experimental-recreate-group-after-start": "x" }),
      groupOf(worker),
      "deleteLeader",
    ],
    [
      "experimental annotation does not revive None",
      lws("None", { "leaderworkerset.sigs.k8s.io/experimental-recreate-group-after-start": "x" }),
      groupOf(worker),
      "none",
    ],
  ];
  for (const [name, l, groupPods, want] of cases) {
    await t.step(name, () => {
      const d = restartPolicyDecision(worker, { lws: l, groupPods, leader, workerStatefulSet: workerSts() });
      assert.equal(d.action, want);
    });
  }
});

Deno.test("restartPolicyDecision() only lets a worker restart its own leader's group", async (t) => {
  const l = lws("RecreateGroupOnPodRestart");
  const worker = pod("test-0-1", 1, { restarts: 1, owner: STS_OWNER });
  const leader = pod("test-0", 0, { owner: LEADER_OWNER });
  const cases: [string, Partial<RestartPolicyInputs>, Pod, string][] = [
    ["leader missing", { leader: undefined }, worker, "none"],
    ["leader on another revision", { leader: pod("test-0", 0, { revision: "new" }) }, worker, "none"],
    ["owning sts missing", { workerStatefulSet: undefined }, worker, "none"],
    [
      "stale worker: sts recreated with a new UID",
      { workerStatefulSet: workerSts({ uid: "sts-uid-2" }) },
      worker,
      "none",
    ],
    ["sts controlled by a previous leader", { workerStatefulSet: workerSts({ leaderUid: "old" }) }, worker, "none"],
    [
      "worker controlled by the leader pod itself",
      { workerStatefulSet: undefined },
      pod("test-0-1", 1, { restarts: 1, owner: { kind: "Pod", name: "test-0", uid: "test-0-uid" } }),
      "deleteLeader",
    ],
    ["worker without controller", {}, pod("test-0-1", 1, { restarts: 1 }), "none"],
    ["leader already deleting", { leader: pod("test-0", 0, { deleting: true }) }, worker, "alreadyDeleting"],
  ];
  for (const [name, extra, p, want] of cases) {
    await t.step(name, () => {
      const inputs: RestartPolicyInputs = { lws: l, groupPods: groupOf(p), leader, workerStatefulSet: workerSts() };
      const d = restartPolicyDecision(p, { ...inputs, ...extra });
      assert.equal(d.action, want);
    });
  }
  await t.step("a deleting leader that triggers itself is alreadyDeleting", () => {
    const dying = pod("test-0", 0, { deleting: true });
    assert.deepEqual(restartPolicyDecision(dying, { lws: l, groupPods: groupOf(dying) }), {
      action: "alreadyDeleting",
      leader: dying,
    });
  });
  await t.step("an unparsable worker name is an error", () => {
    const odd = pod("oddname", 1, { restarts: 1 });
    assert.deepEqual(restartPolicyDecision(odd, { lws: l, groupPods: groupOf() }), {
      action: "error",
      message: "parsing pod name for pod oddname",
    });
  });
});

Deno.test("restartLookups() names the leader and the owning StatefulSet", () => {
  assert.deepEqual(restartLookups(pod("test-0", 0, { owner: LEADER_OWNER })), { leaderName: "test-0" });
  assert.deepEqual(restartLookups(pod("test-0-1", 1, { owner: STS_OWNER })), {
    leaderName: "test-0",
    ownerStatefulSetName: "test-0",
  });
  assert.deepEqual(restartLookups(pod("odd", 1)), { leaderName: "" });
});
