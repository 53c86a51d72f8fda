/**
 * The webhook package: {@linkcode startWebhook} is what the binary calls — it gets a certificate (self-managed in
 * the cluster, from a cert-manager directory, or self-managed in local mode), starts the HTTPS server with the four
 * admission paths, keeps the certificate fresh (hot-reloading the server) and publishes the CA bundle (injection
 * in-cluster, URL-based registration in local mode).
 *
 * @module
 */
import type { LabelSelector } from "kubernetes-types/meta/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import {
  DEFAULT_WEBHOOK_SECRET_NAME,
  DEFAULT_WEBHOOK_SERVICE_NAME,
  MUTATING_WEBHOOK_CONFIGURATION_NAME,
  VALIDATING_WEBHOOK_CONFIGURATION_NAME,
} from "../api/constants.ts";
import type { Clock } from "../kube/clock.ts";
import type { KubeClient } from "../kube/client.ts";
import { MUTATING_WEBHOOK_CONFIGURATIONS, SECRETS, VALIDATING_WEBHOOK_CONFIGURATIONS } from "../kube/resources.ts";
import { createWebhookApp, type WebhookAppOptions } from "./app.ts";
import { inClusterIdentity, localIdentity } from "./certs.ts";
import {
  type CaPublisher,
  type CertificateSource,
  DirectoryCertificates,
  injectingPublisher,
  memoryBundleStore,
  registeringPublisher,
  secretBundleStore,
  SelfManagedCertificates,
  type WatchedObject,
  watchForChanges,
} from "./cert_manager.ts";
import { removeWebhookConfigurations } from "./configurations.ts";
import { startWebhookServer, type WebhookServer } from "./server.ts";

export { createWebhookApp, WEBHOOK_PATHS, type WebhookAppOptions } from "./app.ts";
export { createWebhookMetricsRecorder, type WebhookMetrics } from "./metrics.ts";
export {
  applyWebhookConfigurations,
  buildWebhookConfigurations,
  caBundleOf,
  removeWebhookConfigurations,
  type WebhookConfigurationOptions,
} from "./configurations.ts";
export type { CertificateSource } from "./cert_manager.ts";
export type { WebhookServer } from "./server.ts";

const log = getLogger(["lws", "webhook"]);

/** Self-managed certificates in the cluster (default; `internalCertManagement.enable: true`). */
export interface InternalCertificates {
  /** Discriminator. */
  mode: "internal";
  /** API client (RBAC of spec §12.2: get/list/watch/update on secrets and both webhook configuration kinds). */
  client: KubeClient;
  /** Operator namespace (Secret namespace and part of the serving DNS name). */
  namespace: string;
  /** `internalCertManagement.webhookServiceName`; default `lws-webhook-service`. */
  serviceName?: string;
  /** `internalCertManagement.webhookSecretName`; default `lws-webhook-server-cert`. */
  secretName?: string;
}

/** Certificates provided by cert-manager in a directory (`internalCertManagement.enable: false`). */
export interface DirectoryCertificateMode {
  /** Discriminator. */
  mode: "directory";
  /** `webhook.certDir`, holding `tls.crt` and `tls.key`. */
  certDir: string;
}

/** The binary runs outside the cluster: self-managed certificates in memory, URL-based registration. */
export interface LocalCertificates {
  /** Discriminator. */
  mode: "local";
  /** API client allowed to create/patch/delete both webhook configuration kinds. */
  client: KubeClient;
  /** Base URL the API server calls; default `https://127.0.0.1:<bound port>`. */
  url?: string;
  /** Configuration names; default the fixed upstream names. Tests use unique names. */
  mutatingName?: string;
  /** See `mutatingName`. */
  validatingName?: string;
  /** Restrict the webhooks to matching namespaces (tests sharing a control plane); upstream matches all. */
  namespaceSelector?: LabelSelector;
  /** Delete the configurations when stopping (with `failurePolicy: Fail` they block LWS pods while we are down). */
  unregisterOnStop?: boolean;
}

/** Options of {@linkcode startWebhook}. */
export interface StartWebhookOptions extends WebhookAppOptions {
  /** `webhook.port` (default 9443 in the config); `0` picks a free port. */
  port: number;
  /** `webhook.host`; default all interfaces (`127.0.0.1` is a good choice in local mode). */
  hostname?: string;
  /** Where the certificate comes from. */
  certificates: InternalCertificates | DirectoryCertificateMode | LocalCertificates;
  /** Stops everything (server shut down gracefully, loops ended, local registration removed if asked). */
  signal: AbortSignal;
  /** Clock for certificate checks. */
  clock?: Clock;
  /** Interval between certificate checks; default 12 h. */
  checkIntervalMs?: number;
  /** Wait between publishing a new CA and serving its certificate; default 5 s. */
  caPropagationDelayMs?: number;
  /** Lowest TLS version (config `tls.minVersion`); default `TLSv1.2`. */
  minTlsVersion?: "TLSv1.2" | "TLSv1.3";
}

/** A running webhook. */
export interface RunningWebhook {
  /** The HTTPS server (address, readiness, hot reload). */
  readonly server: WebhookServer;
  /** The certificate source (self-managed ones can be told to `rotate()`). */
  readonly certificates: CertificateSource;
  /** Readiness: serving with a certificate (spec §11.5 keeps `/readyz` a plain ping; use this where wanted). */
  readonly ready: boolean;
  /**
   * Resolves once the CA bundle has been published for the first time (local mode: the configurations are
   * registered; in-cluster: the CA is injected); at once in directory mode.
   */
  readonly published: Promise<void>;
  /** Resolves when everything has stopped after `signal` aborted. */
  readonly finished: Promise<void>;
  /**
   * Rotates self-managed certificates now (`serving`: a new serving certificate; `all`: a new CA too, published
   * next to the old one before it is used).
   *
   * @throws {Error} In directory mode (cert-manager owns the certificate).
   */
  rotateCertificates(what: "serving" | "all"): void;
}

/**
 * Starts the webhook: certificate first, then the server, then publication of the CA bundle (never the other way
 * round, so `failurePolicy: Fail` registrations never point at a server that is not up).
 *
 * @param options Port, certificate mode, app options (gang scheduling, metrics), signal.
 * @returns Once the server is serving.
 * @throws The signal's reason when aborted before the server started; bind errors.
 * @example
 * const webhook = await startWebhook({
 *   port: 9443,
 *   certificates: { mode: "internal", client, namespace: "lws-system" },
 *   gangScheduling: config.gangSchedulingManagement !== undefined,
 *   signal,
 * });
 * readiness.add(() => webhook.ready);
 */
export async function startWebhook(options: StartWebhookOptions): Promise<RunningWebhook> {
  const { signal } = options;
  const mode = options.certificates;
  let resolvePublished: () => void = () => {};
  const published = new Promise<void>((resolve) => (resolvePublished = resolve));
  // Known only once the server is bound (port 0 picks one); the publisher runs after that.
  const local: { url?: string } = {};
  let watched: WatchedObject[] = [];
  let source: CertificateSource;

  if (mode.mode === "directory") {
    source = new DirectoryCertificates({ certDir: mode.certDir, clock: options.clock });
    resolvePublished();
  } else {
    const names = {
      mutatingName: mode.mode === "local" ? mode.mutatingName : undefined,
      validatingName: mode.mode === "local" ? mode.validatingName : undefined,
    };
    watched = [
      { type: MUTATING_WEBHOOK_CONFIGURATIONS, name: names.mutatingName ?? MUTATING_WEBHOOK_CONFIGURATION_NAME },
      { type: VALIDATING_WEBHOOK_CONFIGURATIONS, name: names.validatingName ?? VALIDATING_WEBHOOK_CONFIGURATION_NAME },
    ];
    let publisher: CaPublisher;
    if (mode.mode === "internal") {
      const secretName = mode.secretName ?? DEFAULT_WEBHOOK_SECRET_NAME;
      watched.push({ type: SECRETS, name: secretName, namespace: mode.namespace });
      publisher = injectingPublisher(mode.client);
      source = new SelfManagedCertificates({
        store: secretBundleStore(mode.client, { namespace: mode.namespace, name: secretName }),
        publisher,
        identity: inClusterIdentity(mode.serviceName ?? DEFAULT_WEBHOOK_SERVICE_NAME, mode.namespace),
        clock: options.clock,
        checkIntervalMs: options.checkIntervalMs,
        caPropagationDelayMs: options.caPropagationDelayMs,
        onPublish: () => resolvePublished(),
      });
    } else {
      publisher = {
        publish: (caBundle, publishSignal) =>
          registeringPublisher(mode.client, {
            target: { url: local.url! },
            ...names,
            namespaceSelector: mode.namespaceSelector,
          }).publish(caBundle, publishSignal),
      };
      source = new SelfManagedCertificates({
        store: memoryBundleStore(),
        publisher,
        identity: localIdentity(),
        clock: options.clock,
        checkIntervalMs: options.checkIntervalMs,
        caPropagationDelayMs: options.caPropagationDelayMs,
        onPublish: () => resolvePublished(),
      });
    }
  }

  const first = await source.waitReady(signal);
  const server = await startWebhookServer(createWebhookApp(options).fetch, {
    certificate: first,
    port: options.port,
    hostname: options.hostname,
    minTlsVersion: options.minTlsVersion,
  });
  if (mode.mode === "local") local.url = mode.url ?? `https://127.0.0.1:${server.addr.port}`;
  source.onChange((pair) => {
    try {
      server.setCertificate(pair);
    } catch (err) {
      log.error("Cannot reload the webhook certificate: {error}", { error: String(err) });
    }
  });

  const loops: Promise<void>[] = [source.run(signal)];
  if (mode.mode !== "directory") {
    loops.push(
      watchForChanges(mode.client, watched, { onChange: () => source.trigger(), signal, clock: options.clock }),
    );
  }
  const finished = (async () => {
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await server.shutdown();
    await Promise.allSettled(loops);
    if (mode.mode === "local" && mode.unregisterOnStop) {
      try {
        await removeWebhookConfigurations(mode.client, {
          mutatingName: mode.mutatingName,
          validatingName: mode.validatingName,
        });
        log.info("Removed the local webhook configurations");
      } catch (err) {
        log.error("Cannot remove the local webhook configurations: {error}", { error: String(err) });
      }
    }
  })();

  return {
    server,
    certificates: source,
    get ready() {
      return server.ready;
    },
    published,
    finished,
    rotateCertificates(what) {
      if (!(source instanceof SelfManagedCertificates)) {
        throw new Error("Cannot rotate certificates: they are read from a directory (cert-manager mode)");
      }
      source.rotate(what);
    },
  };
}
