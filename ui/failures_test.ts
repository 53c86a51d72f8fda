import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { FAILURE_RETENTION_MS, MAX_MESSAGE_LENGTH, type PodFailure, PodFailureLog } from "./failures.ts";
import { LABEL_GROUP_INDEX, LABEL_NAME } from "../api/constants.ts";
import { FIXTURE_NOW, kwokFailedPod, podFixture, workerStatus } from "./fixtures.ts";

/** A clock the test moves. */
function clock(start = FIXTURE_NOW) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A Ready pod of LWS `demo` at (group, worker), with a UID of its own. */
function readyPod(group: number, worker: number, uid = `uid-${group}-${worker}`): Pod {
  const pod = podFixture({ lwsName: "demo", group, worker, size: 3, revision: "r", state: "ready" });
  return { ...pod, metadata: { ...pod.metadata, uid } };
}

/** The pod with a changed status. */
function withStatus(pod: Pod, status: Partial<NonNullable<Pod["status"]>>): Pod {
  return { ...pod, status: { ...pod.status, ...status } };
}

const kwokFailed = (pod: Pod, at: number) => kwokFailedPod(pod, at);

/** The pod with its container restarted `count` times, last with `reason`/`exitCode` at `at`. */
function restarted(pod: Pod, count: number, at: number, reason = "Error", exitCode = 1): Pod {
  return withStatus(pod, {
    containerStatuses: [workerStatus({
      ready: true,
      restartCount: count,
      state: { running: { startedAt: iso(at) } },
      lastState: { terminated: { exitCode, reason, startedAt: iso(at - 60_000), finishedAt: iso(at) } },
    })],
  });
}

function deleting(pod: Pod, at: number): Pod {
  return { ...pod, metadata: { ...pod.metadata, deletionTimestamp: iso(at) } };
}

/** The records without the fields every case repeats. */
function brief(failures: readonly PodFailure[]) {
  return failures.map((f) => ({
    at: f.at - FIXTURE_NOW,
    position: `${f.group}/${f.worker}`,
    kind: f.kind,
    reason: f.reason,
    exitCode: f.exitCode,
    outcome: f.outcome,
  }));
}

Deno.test("PodFailureLog records a pod failed through KWOK with reason and exit code, once", () => {
  const c = clock();
  const log = new PodFailureLog({ now: c.now });
  const pod = readyPod(0, 1);
  log.observe("apply", pod);
  c.advance(1_000);
  const failed = kwokFailed(pod, c.now());
  log.observe("apply", failed);
  log.observe("apply", failed); // the same state again (a resync) records nothing new
  const [f] = log.failuresOf("default", "demo");
  assert.deepEqual(brief(log.failuresOf("default", "demo")), [
    { at: 1_000, position: "0/1", kind: "failed", reason: "Error", exitCode: 1, outcome: undefined },
  ]);
  assert.equal(f?.pod, "demo-0-1");
  assert.equal(f?.container, "worker");
  assert.equal(f?.message, "failed by the lws-pod-fail stage");
});

Deno.test("PodFailureLog keeps a failure after the pod is replaced, keyed by position, and says what followed", async (t) => {
  await t.step("restartPolicy None: the worker's StatefulSet replaces the pod", () => {
    const c = clock();
    const log = new PodFailureLog({ now: c.now });
    const pod = readyPod(1, 2, "old");
    log.observe("apply", pod);
    log.observe("apply", kwokFailed(pod, c.now()));
    c.advance(300);
    log.observe("apply", deleting(kwokFailed(pod, c.now()), c.now()));
    log.observe("delete", deleting(kwokFailed(pod, c.now()), c.now()));
    c.advance(200);
    const replacement = readyPod(1, 2, "new");
    log.observe("apply", withStatus(replacement, { phase: "Pending", conditions: [], containerStatuses: [] }));
    log.observe("apply", replacement);
    assert.deepEqual(brief(log.failuresOf("default", "demo")), [
      { at: 0, position: "1/2", kind: "failed", reason: "Error", exitCode: 1, outcome: "pod replaced" },
    ]);
    assert.equal(log.size().pods, 1, "the deleted pod is forgotten, its failure is not");
  });
  await t.step("RecreateGroupOnPodRestart: the controller deletes the group's leader", () => {
    const c = clock();
    const log = new PodFailureLog({ now: c.now });
    const leader = readyPod(1, 0);
    const worker = readyPod(1, 2);
    log.observe("apply", leader);
    log.observe("apply", worker);
    log.observe("apply", kwokFailed(worker, c.now()));
    c.advance(500);
    // The worker's StatefulSet may replace the worker before the leader's deletion is seen: recreation wins.
    log.observe("delete", kwokFailed(worker, c.now()));
    log.observe("apply", readyPod(1, 2, "worker-2"));
    log.observe("apply", deleting(leader, c.now()));
    assert.deepEqual(brief(log.failuresOf("default", "demo")), [
      { at: 0, position: "1/2", kind: "failed", reason: "Error", exitCode: 1, outcome: "group recreated" },
    ]);
  });
  await t.step("a leader deleted long after a failure did not recreate the group because of it", () => {
    const c = clock();
    const log = new PodFailureLog({ now: c.now });
    const leader = readyPod(0, 0);
    const worker = readyPod(0, 1);
    log.observe("apply", leader);
    log.observe("apply", restarted(worker, 0, c.now()));
    log.observe("apply", restarted(worker, 1, c.now()));
    c.advance(5 * 60_000);
    log.observe("apply", deleting(leader, c.now()));
    assert.equal(log.failuresOf("default", "demo")[0]?.outcome, undefined);
  });
});

Deno.test("PodFailureLog records container restarts from restartCount and lastState", async (t) => {
  await t.step("each increase is one record with the last termination's reason and exit code", () => {
    const c = clock();
    const log = new PodFailureLog({ now: c.now });
    const pod = readyPod(0, 1);
    log.observe("apply", pod);
    c.advance(1_000);
    log.observe("apply", restarted(pod, 1, c.now(), "OOMKilled", 137));
    log.observe("apply", restarted(pod, 1, c.now(), "OOMKilled", 137));
    c.advance(1_000);
    log.observe("apply", restarted(pod, 2, c.now(), "Error", 2));
    assert.deepEqual(brief(log.failuresOf("default", "demo")), [
      { at: 1_000, position: "0/1", kind: "restarted", reason: "OOMKilled", exitCode: 137, outcome: undefined },
      { at: 2_000, position: "0/1", kind: "restarted", reason: "Error", exitCode: 2, outcome: undefined },
    ]);
  });
  await t.step("an exit seen before the restart becomes that restart, not a second record", () => {
    const c = clock();
    const log = new PodFailureLog({ now: c.now });
    const pod = readyPod(0, 1);
    log.observe("apply", pod);
    const terminated = { exitCode: 3, reason: "Error", startedAt: iso(c.now() - 60_000), finishedAt: iso(c.now()) };
    log.observe(
      "apply",
      withStatus(pod, {
        conditions: [{ type: "Ready", status: "False" }],
        containerStatuses: [workerStatus({ state: { terminated } })],
      }),
    );
    assert.deepEqual(brief(log.failuresOf("default", "demo")).map((f) => f.kind), ["exited"]);
    c.advance(1_000);
    log.observe(
      "apply",
      withStatus(pod, {
        containerStatuses: [workerStatus({
          ready: true,
          restartCount: 1,
          state: { running: { startedAt: iso(c.now()) } },
          lastState: { terminated },
        })],
      }),
    );
    assert.deepEqual(brief(log.failuresOf("default", "demo")), [
      { at: 0, position: "0/1", kind: "restarted", reason: "Error", exitCode: 3, outcome: undefined },
    ]);
  });
  await t.step("an exit followed by the pod's failure is one failure", () => {
    const c = clock();
    const log = new PodFailureLog({ now: c.now });
    const pod = readyPod(0, 1);
    log.observe("apply", pod);
    const failed = kwokFailed(pod, c.now());
    log.observe("apply", withStatus(failed, { phase: "Running" }));
    c.advance(100);
    log.observe("apply", withStatus(failed, { reason: "Evicted", message: "node pressure" }));
    assert.deepEqual(brief(log.failuresOf("default", "demo")), [
      { at: 0, position: "0/1", kind: "failed", reason: "Evicted", exitCode: 1, outcome: undefined },
    ]);
    assert.equal(log.failuresOf("default", "demo")[0]?.message, "node pressure");
  });
  await t.step("init containers count too", () => {
    const c = clock();
    const log = new PodFailureLog({ now: c.now });
    const pod = withStatus(readyPod(0, 1), {
      initContainerStatuses: [workerStatus({ name: "setup", ready: true })],
    });
    log.observe("apply", pod);
    log.observe(
      "apply",
      withStatus(pod, {
        initContainerStatuses: [workerStatus({
          name: "setup",
          restartCount: 1,
          lastState: { terminated: { exitCode: 9, reason: "Error", finishedAt: iso(c.now()) } },
        })],
      }),
    );
    assert.deepEqual(log.failuresOf("default", "demo").map((f) => [f.kind, f.container, f.exitCode]), [
      ["restarted", "setup", 9],
    ]);
  });
});

Deno.test("PodFailureLog records a pod deleted while not Ready, and only then", async (t) => {
  const notReady = (pod: Pod) =>
    withStatus(pod, { conditions: [{ type: "Ready", status: "False", reason: "ContainersNotReady" }] });
  await t.step("Ready, then not Ready, then deleted", () => {
    const c = clock();
    const log = new PodFailureLog({ now: c.now });
    const pod = readyPod(2, 1);
    log.observe("apply", pod);
    log.observe("apply", notReady(pod));
    c.advance(2_000);
    log.observe("apply", deleting(notReady(pod), c.now()));
    log.observe("delete", deleting(notReady(pod), c.now()));
    assert.deepEqual(brief(log.failuresOf("default", "demo")), [
      {
        at: 2_000,
        position: "2/1",
        kind: "deleted",
        reason: "ContainersNotReady",
        exitCode: undefined,
        outcome: undefined,
      },
    ]);
  });
  await t.step("not for a Ready pod (a rolling update, a scale down, a group recreation)", () => {
    const log = new PodFailureLog({ now: clock().now });
    const pod = readyPod(2, 1);
    log.observe("apply", pod);
    log.observe("apply", deleting(pod, FIXTURE_NOW));
    log.observe("delete", pod);
    assert.deepEqual(log.failuresOf("default", "demo"), []);
  });
  await t.step("not for a pod that was never Ready (created and deleted during a rollout)", () => {
    const log = new PodFailureLog({ now: clock().now });
    const pod = withStatus(readyPod(2, 1), { phase: "Pending", conditions: [], containerStatuses: [] });
    log.observe("apply", pod);
    log.observe("delete", pod);
    assert.deepEqual(log.failuresOf("default", "demo"), []);
  });
  await t.step("not twice for a pod whose failure is recorded already", () => {
    const log = new PodFailureLog({ now: clock().now });
    const pod = readyPod(2, 1);
    log.observe("apply", pod);
    log.observe("apply", notReady(restarted(pod, 1, FIXTURE_NOW)));
    log.observe("delete", notReady(restarted(pod, 1, FIXTURE_NOW)));
    assert.deepEqual(log.failuresOf("default", "demo").map((f) => f.kind), ["restarted"]);
  });
});

Deno.test("PodFailureLog on a pod's first sighting records only failures its status dates", async (t) => {
  await t.step("a pod Failed 5 minutes ago is recorded at that time, one failed 20 minutes ago not at all", () => {
    const c = clock();
    const log = new PodFailureLog({ now: c.now });
    log.observe("apply", kwokFailed(readyPod(0, 1), c.now() - 5 * 60_000));
    log.observe("apply", kwokFailed(readyPod(1, 1), c.now() - 20 * 60_000));
    assert.deepEqual(brief(log.failuresOf("default", "demo")).map((f) => [f.at, f.position]), [[-300_000, "0/1"]]);
  });
  await t.step("a restarted pod is recorded at its last termination; without a time it is not", () => {
    const c = clock();
    const log = new PodFailureLog({ now: c.now });
    log.observe("apply", restarted(readyPod(0, 1), 4, c.now() - 30_000, "OOMKilled", 137));
    const undated = restarted(readyPod(1, 1), 2, 0);
    delete undated.status!.containerStatuses![0]!.lastState!.terminated!.finishedAt;
    log.observe("apply", undated);
    assert.deepEqual(brief(log.failuresOf("default", "demo")).map((f) => [f.at, f.position, f.kind]), [
      [-30_000, "0/1", "restarted"],
    ]);
  });
  await t.step("pods of other workloads (no LWS name label) are ignored", () => {
    const log = new PodFailureLog({ now: clock().now });
    const pod = kwokFailed(readyPod(0, 1), FIXTURE_NOW);
    log.observe("apply", { ...pod, metadata: { ...pod.metadata, labels: {} } });
    assert.deepEqual(log.size(), { lws: 0, failures: 0, pods: 0 });
  });
});

Deno.test("PodFailureLog forgets failures after the retention time and when their LWS is deleted", () => {
  const c = clock();
  const log = new PodFailureLog({ now: c.now });
  const pod = readyPod(0, 1);
  log.observe("apply", pod);
  log.observe("apply", kwokFailed(pod, c.now()));
  c.advance(FAILURE_RETENTION_MS);
  assert.equal(log.failuresOf("default", "demo").length, 1, "kept for the whole retention time");
  c.advance(1);
  assert.deepEqual(log.failuresOf("default", "demo"), []);
  assert.equal(log.size().lws, 0, "an LWS without records is not tracked");

  log.observe("apply", restarted(pod, 1, c.now()));
  assert.equal(log.failuresOf("default", "demo").length, 1);
  log.forget("default", "demo");
  assert.deepEqual(log.failuresOf("default", "demo"), []);
});

Deno.test("PodFailureLog stays within its bounds under a flood of failures", () => {
  const c = clock();
  const log = new PodFailureLog({ now: c.now, maxPerLws: 50, maxLws: 100, maxPods: 1_000 });
  // 20,000 failed pods over 1,000 LeaderWorkerSets, never deleted (delete notifications lost).
  const base = kwokFailed(readyPod(0, 1), c.now());
  for (let i = 0; i < 20_000; i++) {
    const lwsName = `lws-${i % 1_000}`;
    const group = String(i % 7);
    const labels = { ...base.metadata!.labels, [LABEL_NAME]: lwsName, [LABEL_GROUP_INDEX]: group };
    log.observe("apply", {
      ...base,
      metadata: { ...base.metadata, name: `${lwsName}-${group}-1`, uid: `u${i}`, labels },
    });
    c.advance(1);
  }
  const size = log.size();
  assert.ok(size.lws <= 100, `LWS tracked: ${size.lws}`);
  assert.ok(size.failures <= 100 * 50, `records kept: ${size.failures}`);
  assert.ok(size.pods <= 1_000, `pods remembered: ${size.pods}`);
  // The newest survive: the last LWS written holds its latest records.
  const last = log.failuresOf("default", "lws-999");
  assert.ok(last.length > 0 && last.length <= 50);
  assert.equal(last[last.length - 1]?.uid, "u19999");
  // A sweep drops everything once expired, even for LWS nobody reads.
  c.advance(FAILURE_RETENTION_MS + 60_000);
  log.observe("apply", readyPod(0, 0, "trigger-sweep"));
  assert.equal(log.size().failures, 0);
  assert.equal(log.size().lws, 0);
});

Deno.test("PodFailureLog cuts long reasons and messages", () => {
  const log = new PodFailureLog({ now: clock().now });
  const pod = readyPod(0, 1);
  log.observe("apply", pod);
  log.observe(
    "apply",
    withStatus(kwokFailed(pod, FIXTURE_NOW), { reason: "R".repeat(500), message: "m".repeat(5_000) }),
  );
  const [f] = log.failuresOf("default", "demo");
  assert.equal(f?.message?.length, MAX_MESSAGE_LENGTH);
  assert.ok(f?.message?.endsWith("…"));
  assert.ok((f?.reason?.length ?? 0) <= 80);
});
