/**
 * The workloads, each measured from the first write to the state it waits for (seen in watch caches, checked every
 * 50 ms):
 *
 * - **W1 create**: create every object → every LWS Available (raw: every StatefulSet rolled out) and exactly the
 *   expected pods Ready.
 * - **W2 roll**: change the template of every LWS (raw: every StatefulSet) → every pod replaced and Ready, every
 *   LWS Available for the new generation (raw: `kubectl rollout status` done).
 * - **W3 steady state**: add pods that belong to no LWS, then measure the controller idle.
 * - **W4 recover**: fail one worker per LWS through KWOK → the failed pods (LWS: their whole groups, which
 *   `RecreateGroupOnPodRestart` recreates) replaced and everything Ready again.
 *
 * @module
 */
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Namespace, Pod, Service } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { isAlreadyExists, isNotFound } from "../kube/errors.ts";
import { LEADER_WORKER_SETS, NAMESPACES, PODS, SERVICES, STATEFUL_SETS } from "../kube/resources.ts";
import type { ResourceType } from "../kube/types.ts";
import { FAIL_POD_LABEL } from "../tests/cluster/harness.ts";
import {
  fillerPod,
  lwsManifest,
  lwsRollPatch,
  podToFail,
  rawManifests,
  rawRollPatch,
  type RawStatefulSet,
} from "./manifests.ts";
import { begin, type Measurement, type Probe } from "./measure.ts";
import {
  allLeaderWorkerSetsAvailable,
  allPodsReady,
  allStatefulSetsReady,
  type NamespaceView,
  until,
  WaitTimeout,
  watchNamespace,
} from "./observe.ts";
import { lwsPodCount, type Preset } from "./presets.ts";
import { readUsage } from "./procfs.ts";
import type { RunFigures } from "./results.ts";

/** What a workload runs with. */
export interface WorkloadContext extends Probe {
  /** The benchmark's own client (admin user, user agent `lws-bench/…`, no rate limit). */
  client: KubeClient;
  preset: Preset;
  /** Progress lines. */
  log: (message: string) => void;
}

/** Concurrent writes of the benchmark itself (its client has no rate limit). */
const WRITERS = 16;

/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight.
 *
 * @param items the inputs
 * @param concurrency how many at once
 * @param fn the work; the first error stops taking new items and is thrown
 */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

function both(...results: (true | string)[]): true | string {
  const missing = results.filter((r) => r !== true);
  return missing.length === 0 ? true : missing.join("; ");
}

const SERVICE_ACCOUNTS: ResourceType = {
  group: "",
  version: "v1",
  kind: "ServiceAccount",
  plural: "serviceaccounts",
  namespaced: true,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A pause between workloads, so trailing work (status updates, endpoint slices) stays out of the next one. */
function settle(ctx: WorkloadContext): Promise<unknown> {
  return sleep(ctx.preset.name === "full" ? 5_000 : 1_000);
}

/**
 * Creates a namespace and waits for its `default` ServiceAccount (pods are refused before it exists).
 *
 * @param client the benchmark's client
 * @param name the namespace
 */
export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  try {
    await client.create<Namespace>(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
    try {
      await client.get(SERVICE_ACCOUNTS, "default", { namespace: name });
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  throw new Error(`Timed out waiting for ServiceAccount ${name}/default`);
}

/**
 * Deletes a namespace and waits until it is gone (its pods included).
 *
 * @param client the benchmark's client
 * @param name the namespace
 * @param timeoutMs how long to wait
 */
export async function deleteNamespace(client: KubeClient, name: string, timeoutMs: number): Promise<void> {
  try {
    await client.delete(NAMESPACES, name);
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(500)) {
    try {
      await client.get(NAMESPACES, name);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
  }
  throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for namespace ${name} to be deleted`);
}

function uids(pods: readonly Pod[]): Set<string> {
  return new Set(pods.map((p) => p.metadata?.uid ?? ""));
}

async function failPods(client: KubeClient, namespace: string, names: readonly string[]): Promise<void> {
  await pool(names, WRITERS, (name) =>
    client.patch<Pod>(PODS, name, {
      namespace,
      patch: { metadata: { labels: { [FAIL_POD_LABEL]: "true" } } },
    }));
}

/**
 * Waits for a workload's end state and ends its measurement. A timeout does not end the run: the figures cover the
 * time until the timeout, are marked `timedOut` (the reason says what was missing) and the run goes on.
 */
async function finish(
  ctx: WorkloadContext,
  view: NamespaceView,
  started: { measurement: Measurement; podsSeen: number },
  what: string,
  done: () => true | string,
): Promise<RunFigures> {
  let figures: RunFigures;
  try {
    const at = await until(what, done, { timeoutMs: ctx.preset.workloadTimeoutSeconds * 1000 });
    figures = await started.measurement.end(at);
  } catch (error) {
    if (!(error instanceof WaitTimeout)) throw error;
    ctx.log(`${what} TIMED OUT: ${error.message}`);
    figures = { ...(await started.measurement.end(error.at)), timedOut: error.message };
  }
  return { ...figures, podsCreated: view.podsSeen() - started.podsSeen };
}

/** Starts measuring a workload in a namespace (its counters and the pods seen so far). */
async function start(ctx: WorkloadContext, view: NamespaceView) {
  return { podsSeen: view.podsSeen(), measurement: await begin(ctx) };
}

const UNFINISHED = "the workload before it did not finish, so there is no steady state to start from";

/** A workload that was not run because an earlier one did not finish; zero figures, marked `skipped`. */
async function skip(ctx: WorkloadContext, what: string, reason: string): Promise<RunFigures> {
  ctx.log(`${what} skipped: ${reason}`);
  const measurement = await begin(ctx);
  return { ...(await measurement.end(measurement.startedAt)), skipped: reason, podsCreated: 0 };
}

/** Figures of the workloads that have a raw baseline. */
export type MeasuredWorkloads = Record<"W1" | "W2" | "W4", RunFigures>;

/**
 * The raw baseline: the same pods as plain StatefulSets, no LWS controller running (so no webhook either).
 *
 * @param ctx client, cluster, sampler, preset
 * @param namespace a namespace of its own (created here; the caller deletes it)
 * @returns W1, W2 and W4 figures
 */
export async function runRaw(ctx: WorkloadContext, namespace: string): Promise<MeasuredWorkloads> {
  const { client, preset } = ctx;
  await createNamespace(client, namespace);
  await using view = await watchNamespace(client, namespace);
  const manifests = Array.from({ length: preset.lws }, (_, i) => rawManifests(i, preset, namespace));
  const services: Service[] = manifests.map((m) => m.service);
  const statefulSets: RawStatefulSet[] = manifests.flatMap((m) => m.statefulSets);
  const pods = lwsPodCount(preset);
  const rolledOut = (gone?: Set<string>) => () =>
    both(allStatefulSetsReady(view.statefulSets, statefulSets.length), allPodsReady(view.pods, pods, gone));

  ctx.log(`raw W1: ${statefulSets.length} StatefulSets, ${pods} pods`);
  let started = await start(ctx, view);
  await pool(services, WRITERS, (s) => client.create<Service>(SERVICES, s));
  await pool(statefulSets, WRITERS, (s) => client.create<StatefulSet>(STATEFUL_SETS, s.object));
  const w1 = await finish(ctx, view, started, "raw W1", rolledOut());
  await settle(ctx);

  if (w1.timedOut) {
    return { W1: w1, W2: await skip(ctx, "raw W2", UNFINISHED), W4: await skip(ctx, "raw W4", UNFINISHED) };
  }
  ctx.log("raw W2: new template in every StatefulSet");
  let gone = uids(view.pods.list());
  started = await start(ctx, view);
  await pool(statefulSets, WRITERS, (s) =>
    client.patch<StatefulSet>(STATEFUL_SETS, s.object.metadata!.name!, {
      namespace,
      patch: rawRollPatch(s.role, 2),
    }));
  const w2 = await finish(ctx, view, started, "raw W2", rolledOut(gone));
  await settle(ctx);
  if (w2.timedOut) return { W1: w1, W2: w2, W4: await skip(ctx, "raw W4", UNFINISHED) };

  const failed = Array.from({ length: preset.lws }, (_, i) => podToFail("raw", i, preset.groups).pod);
  ctx.log(`raw W4: fail ${failed.length} pods`);
  gone = uids(failed.map((name) => view.pods.get(namespace, name)).filter((p): p is Pod => p !== undefined));
  started = await start(ctx, view);
  await failPods(client, namespace, failed);
  const w4 = await finish(ctx, view, started, "raw W4", rolledOut(gone));
  return { W1: w1, W2: w2, W4: w4 };
}

function groupPods(view: NamespaceView, leader: string): Pod[] {
  return view.pods.list().filter((p) => p.metadata?.name === leader || p.metadata?.name?.startsWith(`${leader}-`));
}

/**
 * The LWS workloads, with the product running (`ctx.controller`).
 *
 * @param ctx client, cluster, sampler, controller, preset
 * @param namespace a namespace of its own (created here; the caller deletes it)
 * @returns W1, W2 and W4 figures
 */
export async function runLws(ctx: WorkloadContext, namespace: string): Promise<MeasuredWorkloads> {
  const { client, preset } = ctx;
  await createNamespace(client, namespace);
  await using view = await watchNamespace(client, namespace);
  const objects = Array.from({ length: preset.lws }, (_, i) => lwsManifest(i, preset, namespace));
  const pods = lwsPodCount(preset);
  const available = (gone?: Set<string>) => () =>
    both(allLeaderWorkerSetsAvailable(view.leaderWorkerSets, objects.length), allPodsReady(view.pods, pods, gone));

  ctx.log(`LWS W1: ${objects.length} LeaderWorkerSets, ${pods} pods`);
  let started = await start(ctx, view);
  await pool(objects, WRITERS, (lws) => client.create<LeaderWorkerSet>(LEADER_WORKER_SETS, lws));
  const w1 = await finish(ctx, view, started, "LWS W1", available());
  await settle(ctx);

  if (w1.timedOut) {
    return { W1: w1, W2: await skip(ctx, "LWS W2", UNFINISHED), W4: await skip(ctx, "LWS W4", UNFINISHED) };
  }
  ctx.log("LWS W2: new worker template in every LeaderWorkerSet");
  let gone = uids(view.pods.list());
  started = await start(ctx, view);
  await pool(
    objects,
    WRITERS,
    (lws) =>
      client.patch<LeaderWorkerSet>(LEADER_WORKER_SETS, lws.metadata.name!, { namespace, patch: lwsRollPatch(2) }),
  );
  const w2 = await finish(ctx, view, started, "LWS W2", available(gone));
  await settle(ctx);
  if (w2.timedOut) return { W1: w1, W2: w2, W4: await skip(ctx, "LWS W4", UNFINISHED) };

  const failures = Array.from({ length: preset.lws }, (_, i) => podToFail("bench", i, preset.groups));
  ctx.log(`LWS W4: fail ${failures.length} workers, one group per LWS`);
  // The whole group of each failed worker must be recreated: every pod of it counts as gone.
  gone = uids(failures.flatMap((f) => groupPods(view, f.leader)));
  started = await start(ctx, view);
  await failPods(client, namespace, failures.map((f) => f.pod));
  const w4 = await finish(ctx, view, started, "LWS W4", available(gone));
  return { W1: w1, W2: w2, W4: w4 };
}

/** W3's figures and what led up to them. */
export interface SteadyState {
  /** The idle window. */
  idle: RunFigures;
  /** Creating the filler pods (the controller should not notice them). */
  filler: RunFigures;
  fillerPods: number;
  /** Controller resident memory just before the filler pods were created. */
  rssBeforeFillerBytes: number;
}

/**
 * W3: adds pods that belong to no LWS (bound to nodes, so KWOK makes them Running), waits until they run, lets the
 * cluster settle, then measures the controller over the idle window.
 *
 * @param ctx client, cluster, sampler, controller, preset
 * @param namespace the filler namespace (created here; left for `cluster:down`)
 * @returns the figures
 */
export async function runSteadyState(ctx: WorkloadContext, namespace: string): Promise<SteadyState> {
  const { client, preset } = ctx;
  if (!ctx.controller) throw new Error("Cannot measure the steady state without the controller running");
  const rssBeforeFillerBytes = (await readUsage(ctx.controller.pid))?.rssBytes ?? 0;
  await createNamespace(client, namespace);
  await using view = await watchNamespace(client, namespace);
  ctx.log(`W3: ${preset.fillerPods} pods that belong to no LWS`);
  const filler = await begin(ctx);
  const indexes = Array.from({ length: preset.fillerPods }, (_, n) => n);
  await pool(indexes, 32, (n) => client.create<Pod>(PODS, fillerPod(n, namespace, preset.nodes)));
  let fillerFigures: RunFigures;
  try {
    const at = await until("filler pods Running", () => allPodsReady(view.pods, preset.fillerPods), {
      timeoutMs: preset.workloadTimeoutSeconds * 1000,
    });
    fillerFigures = await filler.end(at);
  } catch (error) {
    if (!(error instanceof WaitTimeout)) throw error;
    // Like a timed-out workload: keep what was measured, skip the idle window (the cluster is not idle), go on.
    ctx.log(`W3 filler pods TIMED OUT: ${error.message}`);
    fillerFigures = { ...(await filler.end(error.at)), timedOut: error.message };
    return {
      idle: await skip(
        ctx,
        "W3 idle",
        "the filler pods did not all run before the timeout, so the cluster is not idle",
      ),
      filler: fillerFigures,
      fillerPods: preset.fillerPods,
      rssBeforeFillerBytes,
    };
  }
  await sleep(preset.name === "full" ? 10_000 : 1_000);
  ctx.log(`W3: ${preset.idleSeconds} s idle`);
  const idle = await begin(ctx);
  await sleep(preset.idleSeconds * 1000);
  const idleEnded = performance.now(); // the window is the idle time, not the idle time plus the closing scrapes
  return {
    idle: await idle.end(idleEnded),
    filler: fillerFigures,
    fillerPods: preset.fillerPods,
    rssBeforeFillerBytes,
  };
}
