/**
 * Pure rollout simulation: drives `rollingUpdateParameters` + `desiredLeaderStatefulSet` + `computeStatus` (and the
 * pod controller's `desiredWorkerStatefulSet`) against a simulated world — a leader StatefulSet controller that
 * honours replicas, partition and maxUnavailable (counting only *leader* pod readiness, like the real one), leader
 * pods, and worker StatefulSets created by the pod controller from the leader's revision — until the rollout
 * settles, checking invariants at every step. No cluster, no clock.
 *
 * Model of one tick (the idealised "each step assumes the StatefulSet controller has caught up" of spec §7.8):
 * 1. time advances; groups whose timers elapsed become ready; in the failure runs, during the first 40 ticks a random
 *    ready group may go unready for 1–3 ticks (its leader pod, or only its workers — invisible to the sts);
 * 2. the LWS reconcile computes `(partition, replicas)` and applies the leader sts;
 * 3. the leader sts controller deletes groups above `replicas`, creates missing ones (index ≥ partition on the new
 *    revision), and replaces outdated leaders at index ≥ partition, highest first, while fewer than
 *    `maxUnavailable` leader pods are unready; replacing a leader rebuilds its whole group (the worker sts is
 *    garbage-collected with it);
 * 4. the pod controller creates missing worker StatefulSets (after a lag) from the leader's revision;
 * 5. invariants are checked, then the status is computed and stored.
 */
import assert from "node:assert/strict";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { IntOrString, LeaderWorkerSet } from "../../api/types.ts";
import { desiredWorkerStatefulSet } from "../pod/desired.ts";
import { desiredLeaderStatefulSet } from "./desired.ts";
import { rollingUpdateParameters, rolloutBudget, surgeReplicas } from "./rolling_update.ts";
import { computeStatus } from "./status.ts";

const OLD = "old-revision";
const NEW = "new-revision";
const NEVER = Number.POSITIVE_INFINITY;

interface SimGroup {
  rev: string;
  uid: string;
  leaderReadyAt: number;
  workerStsAt: number;
  workersReadyAt: number;
  workerSts?: StatefulSet;
  /** Injected transient failure: the group (and, if `downLeader`, its leader pod) is unready until this tick. */
  downUntil: number;
  downLeader: boolean;
}

interface Timing {
  /** Ticks from creation until the leader is ready; `NEVER` = until `markReady`. */
  leader: number;
  /** Ticks from creation until the pod controller creates the worker sts. */
  workerLag: number;
  /** Ticks from the worker sts creation until the workers are ready. */
  workers: number;
}

interface Scenario {
  replicas: number;
  size: number;
  maxUnavailable: IntOrString;
  maxSurge: IntOrString;
  partition: number;
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class World {
  tick = 0;
  lws: LeaderWorkerSet;
  revisionKey = OLD;
  groups = new Map<number, SimGroup>();
  leaderSts: StatefulSet;
  events: string[] = [];
  private uidCounter = 0;

  constructor(scenario: Scenario, private timing: () => Timing) {
    this.lws = {
      metadata: { name: "sim", namespace: "ns", uid: "lws-uid", generation: 1 },
      spec: {
        replicas: scenario.replicas,
        leaderWorkerTemplate: { size: scenario.size, workerTemplate: { spec: { containers: [] } } },
        rolloutStrategy: {
          type: "RollingUpdate",
          rollingUpdateConfiguration: {
            maxUnavailable: scenario.maxUnavailable,
            maxSurge: scenario.maxSurge,
            partition: scenario.partition,
          },
        },
        startupPolicy: "LeaderCreated",
        networkConfig: { subdomainPolicy: "Shared" },
      },
    };
    // Steady state on the old revision: every group ready, leader sts as the controller last applied it.
    for (let i = 0; i < scenario.replicas; i++) {
      const g = this.newGroup(OLD, { leader: 0, workerLag: 0, workers: 0 });
      g.leaderReadyAt = g.workerStsAt = g.workersReadyAt = 0;
      this.groups.set(i, g);
    }
    this.podController();
    this.leaderSts = desiredLeaderStatefulSet(this.lws, {
      revisionKey: OLD,
      partition: Math.max(0, scenario.partition),
      replicas: scenario.replicas,
    });
  }

  get size(): number {
    return this.lws.spec.leaderWorkerTemplate.size ?? 1;
  }

  private newGroup(rev: string, t: Timing): SimGroup {
    const workerStsAt = this.tick + t.workerLag;
    return {
      rev,
      uid: `uid-${++this.uidCounter}`,
      leaderReadyAt: this.tick + t.leader,
      workerStsAt,
      workersReadyAt: workerStsAt + t.workers,
      downUntil: 0,
      downLeader: false,
    };
  }

  /** Whether the group is down because of an injected failure. */
  failed(g: SimGroup): boolean {
    return this.tick < g.downUntil;
  }

  leaderReady(g: SimGroup): boolean {
    return this.tick >= g.leaderReadyAt && !(g.downLeader && this.failed(g));
  }

  workersReady(g: SimGroup): boolean {
    return this.size === 1 ||
      (g.workerSts !== undefined && this.tick >= g.workersReadyAt && !(this.failed(g) && !g.downLeader));
  }

  groupReady(g: SimGroup): boolean {
    return this.leaderReady(g) && this.workersReady(g);
  }

  /** Makes one random ready group unready for 1–3 ticks (leader-level or, for S > 1, worker-level). */
  injectFailure(random: () => number): void {
    const ready = [...this.groups.values()].filter((g) => this.groupReady(g));
    if (ready.length === 0) return;
    const g = ready[Math.floor(random() * ready.length)]!;
    g.downUntil = this.tick + 1 + Math.floor(random() * 3);
    g.downLeader = this.size === 1 || random() < 0.5;
  }

  /** Groups down because of an injected failure. */
  injectedDown(): number {
    let n = 0;
    for (const g of this.groups.values()) if (this.failed(g)) n++;
    return n;
  }

  leaderPod(i: number, g: SimGroup): Pod {
    return {
      metadata: {
        name: `sim-${i}`,
        namespace: "ns",
        uid: g.uid,
        labels: {
          "leaderworkerset.sigs.k8s.io/name": "sim",
          "leaderworkerset.sigs.k8s.io/worker-index": "0",
          "leaderworkerset.sigs.k8s.io/group-index": String(i),
          "leaderworkerset.sigs.k8s.io/group-key": `key-${i}`,
          "leaderworkerset.sigs.k8s.io/template-revision-hash": g.rev,
        },
      },
      spec: { containers: [] },
      status: {
        phase: "Running",
        conditions: [{ type: "Ready", status: this.leaderReady(g) ? "True" : "False" }],
      },
    };
  }

  leaderPods(): Pod[] {
    return [...this.groups].map(([i, g]) => this.leaderPod(i, g));
  }

  workerStatefulSets(): StatefulSet[] {
    const out: StatefulSet[] = [];
    for (const g of this.groups.values()) {
      if (g.workerSts === undefined) continue;
      const replicas = this.size - 1;
      out.push({
        ...g.workerSts,
        status: {
          replicas,
          availableReplicas: this.workersReady(g) ? replicas : 0,
          currentRevision: "w",
          updateRevision: "w",
        },
      });
    }
    return out;
  }

  /** Leader sts as read from the API (status.replicas = existing leader pods). */
  readLeaderSts(): StatefulSet {
    return { ...this.leaderSts, status: { replicas: this.groups.size } };
  }

  /** Step 2: the LWS reconcile. */
  reconcile(lwsUpdated: boolean): { partition: number; replicas: number } {
    const before = this.readLeaderSts();
    const r = rollingUpdateParameters(this.lws, {
      leaderStatefulSet: before,
      revisionKey: this.revisionKey,
      lwsUpdated,
      leaderPods: this.leaderPods(),
      statefulSets: [before, ...this.workerStatefulSets()],
    });
    this.events.push(...r.events.map((e) => e.note));
    this.leaderSts = desiredLeaderStatefulSet(this.lws, {
      revisionKey: this.revisionKey,
      partition: r.partition,
      replicas: r.replicas,
    });
    return { partition: r.partition, replicas: r.replicas };
  }

  /** Step 3: the leader StatefulSet controller. */
  stsController(): void {
    const spec = this.leaderSts.spec!;
    const replicas = spec.replicas!;
    const partition = spec.updateStrategy!.rollingUpdate!.partition!;
    const maxUnavailable = spec.updateStrategy!.rollingUpdate!.maxUnavailable as number;
    const updateRevision = this.leaderSts.metadata!.labels!["leaderworkerset.sigs.k8s.io/template-revision-hash"]!;
    for (const i of [...this.groups.keys()]) if (i >= replicas) this.groups.delete(i);
    for (let i = 0; i < replicas; i++) {
      if (!this.groups.has(i)) this.groups.set(i, this.newGroup(i >= partition ? updateRevision : OLD, this.timing()));
    }
    let unhealthy = 0;
    for (const g of this.groups.values()) if (!this.leaderReady(g)) unhealthy++;
    let budget = maxUnavailable - unhealthy;
    for (let i = replicas - 1; i >= partition && budget > 0; i--) {
      const g = this.groups.get(i);
      if (g === undefined || g.rev === updateRevision) continue;
      // An injected failure outlives the replacement (it stands for trouble on the node, not in the pod).
      this.groups.set(i, { ...this.newGroup(updateRevision, this.timing()), downUntil: g.downUntil });
      budget--;
    }
  }

  /** Step 4: the pod controller creates missing worker StatefulSets from the leader's revision. */
  podController(): void {
    if (this.size === 1) return;
    for (const [i, g] of this.groups) {
      if (g.workerSts !== undefined || this.tick < g.workerStsAt) continue;
      g.workerSts = desiredWorkerStatefulSet(this.leaderPod(i, g), this.lws, this.lws);
    }
  }

  status(): ReturnType<typeof computeStatus> {
    const workers = new Map(this.workerStatefulSets().map((s) => [s.metadata!.name!, s]));
    const r = computeStatus(this.lws, this.readLeaderSts(), this.leaderPods(), workers, {
      revisionKey: this.revisionKey,
      now: new Date(Date.UTC(2026, 0, 1, 0, 0, this.tick)),
    });
    this.lws = { ...this.lws, status: r.status };
    return r;
  }

  /** One idealised tick; returns what the reconcile applied. */
  step(lwsUpdated = false): { partition: number; replicas: number } {
    const applied = this.reconcile(lwsUpdated);
    this.stsController();
    this.podController();
    return applied;
  }

  scale(replicas: number): void {
    this.lws = {
      ...this.lws,
      metadata: { ...this.lws.metadata, generation: (this.lws.metadata.generation ?? 0) + 1 },
      spec: { ...this.lws.spec, replicas },
    };
  }

  changeTemplate(): void {
    this.revisionKey = NEW;
    this.lws = { ...this.lws, metadata: { ...this.lws.metadata, generation: 2 } };
  }

  markReady(...indexes: number[]): void {
    for (const i of indexes) {
      const g = this.groups.get(i)!;
      g.leaderReadyAt = Math.min(g.leaderReadyAt, this.tick);
      g.workerStsAt = Math.min(g.workerStsAt, this.tick);
      g.workersReadyAt = Math.min(g.workersReadyAt, this.tick);
    }
    this.podController();
  }

  markUnready(i: number): void {
    this.groups.get(i)!.leaderReadyAt = NEVER;
  }

  readyGroups(): number {
    let n = 0;
    for (const g of this.groups.values()) if (this.groupReady(g)) n++;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// §7.8 worked examples, step by step (manual readiness: new groups stay unready until marked).

const MANUAL: Timing = { leader: NEVER, workerLag: 0, workers: NEVER };

function scripted(s: Partial<Scenario>): World {
  const w = new World(
    { replicas: 4, size: 2, maxUnavailable: 1, maxSurge: 0, partition: 0, ...s },
    () => MANUAL,
  );
  w.changeTemplate();
  return w;
}

/** Indexes of groups that were replaced or created (not on the old revision) and are not ready yet. */
function pending(w: World): number[] {
  return [...w.groups].filter(([, g]) => !w.groupReady(g)).map(([i]) => i).sort((a, b) => b - a);
}

Deno.test("rollingUpdateParameters() reproduces §7.8: default strategy, N=4", async (t) => {
  const w = scripted({});
  await t.step("template change → (4, 4), nothing rolls", () => {
    assert.deepEqual(w.step(true), { partition: 4, replicas: 4 });
    assert.deepEqual(pending(w), []);
  });
  await t.step("next → (3, 4), group 3 rolls", () => {
    assert.deepEqual(w.step(), { partition: 3, replicas: 4 });
    assert.deepEqual(pending(w), [3]);
    assert.equal(w.groups.get(3)!.rev, NEW);
  });
  await t.step("waits while group 3 is not ready", () => {
    assert.deepEqual(w.step(), { partition: 3, replicas: 4 });
  });
  await t.step("group 3 ready and updated → (2, 4)", () => {
    w.markReady(3);
    assert.deepEqual(w.step(), { partition: 2, replicas: 4 });
    assert.deepEqual(pending(w), [2]);
  });
  await t.step("readiness of a lower group alone does not move it", () => {
    w.markUnready(0);
    assert.deepEqual(w.step(), { partition: 2, replicas: 4 });
    w.markReady(0);
    assert.deepEqual(w.step(), { partition: 2, replicas: 4 });
  });
  await t.step("a group that becomes unready again does not move it back", () => {
    w.markUnready(3);
    assert.deepEqual(w.step(), { partition: 2, replicas: 4 });
    w.markReady(3);
  });
  await t.step("group by group down to (0, 4)", () => {
    w.markReady(2);
    assert.deepEqual(w.step(), { partition: 1, replicas: 4 });
    w.markReady(1);
    assert.deepEqual(w.step(), { partition: 0, replicas: 4 });
    w.markReady(0);
    assert.deepEqual(w.step(), { partition: 0, replicas: 4 });
    assert.ok([...w.groups.values()].every((g) => g.rev === NEW));
  });
  assert.deepEqual(w.events, []);
});

Deno.test("rollingUpdateParameters() reproduces §7.8: maxUnavailable 2 and 10", async (t) => {
  await t.step("mu=2: (4,4) → (2,4) → (1,4) → (0,4)", () => {
    const w = scripted({ maxUnavailable: 2 });
    assert.deepEqual(w.step(true), { partition: 4, replicas: 4 });
    assert.deepEqual(w.step(), { partition: 2, replicas: 4 });
    assert.deepEqual(pending(w), [3, 2]);
    w.markReady(3);
    assert.deepEqual(w.step(), { partition: 1, replicas: 4 });
    w.markReady(2);
    assert.deepEqual(w.step(), { partition: 0, replicas: 4 });
  });
  await t.step("mu=10: straight to 0, every group rolls at once", () => {
    const w = scripted({ maxUnavailable: 10 });
    assert.deepEqual(w.step(true), { partition: 4, replicas: 4 });
    assert.deepEqual(w.step(), { partition: 0, replicas: 4 });
    assert.deepEqual(pending(w), [3, 2, 1, 0]);
    assert.equal(w.leaderSts.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, 10);
  });
});

Deno.test("rollingUpdateParameters() reproduces §7.8: surge examples", async (t) => {
  await t.step("ms=4, mu=1: (4,7) → (3,7) → (0,7) → reclaimed to (0,4)", () => {
    const w = scripted({ maxSurge: 4 });
    assert.deepEqual(w.step(true), { partition: 4, replicas: 7 });
    assert.deepEqual(pending(w), [6, 5, 4]);
    assert.deepEqual(w.step(), { partition: 3, replicas: 7 });
    assert.deepEqual(pending(w), [6, 5, 4, 3]);
    w.markReady(4, 5, 6);
    assert.deepEqual(w.step(), { partition: 0, replicas: 7 });
    assert.deepEqual(pending(w), [3, 2, 1, 0]);
    w.markReady(3);
    assert.deepEqual(w.step(), { partition: 0, replicas: 6 });
    assert.deepEqual(w.events, ["deleting surge replica sim-6"]);
    w.markReady(2, 1, 0);
    assert.deepEqual(w.step(), { partition: 0, replicas: 4 });
    assert.deepEqual(w.events.at(-1), "deleting surge replicas from sim-4 to sim-5");
    assert.deepEqual(w.step(), { partition: 0, replicas: 4 });
  });
  await t.step("ms=1, mu=0: 5 mid-update, then 4", () => {
    const w = scripted({ maxSurge: 1, maxUnavailable: 0 });
    assert.deepEqual(w.step(true), { partition: 4, replicas: 5 });
    assert.deepEqual(w.step(), { partition: 4, replicas: 5 });
    for (const i of [4, 3, 2, 1]) {
      w.markReady(i);
      assert.deepEqual(w.step(), { partition: i - 1, replicas: 5 });
    }
    w.markReady(0);
    assert.deepEqual(w.step(), { partition: 0, replicas: 4 });
    assert.deepEqual(w.events, ["deleting surge replica sim-4"]);
  });
  await t.step("size 1, ms=1: 5 mid-update, then 4", () => {
    const w = scripted({ size: 1, maxSurge: 1 });
    assert.deepEqual(w.step(true), { partition: 4, replicas: 5 });
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      w.markReady(...w.groups.keys());
      seen.add(w.step().replicas);
    }
    assert.deepEqual([...seen].sort(), [4, 5]);
    assert.equal(w.groups.size, 4);
    assert.ok([...w.groups.values()].every((g) => g.rev === NEW && g.workerSts === undefined));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The grid.

function expectedFinalReplicas(s: Scenario): number {
  // With P > 0 the groups below P stay outdated forever and count as "unready" in surgeReplicas, so upstream keeps
  // surge groups after the rollout (see the module's invariant notes).
  const budget = rolloutBudget(({ spec: { ...worldSpec(s) }, metadata: {} }) as LeaderWorkerSet);
  const u = Math.min(s.partition, s.replicas);
  return surgeReplicas(u, { budget, stsReplicas: 0, lwsName: "sim" }).replicas;
}

function worldSpec(s: Scenario): LeaderWorkerSet["spec"] {
  return {
    replicas: s.replicas,
    leaderWorkerTemplate: { size: s.size, workerTemplate: {} },
    rolloutStrategy: {
      type: "RollingUpdate",
      rollingUpdateConfiguration: { maxUnavailable: s.maxUnavailable, maxSurge: s.maxSurge, partition: s.partition },
    },
  };
}

/**
 * Runs one scenario to completion and checks, at every tick:
 * - availability: ready groups (surge groups included) ≥ N − mu; with injected failures, ready + failed ≥ N − mu
 *   (the rollout never costs more than mu groups on top of what failed by itself — see the narrowing below);
 * - size: existing groups ≤ N + ms (ms capped at N);
 * - no mixed-revision group: a worker sts always carries its leader's revision and is owned by that leader; groups
 *   below P stay on the old revision;
 * - the partition never rises after the first reconcile of the rollout, and never goes below P;
 * - every removal of surge groups was announced with the exact event note;
 * and at the end: terminated; groups at or above P on the new revision and ready, groups below P (surge groups
 * included) on the old one; replicas as upstream leaves them; status Available, UpdateInProgress seen iff P < N,
 * updateDone iff P == 0.
 *
 * Invariants narrowed on purpose (upstream's algorithm kept for wire compatibility):
 * 1. With P > 0 the final replica count is `surgeReplicas(min(P, N))`, not N: upstream's unready count includes the
 *    groups kept below the partition, so surge groups created for the rollout are never reclaimed while P > 0
 *    (e.g. N=2, P=2, ms=1 keeps 3 groups). Surge groups at an index below P are created by the StatefulSet
 *    controller on the *old* revision (ordinal < partition), so with P ≥ N the "rollout" only adds old surge groups.
 * 2. The strict bound "ready ≥ N − mu at every step" holds only while groups do not fail during the rollout. With
 *    failures, upstream can let availability dip below N − mu − (failed groups) at the moment of a decision would
 *    suggest, for two reasons found by this simulation: nextPartition (§7.6 step 3) compensates only unready groups
 *    strictly below `base` (a failed group in [base, partition) is not counted), and surgeReplicas (§7.7) reclaims
 *    the highest surge groups from the state of the desired groups alone, even when a surge group it keeps is
 *    unready. What does hold is the bound above: ready + failed ≥ N − mu (each failure costs at most itself).
 * 3. When `spec.replicas` changes mid-rollout no availability bound is asserted (termination, size, revisions and
 *    the final state still are): a scale-up adds unready groups by definition, and a scale-down reclaims surge
 *    groups by index through surgeReplicas regardless of which groups are ready (e.g. N 2→1 with 50%/50% while
 *    groups 0 and 1 roll deletes surge group 2, the only ready one).
 */
interface RunOptions {
  /** Inject transient failures during the first 40 ticks. */
  failures: boolean;
  /** Change `spec.replicas` at this tick of the rollout (exercises §7.4 branches 4 and 6). */
  scaleTo?: { tick: number; replicas: number };
}

function runScenario(initial: Scenario, seed: number, options: RunOptions): void {
  const random = rng(seed);
  const timing = (): Timing => ({
    leader: Math.floor(random() * 3),
    workerLag: Math.floor(random() * 2),
    workers: Math.floor(random() * 4),
  });
  const w = new World(initial, timing);
  let s = initial;
  let budget = rolloutBudget(w.lws);
  const label = `${JSON.stringify(initial)}${options.failures ? " with failures" : ""}${
    options.scaleTo ? ` scaled to ${options.scaleTo.replicas} at ${options.scaleTo.tick}` : ""
  }`;
  w.changeTemplate();

  let lastPartition = Number.POSITIVE_INFINITY;
  let sawUpdateInProgress = false;
  let stable = 0;
  let final: { partition: number; replicas: number } | undefined;
  for (let tick = 0; tick < 2000; tick++) {
    w.tick++;
    if (options.scaleTo?.tick === tick) {
      s = { ...s, replicas: options.scaleTo.replicas };
      w.scale(s.replicas);
      budget = rolloutBudget(w.lws);
    }
    if (options.failures && tick < 40 && random() < 0.3) w.injectFailure(random);
    const eventsBefore = w.events.length;
    const before = w.readLeaderSts().spec!;
    const applied = w.step(tick === 0);
    const c = `${label} tick ${w.tick}`;

    if (tick > 0) assert.ok(applied.partition <= lastPartition, `${c}: partition rose to ${applied.partition}`);
    lastPartition = applied.partition;
    assert.ok(applied.partition >= s.partition, `${c}: partition below P`);
    assert.ok(w.groups.size <= budget.burst, `${c}: ${w.groups.size} groups > N + ms = ${budget.burst}`);
    if (s === initial) {
      // The budget is defined for a fixed N; see narrowing 3 for replica changes.
      const ready = w.readyGroups();
      const down = w.injectedDown();
      const minReady = s.replicas - budget.maxUnavailable;
      assert.ok(ready + down >= minReady, `${c}: ${ready} ready groups + ${down} failed < N − mu = ${minReady}`);
    }
    for (const [i, g] of w.groups) {
      if (g.workerSts !== undefined) {
        const wsRev = g.workerSts.metadata!.labels!["leaderworkerset.sigs.k8s.io/template-revision-hash"];
        assert.equal(wsRev, g.rev, `${c}: group ${i} mixes revisions`);
        assert.equal(g.workerSts.metadata!.ownerReferences![0]!.uid, g.uid, `${c}: group ${i} worker sts owner`);
      }
      if (i < s.partition) assert.equal(g.rev, OLD, `${c}: group ${i} below the partition was updated`);
    }
    if (applied.replicas < before.replicas!) {
      // Every shrink goes through surgeReplicas, a plain scale-down included (upstream words it "surge" too).
      const note = applied.replicas === before.replicas! - 1
        ? `deleting surge replica sim-${applied.replicas}`
        : `deleting surge replicas from sim-${applied.replicas} to sim-${before.replicas! - 1}`;
      assert.deepEqual(w.events.slice(eventsBefore), [note], `${c}: surge deletion event`);
    }

    const status = w.status();
    if (status.status.conditions?.some((x) => x.type === "UpdateInProgress" && x.status === "True")) {
      sawUpdateInProgress = true;
    }

    const settled = [...w.groups.values()].every((g) => w.groupReady(g) && (w.size === 1 || g.workerSts)) &&
      [...w.groups].every(([i, g]) => g.rev === (i < s.partition ? OLD : NEW)) &&
      w.groups.size === applied.replicas;
    stable = settled ? stable + 1 : 0;
    if (stable === 3) {
      final = applied;
      break;
    }
  }
  const n = s.replicas;
  assert.ok(final !== undefined, `${label}: did not terminate`);
  assert.equal(final.partition, s.partition, `${label}: final partition`);
  assert.equal(final.replicas, s.partition === 0 ? n : expectedFinalReplicas(s), `${label}: final replicas`);
  const status = w.status();
  const cond = (type: string) => status.status.conditions?.find((x) => x.type === type)?.status;
  assert.equal(cond("Available"), "True", `${label}: Available`);
  assert.equal(cond("UpdateInProgress") ?? "False", "False", `${label}: UpdateInProgress at the end`);
  assert.equal(sawUpdateInProgress, s.partition < initial.replicas, `${label}: UpdateInProgress seen`);
  assert.equal(status.updateDone, s.partition === 0, `${label}: updateDone`);
  assert.equal(status.status.updatedReplicas ?? 0, Math.max(0, final.replicas - s.partition), `${label}: updated`);
  assert.equal(status.status.readyReplicas ?? 0, final.replicas, `${label}: ready`);
}

const INT_OR_PERCENT: IntOrString[] = [0, 1, 2, 3, "25%", "50%", "100%"];

Deno.test("rollout simulation holds the invariants over the replicas × maxUnavailable × maxSurge × partition grid", async (t) => {
  for (const size of [1, 3]) {
    await t.step(`size ${size}`, () => {
      let runs = 0;
      for (let replicas = 1; replicas <= 10; replicas++) {
        const partitions = [...new Set([0, 1, Math.floor(replicas / 2), replicas - 1, replicas, replicas + 1])];
        for (const maxUnavailable of INT_OR_PERCENT) {
          for (const maxSurge of INT_OR_PERCENT) {
            for (const partition of partitions) {
              const s: Scenario = { replicas, size, maxUnavailable, maxSurge, partition };
              const b = rolloutBudget({ metadata: {}, spec: worldSpec(s) });
              if (b.maxUnavailable === 0 && b.maxSurge === 0) continue; // rejected by validation (V15)
              runScenario(s, replicas * 1000 + runs, { failures: false });
              runScenario(s, replicas * 7919 + runs, { failures: true });
              runs++;
            }
          }
        }
      }
      assert.ok(runs > 2000, `only ${runs} runs`);
    });
  }
});

Deno.test("rollout simulation terminates when replicas change in the middle of a rollout", async (t) => {
  for (const size of [1, 3]) {
    await t.step(`size ${size}`, () => {
      let runs = 0;
      for (const replicas of [2, 4, 7]) {
        for (const [maxUnavailable, maxSurge] of [[1, 0], [0, 1], [2, 2], ["50%", "50%"]] as const) {
          for (const partition of [0, 1]) {
            for (const scaled of [1, replicas - 1, replicas + 2]) {
              for (const atTick of [1, 3]) {
                const s: Scenario = { replicas, size, maxUnavailable, maxSurge, partition };
                const scaleTo = { tick: atTick, replicas: scaled };
                runScenario(s, 31 * runs + 7, { failures: false, scaleTo });
                runScenario(s, 37 * runs + 11, { failures: true, scaleTo });
                runs++;
              }
            }
          }
        }
      }
      assert.ok(runs > 100);
    });
  }
});
