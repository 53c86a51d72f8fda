import assert from "node:assert/strict";
import type { LeaderWorkerSet } from "../api/types.ts";
import {
  eventFixture,
  FIXTURE_NOW,
  type FixturePodState,
  lwsFixture,
  podFixture,
  statefulSetFixture,
  worldFixture,
} from "./fixtures.ts";
import { FAILURE_RETENTION_MS, type PodFailure } from "./failures.ts";
import {
  buildDetail,
  buildOverview,
  buildOverviewRow,
  buildPodDetail,
  classifyPod,
  envView,
  failureView,
  formatAge,
  type GroupRow,
  MISSING_WORKERS_GRACE_MS,
  type PodState,
  RECENT_RECREATION_MS,
} from "./view_model.ts";

const now = FIXTURE_NOW;

/** The LWS with the conditions of another fixture state. */
function lwsWithConditions(lws: LeaderWorkerSet, conditions: "available" | "updating"): LeaderWorkerSet {
  return { ...lws, status: { ...lws.status, conditions: lwsFixture({ conditions }).status!.conditions } };
}

function rows(world: ReturnType<typeof worldFixture>, options: Parameters<typeof buildDetail>[1] = { now }) {
  return buildDetail(world, options).grid.rows;
}

function row0(world: ReturnType<typeof worldFixture>, at: number): GroupRow {
  return buildDetail(world, { now: at }).grid.rows[0]!;
}

function row(world: ReturnType<typeof worldFixture>, index: number): GroupRow {
  const found = rows(world, { now, pageSize: 500 }).find((r) => r.index === index);
  assert.ok(found, `group ${index} exists`);
  return found;
}

Deno.test("classifyPod() gives every pod state a colour class and a text label", async (t) => {
  const cases: [FixturePodState, PodState, string, boolean][] = [
    ["ready", "ready", "Ready", true],
    ["running", "running", "Running, not ready", false],
    ["pending", "pending", "ContainerCreating", false],
    ["unscheduled", "unscheduled", "Unschedulable", false],
    ["crashloop", "restarting", "CrashLoopBackOff", false],
    ["restarted", "restarting", "Restarting (OOMKilled)", false],
    ["failed", "failed", "Failed: Evicted", false],
    ["imagepull", "failed", "ImagePullBackOff", false],
    ["terminating", "terminating", "Terminating", false],
    ["succeeded", "succeeded", "Completed", false],
  ];
  for (const [fixture, state, label, ready] of cases) {
    await t.step(fixture, () => {
      const pod = podFixture({ lwsName: "x", group: 0, worker: 1, size: 2, revision: "r", state: fixture });
      assert.deepEqual(classifyPod(pod), { state, label, ready });
    });
  }
  await t.step("a failed pod being deleted still shows that it failed", () => {
    const failed = podFixture({ lwsName: "x", group: 0, worker: 1, size: 2, revision: "r", state: "failed" });
    const pod = { ...failed, metadata: { ...failed.metadata, deletionTimestamp: new Date(now).toISOString() } };
    assert.deepEqual(classifyPod(pod), { state: "failed", label: "Failed: Evicted", ready: false });
  });
  await t.step("a pod without status is pending and not yet scheduled", () => {
    assert.deepEqual(classifyPod({ metadata: { name: "p" } }), { state: "pending", label: "Scheduling", ready: false });
  });
});

Deno.test("buildDetail() marks every group ready when all pods and worker StatefulSets are ready", () => {
  const view = buildDetail(worldFixture({ replicas: 3, size: 4 }), { now });
  assert.equal(view.grid.rows.length, 3);
  for (const r of view.grid.rows) {
    assert.equal(r.state, "ready");
    assert.equal(r.label, "Ready");
    assert.equal(r.ready, true);
    assert.equal(r.updated, true);
    assert.equal(r.revisionRole, "new");
    assert.equal(r.cells.length, 4);
    assert.deepEqual(r.cells.map((c) => c.name), [`demo-${r.index}`, ...[1, 2, 3].map((w) => `demo-${r.index}-${w}`)]);
    assert.equal(r.cells[0]!.role, "leader");
    assert.ok(r.cells[1]!.node);
  }
  assert.deepEqual(view.grid.counts, [{ state: "ready", label: "Ready", count: 3 }]);
  assert.deepEqual(view.grid.dividers, []);
  assert.deepEqual(view.grid.attention, []);
  assert.equal(view.summary.readyGroups, 3);
  assert.equal(view.summary.status.label, "Available");
  assert.equal(view.summary.warnings.text, "");
  assert.equal(view.summary.rollout.inProgress, false);
});

Deno.test("buildDetail() gives a group the state of its most urgent pod, with a text label", async (t) => {
  const cases: [FixturePodState, PodState, string, boolean][] = [
    ["pending", "pending", "1 pod pending", false],
    ["running", "running", "1 pod not ready", false],
    ["failed", "failed", "1 pod failed", true],
    ["imagepull", "failed", "1 pod failed", true],
    ["crashloop", "restarting", "1 pod restarting", true],
    ["unscheduled", "unscheduled", "1 pod unscheduled", true],
    ["terminating", "terminating", "1 pod terminating", false],
  ];
  for (const [fixture, state, label, warning] of cases) {
    await t.step(fixture, () => {
      const world = worldFixture({
        replicas: 2,
        size: 3,
        podState: (g, w) => (g === 1 && w === 2 ? fixture : "ready"),
      });
      const r = row(world, 1);
      assert.equal(r.state, state);
      assert.equal(r.label, label);
      assert.equal(r.ready, false);
      assert.equal(r.warning, warning);
      assert.equal(r.cells[2]!.state, state);
      assert.equal(row(world, 0).state, "ready");
    });
  }
  await t.step("failed outranks restarting and unscheduled", () => {
    const states: FixturePodState[] = ["ready", "crashloop", "failed", "unscheduled"];
    const world = worldFixture({ replicas: 1, size: 4, podState: (_g, w) => states[w]! });
    assert.equal(row(world, 0).state, "failed");
  });
  await t.step("two restarting pods are counted", () => {
    const world = worldFixture({ replicas: 1, size: 4, podState: (_g, w) => (w >= 2 ? "crashloop" : "ready") });
    assert.equal(row(world, 0).label, "2 pods restarting");
  });
  await t.step("restart counts reach the cells", () => {
    const world = worldFixture({ replicas: 1, size: 2, podState: (_g, w) => (w === 1 ? "crashloop" : "ready") });
    assert.equal(row(world, 0).cells[1]!.restarts, 5);
  });
});

Deno.test("buildDetail() marks missing pods and missing worker StatefulSets", async (t) => {
  await t.step("a missing worker pod is a 'Not created' cell", () => {
    const world = worldFixture({ replicas: 1, size: 3, podState: (_g, w) => (w === 2 ? "absent" : "ready") });
    const r = row(world, 0);
    assert.equal(r.cells.length, 3);
    assert.equal(r.cells[2]!.state, "missing");
    assert.equal(r.cells[2]!.label, "Not created");
    assert.equal(r.cells[2]!.name, "demo-0-2");
    assert.equal(r.state, "missing");
  });
  await t.step("a missing worker StatefulSet is flagged on the group", () => {
    const world = worldFixture({
      replicas: 2,
      size: 3,
      missingWorkerSets: [1],
      podState: (g, w) => (g === 1 && w > 0 ? "absent" : "ready"),
    });
    const r = row(world, 1);
    assert.equal(r.state, "missing");
    assert.equal(r.label, "Workers not created");
    assert.equal(r.ready, false);
    assert.equal(r.updated, false);
    assert.equal(r.warning, true);
    assert.deepEqual(r.workers, { name: "demo-1", exists: false, ready: false, replicas: 2, available: 0 });
    const summary = buildOverviewRow(world, now);
    assert.equal(summary.warnings.missingWorkers, 1);
    assert.equal(summary.warnings.text, "1 group without workers");
  });
  await t.step("a group on its way up is not flagged: the grace period counts from the leader's creation", () => {
    const world = worldFixture({
      replicas: 2,
      size: 3,
      missingWorkerSets: [1],
      podState: (g, w) => (g === 1 && w > 0 ? "absent" : "ready"),
    });
    const created = Date.parse(world.pods.find((p) => p.metadata?.name === "demo-1")!.metadata!.creationTimestamp!);
    for (
      const [elapsed, warning] of [[0, false], [MISSING_WORKERS_GRACE_MS, false], [MISSING_WORKERS_GRACE_MS + 1, true]]
    ) {
      const r = rows(world, { now: created + Number(elapsed), pageSize: 500 }).find((r) => r.index === 1)!;
      assert.equal(r.label, "Workers not created");
      assert.equal(r.warning, warning, `${elapsed} ms after the leader was created`);
      // The leader is on the update revision: the group is not shown as old while its workers are being created.
      assert.equal(r.revisionRole, "new");
      assert.equal(r.updated, false);
      const summary = buildOverviewRow(world, created + Number(elapsed));
      assert.equal(summary.warnings.text, warning ? "1 group without workers" : "");
    }
  });
  await t.step("with LeaderReady the grace period counts from the leader's Ready transition", () => {
    const leaderReady = (leaderState: FixturePodState) => {
      const world = worldFixture({
        replicas: 1,
        size: 2,
        missingWorkerSets: [0],
        podState: (_g, w) => (w > 0 ? "absent" : leaderState),
      });
      return { ...world, lws: { ...world.lws, spec: { ...world.lws.spec, startupPolicy: "LeaderReady" as const } } };
    };
    const world = leaderReady("ready");
    const leader = world.pods.find((p) => p.metadata?.name === "demo-0")!;
    const readySince = Date.parse(leader.status!.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime!);
    assert.equal(row0(world, readySince + MISSING_WORKERS_GRACE_MS).warning, false);
    assert.equal(row0(world, readySince + MISSING_WORKERS_GRACE_MS + 1).warning, true);
    const waiting = leaderReady("pending");
    assert.equal(row0(waiting, now + 86_400_000).warning, false, "a leader that is not Ready yet is waited for");
  });
  await t.step("a missing leader is a 'Leader not created' group", () => {
    const world = worldFixture({ replicas: 2, size: 2, podState: (g) => (g === 1 ? "absent" : "ready") });
    const r = row(world, 1);
    assert.equal(r.state, "missing");
    assert.equal(r.label, "Leader not created");
  });
  await t.step("workers all ready but the worker StatefulSet still rolling is not ready", () => {
    const world = worldFixture({ replicas: 1, size: 2 });
    const sts = world.statefulSets.map((s) =>
      s.metadata?.name === "demo-0"
        ? statefulSetFixture({
          lwsName: "demo",
          group: 0,
          replicas: 1,
          available: 1,
          revision: "5b9c7d4f6b",
          rolling: true,
        })
        : s
    );
    const r = row({ ...world, statefulSets: sts }, 0);
    assert.equal(r.ready, false);
    assert.equal(r.state, "running");
    assert.equal(r.label, "Workers not available");
  });
});

Deno.test("buildDetail() handles size 1 (no worker StatefulSets)", () => {
  const world = worldFixture({ replicas: 3, size: 1, podState: (g) => (g === 2 ? "pending" : "ready") });
  assert.equal(world.statefulSets.length, 1);
  const view = buildDetail(world, { now });
  for (const r of view.grid.rows) {
    assert.equal(r.cells.length, 1);
    assert.equal(r.workers, undefined);
  }
  assert.equal(view.grid.rows[0]!.ready, true);
  assert.equal(view.grid.rows[2]!.state, "pending");
  assert.equal(view.grid.rows[2]!.label, "Pending");
  assert.equal(view.summary.readyGroups, 2);
  assert.equal(view.grid.maxCells, 1);
});

Deno.test("buildDetail() tells old from new revisions per group and per pod", () => {
  const world = worldFixture({
    replicas: 4,
    size: 2,
    conditions: "updating",
    stsPartition: 2,
    updated: (g) => g >= 2,
  });
  const view = buildDetail(world, { now });
  assert.deepEqual(view.grid.rows.map((r) => r.revisionRole), ["old", "old", "new", "new"]);
  assert.deepEqual(view.grid.rows.map((r) => r.updated), [false, false, true, true]);
  assert.equal(view.grid.rows[0]!.cells.every((c) => c.outdated), true);
  assert.equal(view.grid.rows[3]!.cells.some((c) => c.outdated), false);
  assert.deepEqual(view.revisions, [
    { key: "5b9c7d4f6b", groups: 2, update: true },
    { key: "7f8d6c5b4a", groups: 2, update: false },
  ]);
  assert.equal(view.summary.currentRevision, "7f8d6c5b4a");
  assert.equal(view.summary.updateRevision, "5b9c7d4f6b");
  assert.deepEqual(view.summary.rollout, { updated: 2, desired: 4, percent: 50, inProgress: true });
  assert.equal(view.summary.status.label, "Updating");
  assert.deepEqual(view.grid.rows.map((r) => r.queued), [true, true, false, false]);
});

Deno.test("buildOverviewRow() keeps a rollout in progress while its last group is being recreated", () => {
  // Groups 1-3 updated; group 0 is between its old leader and its new one: no pod, no worker StatefulSet.
  const world = worldFixture({
    replicas: 4,
    size: 2,
    conditions: "updating",
    stsPartition: 0,
    updated: (g) => g >= 1,
    missingWorkerSets: [0],
    podState: (g) => (g === 0 ? "absent" : "ready"),
  });
  const row = buildOverviewRow(world, now);
  assert.equal(row.groups, 4);
  assert.deepEqual(row.rollout, { updated: 3, desired: 4, percent: 75, inProgress: true });
  const done = buildOverviewRow({ ...world, lws: lwsWithConditions(world.lws, "available") }, now);
  assert.equal(done.rollout.inProgress, false, "no old group and the controller says the update is over");
});

Deno.test("buildDetail() flags groups the controller recreated recently, from its RecreateGroup events", async (t) => {
  const recreation = (group: number, agoMs: number, options: { related?: boolean; count?: number } = {}) => {
    const event = eventFixture({
      lwsName: "demo",
      reason: "RecreateGroup",
      note: `Worker pod demo-${group}-1 failed, deleted leader pod demo-${group} to recreate group ${group}`,
      agoMs,
      seq: group * 100 + agoMs,
    });
    if (options.related ?? true) event.related = { kind: "Pod", name: `demo-${group}`, namespace: "default" };
    if (options.count) event.series = { count: options.count, lastObservedTime: event.eventTime! };
    return event;
  };
  await t.step("a recent recreation is shown on its group and counted in the badge", () => {
    const world = worldFixture({ replicas: 3, size: 2, events: [recreation(1, 45_000)] });
    const r = row(world, 1);
    assert.equal(r.state, "ready");
    assert.deepEqual(r.recreated, {
      age: "45s",
      count: 1,
      note: "Worker pod demo-1-1 failed, deleted leader pod demo-1 to recreate group 1",
    });
    assert.equal(r.warning, true);
    assert.equal(row(world, 0).recreated, undefined);
    const summary = buildOverviewRow(world, now);
    assert.equal(summary.warnings.recreated, 1);
    assert.equal(summary.warnings.text, "1 group recreated");
    assert.deepEqual(buildDetail(world, { now }).grid.attention, [1]);
  });
  await t.step("the group comes from the note when the event relates to no pod; series add up", () => {
    const world = worldFixture({
      replicas: 3,
      size: 2,
      events: [recreation(2, 30_000, { related: false, count: 3 }), recreation(2, 200_000)],
    });
    assert.deepEqual({ ...row(world, 2).recreated, note: undefined }, { age: "30s", count: 4, note: undefined });
  });
  await t.step(`a recreation older than ${RECENT_RECREATION_MS / 60_000} minutes is history, not a warning`, () => {
    const world = worldFixture({ replicas: 2, size: 2, events: [recreation(1, RECENT_RECREATION_MS + 1)] });
    assert.equal(row(world, 1).recreated, undefined);
    assert.equal(row(world, 1).warning, false);
    assert.equal(buildOverviewRow(world, now).warnings.text, "");
  });
  await t.step("a group that failed again counts as failed, not twice", () => {
    const world = worldFixture({
      replicas: 2,
      size: 2,
      events: [recreation(1, 10_000)],
      podState: (g, w) => (g === 1 && w === 1 ? "failed" : "ready"),
    });
    const warnings = buildOverviewRow(world, now).warnings;
    assert.equal(warnings.failed, 1);
    assert.equal(warnings.recreated, 0);
    assert.equal(warnings.text, "1 group failed");
  });
});

/** A recorded failure of LWS `demo`'s pod (group, worker), `agoMs` before the fixtures' now. */
function failure(group: number, worker: number, agoMs: number, more: Partial<PodFailure> = {}): PodFailure {
  return {
    at: now - agoMs,
    group,
    worker,
    pod: worker === 0 ? `demo-${group}` : `demo-${group}-${worker}`,
    uid: `uid-old-${group}-${worker}`,
    kind: "failed",
    container: "worker",
    reason: "Error",
    exitCode: 1,
    ...more,
  };
}

Deno.test("failureView() says what failed, when, why and what followed, for each kind", async (t) => {
  const cases: [Partial<PodFailure>, string][] = [
    [{ kind: "failed", outcome: "group recreated" }, "failed 12s ago: Error, exit 1 — group recreated"],
    [{ kind: "failed", reason: "Evicted", exitCode: undefined }, "failed 12s ago: Evicted"],
    [{ kind: "exited", reason: "Error", exitCode: 2 }, "container exited 12s ago: Error, exit 2 (container worker)"],
    [
      { kind: "restarted", reason: "OOMKilled", exitCode: 137, outcome: "group recreated" },
      "restarted 12s ago: OOMKilled, exit 137 (container worker) — group recreated",
    ],
    [
      { kind: "deleted", reason: "ContainersNotReady", exitCode: undefined, container: undefined },
      "deleted while not ready 12s ago: ContainersNotReady",
    ],
    [
      { kind: "failed", reason: undefined, exitCode: undefined, outcome: "pod replaced" },
      "failed 12s ago — pod replaced",
    ],
  ];
  for (const [more, text] of cases) {
    await t.step(text, () => {
      const view = failureView(failure(1, 2, 12_000, more), now);
      assert.equal(view.text, text);
      assert.equal(view.position, "W2");
      assert.equal(view.who, "worker 2");
      assert.equal(view.age, "12s");
      assert.equal(view.time, new Date(now - 12_000).toISOString());
    });
  }
  assert.equal(failureView(failure(0, 0, 5_000), now).position, "L");
});

Deno.test("buildDetail() shows recorded pod failures on the cell and the group row after the pod is replaced", async (t) => {
  const kinds: [PodFailure["kind"], string][] = [
    ["failed", "failed 12s ago"],
    ["exited", "exited 12s ago"],
    ["restarted", "restarted 12s ago"],
    ["deleted", "deleted 12s ago"],
  ];
  for (const [kind, short] of kinds) {
    await t.step(kind, () => {
      // The replacement pod is Ready: only the record remembers the failure.
      const world = { ...worldFixture({ replicas: 3, size: 3 }), failures: [failure(1, 2, 12_000, { kind })] };
      const r = row(world, 1);
      assert.equal(r.state, "ready", "the cell shows the live state");
      const cell = r.cells[2]!;
      assert.equal(cell.state, "ready");
      assert.equal(cell.failure?.kind, kind);
      assert.equal(cell.failure?.short, short);
      assert.equal(cell.failure?.text, failureView(failure(1, 2, 12_000, { kind }), now).text);
      assert.equal(r.cells[0]!.failure, undefined, "other cells of the group carry nothing");
      assert.equal(r.failure?.latest.text, cell.failure?.text);
      assert.equal(r.failure?.count, 1);
      assert.equal(r.warning, true);
      assert.equal(row(world, 0).failure, undefined);
      assert.equal(row(world, 0).warning, false);
      const summary = buildOverviewRow(world, now);
      assert.equal(summary.warnings.failedRecently, 1);
      assert.equal(summary.warnings.text, "1 group failed recently");
      const detail = buildDetail(world, { now });
      assert.deepEqual(detail.grid.attention, [1]);
      assert.deepEqual(detail.failures.map((f) => f.text), [cell.failure?.text]);
      assert.deepEqual(buildDetail(world, { now, filter: "attention" }).grid.rows.map((g) => g.index), [1]);
    });
  }
  await t.step("a position without a pod now (not created yet) still shows its failure", () => {
    const world = {
      ...worldFixture({ replicas: 2, size: 2, podState: (g, w) => (g === 0 && w === 1 ? "absent" : "ready") }),
      failures: [failure(0, 1, 3_000)],
    };
    const cell = row(world, 0).cells[1]!;
    assert.equal(cell.state, "missing");
    assert.equal(cell.failure?.short, "failed 3s ago");
  });
  await t.step("several failures of a group: the latest shows, the count tells the rest", () => {
    const world = {
      ...worldFixture({ replicas: 2, size: 3 }),
      failures: [failure(0, 2, 5_000, { kind: "restarted" }), failure(0, 1, 90_000), failure(0, 2, 200_000)],
    };
    const r = row(world, 0);
    assert.equal(r.failure?.count, 3);
    assert.equal(r.failure?.latest.position, "W2");
    assert.equal(r.failure?.latest.kind, "restarted");
    assert.equal(r.cells[1]!.failure?.short, "failed 90s ago");
    assert.equal(r.cells[2]!.failure?.short, "restarted 5s ago", "a cell shows its own latest failure");
    assert.deepEqual(buildDetail(world, { now }).failures.map((f) => f.age), ["5s", "90s", "3m"], "newest first");
  });
});

Deno.test("buildDetail() keeps the real Failed state of a cell beside its record", () => {
  const world = {
    ...worldFixture({ replicas: 2, size: 2, podState: (g, w) => (g === 1 && w === 1 ? "failed" : "ready") }),
    failures: [failure(1, 1, 1_000, { reason: "Evicted" })],
  };
  const r = row(world, 1);
  assert.equal(r.cells[1]!.state, "failed");
  assert.equal(r.cells[1]!.label, "Failed: Evicted");
  assert.equal(r.label, "1 pod failed");
  assert.equal(r.cells[1]!.failure?.short, "failed 1s ago");
  const warnings = buildOverviewRow(world, now).warnings;
  assert.equal(warnings.failed, 1);
  assert.equal(warnings.failedRecently, 0, "counted once, as failed");
  assert.equal(warnings.text, "1 group failed");
});

Deno.test("buildOverviewRow() counts a recreated group with a recorded failure as recreated, once", () => {
  const event = eventFixture({
    lwsName: "demo",
    reason: "RecreateGroup",
    note: "Worker pod demo-1-1 failed, deleted leader pod demo-1 to recreate group 1",
    agoMs: 10_000,
  });
  event.related = { kind: "Pod", name: "demo-1", namespace: "default" };
  const world = {
    ...worldFixture({ replicas: 3, size: 2, events: [event] }),
    failures: [failure(1, 1, 11_000, { outcome: "group recreated" }), failure(2, 0, 20_000, { kind: "restarted" })],
  };
  const warnings = buildOverviewRow(world, now).warnings;
  assert.equal(warnings.recreated, 1);
  assert.equal(warnings.failedRecently, 1);
  assert.equal(warnings.text, "1 group recreated · 1 failed recently");
});

Deno.test(`buildDetail() forgets pod failures older than ${FAILURE_RETENTION_MS / 60_000} minutes`, () => {
  const world = {
    ...worldFixture({ replicas: 2, size: 2 }),
    failures: [failure(1, 1, FAILURE_RETENTION_MS + 1), failure(0, 1, FAILURE_RETENTION_MS)],
  };
  const detail = buildDetail(world, { now });
  assert.equal(detail.grid.rows[1]!.failure, undefined);
  assert.equal(detail.grid.rows[1]!.cells[1]!.failure, undefined);
  assert.equal(detail.grid.rows[1]!.warning, false);
  assert.equal(detail.grid.rows[0]!.failure?.latest.age, "15m");
  assert.deepEqual(detail.failures.map((f) => f.group), [0]);
  assert.equal(buildOverviewRow(world, now).warnings.text, "1 group failed recently");
});

Deno.test("buildDetail() without a leader StatefulSet knows no update revision", () => {
  const view = buildDetail(worldFixture({ replicas: 2, size: 2, noLeaderSet: true }), { now });
  assert.deepEqual(view.grid.rows.map((r) => r.revisionRole), ["unknown", "unknown"]);
  assert.equal(view.summary.updateRevision, undefined);
  assert.equal(view.summary.partition.current, undefined);
  assert.equal(view.grid.rows[0]!.cells[0]!.outdated, false);
});

Deno.test("buildDetail() draws the partition line between groups that keep and groups that take the update", async (t) => {
  for (const partition of [1, 2, 3]) {
    await t.step(`partition ${partition}`, () => {
      const world = worldFixture({ replicas: 4, size: 2, partition, updated: (g) => g >= partition });
      const view = buildDetail(world, { now });
      const line = view.grid.dividers.find((d) => d.kind === "partition");
      assert.ok(line);
      assert.equal(line.before, partition);
      assert.match(line.label, new RegExp(`^Partition ${partition}:`));
      assert.deepEqual(view.grid.rows.map((r) => r.held), [0, 1, 2, 3].map((g) => g < partition));
      assert.equal(view.grid.dividers.some((d) => d.kind === "front"), false);
    });
  }
  await t.step("no line at partition 0", () => {
    const view = buildDetail(worldFixture({ replicas: 4, size: 2 }), { now });
    assert.equal(view.grid.dividers.length, 0);
  });
  await t.step("the rolling-update front is drawn where the leader StatefulSet partition is", () => {
    const world = worldFixture({ replicas: 6, size: 2, partition: 1, stsPartition: 4, updated: (g) => g >= 4 });
    const view = buildDetail(world, { now });
    assert.deepEqual(view.grid.dividers.map((d) => [d.kind, d.before]), [["partition", 1], ["front", 4]]);
    assert.match(view.grid.dividers[1]!.label, /groups from 4 are being updated; groups 1–3 wait/);
  });
  await t.step("a line off the current page is not drawn on it", () => {
    const world = worldFixture({ replicas: 8, size: 1, partition: 6, updated: (g) => g >= 6 });
    const view = buildDetail(world, { now, pageSize: 4, page: 1 });
    assert.deepEqual(view.grid.dividers, []);
    const page2 = buildDetail(world, { now, pageSize: 4, page: 2 });
    assert.deepEqual(page2.grid.dividers.map((d) => d.before), [6]);
  });
});

Deno.test("buildDetail() marks surge groups (index ≥ spec.replicas)", () => {
  const world = worldFixture({ replicas: 3, size: 2, groups: 5, maxSurge: 2 });
  const view = buildDetail(world, { now });
  assert.deepEqual(view.grid.rows.map((r) => r.surge), [false, false, false, true, true]);
  assert.deepEqual(view.grid.dividers.map((d) => [d.kind, d.before]), [["surge", 3]]);
  assert.equal(view.summary.surgeGroups, 2);
  assert.equal(view.summary.readyGroups, 3, "ready counts non-surge groups against replicas");
  assert.equal(view.summary.groups, 5);
});

Deno.test("buildDetail() shows subgroups from the subgroup-index label", async (t) => {
  await t.step("LeaderWorker: the leader is in subgroup 0", () => {
    const view = buildDetail(worldFixture({ replicas: 1, size: 4, subGroupSize: 2 }), { now });
    assert.equal(view.grid.subgroups, true);
    assert.deepEqual(view.grid.rows[0]!.cells.map((c) => c.subgroup), [0, 0, 1, 1]);
    assert.equal(view.subGroupSize, 2);
    assert.equal(view.subGroupPolicyType, "LeaderWorker");
  });
  await t.step("LeaderExcluded: the leader has no subgroup", () => {
    const view = buildDetail(
      worldFixture({ replicas: 1, size: 5, subGroupSize: 2, subGroupPolicyType: "LeaderExcluded" }),
      { now },
    );
    assert.deepEqual(view.grid.rows[0]!.cells.map((c) => c.subgroup), [undefined, 0, 0, 1, 1]);
  });
  await t.step("no subgroups", () => {
    const view = buildDetail(worldFixture({ replicas: 1, size: 4 }), { now });
    assert.equal(view.grid.subgroups, false);
  });
});

Deno.test("buildDetail() pages the grid and finds a group's page", async (t) => {
  const world = worldFixture({
    replicas: 1000,
    size: 8,
    podState: (g, w) => (g % 100 === 42 && w === 3 ? "crashloop" : "ready"),
  });
  await t.step("page 3 of 20", () => {
    const grid = buildDetail(world, { now, page: 3 }).grid;
    assert.equal(grid.pageCount, 20);
    assert.equal(grid.rows.length, 50);
    assert.equal(grid.rows[0]!.index, 100);
    assert.equal(grid.rows[49]!.index, 149);
    assert.equal(grid.total, 1000);
  });
  await t.step("group 537 is on page 11", () => {
    assert.equal(buildDetail(world, { now, group: 537 }).grid.page, 11);
  });
  await t.step("pages are clamped", () => {
    assert.equal(buildDetail(world, { now, page: 99 }).grid.page, 20);
    assert.equal(buildDetail(world, { now, page: 0 }).grid.page, 1);
  });
  await t.step("the attention filter lists only groups that need it", () => {
    const grid = buildDetail(world, { now, filter: "attention" }).grid;
    assert.equal(grid.matching, 10);
    assert.deepEqual(grid.rows.map((r) => r.index), [42, 142, 242, 342, 442, 542, 642, 742, 842, 942]);
    assert.deepEqual(grid.attention.slice(0, 3), [42, 142, 242]);
  });
});

Deno.test("buildDetail() includes conditions with ages, events newest first and the spec as YAML", () => {
  const world = worldFixture({
    replicas: 2,
    size: 2,
    conditions: "updating",
    events: [
      eventFixture({ lwsName: "demo", reason: "GroupsProgressing", note: "older", agoMs: 600_000, seq: 1 }),
      eventFixture({ lwsName: "demo", reason: "FailedCreate", note: "newer", type: "Warning", agoMs: 5_000, seq: 2 }),
    ],
  });
  const view = buildDetail(world, { now });
  assert.deepEqual(view.summary.conditions.map((c) => [c.type, c.status, c.age]), [
    ["Available", "False", "4m"],
    ["Progressing", "True", "4m"],
    ["UpdateInProgress", "True", "4m"],
  ]);
  assert.deepEqual(view.events.map((e) => [e.reason, e.warning, e.age]), [["FailedCreate", true, "5s"], [
    "GroupsProgressing",
    false,
    "10m",
  ]]);
  assert.match(view.specYaml, /^apiVersion: leaderworkerset.x-k8s.io\/v1\nkind: LeaderWorkerSet\n/);
  assert.match(view.specYaml, /size: 2/);
});

Deno.test("buildOverviewRow() reports failures, restarts and unscheduled groups in the warning badge", () => {
  const world = worldFixture({
    replicas: 5,
    size: 2,
    podState: (
      g,
      w,
    ) => (w === 1 ? (["ready", "failed", "crashloop", "crashloop", "unscheduled"] as const)[g]! : "ready"),
  });
  const r = buildOverviewRow(world, now);
  assert.deepEqual(r.warnings, {
    failed: 1,
    restarting: 2,
    unscheduled: 1,
    missingWorkers: 0,
    recreated: 0,
    failedRecently: 0,
    text: "1 group failed · 2 restarting · 1 unscheduled",
  });
  assert.deepEqual(r.status, { label: "Available", tone: "ok" }, "the status is the controller's, not the pods'");
  assert.equal(r.readyGroups, 1);
  assert.equal(r.readyPods, 6);
  assert.equal(r.pods, 10);
});

Deno.test("buildOverviewRow() says when the controller has not observed the latest generation", () => {
  assert.equal(buildOverviewRow(worldFixture({ generation: 3, observedGeneration: 2 }), now).awaitingController, true);
  assert.equal(buildOverviewRow(worldFixture({ generation: 3, observedGeneration: 3 }), now).awaitingController, false);
});

Deno.test("buildOverview() filters by namespace and search and sorts rows", () => {
  const all = [
    worldFixture({ name: "b", namespace: "team-a" }),
    worldFixture({ name: "a", namespace: "team-a" }),
    worldFixture({ name: "llama", namespace: "team-b" }),
  ];
  const everything = buildOverview(all, { now });
  assert.deepEqual(everything.rows.map((r) => r.key), ["team-a/a", "team-a/b", "team-b/llama"]);
  assert.deepEqual(everything.namespaces, ["team-a", "team-b"]);
  assert.deepEqual(buildOverview(all, { now, namespace: "team-a" }).rows.map((r) => r.name), ["a", "b"]);
  const searched = buildOverview(all, { now, query: "LLA" });
  assert.deepEqual(searched.rows.map((r) => r.name), ["llama"]);
  assert.equal(searched.total, 3);
  assert.deepEqual(buildOverview(all, { now, query: "team-a/b" }).rows.map((r) => r.name), ["b"]);
});

Deno.test("buildPodDetail() lists the events of this pod, not of an earlier pod of the same name", () => {
  const pod = podFixture({ lwsName: "demo", group: 1, worker: 0, size: 2, revision: "r" });
  const event = (uid: string | undefined, note: string, agoMs: number) => {
    const e = eventFixture({ lwsName: "demo", kind: "Pod", name: "demo-1", reason: "Scheduled", note, agoMs });
    return { ...e, metadata: { ...e.metadata, name: note }, regarding: { ...e.regarding, uid } };
  };
  const view = buildPodDetail(pod, {
    now,
    events: [
      event(pod.metadata!.uid, "this pod", 1_000),
      event("uid-of-the-pod-before", "the pod before", 60_000),
      event(undefined, "no uid", 2_000),
    ],
  });
  assert.deepEqual(view.events.map((e) => e.note), ["this pod", "no uid"]);
});

Deno.test("buildPodDetail() shows env vars but only references for Secret-sourced values", () => {
  const pod = podFixture({
    lwsName: "demo",
    group: 1,
    worker: 2,
    size: 4,
    revision: "old",
    env: [
      { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } },
      // Invalid but possible in a hand-made object: a value beside a secret reference is never shown.
      { name: "SNEAKY", value: "s3cr3t-value", valueFrom: { secretKeyRef: { name: "creds", key: "other" } } },
      { name: "CM", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } },
      { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "PLAIN", value: "hello" },
    ],
  });
  pod.spec!.containers[0]!.envFrom = [{ secretRef: { name: "all-creds" } }, {
    configMapRef: { name: "cm" },
    prefix: "X_",
  }];
  const view = buildPodDetail(pod, { now, updateRevision: "new" });
  const env = view.containers[0]!.env;
  assert.deepEqual(env.filter((e) => e.injected).map((e) => [e.name, e.value]), [
    ["LWS_LEADER_ADDRESS", "demo-1.demo.default"],
    ["LWS_GROUP_SIZE", "4"],
    ["LWS_WORKER_INDEX", "2"],
  ]);
  assert.deepEqual(env.find((e) => e.name === "TOKEN"), {
    name: "TOKEN",
    source: "secretKeyRef creds/token",
    secret: true,
    injected: false,
  });
  assert.equal(env.find((e) => e.name === "SNEAKY")!.value, undefined);
  assert.equal(JSON.stringify(view).includes("s3cr3t-value"), false);
  assert.equal(env.find((e) => e.name === "CM")!.source, "configMapKeyRef settings/mode");
  assert.equal(env.find((e) => e.name === "POD")!.source, "fieldRef metadata.name");
  assert.equal(env.find((e) => e.name === "PLAIN")!.value, "hello");
  assert.deepEqual(view.containers[0]!.envFrom, ["secretRef all-creds", "configMapRef cm (prefix X_)"]);
  assert.equal(view.outdated, true);
  assert.equal(view.role, "worker");
  assert.equal(view.groupIndex, 1);
  assert.equal(view.workerIndex, 2);
  assert.ok(view.lwsLabels.some((l) => l.key === "leaderworkerset.sigs.k8s.io/worker-index" && l.value === "2"));
  assert.ok(view.lwsAnnotations.some((l) => l.key === "leaderworkerset.sigs.k8s.io/leader-name"));
});

Deno.test("envView() describes every valueFrom source", () => {
  assert.equal(
    envView({ name: "R", valueFrom: { resourceFieldRef: { containerName: "c", resource: "limits.cpu" } } }).source,
    "resourceFieldRef c/limits.cpu",
  );
  assert.equal(
    envView({ name: "S", valueFrom: { secretKeyRef: { name: "n", key: "k", optional: true } } }).source,
    "secretKeyRef n/k (optional)",
  );
});

Deno.test("formatAge() prints short ages", async (t) => {
  const at = (ms: number) => new Date(now - ms).toISOString();
  for (
    const [ms, text] of [[0, "0s"], [59_000, "59s"], [119_000, "119s"], [300_000, "5m"], [7_200_000, "2h"], [
      172_800_000,
      "2d",
    ], [-5_000, "0s"]] as const
  ) {
    await t.step(text, () => assert.equal(formatAge(at(ms), now), text));
  }
  assert.equal(formatAge(undefined, now), undefined);
  assert.equal(formatAge("not a time", now), undefined);
});
