/**
 * Where the webhook server's certificate comes from, and how it stays fresh (spec §11.5):
 *
 * - {@linkcode SelfManagedCertificates} generates and rotates a CA and serving certificate, stores them in a
 *   {@linkcode BundleStore} (the Secret `lws-webhook-server-cert` in-cluster, so every replica serves the same pair;
 *   memory in local mode) and publishes the CA bundle through a {@linkcode CaPublisher} (CA injection into the
 *   installed webhook configurations in-cluster; URL-based registration in local mode). It checks at start, every
 *   12 hours and whenever {@linkcode SelfManagedCertificates.trigger} is called (watches of the Secret and the
 *   configurations call it).
 * - {@linkcode DirectoryCertificates} reads `tls.crt`/`tls.key` from a directory (cert-manager mounts), reloads on
 *   change and never writes anything.
 *
 * A CA rotation never breaks admission: the new CA is published next to the old one (the API server then trusts
 * both), and only after `caPropagationDelayMs` does the server switch to the new serving certificate; the old CA
 * stays in the bundle for `caOverlapMs`.
 *
 * @module
 */
import type { Secret } from "kubernetes-types/core/v1.d.ts";
import { getLogger } from "@logtape/logtape";
import { join } from "node:path";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { Backoff } from "../kube/backoff.ts";
import { type Clock, realClock } from "../kube/clock.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { SECRETS } from "../kube/resources.ts";
import type { KubeObject, ResourceType } from "../kube/types.ts";
import { Watcher } from "../kube/watcher.ts";
import {
  type CertificateBundle,
  ensureCertificates,
  generateServingCertificate,
  type KeyPairPem,
  type ServingIdentity,
} from "./certs.ts";
import {
  applyWebhookConfigurations,
  buildWebhookConfigurations,
  caBundleOf,
  injectCaBundle,
  type WebhookConfigurationClient,
  type WebhookConfigurationOptions,
} from "./configurations.ts";

const log = getLogger(["lws", "webhook", "certs"]);

/** How often certificates are checked without any trigger: 12 hours (spec §11.5). */
export const CHECK_INTERVAL_MS = 12 * 3600 * 1000;

/** What every certificate source offers the server. */
export interface CertificateSource {
  /** The serving pair in use, undefined before the first successful load. */
  current(): KeyPairPem | undefined;
  /** Registers a listener for every new serving pair (rotation, file change); returns the unsubscribe function. */
  onChange(listener: (pair: KeyPairPem) => void): () => void;
  /**
   * Loads or creates the first serving pair without publishing anything, retrying with backoff.
   *
   * @throws The signal's reason when aborted first.
   */
  waitReady(signal: AbortSignal): Promise<KeyPairPem>;
  /** Keeps the certificate fresh (and published) until `signal` aborts; never throws for API failures. */
  run(signal: AbortSignal): Promise<void>;
  /** Asks for a check as soon as possible (a watched object changed). */
  trigger(): void;
}

/** A stored bundle and the version to write it back conditionally. */
export interface StoredBundle {
  /** What is stored (fields may be missing or garbage); undefined when nothing is. */
  bundle: Partial<CertificateBundle> | undefined;
  /** Opaque version (resourceVersion) for a conditional save. */
  version?: string;
}

/** Persistence of the certificate bundle. */
export interface BundleStore {
  /** Reads the bundle. */
  load(signal?: AbortSignal): Promise<StoredBundle>;
  /**
   * Writes the bundle if nothing changed since `version` was read.
   *
   * @throws A conflict error when someone else wrote first (the manager then reloads and adopts their bundle).
   */
  save(bundle: CertificateBundle, version: string | undefined, signal?: AbortSignal): Promise<void>;
}

/** Makes the API server trust the CA(s). */
export interface CaPublisher {
  /** Publishes `caBundle` (base64 of one or more concatenated CA PEMs). Idempotent. */
  publish(caBundle: string, signal?: AbortSignal): Promise<void>;
}

const SECRET_KEYS = { caCert: "ca.crt", caKey: "ca.key", servingCert: "tls.crt", servingKey: "tls.key" } as const;

function decodeBase64(text: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
}

function encodeBase64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The Secret store of in-cluster self-management: keys `ca.crt`, `ca.key`, `tls.crt`, `tls.key` of the Secret
 * (default `lws-webhook-server-cert` in the operator namespace). The Secret must exist (the install manifests create
 * it empty; the RBAC of spec §12.2 has no `create` on secrets); other keys in it are kept.
 *
 * @param client API client with `get` and `update` on secrets.
 * @param options Namespace and name of the Secret.
 * @returns The store.
 */
export function secretBundleStore(
  client: Pick<KubeClient, "get" | "update">,
  options: { namespace: string; name: string },
): BundleStore {
  let lastSecret: Secret | undefined;
  return {
    async load(signal) {
      let secret: Secret;
      try {
        secret = await client.get<Secret>(SECRETS, options.name, { namespace: options.namespace, signal });
      } catch (err) {
        if (isNotFound(err)) {
          throw new Error(
            `Cannot manage webhook certificates: Secret ${options.namespace}/${options.name} does not exist (the install creates it empty)`,
          );
        }
        throw err;
      }
      lastSecret = secret;
      const data = secret.data ?? {};
      const bundle: Partial<CertificateBundle> = {};
      for (const [field, key] of Object.entries(SECRET_KEYS)) {
        const value = data[key];
        if (value) {
          try {
            bundle[field as keyof CertificateBundle] = decodeBase64(value);
          } catch {
            // Not base64: treated as missing, so it gets regenerated.
          }
        }
      }
      return { bundle, version: secret.metadata?.resourceVersion };
    },
    async save(bundle, version, signal) {
      const base = structuredClone(lastSecret ?? { metadata: { name: options.name, namespace: options.namespace } });
      base.metadata = { ...base.metadata, resourceVersion: version };
      const data = { ...(base.data ?? {}) };
      for (const [field, key] of Object.entries(SECRET_KEYS)) {
        data[key] = encodeBase64(bundle[field as keyof CertificateBundle]);
      }
      base.data = data;
      await client.update<Secret>(SECRETS, { apiVersion: "v1", kind: "Secret", ...base }, {
        namespace: options.namespace,
        signal,
      });
    },
  };
}

/**
 * An in-memory store (local mode: the CA lives as long as the process; a restart makes a new one and re-registers).
 *
 * @returns The store.
 */
export function memoryBundleStore(): BundleStore {
  let stored: CertificateBundle | undefined;
  let version = 0;
  return {
    load() {
      return Promise.resolve({ bundle: stored, version: String(version) });
    },
    save(bundle, expected) {
      if (expected !== String(version)) return Promise.reject(new Error("Conflict: bundle changed"));
      stored = bundle;
      version++;
      return Promise.resolve();
    },
  };
}

/**
 * Publishes by injecting the CA bundle into the installed webhook configurations (in-cluster; spec §11.5). A
 * configuration that does not exist yet is skipped (logged); the next check retries.
 *
 * @param client API client with `get` and `update` on both configuration kinds.
 * @param names Configuration names; default the fixed upstream names.
 * @returns The publisher.
 */
export function injectingPublisher(
  client: WebhookConfigurationClient,
  names: { mutatingName?: string; validatingName?: string } = {},
): CaPublisher {
  return {
    async publish(caBundle, signal) {
      const result = await injectCaBundle(client, caBundle, { ...names, signal });
      for (const [kind, outcome] of Object.entries(result)) {
        if (outcome === "missing") log.warn("The {kind} webhook configuration does not exist yet", { kind });
        if (outcome === "updated") log.info("Injected the CA bundle into the {kind} webhook configuration", { kind });
      }
    },
  };
}

/**
 * Publishes by registering URL-based (or service-based) webhook configurations carrying the CA bundle, with
 * server-side apply (local mode).
 *
 * @param client API client allowed to patch both configuration kinds.
 * @param options Everything of {@linkcode buildWebhookConfigurations} except the CA bundle.
 * @returns The publisher.
 */
export function registeringPublisher(
  client: WebhookConfigurationClient,
  options: Omit<WebhookConfigurationOptions, "caBundle">,
): CaPublisher {
  return {
    async publish(caBundle, signal) {
      await applyWebhookConfigurations(client, buildWebhookConfigurations({ ...options, caBundle }), signal);
    },
  };
}

/** A sleep on a clock that {@linkcode Alarm.wake} (or the signal) ends early; a wake while awake is kept. */
class Alarm {
  #wake: (() => void) | undefined;
  #pending = false;

  wake(): void {
    this.#pending = true;
    this.#wake?.();
  }

  async sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
    if (!this.#pending && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = clock.setTimer(ms, done);
        const onAbort = () => done();
        signal.addEventListener("abort", onAbort, { once: true });
        this.#wake = done;
        function done() {
          timer.cancel();
          signal.removeEventListener("abort", onAbort);
          resolve();
        }
      });
    }
    this.#wake = undefined;
    this.#pending = false;
  }
}

/** Listeners of new serving pairs; a throwing listener is logged and does not stop the others. */
class PairListeners {
  readonly #listeners = new Set<(pair: KeyPairPem) => void>();

  add(listener: (pair: KeyPairPem) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(pair: KeyPairPem): void {
    for (const listener of this.#listeners) {
      try {
        listener(pair);
      } catch (err) {
        log.error("Certificate listener failed: {error}", { error: String(err) });
      }
    }
  }
}

/** Options of {@linkcode SelfManagedCertificates}. */
export interface SelfManagedOptions {
  /** Where the bundle lives. */
  store: BundleStore;
  /** How the API server learns the CA. */
  publisher: CaPublisher;
  /** Whom the serving certificate is for (`inClusterIdentity(...)` or `localIdentity()`). */
  identity: ServingIdentity;
  /** Clock for rotation decisions, the 12-hour timer and delays. */
  clock?: Clock;
  /** Interval between checks; default 12 h. */
  checkIntervalMs?: number;
  /** After publishing a new CA next to the old one, wait this long before serving a certificate of the new CA. */
  caPropagationDelayMs?: number;
  /** How long an old CA stays in the published bundle after a CA rotation; default 1 h. */
  caOverlapMs?: number;
  /** Called with every change of the published CA bundle (base64), e.g. for logs or tests. */
  onPublish?: (caBundle: string) => void;
}

/**
 * Self-managed certificates (spec §11.5). One instance per process; `sync()` calls never overlap (`run()` calls them
 * one after another, `waitReady()` before `run()`).
 *
 * @example
 * const certs = new SelfManagedCertificates({
 *   store: secretBundleStore(client, { namespace, name: "lws-webhook-server-cert" }),
 *   publisher: injectingPublisher(client),
 *   identity: inClusterIdentity("lws-webhook-service", namespace),
 * });
 * const first = await certs.waitReady(signal);
 */
export class SelfManagedCertificates implements CertificateSource {
  readonly #options: SelfManagedOptions;
  readonly #clock: Clock;
  readonly #listeners = new PairListeners();
  readonly #alarm = new Alarm();
  #serving: KeyPairPem | undefined;
  #ca: string | undefined;
  #previousCa: { pem: string; until: number } | undefined;
  #published: string | undefined;
  #forced: "serving" | "all" | undefined;

  /**
   * Creates the manager; nothing happens until `waitReady()` or `run()`.
   *
   * @param options store, publisher, identity, clock, intervals
   */
  constructor(options: SelfManagedOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  /** The serving pair in use. */
  current(): KeyPairPem | undefined {
    return this.#serving;
  }

  /** The CA bundle (base64) last published, undefined before the first publish. */
  caBundle(): string | undefined {
    return this.#published;
  }

  /** See {@linkcode CertificateSource.onChange}. */
  onChange(listener: (pair: KeyPairPem) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** See {@linkcode CertificateSource.trigger}. */
  trigger(): void {
    this.#alarm.wake();
  }

  /**
   * Forces a rotation at the next check (operators, tests): `serving` makes a new serving certificate, `all` a new
   * CA too. Then triggers a check.
   *
   * @param what What to regenerate.
   */
  rotate(what: "serving" | "all"): void {
    this.#forced = what;
    this.trigger();
  }

  /** See {@linkcode CertificateSource.waitReady}. */
  async waitReady(signal: AbortSignal): Promise<KeyPairPem> {
    const backoff = new Backoff(this.#clock, { initialMs: 1000, maxMs: 30_000 });
    for (;;) {
      signal.throwIfAborted();
      try {
        await this.sync({ publish: false, signal });
        return this.#serving!;
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const delay = backoff.next();
        log.warn("Webhook certificates not ready, retrying in {delay} ms: {error}", { delay, error: String(err) });
        await this.#clock.sleep(delay, signal);
      }
    }
  }

  /** See {@linkcode CertificateSource.run}. */
  async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.#clock, { initialMs: 1000, maxMs: 60_000 });
    while (!signal.aborted) {
      let wait = this.#options.checkIntervalMs ?? CHECK_INTERVAL_MS;
      try {
        await this.sync({ publish: true, signal });
      } catch (err) {
        if (signal.aborted) break;
        wait = backoff.next();
        log.warn("Webhook certificate check failed, retrying in {delay} ms: {error}", {
          delay: wait,
          error: String(err),
        });
      }
      await this.#alarm.sleep(this.#clock, wait, signal);
    }
  }

  /**
   * One check: load, rotate when needed (spec §11.5 thresholds or a forced rotation), save, switch the serving
   * pair, publish the CA bundle.
   *
   * @param options `publish: false` before the server runs (nothing is registered yet); a signal.
   * @throws API failures and save conflicts (a later check adopts what the other writer stored).
   */
  async sync(options: { publish: boolean; signal?: AbortSignal }): Promise<void> {
    const { identity } = this.#options;
    const now = this.#clock.now();
    const stored = await this.#options.store.load(options.signal);
    let result = await ensureCertificates(stored.bundle, { identity, now });
    const forced = this.#forced;
    if (result.rotated === "none" && forced === "all") {
      result = await ensureCertificates(undefined, { identity, now });
      result.reason = "rotation requested";
    } else if (result.rotated === "none" && forced === "serving") {
      const serving = await generateServingCertificate(
        { cert: result.bundle.caCert, key: result.bundle.caKey },
        identity,
        now,
      );
      result = {
        bundle: { ...result.bundle, servingCert: serving.cert, servingKey: serving.key },
        rotated: "serving",
        reason: "rotation requested",
      };
    }
    const { bundle } = result;
    const oldCa = this.#ca ?? (result.rotated === "all" ? stored.bundle?.caCert : undefined);
    if (oldCa !== undefined && oldCa !== bundle.caCert && notExpired(oldCa, now)) {
      // Keep trusting the CA the API server knows until every replica serves a certificate of the new one.
      this.#previousCa = { pem: oldCa, until: now + (this.#options.caOverlapMs ?? 3600_000) };
    }
    if (this.#previousCa !== undefined && this.#previousCa.until <= now) this.#previousCa = undefined;
    const caBundle = caBundleOf(bundle.caCert + (this.#previousCa ? this.#previousCa.pem : ""));

    if (result.rotated !== "none") {
      log.info("Rotating webhook certificates ({what}): {reason}", { what: result.rotated, reason: result.reason });
      if (options.publish && result.rotated === "all" && this.#previousCa !== undefined) {
        await this.#publish(caBundle, options.signal);
        await this.#clock.sleep(this.#options.caPropagationDelayMs ?? 5000, options.signal);
      }
      await this.#options.store.save(bundle, stored.version, options.signal);
    }
    if (forced !== undefined && this.#forced === forced) this.#forced = undefined;
    this.#ca = bundle.caCert;
    const pair = { cert: bundle.servingCert, key: bundle.servingKey };
    if (this.#serving?.cert !== pair.cert || this.#serving?.key !== pair.key) {
      this.#serving = pair;
      this.#listeners.emit(pair);
    }
    if (options.publish) await this.#publish(caBundle, options.signal);
  }

  async #publish(caBundle: string, signal: AbortSignal | undefined): Promise<void> {
    await this.#options.publisher.publish(caBundle, signal);
    if (this.#published !== caBundle) {
      this.#published = caBundle;
      this.#options.onPublish?.(caBundle);
    }
  }
}

/** An object whose changes should trigger a certificate check. */
export interface WatchedObject {
  /** Its kind. */
  type: ResourceType;
  /** Its name. */
  name: string;
  /** Its namespace (namespaced kinds). */
  namespace?: string;
}

/**
 * Watches objects by name (the certificate Secret, the webhook configurations) and calls `onChange` after each
 * (re)list and for every change, until `signal` aborts. The watcher retries failures by itself.
 *
 * @param client API client with list/watch on the objects' kinds.
 * @param objects What to watch.
 * @param options `onChange` callback, abort `signal`, optional clock.
 * @returns Resolves when every watch has stopped.
 */
export async function watchForChanges(
  client: Pick<KubeClient, "listWatch">,
  objects: WatchedObject[],
  options: { onChange: () => void; signal: AbortSignal; clock?: Clock },
): Promise<void> {
  await Promise.all(objects.map(async (object) => {
    const watcher = new Watcher<KubeObject>(client.listWatch(object.type), {
      namespace: object.namespace,
      fieldSelector: `metadata.name=${object.name}`,
      clock: options.clock,
      name: `${object.type.plural}/${object.name}`,
    });
    for await (const event of watcher.events(options.signal)) {
      if (event.type === "initDone" || event.type === "apply" || event.type === "delete") options.onChange();
    }
  }));
}

/** Options of {@linkcode DirectoryCertificates}. */
export interface DirectoryOptions {
  /** Directory holding `tls.crt` and `tls.key` (upstream `webhook.certDir`, `/tmp/k8s-webhook-server/serving-certs`). */
  certDir: string;
  /** Clock for polling and retries. */
  clock?: Clock;
  /** Polling interval (besides file-system events, which a kubelet's symlink swap may not deliver); default 10 s. */
  pollIntervalMs?: number;
  /** Watch the directory with `Deno.watchFs` for quicker reloads; default true. */
  watch?: boolean;
}

/**
 * Certificates from a directory (cert-manager mode, `internalCertManagement.enable: false`): reads `tls.crt` and
 * `tls.key`, reloads when they change (and parse), never writes.
 */
export class DirectoryCertificates implements CertificateSource {
  readonly #options: DirectoryOptions;
  readonly #clock: Clock;
  readonly #listeners = new PairListeners();
  readonly #alarm = new Alarm();
  #serving: KeyPairPem | undefined;

  /**
   * Creates the source; nothing is read until `waitReady()`, `reload()` or `run()`.
   *
   * @param options directory, clock, polling
   */
  constructor(options: DirectoryOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  /** The serving pair in use. */
  current(): KeyPairPem | undefined {
    return this.#serving;
  }

  /** See {@linkcode CertificateSource.onChange}. */
  onChange(listener: (pair: KeyPairPem) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** See {@linkcode CertificateSource.trigger}. */
  trigger(): void {
    this.#alarm.wake();
  }

  /**
   * Reads the files once; switches to them when they differ from the pair in use and parse.
   *
   * @returns Whether a usable pair is loaded.
   */
  async reload(): Promise<boolean> {
    let pair: KeyPairPem;
    try {
      pair = {
        cert: await Deno.readTextFile(join(this.#options.certDir, "tls.crt")),
        key: await Deno.readTextFile(join(this.#options.certDir, "tls.key")),
      };
    } catch (err) {
      log.debug("Cannot read webhook certificate from {dir}: {error}", {
        dir: this.#options.certDir,
        error: String(err),
      });
      return this.#serving !== undefined;
    }
    if (pair.cert === this.#serving?.cert && pair.key === this.#serving?.key) return true;
    const problem = usable(pair);
    if (problem !== undefined) {
      log.warn("Ignoring webhook certificate in {dir}: {problem}", { dir: this.#options.certDir, problem });
      return this.#serving !== undefined;
    }
    this.#serving = pair;
    log.info("Loaded webhook certificate from {dir}", { dir: this.#options.certDir });
    this.#listeners.emit(pair);
    return true;
  }

  /** See {@linkcode CertificateSource.waitReady}. */
  async waitReady(signal: AbortSignal): Promise<KeyPairPem> {
    const backoff = new Backoff(this.#clock, { initialMs: 1000, maxMs: 10_000 });
    for (;;) {
      signal.throwIfAborted();
      if (await this.reload()) return this.#serving!;
      await this.#clock.sleep(backoff.next(), signal);
    }
  }

  /** See {@linkcode CertificateSource.run}. */
  async run(signal: AbortSignal): Promise<void> {
    const watching = this.#options.watch === false ? undefined : this.#watch(signal);
    while (!signal.aborted) {
      await this.reload();
      await this.#alarm.sleep(this.#clock, this.#options.pollIntervalMs ?? 10_000, signal);
    }
    await watching;
  }

  async #watch(signal: AbortSignal): Promise<void> {
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(this.#options.certDir);
    } catch (err) {
      log.warn("Cannot watch {dir}, polling only: {error}", { dir: this.#options.certDir, error: String(err) });
      return;
    }
    const onAbort = () => watcher.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const _ of watcher) this.trigger();
    } catch {
      // Closed.
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}

function notExpired(pem: string, now: number): boolean {
  try {
    return new Date(new X509Certificate(pem).validTo).getTime() > now;
  } catch {
    return false;
  }
}

function usable(pair: KeyPairPem): string | undefined {
  try {
    return new X509Certificate(pair.cert).checkPrivateKey(createPrivateKey(pair.key))
      ? undefined
      : "the key does not match the certificate";
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
