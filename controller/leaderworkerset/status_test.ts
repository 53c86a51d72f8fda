import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { Condition } from "kubernetes-types/meta/v1.d.ts";
import type { LeaderWorkerSet, LeaderWorkerSetStatus } from "../../api/types.ts";
import { computeStatus, formatMetaTime, hpaPodSelector, setConditions } from "./status.ts";

const NEW = "new-key";
const OLD = "old-key";
const T0 = new Date("2026-03-01T10:00:00.123Z");
const T1 = new Date("2026-03-01T10:05:00Z");
const T2 = new Date("2026-03-01T10:10:00Z");
const SELECTOR = "leaderworkerset.sigs.k8s.io/name=test,leaderworkerset.sigs.k8s.io/worker-index=0";

function lws(o: { replicas?: number; size?: number; partition?: number; generation?: number } = {}): LeaderWorkerSet {
  return {
    metadata: { name: "test", namespace: "ns", generation: o.generation ?? 1 },
    spec: {
      replicas: o.replicas ?? 2,
      leaderWorkerTemplate: { size: o.size ?? 2, workerTemplate: {} },
      rolloutStrategy: {
        type: "RollingUpdate",
        rollingUpdateConfiguration: { partition: o.partition ?? 0, maxUnavailable: 1, maxSurge: 0 },
      },
    },
  };
}

function leaderPod(i: number | string, key: string, ready: boolean): Pod {
  return {
    metadata: {
      name: `test-${i}`,
      labels: {
        "leaderworkerset.sigs.k8s.io/group-index": String(i),
        "leaderworkerset.sigs.k8s.io/template-revision-hash": key,
      },
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

function workerSts(i: number, key: string, ready: boolean): StatefulSet {
  return {
    metadata: { name: `test-${i}`, labels: { "leaderworkerset.sigs.k8s.io/template-revision-hash": key } },
    spec: { replicas: 1, selector: {}, template: {}, serviceName: "test" },
    status: { replicas: 1, availableReplicas: ready ? 1 : 0, currentRevision: "a", updateRevision: "a" },
  };
}

function leaderSts(replicas: number): StatefulSet {
  return { metadata: { name: "test" }, status: { replicas } };
}

/** Groups as [leader key, leader ready, worker key, worker ready]; undefined worker key = no worker sts. */
type Group = [string, boolean, string | undefined, boolean];

function observe(groups: Group[]): { pods: Pod[]; workers: Map<string, StatefulSet> } {
  const pods: Pod[] = [];
  const workers = new Map<string, StatefulSet>();
  groups.forEach(([lk, lr, wk, wr], i) => {
    pods.push(leaderPod(i, lk, lr));
    if (wk !== undefined) workers.set(`test-${i}`, workerSts(i, wk, wr));
  });
  return { pods, workers };
}

function run(l: LeaderWorkerSet, groups: Group[], now: Date, stsReplicas = groups.length) {
  const { pods, workers } = observe(groups);
  return computeStatus(l, leaderSts(stsReplicas), pods, workers, { revisionKey: NEW, now });
}

function cond(status: LeaderWorkerSetStatus, type: string): Condition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

function brief(status: LeaderWorkerSetStatus): string[] {
  return (status.conditions ?? []).map((c) => `${c.type}=${c.status}:${c.message}`);
}

Deno.test("formatMetaTime() renders RFC 3339 whole seconds in UTC", () => {
  assert.equal(formatMetaTime(T0), "2026-03-01T10:00:00Z");
  assert.equal(hpaPodSelector("x"), "leaderworkerset.sigs.k8s.io/name=x,leaderworkerset.sigs.k8s.io/worker-index=0");
});

Deno.test("computeStatus() marks Progressing for a fresh LWS without worker StatefulSets", () => {
  const r = run(lws(), [[NEW, false, undefined, false], [NEW, false, undefined, false]], T0, 2);
  assert.deepEqual(r.status, {
    conditions: [{
      type: "Progressing",
      status: "True",
      observedGeneration: 1,
      lastTransitionTime: "2026-03-01T10:00:00Z",
      reason: "GroupsProgressing",
      message: "Replicas are progressing",
    }],
    replicas: 2,
    hpaPodSelector: SELECTOR,
    observedGeneration: 1,
  });
  assert.equal(r.changed, true);
  assert.equal(r.updateDone, false);
  assert.deepEqual(r.event, {
    type: "Normal",
    reason: "GroupsProgressing",
    action: "Update",
    note: "Replicas are progressing, with 0 groups ready of total 2 groups",
  });
});

Deno.test("computeStatus() walks the condition sequence of create, ready, update, done", async (t) => {
  let l = lws();
  const step = (groups: Group[], now: Date) => {
    const r = run(l, groups, now);
    l = { ...l, status: r.status };
    return r;
  };
  await t.step("created: Progressing", () => {
    const r = step([[NEW, false, NEW, false], [NEW, false, NEW, false]], T0);
    assert.deepEqual(brief(r.status), ["Progressing=True:Replicas are progressing"]);
    assert.equal(r.status.updatedReplicas, 2);
    assert.equal(r.status.readyReplicas, undefined);
  });
  await t.step("unchanged: no write, no event", () => {
    const r = step([[NEW, false, NEW, false], [NEW, true, NEW, false]], T1);
    assert.equal(r.changed, false);
    assert.equal(r.event, undefined);
  });
  await t.step("all ready: Available, Progressing False keeps its message", () => {
    const r = step([[NEW, true, NEW, true], [NEW, true, NEW, true]], T1);
    assert.deepEqual(brief(r.status), [
      "Progressing=False:Replicas are progressing",
      "Available=True:All replicas are ready",
    ]);
    assert.equal(cond(r.status, "Progressing")?.lastTransitionTime, "2026-03-01T10:05:00Z");
    assert.equal(cond(r.status, "Progressing")?.reason, "GroupsProgressing");
    assert.equal(r.event?.reason, "AllGroupsReady");
    assert.equal(r.event?.note, "All replicas are ready, with 2 groups ready of total 2 groups");
    assert.equal(r.updateDone, true);
  });
  await t.step("update starts: only UpdateInProgress is asserted (short-circuit); Available goes False", () => {
    const r = step([[NEW, true, NEW, true], [OLD, true, OLD, true]], T2);
    assert.deepEqual(brief(r.status), [
      "Progressing=False:Replicas are progressing",
      "Available=False:All replicas are ready",
      "UpdateInProgress=True:Rolling Upgrade is in progress",
    ]);
    assert.equal(r.event?.reason, "GroupsUpdating");
    assert.equal(r.event?.note, "Rolling Upgrade is in progress, with 2 groups ready of total 2 groups");
    assert.equal(r.updateDone, false);
    assert.equal(r.status.updatedReplicas, 1);
  });
  await t.step("next reconcile: Progressing becomes True, the event still names UpdateInProgress", () => {
    const r = step([[NEW, true, NEW, true], [NEW, false, NEW, false]], T2);
    assert.deepEqual(brief(r.status), [
      "Progressing=True:Replicas are progressing",
      "Available=False:All replicas are ready",
      "UpdateInProgress=True:Rolling Upgrade is in progress",
    ]);
    assert.equal(r.event?.reason, "GroupsProgressing");
    assert.equal(r.event?.note, "Replicas are progressing, with 1 groups ready of total 2 groups");
  });
  await t.step("all updated but one not ready: Progressing; UpdateInProgress stays True", () => {
    const r = step([[NEW, true, NEW, true], [NEW, true, NEW, false]], T2);
    assert.equal(r.changed, false);
    assert.equal(r.event, undefined);
    assert.equal(cond(r.status, "UpdateInProgress")?.status, "True");
  });
  await t.step("done: Available; both others False with their old messages", () => {
    const r = step([[NEW, true, NEW, true], [NEW, true, NEW, true]], T2);
    assert.deepEqual(brief(r.status), [
      "Progressing=False:Replicas are progressing",
      "Available=True:All replicas are ready",
      "UpdateInProgress=False:Rolling Upgrade is in progress",
    ]);
    assert.equal(r.updateDone, true);
    assert.equal(r.event?.note, "All replicas are ready, with 2 groups ready of total 2 groups");
  });
});

Deno.test("computeStatus() counts surge groups in the totals but not in the conditions", () => {
  // N=2; group 2 is a surge group; group 1 still old.
  const r = run(lws(), [[NEW, true, NEW, true], [OLD, true, OLD, true], [NEW, true, NEW, true]], T0);
  assert.equal(r.status.readyReplicas, 3);
  assert.equal(r.status.updatedReplicas, 2);
  assert.equal(r.status.replicas, 3);
  assert.deepEqual(brief(r.status), ["UpdateInProgress=True:Rolling Upgrade is in progress"]);
  assert.equal(r.event?.note, "Rolling Upgrade is in progress, with 3 groups ready of total 2 groups");
  // Surge groups alone do not make the LWS Available.
  const r2 = run(lws(), [[NEW, true, NEW, true], [NEW, false, NEW, false], [NEW, true, NEW, true]], T0);
  assert.deepEqual(brief(r2.status), ["Progressing=True:Replicas are progressing"]);
});

Deno.test("computeStatus() only counts groups at or above the partition for the update", async (t) => {
  await t.step("P=1: group 0 old is fine; Available; update not done", () => {
    const r = run(lws({ partition: 1 }), [[OLD, true, OLD, true], [NEW, true, NEW, true]], T0);
    assert.deepEqual(brief(r.status), ["Available=True:All replicas are ready"]);
    assert.equal(r.updateDone, false);
  });
  await t.step("P=1: an old group at or above the partition means UpdateInProgress", () => {
    const r = run(lws({ partition: 1 }), [[NEW, true, NEW, true], [OLD, true, OLD, true]], T0);
    assert.equal(cond(r.status, "UpdateInProgress")?.status, "True");
  });
  await t.step("P beyond N: nothing to update", () => {
    const r = run(lws({ partition: 5 }), [[OLD, true, OLD, true], [OLD, true, OLD, true]], T0);
    assert.deepEqual(brief(r.status), ["Available=True:All replicas are ready"]);
  });
});

Deno.test("computeStatus() handles size 1, missing worker StatefulSets and replicas 0", async (t) => {
  await t.step("size 1 looks at leader pods only", () => {
    const pods = [leaderPod(0, NEW, true), leaderPod(1, NEW, true)];
    const r = computeStatus(lws({ size: 1 }), leaderSts(2), pods, () => undefined, { revisionKey: NEW, now: T0 });
    assert.deepEqual(brief(r.status), ["Available=True:All replicas are ready"]);
    assert.equal(r.status.readyReplicas, 2);
    assert.equal(r.updateDone, true);
  });
  await t.step("a group without worker sts is skipped entirely", () => {
    const r = run(lws(), [[NEW, true, NEW, true], [OLD, true, undefined, false]], T0);
    assert.equal(r.status.readyReplicas, 1);
    assert.deepEqual(brief(r.status), ["Progressing=True:Replicas are progressing"]);
  });
  await t.step("replicas 0: Available at once, hpaPodSelector set, zeros omitted", () => {
    const r = run(lws({ replicas: 0 }), [], T0, 0);
    assert.deepEqual(brief(r.status), ["Available=True:All replicas are ready"]);
    assert.equal(r.status.hpaPodSelector, SELECTOR);
    assert.equal("replicas" in r.status, false);
    assert.equal("readyReplicas" in r.status, false);
    assert.equal("updatedReplicas" in r.status, false);
    assert.equal(r.updateDone, true);
    assert.equal(r.event?.note, "All replicas are ready, with 0 groups ready of total 0 groups");
  });
});

Deno.test("computeStatus() keeps an existing hpaPodSelector and refreshes observedGeneration", async (t) => {
  const base = lws();
  const first = run(base, [[NEW, true, NEW, true], [NEW, true, NEW, true]], T0);
  await t.step("hpaPodSelector is never rewritten", () => {
    const l = { ...base, status: { ...first.status, hpaPodSelector: "custom" } };
    const r = run(l, [[NEW, true, NEW, true], [NEW, true, NEW, true]], T1);
    assert.equal(r.status.hpaPodSelector, "custom");
    assert.equal(r.changed, false);
  });
  await t.step("a new generation replaces the asserted condition and refreshes the others", () => {
    const conditions: Condition[] = [
      { ...first.status.conditions![0]!, type: "Progressing", status: "False", message: "Replicas are progressing" },
      ...first.status.conditions!,
    ];
    const l = { ...lws({ generation: 2 }), status: { ...first.status, conditions } };
    const r = run(l, [[NEW, true, NEW, true], [NEW, true, NEW, true]], T1);
    assert.equal(r.changed, true);
    assert.equal(r.status.observedGeneration, 2);
    assert.deepEqual(r.status.conditions?.map((c) => [c.type, c.status, c.observedGeneration, c.lastTransitionTime]), [
      ["Progressing", "False", 2, "2026-03-01T10:00:00Z"],
      ["Available", "True", 2, "2026-03-01T10:05:00Z"],
    ]);
    assert.equal(r.event?.note, "All replicas are ready, with 2 groups ready of total 2 groups");
  });
});

Deno.test("computeStatus() rejects a leader pod with an unparsable group index", () => {
  assert.throws(
    () => computeStatus(lws(), leaderSts(1), [leaderPod("x", NEW, true)], new Map(), { revisionKey: NEW, now: T0 }),
    { message: 'strconv.Atoi: parsing "x": invalid syntax' },
  );
});

Deno.test("setConditions() implements the §7.10 algebra", async (t) => {
  const opts = { generation: 3, now: T1 };
  await t.step("appends to an empty list", () => {
    const r = setConditions([], ["UpdateInProgress", "Progressing"], opts);
    assert.deepEqual(r.conditions.map((c) => c.type), ["UpdateInProgress"]);
    assert.equal(r.changed, true);
  });
  await t.step("skips an unchanged first assertion and applies the second", () => {
    const r1 = setConditions([], ["UpdateInProgress"], opts);
    const r2 = setConditions(r1.conditions, ["UpdateInProgress", "Progressing"], opts);
    assert.deepEqual(r2.conditions.map((c) => c.type), ["UpdateInProgress", "Progressing"]);
    const r3 = setConditions(r2.conditions, ["UpdateInProgress", "Progressing"], opts);
    assert.equal(r3.changed, false);
    assert.deepEqual(r3.conditions, r2.conditions);
  });
  await t.step("a True condition with a stale message is not refreshed", () => {
    const stale: Condition = {
      type: "Available",
      status: "True",
      observedGeneration: 3,
      lastTransitionTime: "2020-01-01T00:00:00Z",
      reason: "Old",
      message: "old",
    };
    const r = setConditions([stale], ["Available"], opts);
    assert.equal(r.changed, false);
    assert.deepEqual(r.conditions, [stale]);
  });
  await t.step("Progressing and UpdateInProgress are not exclusive", () => {
    const r1 = setConditions([], ["Progressing"], opts);
    const r2 = setConditions(r1.conditions, ["UpdateInProgress"], opts);
    assert.deepEqual(r2.conditions.map((c) => `${c.type}=${c.status}`), ["Progressing=True", "UpdateInProgress=True"]);
  });
  await t.step("a False condition asserted again becomes True with fresh text", () => {
    const r1 = setConditions([], ["Progressing"], opts);
    const r2 = setConditions(r1.conditions, ["Available"], opts);
    const r3 = setConditions(r2.conditions, ["Progressing"], { generation: 3, now: T2 });
    assert.deepEqual(r3.conditions.map((c) => `${c.type}=${c.status}@${c.lastTransitionTime}`), [
      "Progressing=True@2026-03-01T10:10:00Z",
      "Available=False@2026-03-01T10:10:00Z",
    ]);
  });
  await t.step("the input list is not mutated", () => {
    const input: Condition[] = [{
      type: "Available",
      status: "True",
      observedGeneration: 1,
      lastTransitionTime: "2020-01-01T00:00:00Z",
      reason: "AllGroupsReady",
      message: "All replicas are ready",
    }];
    const copy = structuredClone(input);
    setConditions(input, ["Progressing"], opts);
    assert.deepEqual(input, copy);
  });
});
