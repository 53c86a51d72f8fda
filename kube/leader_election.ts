/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's `tools/leaderelection` semantics:
 *
 * - Acquire: try every `retryPeriod` (jittered by up to 1.2×). A lease held by someone else is taken over only
 *   when it has not changed for `leaseDurationSeconds` **by the local clock** since this process last saw it
 *   change — clocks of different machines are never compared. A lease with an empty holder is free at once.
 * - Renew: every `retryPeriod`; a renewal may retry until `renewDeadline` has passed, then leadership is lost.
 *   Seeing another holder while leading loses leadership at once.
 * - All writes use optimistic concurrency (the lease's resourceVersion); a conflict is a failed attempt.
 * - Graceful stop releases the lease (holder cleared, `leaseDurationSeconds: 1`) so another replica takes over
 *   at its next retry instead of waiting for expiry.
 *
 * @module
 */
import type { Lease, LeaseSpec } from "kubernetes-types/coordination/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { type Clock, realClock } from "./clock.ts";
import type { KubeClient } from "./client.ts";
import { isConflict, isNotFound } from "./errors.ts";
import { formatMicroTime } from "./events.ts";
import { LEASES } from "./resources.ts";

const log = getLogger(["lws", "kube", "leader-election"]);

/** Upstream's lease name (spec §11.4). */
export const DEFAULT_LEASE_NAME = "b8b2488c.x-k8s.io";
/** Upstream's lease duration: 15 s. */
export const DEFAULT_LEASE_DURATION_MS = 15_000;
/** Upstream's renew deadline: 10 s. */
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
/** Upstream's retry period: 2 s. */
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
/** client-go's jitter factor for acquire retries. */
const JITTER_FACTOR = 1.2;

/** The three Lease calls leader election needs; implemented by {@linkcode clientLeaseClient} or a test fake. */
export interface LeaseClient {
  /** Reads the lease; `undefined` when it does not exist. */
  get(namespace: string, name: string, signal: AbortSignal): Promise<Lease | undefined>;
  /** Creates the lease; rejects (AlreadyExists) when it exists. */
  create(lease: Lease, signal: AbortSignal): Promise<Lease>;
  /** Replaces the lease; rejects (Conflict) when `metadata.resourceVersion` is stale. */
  update(lease: Lease, signal: AbortSignal): Promise<Lease>;
}

/**
 * A {@linkcode LeaseClient} over the API client.
 *
 * @param client the API client
 * @returns the lease client
 */
export function clientLeaseClient(client: KubeClient): LeaseClient {
  return {
    async get(namespace, name, signal) {
      try {
        return await client.get<Lease>(LEASES, name, { namespace, signal });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    create: (lease, signal) => client.create<Lease>(LEASES, lease, { signal }),
    update: (lease, signal) => client.update<Lease>(LEASES, lease, { signal }),
  };
}

/**
 * `<hostname>_<random UUID>`, like controller-runtime's default identity.
 *
 * @returns a new identity (unique per call)
 */
export function defaultIdentity(): string {
  let host = "unknown";
  try {
    host = Deno.hostname();
  } catch {
    // No --allow-sys: keep "unknown"; the UUID keeps identities unique.
  }
  return `${host}_${crypto.randomUUID()}`;
}

/** Options of {@linkcode createLeaderElector}. */
export interface LeaderElectionOptions {
  /** Namespace of the lease (the operator namespace). */
  namespace: string;
  /** Lease name (default {@linkcode DEFAULT_LEASE_NAME}). */
  name?: string;
  /** This candidate's identity (default {@linkcode defaultIdentity}). */
  identity?: string;
  /** How long a non-renewed lease is honoured (default 15 s). Whole seconds are written to the lease (rounded up). */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a renewal before giving up (default 10 s). */
  renewDeadlineMs?: number;
  /** Time between attempts (default 2 s). */
  retryPeriodMs?: number;
  /** Release the lease on graceful stop (default true). */
  releaseOnCancel?: boolean;
  /**
   * Called when this candidate becomes leader. `signal` aborts when leadership ends (lost or stopping). On a
   * graceful stop, the returned promise is awaited before the lease is released, so work can wind down first.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called once after leading ends (lost or stopped); not called when this candidate never led. */
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes (including to this candidate). */
  onNewLeader?: (identity: string) => void;
  /** Clock (tests inject a manual one). */
  clock?: Clock;
  /** Random source in [0, 1) for the acquire jitter (default `Math.random`). */
  random?: () => number;
}

/** A snapshot for metrics (`leader_election_master_status`) and logs. */
export interface LeaderElectionStatus {
  /** This candidate's identity. */
  identity: string;
  /** `true` while leading. */
  leading: boolean;
  /** The last observed holder (`""` when released, `undefined` before the first observation). */
  holder: string | undefined;
  /** Clock time of the last successful acquire or renew by this candidate. */
  lastRenewMs: number | undefined;
}

/** Runs one candidate. */
export interface LeaderElector {
  /** This candidate's identity. */
  readonly identity: string;
  /**
   * Campaigns until `signal` aborts or leadership is lost. Resolves `"stopped"` after a graceful stop (lease
   * released when leading) or `"lost"` when renewal failed past the renew deadline or another holder was seen.
   * Never rejects for API errors (they are logged and retried). Call it once.
   */
  run(signal: AbortSignal): Promise<"stopped" | "lost">;
  /** `true` while leading. */
  isLeader(): boolean;
  /** Current status. */
  status(): LeaderElectionStatus;
}

type Attempt = "ok" | "failed" | "held";

/** A signal that aborts after `ms` on `clock` or when `parent` aborts; `cancel()` stops the timer. */
function deadlineSignal(clock: Clock, ms: number, parent?: AbortSignal): { signal: AbortSignal; cancel(): void } {
  const controller = new AbortController();
  const timer = clock.setTimer(ms, () => controller.abort(new DOMException("Deadline exceeded", "TimeoutError")));
  const onAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onAbort();
  parent?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    cancel() {
      timer.cancel();
      parent?.removeEventListener("abort", onAbort);
    },
  };
}

function recordKey(spec: LeaseSpec | undefined): string {
  return JSON.stringify([
    spec?.holderIdentity ?? "",
    spec?.leaseDurationSeconds ?? 0,
    spec?.acquireTime ?? "",
    spec?.renewTime ?? "",
    spec?.leaseTransitions ?? 0,
  ]);
}

/**
 * Creates a leader elector for one Lease.
 *
 * @param leases the Lease calls (see {@linkcode clientLeaseClient})
 * @param options namespace, name, identity, timings, callbacks, clock
 * @returns the elector; start it with `run(signal)`
 * @throws {RangeError} when the timings are inconsistent (lease ≤ renew deadline, renew deadline ≤ 1.2 × retry)
 * @example
 * const elector = createLeaderElector(clientLeaseClient(client), {
 *   namespace: "lws-system",
 *   onStartedLeading: (signal) => runControllers(signal),
 * });
 * const outcome = await elector.run(shutdown.signal); // "lost" → exit so the pod restarts
 */
export function createLeaderElector(leases: LeaseClient, options: LeaderElectionOptions): LeaderElector {
  const name = options.name ?? DEFAULT_LEASE_NAME;
  const namespace = options.namespace;
  const identity = options.identity ?? defaultIdentity();
  const leaseDurationMs = options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
  const renewDeadlineMs = options.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
  const retryPeriodMs = options.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  if (!namespace) throw new RangeError(`Cannot create leader elector: namespace is required, got "${namespace}"`);
  if (!(retryPeriodMs > 0)) {
    throw new RangeError(`Cannot create leader elector: retry period must be > 0, got ${retryPeriodMs} ms`);
  }
  if (!(leaseDurationMs > renewDeadlineMs)) {
    throw new RangeError(
      `Cannot create leader elector: lease duration must be greater than the renew deadline, got ${leaseDurationMs} ms and ${renewDeadlineMs} ms`,
    );
  }
  if (!(renewDeadlineMs > JITTER_FACTOR * retryPeriodMs)) {
    throw new RangeError(
      `Cannot create leader elector: renew deadline must be greater than ${JITTER_FACTOR} × retry period, got ${renewDeadlineMs} ms and ${retryPeriodMs} ms`,
    );
  }
  const leaseDurationSeconds = Math.max(1, Math.ceil(leaseDurationMs / 1000));

  let leading = false;
  let observed: Lease | undefined;
  let observedKey: string | undefined;
  let observedTime = 0;
  let lastRenewMs: number | undefined;
  let reportedHolder: string | undefined;
  let started = false;

  const observe = (lease: Lease, now: number) => {
    observed = lease;
    const key = recordKey(lease.spec);
    if (key !== observedKey) {
      observedKey = key;
      observedTime = now;
    }
    const holder = lease.spec?.holderIdentity ?? "";
    if (holder !== reportedHolder) {
      reportedHolder = holder;
      if (holder !== "") {
        log.info("New leader of lease {namespace}/{name}: {holder}", { namespace, name, holder });
        try {
          options.onNewLeader?.(holder);
        } catch (err) {
          log.warn("onNewLeader threw: {error}", { error: String(err) });
        }
      }
    }
  };

  const tryAcquireOrRenew = async (signal: AbortSignal): Promise<Attempt> => {
    const now = clock.now();
    const nowMicro = formatMicroTime(now);
    // Creates or updates the lease; on success it is what we observed and the time of our last renewal.
    const write = async (verb: "create" | "update", request: () => Promise<Lease>): Promise<Attempt> => {
      try {
        observe(await request(), clock.now());
        lastRenewMs = now;
        return "ok";
      } catch (err) {
        if (!signal.aborted) {
          log.info("Cannot {verb} lease {namespace}/{name}: {error}", { verb, namespace, name, error: String(err) });
        }
        return "failed";
      }
    };
    // Fast path while leading: update the lease we last wrote, without a GET (client-go ≥ 1.30 does the same).
    if (leading && observed?.metadata?.resourceVersion && observed.spec?.holderIdentity === identity) {
      try {
        const updated = await leases.update(
          { ...observed, spec: { ...observed.spec, leaseDurationSeconds, renewTime: nowMicro } },
          signal,
        );
        observe(updated, clock.now());
        lastRenewMs = now;
        return "ok";
      } catch (err) {
        if (signal.aborted) return "failed";
        log.debug("Fast renew of lease {namespace}/{name} failed, re-reading it: {error}", {
          namespace,
          name,
          error: String(err),
        });
      }
    }
    let current: Lease | undefined;
    try {
      current = await leases.get(namespace, name, signal);
    } catch (err) {
      if (!signal.aborted) {
        log.warn("Cannot read lease {namespace}/{name}: {error}", { namespace, name, error: String(err) });
      }
      return "failed";
    }
    if (!current) {
      return await write("create", () =>
        leases.create({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: nowMicro,
            renewTime: nowMicro,
            leaseTransitions: 0,
          },
        }, signal));
    }
    observe(current, clock.now());
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const validUntil = observedTime + (spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== "" && holder !== identity && validUntil > now) return "held";
    const next: LeaseSpec = holder === identity
      ? { ...spec, holderIdentity: identity, leaseDurationSeconds, renewTime: nowMicro }
      : {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: nowMicro,
        renewTime: nowMicro,
        leaseTransitions: (spec.leaseTransitions ?? 0) + 1,
      };
    return await write("update", () => leases.update({ ...current, spec: next }, signal));
  };

  const release = async (): Promise<void> => {
    if (!observed || observed.spec?.holderIdentity !== identity) return;
    const attempt = deadlineSignal(clock, renewDeadlineMs);
    try {
      let current: Lease | undefined = observed;
      // A renewal that was in flight when the stop began may have committed on the server after we last observed
      // the lease: the release then conflicts. Re-read it and release it if it is still ours, so a graceful stop
      // hands over at once instead of after the lease expires.
      for (let tries = 0; current && current.spec?.holderIdentity === identity; tries++) {
        const nowMicro = formatMicroTime(clock.now());
        try {
          const released: Lease = await leases.update({
            ...current,
            spec: {
              holderIdentity: "",
              leaseDurationSeconds: 1,
              acquireTime: nowMicro,
              renewTime: nowMicro,
              leaseTransitions: current.spec?.leaseTransitions ?? 0,
            },
          }, attempt.signal);
          observe(released, clock.now());
          log.info("Released lease {namespace}/{name}", { namespace, name });
          return;
        } catch (err) {
          if (!isConflict(err) || tries >= 2) throw err;
          current = await leases.get(namespace, name, attempt.signal);
        }
      }
    } catch (err) {
      log.warn("Cannot release lease {namespace}/{name}: {error}", { namespace, name, error: String(err) });
    } finally {
      attempt.cancel();
    }
  };

  /** One attempt bounded by `ms` (and by `signal`). */
  const attemptWithin = async (ms: number, signal: AbortSignal): Promise<Attempt> => {
    const attempt = deadlineSignal(clock, ms, signal);
    try {
      return await tryAcquireOrRenew(attempt.signal);
    } finally {
      attempt.cancel();
    }
  };

  const acquire = async (signal: AbortSignal): Promise<boolean> => {
    log.info("Attempting to acquire lease {namespace}/{name} as {identity}", { namespace, name, identity });
    while (!signal.aborted) {
      if (await attemptWithin(renewDeadlineMs, signal) === "ok") return true;
      const wait = retryPeriodMs * (1 + random() * JITTER_FACTOR);
      if (!(await clock.sleep(wait, signal))) return false;
    }
    return false;
  };

  /** Renews until `signal` aborts ("stopped") or renewal fails ("lost"). */
  const renew = async (signal: AbortSignal): Promise<"stopped" | "lost"> => {
    while (true) {
      if (!(await clock.sleep(retryPeriodMs, signal))) return "stopped";
      const deadline = clock.now() + renewDeadlineMs;
      let result: Attempt = "failed";
      while (true) {
        const remaining = deadline - clock.now();
        if (remaining <= 0) break;
        result = await attemptWithin(remaining, signal);
        if (result !== "failed" || signal.aborted) break;
        const left = deadline - clock.now();
        if (left <= 0) break;
        if (!(await clock.sleep(Math.min(retryPeriodMs, left), signal))) break;
      }
      if (signal.aborted) return "stopped";
      if (result === "ok") continue;
      log.error(
        result === "held"
          ? "Lost lease {namespace}/{name}: another candidate holds it"
          : "Lost lease {namespace}/{name}: could not renew within {deadline} ms",
        { namespace, name, deadline: renewDeadlineMs },
      );
      return "lost";
    }
  };

  return {
    identity,
    isLeader: () => leading,
    status: () => ({ identity, leading, holder: observed?.spec?.holderIdentity, lastRenewMs }),
    async run(signal) {
      if (started) throw new Error("Cannot run leader elector: it is already running or has run");
      started = true;
      if (!(await acquire(signal))) return "stopped";
      leading = true;
      log.info("Acquired lease {namespace}/{name} as {identity}", { namespace, name, identity });
      const leadership = new AbortController();
      const work = (async () => {
        try {
          await options.onStartedLeading(leadership.signal);
        } catch (err) {
          log.error("onStartedLeading failed: {error}", { error: err instanceof Error ? err.message : String(err) });
        }
      })();
      const outcome = await renew(signal);
      leading = false;
      leadership.abort(new DOMException(`Leadership ${outcome}`, "AbortError"));
      if (outcome === "stopped") {
        await work;
        if (options.releaseOnCancel ?? true) await release();
      }
      try {
        options.onStoppedLeading?.();
      } catch (err) {
        log.warn("onStoppedLeading threw: {error}", { error: String(err) });
      }
      return outcome;
    },
  };
}
