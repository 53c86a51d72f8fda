/**
 * The composition root of `lws run`: one process, one API client, one shared informer cache, and on it
 *
 * - the LeaderWorkerSet and pod controllers (only while this replica holds the leader Lease, when leader election
 *   is on),
 * - the admission webhook (HTTPS; local mode: self-managed certificate and URL registration at 127.0.0.1;
 *   in-cluster: self-managed certificate in the Secret with CA injection, or cert-manager's directory),
 * - the dashboard, the metrics endpoint and the health probes —
 *
 * the last four on every replica. Start order: health probes (so the kubelet sees the process), cache, metrics,
 * webhook (certificate first, then serving, then publishing), dashboard; then, once the webhook is published, the
 * leader election campaign (so no controller creates pods before our pod webhook can mutate them).
 *
 * Graceful stop (the `signal` aborts, or leadership is lost): stop taking work, let in-flight reconciles finish
 * (bounded by the caller's deadline), release the Lease, flush events, stop the servers (local mode: remove the
 * webhook configurations this process registered), stop the cache, close the client. Nothing the user created is
 * touched.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet } from "./api/types.ts";
import {
  applyModeDefaults,
  type Config,
  ConfigError,
  configurationForLog,
  type EffectiveConfig,
  readServiceAccountNamespace,
} from "./config.ts";
import {
  DEFAULT_LWS_CONCURRENCY,
  DEFAULT_POD_CONCURRENCY,
  LEADER_WORKER_SET_CONTROLLER,
  POD_CONTROLLER,
  type RunningControllers,
  startControllers,
} from "./controller/manager.ts";
import { gangProvider, PROVIDER_WORKLOAD } from "./controller/pod/gang.ts";
import { type HealthCheck, type HealthServer, startHealthServer } from "./health.ts";
import {
  InformerCache,
  type InformerCache as InformerCacheType,
  type ListWatchSource,
  lwsOwnedSelector,
} from "./kube/cache.ts";
import { buildUserAgent, createClient, type KubeClient } from "./kube/client.ts";
import { clientEventSink, createEventRecorder, type EventRecorder } from "./kube/events.ts";
import { type ClusterConfig, KubeConfigError, loadClusterConfig } from "./kube/kubeconfig.ts";
import { clientLeaseClient, createLeaderElector, type LeaderElector } from "./kube/leader_election.ts";
import { EVENTS, LEADER_WORKER_SETS, PODS, STATEFUL_SETS } from "./kube/resources.ts";
import {
  createLwsMetrics,
  createProductMetrics,
  type MetricsServer,
  registerProcessMetrics,
  startMetricsServer,
  tokenReviewAuthorizer,
} from "./metrics/mod.ts";
import { readProcessUsage } from "./metrics/process.ts";
import { type DashboardServer, serveDashboard } from "./ui/app.ts";
import { EVENT_INDEXERS, kubeDashboardSource, LWS_EVENTS_FIELD_SELECTOR, podEventsFetcher } from "./ui/kube_source.ts";
import type { DashboardEvent } from "./ui/source.ts";
import type { BuildInfo } from "./cli/build_info.ts";
import {
  DEFAULT_WEBHOOK_SECRET_NAME,
  DEFAULT_WEBHOOK_SERVICE_NAME,
  MUTATING_WEBHOOK_CONFIGURATION_NAME,
  VALIDATING_WEBHOOK_CONFIGURATION_NAME,
} from "./api/constants.ts";
import {
  removeWebhookConfigurations,
  type RunningWebhook,
  startWebhook,
  type StartWebhookOptions,
} from "./webhook/mod.ts";

const log = getLogger(["lws", "run"]);

/** Options of {@linkcode runProduct}. */
export interface RunOptions {
  /** Aborting it starts the graceful stop. */
  signal: AbortSignal;
  /** Version and commit (User-Agent, logs). */
  buildInfo: BuildInfo;
  /** Called once the product is ready (cache synced, webhook serving and published). */
  onReady?: (info: ReadyInfo) => void;
}

/** What {@linkcode RunOptions.onReady} is told. */
export interface ReadyInfo {
  /** Milliseconds from the start of {@linkcode runProduct} to ready. */
  startupMs: number;
  /** Resident memory at that moment, in bytes. */
  residentBytes: number;
  /** Addresses of what is serving (`undefined` when off). */
  urls: { dashboard?: string; metrics?: string; health?: string; webhook?: string };
}

/** Exit codes of {@linkcode runProduct}. */
export const EXIT_OK = 0;
/** A runtime failure (leadership lost, a server could not start). */
export const EXIT_FAILURE = 1;
/** A configuration error (flags, config file, kubeconfig). */
export const EXIT_USAGE = 2;

/**
 * The names of the local-mode webhook configurations: upstream's fixed names, or with `-<namespace>` appended when
 * the run watches one namespace (so several scoped local runs can share a cluster).
 *
 * @param namespace The watch namespace, if any.
 * @returns Both names.
 */
export function localWebhookNames(namespace: string | undefined): { mutatingName: string; validatingName: string } {
  const suffix = namespace ? `-${namespace}` : "";
  return {
    mutatingName: MUTATING_WEBHOOK_CONFIGURATION_NAME + suffix,
    validatingName: VALIDATING_WEBHOOK_CONFIGURATION_NAME + suffix,
  };
}

/** The client's list/watch calls, with the dashboard's events store narrowed to events about LeaderWorkerSets. */
function narrowEvents(client: KubeClient): ListWatchSource {
  return {
    listWatch: (type, options) =>
      type === EVENTS
        ? client.listWatch(type, { ...options, fieldSelector: LWS_EVENTS_FIELD_SELECTOR })
        : client.listWatch(type, options),
  };
}

function webhookCertificates(config: EffectiveConfig, client: KubeClient): StartWebhookOptions["certificates"] {
  const icm = config.configuration.internalCertManagement;
  const mode = config.webhook.certMode ??
    (config.mode === "local" ? "local" : icm.enable ? "internal" : "directory");
  if (mode === "local") {
    return {
      mode: "local",
      client,
      ...localWebhookNames(config.namespace),
      namespaceSelector: config.namespace
        ? { matchLabels: { "kubernetes.io/metadata.name": config.namespace } }
        : undefined,
      unregisterOnStop: true,
    };
  }
  if (mode === "directory") return { mode: "directory", certDir: config.configuration.webhook.certDir };
  return {
    mode: "internal",
    client,
    namespace: config.operatorNamespace,
    serviceName: icm.webhookServiceName ?? DEFAULT_WEBHOOK_SERVICE_NAME,
    secretName: icm.webhookSecretName ?? DEFAULT_WEBHOOK_SECRET_NAME,
  };
}

/** Resolves on `signal` abort (at once when already aborted). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

/**
 * Runs the product until `options.signal` aborts (or leadership is lost), then stops gracefully.
 *
 * @param config The resolved configuration (`config.ts`).
 * @param options Stop signal, build information, ready callback.
 * @returns The exit code: 0 after a requested stop, 1 after a failure (leadership lost, a server failed to start),
 *   2 when the cluster configuration cannot be loaded.
 */
export async function runProduct(config: Config, options: RunOptions): Promise<number> {
  const started = performance.now();
  const startTimeMs = Date.now();
  const { signal, buildInfo } = options;

  let cluster: ClusterConfig;
  try {
    cluster = await loadClusterConfig({ path: config.kubeconfig, context: config.context });
  } catch (err) {
    if (err instanceof KubeConfigError) {
      log.error("Cannot load the cluster configuration (--kubeconfig, --context, $KUBECONFIG): {error}", {
        error: err.message,
      });
      return EXIT_USAGE;
    }
    throw err;
  }
  const mode = cluster.source === "in-cluster" ? "in-cluster" : "local";
  let effective: EffectiveConfig;
  try {
    effective = applyModeDefaults(
      config,
      mode,
      mode === "in-cluster" ? await readServiceAccountNamespace() : undefined,
    );
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error("{error}", { error: err.message });
      return EXIT_USAGE;
    }
    throw err;
  }
  const cfg = effective.configuration;
  log.info("Starting lws {version} ({commit}) in {mode} mode against {server} ({source})", {
    version: buildInfo.version,
    commit: buildInfo.commit,
    mode,
    server: cluster.server,
    source: cluster.source,
  });
  log.info("Effective configuration", {
    config: configurationForLog(cfg),
    namespace: effective.namespace ?? "(all)",
    operatorNamespace: effective.operatorNamespace,
    controllers: effective.controllers.enabled,
    webhook: effective.webhook.enabled,
    dashboard: effective.dashboard.enabled,
  });
  for (const note of effective.notes) log.warn(note);

  const metrics = createProductMetrics({ host: new URL(cluster.server).host });
  registerProcessMetrics(metrics.registry, startTimeMs);
  const lwsMetrics = createLwsMetrics(metrics.registry);
  const client = createClient(cluster, {
    qps: cfg.clientConnection.qps,
    burst: cfg.clientConnection.burst,
    userAgent: buildUserAgent({ version: buildInfo.version, commit: buildInfo.commit }),
    onRequest: (info) => metrics.onRequest(info),
  });

  // Stop order: controllers (and the lease), then servers, then the cache; each has its own signal.
  const controllersStop = new AbortController();
  const serversStop = new AbortController();
  const cacheStop = new AbortController();
  /** Aborted when leadership is lost or the controllers fail: the process stops as if told to. */
  const lost = new AbortController();
  let exitCode = EXIT_OK;
  let stopping = false;

  const cache: InformerCacheType = new InformerCache(narrowEvents(client));
  const namespace = effective.namespace;
  const owned = { namespace, labelSelector: lwsOwnedSelector() };
  const lwsStore = cache.store<LeaderWorkerSet>(LEADER_WORKER_SETS, { namespace });
  const podStore = cache.store<Pod>(PODS, owned);
  const stsStore = cache.store<StatefulSet>(STATEFUL_SETS, owned);
  const eventStore = effective.dashboard.enabled
    ? cache.store<DashboardEvent>(EVENTS, { namespace, indexers: EVENT_INDEXERS })
    : undefined;
  const unobserve = [lwsMetrics.observeLeaderWorkerSets(lwsStore), lwsMetrics.observePods(podStore)];
  const events: EventRecorder = lwsMetrics.countRecreations(
    createEventRecorder(clientEventSink(client)),
  );

  let webhook: RunningWebhook | undefined;
  let webhookPublished = false;
  /** The webhook registered its configurations by URL (local mode): remove them first when stopping. */
  let localRegistration = false;
  let controllers: RunningControllers | undefined;
  let elector: LeaderElector | undefined;
  const concurrency = typeof effective.controllers.concurrency === "number"
    ? { leaderWorkerSet: effective.controllers.concurrency, pod: effective.controllers.concurrency }
    : effective.controllers.concurrency ?? {};
  metrics.setSources({
    controllers: () => {
      const stats = controllers?.stats();
      return stats ? { [LEADER_WORKER_SET_CONTROLLER]: stats.leaderWorkerSet, [POD_CONTROLLER]: stats.pod } : undefined;
    },
    concurrency: (): Record<string, number> =>
      effective.controllers.enabled
        ? {
          [LEADER_WORKER_SET_CONTROLLER]: concurrency.leaderWorkerSet ?? DEFAULT_LWS_CONCURRENCY,
          [POD_CONTROLLER]: concurrency.pod ?? DEFAULT_POD_CONCURRENCY,
        }
        : {},
    reflectors: () => cache.health(),
    leader: () => (elector ? { name: cfg.leaderElection.resourceName, leading: elector.isLeader() } : undefined),
  });

  const readiness: HealthCheck[] = [
    {
      name: "informers",
      check: () => {
        if (cache.isSynced()) return undefined;
        const waiting = cache.health().filter((r) => !r.synced).map((r) => r.resource);
        return `not synced: ${waiting.join(", ")}`;
      },
    },
  ];
  if (effective.webhook.enabled) {
    readiness.push({
      name: "webhook",
      check: () =>
        !webhook
          ? "no certificate yet"
          : !webhook.ready
          ? "not serving"
          : !webhookPublished
          ? "CA bundle not published"
          : undefined,
    });
  }
  readiness.push({ name: "shutdown", check: () => (stopping ? "shutting down" : undefined) });

  const servers: Promise<void>[] = [];
  let health: HealthServer | undefined;
  let metricsServer: MetricsServer | undefined;
  let dashboard: DashboardServer | undefined;
  const cacheDone = cache.start(cacheStop.signal);
  let electorDone: Promise<unknown> = Promise.resolve();

  const stop = async (): Promise<number> => {
    stopping = true;
    const stopStarted = performance.now();
    log.info("Stopping: controllers and leader election first");
    controllersStop.abort();
    // In-flight reconciles may finish within the drain budget; the rest of the graceful stop (events, servers, the
    // removal of local webhook configurations) must still fit in --shutdown-timeout, after which the CLI exits.
    const drainMs = Math.max(1_000, effective.shutdownTimeoutMs - 3_000);
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      electorDone.then(() => true),
      new Promise<boolean>((resolve) => (drainTimer = setTimeout(() => resolve(false), drainMs))),
    ]);
    clearTimeout(drainTimer);
    if (!drained) log.warn("Controllers did not stop within {ms} ms: stopping the rest anyway", { ms: drainMs });
    // Everything else must end before the CLI's deadline: it exits then, whatever is still running.
    const deadline = stopStarted + effective.shutdownTimeoutMs - 500;
    const within = async (what: string, work: Promise<unknown>) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const inTime = await Promise.race([
        work.then(() => true, () => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), Math.max(0, deadline - performance.now()));
        }),
      ]);
      clearTimeout(timer);
      if (!inTime) log.warn("{what} did not finish before the shutdown deadline", { what });
    };
    log.info("Stopping servers");
    serversStop.abort();
    // Local mode: remove the webhook configurations now, in parallel with the servers' shutdown (which may wait for
    // open connections), so they are gone before the deadline — with `failurePolicy: Fail` a registration left behind
    // would block LWS pods. The webhook's loops stopped with the signal, so nothing registers them again; its own
    // removal after the shutdown then finds nothing.
    const removal = localRegistration
      ? removeWebhookConfigurations(client, localWebhookNames(namespace), AbortSignal.timeout(2_000)).then(
        () => log.info("Removed the local webhook configurations"),
        (err) => log.error("Cannot remove the local webhook configurations: {error}", { error: err }),
      )
      : Promise.resolve();
    await within("Removing the local webhook configurations", removal);
    await within(
      "Stopping the servers",
      Promise.allSettled([events.close(AbortSignal.timeout(1_000)).catch(() => {}), ...servers, webhook?.finished]),
    );
    log.debug("Servers stopped {ms} ms into the stop", { ms: Math.round(performance.now() - stopStarted) });
    cacheStop.abort();
    await within("Stopping the informer cache", cacheDone);
    for (const u of unobserve) u();
    client.close();
    log.info("Stopped; the graceful stop took {ms} ms", { ms: Math.round(performance.now() - stopStarted) });
    return exitCode;
  };

  try {
    if (effective.healthAddress !== "disabled") {
      health = startHealthServer(effective.healthAddress, {
        livenessPath: cfg.health.livenessEndpointName,
        readinessPath: cfg.health.readinessEndpointName,
        readiness,
        signal: serversStop.signal,
      });
      servers.push(health.finished);
      log.info("Serving health probes on {url}", { url: health.url });
    }
    if (effective.metricsAddress !== "disabled") {
      metricsServer = await startMetricsServer({
        registry: metrics.registry,
        address: effective.metricsAddress,
        secure: effective.metricsSecure,
        authorize: effective.metricsSecure ? tokenReviewAuthorizer(client) : undefined,
        tlsMinVersion: cfg.tls?.minVersion,
        signal: serversStop.signal,
      });
      servers.push(metricsServer.finished);
    }
    if (effective.webhook.enabled) {
      const host = cfg.webhook.host;
      const certificates = webhookCertificates(effective, client);
      localRegistration = certificates.mode === "local";
      webhook = await startWebhook({
        port: cfg.webhook.port,
        hostname: host === "" ? "0.0.0.0" : host,
        certificates,
        gangScheduling: cfg.gangSchedulingManagement !== undefined,
        schedulingGroup: cfg.gangSchedulingManagement?.schedulerProvider === PROVIDER_WORKLOAD,
        metrics: metrics.webhook,
        signal: serversStop.signal,
      });
      void webhook.published.then(() => {
        webhookPublished = true;
        log.info("Webhook certificate published; webhooks are registered");
      });
    }
    if (effective.dashboardAddress !== "disabled") {
      dashboard = serveDashboard(
        kubeDashboardSource(
          { leaderWorkerSets: lwsStore, pods: podStore, statefulSets: stsStore, events: eventStore },
          { fetchPodEvents: podEventsFetcher(client) },
        ),
        {
          hostname: effective.dashboardAddress.hostname,
          port: effective.dashboardAddress.port,
          signal: serversStop.signal,
        },
      );
      servers.push(dashboard.finished);
      log.info("Serving the dashboard on {url}", { url: dashboard.url });
    }
  } catch (err) {
    log.error("Cannot start: {error}", { error: err });
    exitCode = EXIT_FAILURE;
    return await stop();
  }

  const urls: ReadyInfo["urls"] = {
    dashboard: dashboard?.url,
    metrics: metricsServer?.url,
    health: health?.url,
    webhook: webhook ? `https://${webhook.server.addr.hostname}:${webhook.server.addr.port}` : undefined,
  };
  const stopped = aborted(signal);

  // Ready: cache synced and webhook published. Controllers start only after the webhook is published.
  const webhookReady = webhook ? Promise.race([webhook.published, stopped]) : Promise.resolve();
  void (async () => {
    try {
      await Promise.all([cache.waitUntilSynced(signal), webhookReady]);
    } catch {
      return; // stopped before ready
    }
    if (signal.aborted) return;
    const info: ReadyInfo = {
      startupMs: Math.round(performance.now() - started),
      residentBytes: readProcessUsage().residentBytes,
      urls,
    };
    log.info("Ready in {startupMs} ms (resident memory {rssMiB} MiB)", {
      ...info,
      rssMiB: (info.residentBytes / 2 ** 20).toFixed(1),
    });
    options.onReady?.(info);
  })();

  const runControllers = async (leadership: AbortSignal): Promise<void> => {
    log.info("Starting controllers");
    controllers = startControllers({
      client,
      cache,
      events,
      namespace,
      concurrency: effective.controllers.concurrency,
      gang: gangProvider(cfg.gangSchedulingManagement?.schedulerProvider),
      hooks: {
        leaderWorkerSet: metrics.controllerHooks(LEADER_WORKER_SET_CONTROLLER),
        pod: metrics.controllerHooks(POD_CONTROLLER),
      },
      signal: leadership,
    });
    try {
      await controllers.finished;
    } finally {
      controllers = undefined;
      log.info("Controllers stopped");
    }
  };

  if (effective.controllers.enabled) {
    electorDone = (async () => {
      await webhookReady;
      if (controllersStop.signal.aborted) return;
      const le = cfg.leaderElection;
      if (!le.leaderElect) {
        await runControllers(controllersStop.signal);
        return;
      }
      elector = createLeaderElector(clientLeaseClient(client), {
        namespace: effective.operatorNamespace,
        name: le.resourceName,
        leaseDurationMs: le.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs,
        onStartedLeading: (leadership) => runControllers(leadership),
      });
      log.info("Campaigning for lease {namespace}/{name} as {identity}", {
        namespace: effective.operatorNamespace,
        name: le.resourceName,
        identity: elector.identity,
      });
      const outcome = await elector.run(controllersStop.signal);
      if (outcome === "lost" && !controllersStop.signal.aborted) {
        log.error("Leader election lost: stopping so that a fresh start campaigns again");
        exitCode = EXIT_FAILURE;
        lost.abort();
      }
    })().catch((err) => {
      log.error("Controllers failed: {error}", { error: err });
      exitCode = EXIT_FAILURE;
      lost.abort();
    });
  }

  await Promise.race([stopped, aborted(lost.signal)]);
  return await stop();
}
