import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { ManualClock } from "./clock.ts";
import { ApiError, TransportError } from "./errors.ts";
import {
  createLeaderElector,
  DEFAULT_LEASE_NAME,
  type LeaderElectionOptions,
  type LeaseClient,
} from "./leader_election.ts";

/** An in-memory Lease API with resourceVersion preconditions, shared by several candidates. */
class FakeLeases {
  #rv = 0;
  readonly leases = new Map<string, Lease>();
  writes = 0;

  /** A client for one candidate; `mode` lets a test cut it off ("down": refused, "hang": never answers). */
  client(): LeaseClient & { mode: "up" | "down" | "hang" } {
    const gate = (signal: AbortSignal, mode: string) => {
      if (mode === "down") return Promise.reject(new TransportError("connection refused"));
      if (mode === "hang") {
        return new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      }
      return Promise.resolve();
    };
    const c = {
      mode: "up" as "up" | "down" | "hang",
      get: async (namespace: string, name: string, signal: AbortSignal) => {
        await gate(signal, c.mode);
        const lease = this.leases.get(`${namespace}/${name}`);
        return lease ? structuredClone(lease) : undefined;
      },
      create: async (lease: Lease, signal: AbortSignal) => {
        await gate(signal, c.mode);
        const key = `${lease.metadata?.namespace}/${lease.metadata?.name}`;
        if (this.leases.has(key)) throw status(409, "AlreadyExists");
        const stored = {
          ...structuredClone(lease),
          metadata: { ...lease.metadata, resourceVersion: String(++this.#rv) },
        };
        this.leases.set(key, stored);
        this.writes++;
        return structuredClone(stored);
      },
      update: async (lease: Lease, signal: AbortSignal) => {
        await gate(signal, c.mode);
        const key = `${lease.metadata?.namespace}/${lease.metadata?.name}`;
        const current = this.leases.get(key);
        if (!current) throw status(404, "NotFound");
        if (lease.metadata?.resourceVersion !== current.metadata?.resourceVersion) throw status(409, "Conflict");
        const stored = {
          ...structuredClone(lease),
          metadata: { ...lease.metadata, resourceVersion: String(++this.#rv) },
        };
        this.leases.set(key, stored);
        this.writes++;
        return structuredClone(stored);
      },
    };
    return c;
  }

  get(): Lease | undefined {
    return this.leases.get(`lws-system/${DEFAULT_LEASE_NAME}`);
  }
}

const status = (code: number, reason: string) => new ApiError({ kind: "Status", code, reason, message: reason });

interface Candidate {
  identity: string;
  client: ReturnType<FakeLeases["client"]>;
  stop: AbortController;
  outcome: Promise<"stopped" | "lost">;
  startedAt: number[];
  stoppedAt: number[];
  leadingSignals: AbortSignal[];
  elector: ReturnType<typeof createLeaderElector>;
}

function candidate(
  leases: FakeLeases,
  clock: ManualClock,
  identity: string,
  extra: Partial<LeaderElectionOptions> = {},
): Candidate {
  const client = leases.client();
  const c: Partial<Candidate> = { identity, client, startedAt: [], stoppedAt: [], leadingSignals: [] };
  const elector = createLeaderElector(client, {
    namespace: "lws-system",
    identity,
    clock,
    random: () => 0.5,
    onStartedLeading: (signal) => {
      c.startedAt!.push(clock.now());
      c.leadingSignals!.push(signal);
    },
    onStoppedLeading: () => c.stoppedAt!.push(clock.now()),
    ...extra,
  });
  const stop = new AbortController();
  return { ...c, elector, stop, outcome: elector.run(stop.signal) } as Candidate;
}

/** Advances the manual clock in small steps so every loop gets to run. */
async function advance(clock: ManualClock, ms: number, step = 100): Promise<void> {
  for (let done = 0; done < ms; done += step) await clock.advance(Math.min(step, ms - done));
}

Deno.test("createLeaderElector() acquires a missing lease, renews it and releases it on stop", async () => {
  const leases = new FakeLeases();
  const clock = new ManualClock();
  const t0 = clock.now();
  const a = candidate(leases, clock, "a");
  await advance(clock, 100);
  assert.equal(a.elector.isLeader(), true);
  assert.deepEqual(a.startedAt, [t0]);
  const lease = leases.get();
  assert.equal(lease?.spec?.holderIdentity, "a");
  assert.equal(lease?.spec?.leaseDurationSeconds, 15);
  assert.equal(lease?.spec?.leaseTransitions, 0);
  assert.match(lease?.spec?.renewTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  const writes = leases.writes;
  await advance(clock, 10_000);
  assert.equal(leases.writes - writes, 5, "renews every retry period (2 s)");
  assert.equal(leases.get()?.spec?.acquireTime, lease?.spec?.acquireTime, "acquireTime kept while renewing");
  assert.equal(a.elector.status().leading, true);
  assert.equal(a.elector.status().holder, "a");

  a.stop.abort();
  assert.equal(await a.outcome, "stopped");
  assert.equal(a.leadingSignals[0]?.aborted, true);
  assert.equal(a.stoppedAt.length, 1);
  assert.equal(a.elector.isLeader(), false);
  assert.equal(leases.get()?.spec?.holderIdentity, "", "released: holder cleared");
  assert.equal(leases.get()?.spec?.leaseDurationSeconds, 1);
});

Deno.test("createLeaderElector() lets exactly one of two candidates lead; a release hands over at the next retry", async () => {
  const leases = new FakeLeases();
  const clock = new ManualClock();
  const a = candidate(leases, clock, "a");
  const b = candidate(leases, clock, "b");
  await advance(clock, 30_000);
  assert.equal(a.elector.isLeader(), true);
  assert.equal(b.elector.isLeader(), false, "b waits while a renews");
  assert.equal(b.elector.status().holder, "a");
  assert.deepEqual(b.startedAt, []);

  const stoppedAt = clock.now();
  a.stop.abort();
  assert.equal(await a.outcome, "stopped");
  await advance(clock, 5_000);
  assert.equal(b.elector.isLeader(), true);
  const takeover = (b.startedAt[0] ?? Infinity) - stoppedAt;
  assert.ok(takeover <= 2_000 * (1 + 0.5 * 1.2), `took over ${takeover} ms after the release`);
  assert.equal(leases.get()?.spec?.holderIdentity, "b");
  assert.equal(leases.get()?.spec?.leaseTransitions, 1);
  b.stop.abort();
  await b.outcome;
});

Deno.test("createLeaderElector() takes over an abandoned lease only after the lease duration by its own clock", async () => {
  const leases = new FakeLeases();
  const clock = new ManualClock();
  const a = candidate(leases, clock, "a");
  await advance(clock, 100);
  const b = candidate(leases, clock, "b");
  await advance(clock, 5_000);
  // a's process dies: its requests no longer arrive; b last saw the lease change at a's last renewal.
  a.client.mode = "down";
  const lastRenew = a.elector.status().lastRenewMs ?? 0;
  await advance(clock, 14_000);
  assert.equal(b.elector.isLeader(), false, "not before the lease duration");
  await advance(clock, 6_000);
  assert.equal(b.elector.isLeader(), true);
  const takeover = (b.startedAt[0] ?? Infinity) - lastRenew;
  // b observes the last change up to one retry (jittered) after it happened, then waits the lease duration.
  assert.ok(takeover > 15_000 && takeover <= 15_000 + 2 * 3_200, `took over ${takeover} ms after the last renewal`);
  // a gave up after the renew deadline and stopped leading, without releasing.
  assert.equal(await a.outcome, "lost");
  assert.equal(a.leadingSignals[0]?.aborted, true);
  assert.equal(a.stoppedAt.length, 1);
  assert.ok((a.stoppedAt[0] ?? Infinity) - lastRenew <= 2_000 + 10_000 + 100, "lost by the renew deadline");
  b.stop.abort();
  await b.outcome;
});

Deno.test("createLeaderElector() loses leadership when renewals hang past the renew deadline", async () => {
  const leases = new FakeLeases();
  const clock = new ManualClock();
  const a = candidate(leases, clock, "a");
  await advance(clock, 100);
  assert.equal(a.elector.isLeader(), true);
  a.client.mode = "hang";
  const hungAt = clock.now();
  await advance(clock, 13_000);
  assert.equal(await a.outcome, "lost");
  const lostAfter = (a.stoppedAt[0] ?? Infinity) - hungAt;
  assert.ok(lostAfter >= 10_000 && lostAfter <= 12_100, `lost ${lostAfter} ms after renewals started hanging`);
  assert.equal(a.leadingSignals[0]?.aborted, true);
  assert.equal(leases.get()?.spec?.holderIdentity, "a", "a lost lease is not released");
});

Deno.test("createLeaderElector() stops leading at once when another holder appears", async () => {
  const leases = new FakeLeases();
  const clock = new ManualClock();
  const a = candidate(leases, clock, "a");
  await advance(clock, 100);
  const lease = leases.get()!;
  leases.leases.set(`lws-system/${DEFAULT_LEASE_NAME}`, {
    ...lease,
    metadata: { ...lease.metadata, resourceVersion: "999" },
    spec: { ...lease.spec, holderIdentity: "intruder" },
  });
  await advance(clock, 2_500);
  assert.equal(await a.outcome, "lost");
  assert.equal(a.elector.isLeader(), false);
});

Deno.test("createLeaderElector() acquires with optimistic concurrency: a racing candidate loses", async () => {
  const leases = new FakeLeases();
  const clock = new ManualClock();
  // A released lease: free for everyone at once.
  await leases.client().create({
    metadata: { name: DEFAULT_LEASE_NAME, namespace: "lws-system" },
    spec: { holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 3 },
  }, new AbortController().signal);
  const candidates = ["a", "b", "c"].map((id) => candidate(leases, clock, id));
  await advance(clock, 10_000);
  assert.equal(candidates.filter((c) => c.elector.isLeader()).length, 1);
  assert.equal(leases.get()?.spec?.leaseTransitions, 4);
  for (const c of candidates) c.stop.abort();
  await Promise.all(candidates.map((c) => c.outcome));
});

Deno.test("createLeaderElector() awaits the leading work before releasing on stop", async () => {
  const leases = new FakeLeases();
  const clock = new ManualClock();
  const order: string[] = [];
  const a = candidate(leases, clock, "a", {
    onStartedLeading: async (signal) => {
      await new Promise((resolve) => signal.addEventListener("abort", resolve));
      order.push(`work done, holder=${leases.get()?.spec?.holderIdentity}`);
    },
    onStoppedLeading: () => order.push(`stopped, holder=${leases.get()?.spec?.holderIdentity}`),
  });
  await advance(clock, 100);
  a.stop.abort();
  await a.outcome;
  assert.deepEqual(order, ["work done, holder=a", "stopped, holder="]);
});

Deno.test("createLeaderElector() stopped before acquiring returns without callbacks", async () => {
  const leases = new FakeLeases();
  const clock = new ManualClock();
  const a = candidate(leases, clock, "a");
  await advance(clock, 100);
  const b = candidate(leases, clock, "b");
  await advance(clock, 3_000);
  b.stop.abort();
  assert.equal(await b.outcome, "stopped");
  assert.deepEqual(b.stoppedAt, [], "onStoppedLeading only after leading");
  assert.equal(leases.get()?.spec?.holderIdentity, "a", "a non-leader never touches the lease on stop");
  a.stop.abort();
  await a.outcome;
});

Deno.test("createLeaderElector() rejects inconsistent timings", () => {
  const leases = new FakeLeases().client();
  const base = { namespace: "x", onStartedLeading: () => {} };
  assert.throws(
    () => createLeaderElector(leases, { ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
    /lease duration must be greater than the renew deadline, got 10000 ms and 10000 ms/,
  );
  assert.throws(
    () => createLeaderElector(leases, { ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }),
    /renew deadline must be greater than 1.2 × retry period/,
  );
  assert.throws(() => createLeaderElector(leases, { ...base, namespace: "" }), /namespace is required/);
  const elector = createLeaderElector(leases, base);
  assert.match(elector.identity, /^.+_[0-9a-f-]{36}$/);
});

Deno.test("createLeaderElector() releases on stop even when a renewal committed after it last observed the lease", async () => {
  const leases = new FakeLeases();
  const clock = new ManualClock();
  const a = candidate(leases, clock, "a");
  await advance(clock, 100);
  assert.equal(a.elector.isLeader(), true);
  // A renewal whose answer was lost: the server holds a newer resourceVersion, still with holder "a".
  const stored = leases.get()!;
  leases.leases.set(`lws-system/${DEFAULT_LEASE_NAME}`, {
    ...stored,
    metadata: { ...stored.metadata, resourceVersion: "9999" },
  });
  a.stop.abort();
  assert.equal(await a.outcome, "stopped");
  assert.equal(leases.get()?.spec?.holderIdentity, "", "released despite the conflict");
  assert.equal(leases.get()?.spec?.leaseDurationSeconds, 1);
});
