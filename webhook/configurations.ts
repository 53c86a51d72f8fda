/**
 * The webhook registrations (spec §3, §4, §9.1): pure builders of the MutatingWebhookConfiguration and
 * ValidatingWebhookConfiguration upstream installs, either pointing at the in-cluster Service or — in local mode,
 * with the binary on the host — at a URL such as `https://127.0.0.1:9443`, plus the few API calls that install,
 * patch (CA bundle) and remove them.
 *
 * @module
 */
import type {
  MutatingWebhook,
  MutatingWebhookConfiguration,
  RuleWithOperations,
  ValidatingWebhook,
  ValidatingWebhookConfiguration,
  WebhookClientConfig,
} from "kubernetes-types/admissionregistration/v1.d.ts";
import type { LabelSelector } from "kubernetes-types/meta/v1.d.ts";
import {
  FIELD_MANAGER,
  GROUP,
  LABEL_NAME,
  MUTATING_WEBHOOK_CONFIGURATION_NAME,
  PLURAL,
  VALIDATING_WEBHOOK_CONFIGURATION_NAME,
  VERSION,
  WEBHOOK_NAME_MUTATE_LWS,
  WEBHOOK_NAME_MUTATE_POD,
  WEBHOOK_NAME_VALIDATE_LWS,
  WEBHOOK_NAME_VALIDATE_POD,
  WEBHOOK_PATH_MUTATE_LWS,
  WEBHOOK_PATH_MUTATE_POD,
  WEBHOOK_PATH_VALIDATE_LWS,
  WEBHOOK_PATH_VALIDATE_POD,
} from "../api/constants.ts";
import type { KubeClient } from "../kube/client.ts";
import { isConflict, isNotFound } from "../kube/errors.ts";
import { MUTATING_WEBHOOK_CONFIGURATIONS, VALIDATING_WEBHOOK_CONFIGURATIONS } from "../kube/resources.ts";

/** Where the API server sends admission requests. */
export type WebhookTarget =
  /** In-cluster: the webhook Service (upstream `lws-webhook-service` in the operator namespace, port 443). */
  | { service: { namespace: string; name: string; port?: number } }
  /** Local mode: a base URL such as `https://127.0.0.1:9443`; each webhook appends its path. */
  | { url: string };

/** Options of {@linkcode buildWebhookConfigurations}. */
export interface WebhookConfigurationOptions {
  /** Service or URL. */
  target: WebhookTarget;
  /** Base64 of the CA PEM (`clientConfig.caBundle`); omitted when undefined. */
  caBundle?: string;
  /** Name of the MutatingWebhookConfiguration; default `lws-mutating-webhook-configuration`. */
  mutatingName?: string;
  /** Name of the ValidatingWebhookConfiguration; default `lws-validating-webhook-configuration`. */
  validatingName?: string;
  /**
   * Restricts every webhook to namespaces matching this selector (not upstream: upstream matches all namespaces).
   * Meant for tests that share a control plane.
   */
  namespaceSelector?: LabelSelector;
  /** Labels of both configuration objects (upstream: `app.kubernetes.io/name: lws`, `app.kubernetes.io/instance: lws`). */
  labels?: Record<string, string>;
}

/** The pair of configurations. */
export interface WebhookConfigurations {
  /** `lws-mutating-webhook-configuration` (or the given name): `mleaderworkerset.kb.io`, `mpod.kb.io`. */
  mutating: MutatingWebhookConfiguration;
  /** `lws-validating-webhook-configuration` (or the given name): `vleaderworkerset.kb.io`, `vpod.kb.io`. */
  validating: ValidatingWebhookConfiguration;
}

const POD_SELECTOR: LabelSelector = { matchExpressions: [{ key: LABEL_NAME, operator: "Exists" }] };

function clientConfig(target: WebhookTarget, path: string, caBundle: string | undefined): WebhookClientConfig {
  const config: WebhookClientConfig = "url" in target ? { url: `${target.url.replace(/\/+$/, "")}${path}` } : {
    service: {
      namespace: target.service.namespace,
      name: target.service.name,
      path,
      ...(target.service.port !== undefined ? { port: target.service.port } : {}),
    },
  };
  if (caBundle !== undefined) config.caBundle = caBundle;
  return config;
}

interface WebhookSpec {
  name: string;
  path: string;
  group: string;
  resource: string;
  operations: string[];
  pods: boolean;
}

function webhook(spec: WebhookSpec, options: WebhookConfigurationOptions): MutatingWebhook & ValidatingWebhook {
  // kubernetes-types 1.30 lacks `resources` (and `scope`) on RuleWithOperations; the API has them.
  const rule: RuleWithOperations & { resources: string[] } = {
    apiGroups: [spec.group],
    apiVersions: [spec.group === "" ? "v1" : VERSION],
    operations: spec.operations,
    resources: [spec.resource],
  };
  const hook: MutatingWebhook & ValidatingWebhook = {
    name: spec.name,
    admissionReviewVersions: ["v1"],
    clientConfig: clientConfig(options.target, spec.path, options.caBundle),
    failurePolicy: "Fail",
    sideEffects: "None",
    rules: [rule],
  };
  if (spec.pods) hook.objectSelector = structuredClone(POD_SELECTOR);
  if (options.namespaceSelector) hook.namespaceSelector = structuredClone(options.namespaceSelector);
  return hook;
}

/**
 * Builds both configurations exactly as upstream registers them: names `mleaderworkerset.kb.io` / `mpod.kb.io` and
 * `vleaderworkerset.kb.io` / `vpod.kb.io`, paths of spec §11.3, `failurePolicy: Fail`, `sideEffects: None`,
 * `admissionReviewVersions: [v1]`, LWS rules on CREATE and UPDATE, pod rules on CREATE (mutating) and CREATE,
 * UPDATE (validating), pods selected by the `leaderworkerset.sigs.k8s.io/name` label (Exists).
 *
 * @param options Target (service or URL), CA bundle, names.
 * @returns New objects; pure.
 * @example
 * const { mutating, validating } = buildWebhookConfigurations({ target: { url: "https://127.0.0.1:9443" }, caBundle });
 */
export function buildWebhookConfigurations(options: WebhookConfigurationOptions): WebhookConfigurations {
  const metadata = (name: string) => ({ name, ...(options.labels ? { labels: { ...options.labels } } : {}) });
  const lws = { group: GROUP, resource: PLURAL, operations: ["CREATE", "UPDATE"], pods: false };
  const pods = { group: "", resource: "pods", pods: true };
  return {
    mutating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: metadata(options.mutatingName ?? MUTATING_WEBHOOK_CONFIGURATION_NAME),
      webhooks: [
        webhook({ ...lws, name: WEBHOOK_NAME_MUTATE_LWS, path: WEBHOOK_PATH_MUTATE_LWS }, options),
        webhook(
          { ...pods, name: WEBHOOK_NAME_MUTATE_POD, path: WEBHOOK_PATH_MUTATE_POD, operations: ["CREATE"] },
          options,
        ),
      ],
    },
    validating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: metadata(options.validatingName ?? VALIDATING_WEBHOOK_CONFIGURATION_NAME),
      webhooks: [
        webhook({ ...lws, name: WEBHOOK_NAME_VALIDATE_LWS, path: WEBHOOK_PATH_VALIDATE_LWS }, options),
        webhook(
          {
            ...pods,
            name: WEBHOOK_NAME_VALIDATE_POD,
            path: WEBHOOK_PATH_VALIDATE_POD,
            operations: ["CREATE", "UPDATE"],
          },
          options,
        ),
      ],
    },
  };
}

/**
 * Encodes a CA PEM as a `caBundle` (standard base64 of the PEM bytes).
 *
 * @param caPem The CA certificate, PEM.
 * @returns The base64 text.
 */
export function caBundleOf(caPem: string): string {
  const bytes = new TextEncoder().encode(caPem);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The client calls these functions make. */
export type WebhookConfigurationClient = Pick<KubeClient, "get" | "update" | "apply" | "delete">;

/**
 * Creates or updates both configurations by server-side apply (field manager `lws`, force). Local mode uses this;
 * in-cluster installs ship the configurations as manifests and only get their CA bundle injected.
 *
 * @param client The API client (needs `patch` on both configuration kinds).
 * @param configurations What {@linkcode buildWebhookConfigurations} returned.
 * @param signal Aborts the calls.
 */
export async function applyWebhookConfigurations(
  client: WebhookConfigurationClient,
  configurations: WebhookConfigurations,
  signal?: AbortSignal,
): Promise<void> {
  // Validating first: until the mutating one exists nothing is defaulted, but nothing invalid gets in either.
  await client.apply(VALIDATING_WEBHOOK_CONFIGURATIONS, configurations.validating, {
    fieldManager: FIELD_MANAGER,
    force: true,
    signal,
  });
  await client.apply(MUTATING_WEBHOOK_CONFIGURATIONS, configurations.mutating, {
    fieldManager: FIELD_MANAGER,
    force: true,
    signal,
  });
}

/**
 * Deletes both configurations; missing ones are fine. For `lws uninstall` and for local runs that clean up after
 * themselves (with `failurePolicy: Fail`, a configuration pointing at a stopped webhook blocks LWS pods).
 *
 * @param client The API client.
 * @param names Configuration names; default the fixed upstream names.
 * @param signal Aborts the calls.
 */
export async function removeWebhookConfigurations(
  client: WebhookConfigurationClient,
  names: { mutatingName?: string; validatingName?: string } = {},
  signal?: AbortSignal,
): Promise<void> {
  const targets = [
    [MUTATING_WEBHOOK_CONFIGURATIONS, names.mutatingName ?? MUTATING_WEBHOOK_CONFIGURATION_NAME],
    [VALIDATING_WEBHOOK_CONFIGURATIONS, names.validatingName ?? VALIDATING_WEBHOOK_CONFIGURATION_NAME],
  ] as const;
  for (const [type, name] of targets) {
    try {
      await client.delete(type, name, { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/** Result of {@linkcode injectCaBundle} for one configuration. */
export type InjectResult = "updated" | "unchanged" | "missing";

/**
 * Sets `clientConfig.caBundle` of every webhook of both configurations (spec §11.5), with a conditional update
 * (needs only `get` and `update`, like upstream's RBAC). Retries a conflict a few times.
 *
 * @param client The API client.
 * @param caBundle Base64 of the CA PEM.
 * @param options Configuration names (default the fixed upstream names) and an abort signal.
 * @returns What happened to the mutating and the validating configuration.
 */
export async function injectCaBundle(
  client: WebhookConfigurationClient,
  caBundle: string,
  options: { mutatingName?: string; validatingName?: string; signal?: AbortSignal } = {},
): Promise<{ mutating: InjectResult; validating: InjectResult }> {
  return {
    mutating: await injectOne(
      client,
      MUTATING_WEBHOOK_CONFIGURATIONS,
      options.mutatingName ?? MUTATING_WEBHOOK_CONFIGURATION_NAME,
      caBundle,
      options.signal,
    ),
    validating: await injectOne(
      client,
      VALIDATING_WEBHOOK_CONFIGURATIONS,
      options.validatingName ?? VALIDATING_WEBHOOK_CONFIGURATION_NAME,
      caBundle,
      options.signal,
    ),
  };
}

async function injectOne(
  client: WebhookConfigurationClient,
  type: typeof MUTATING_WEBHOOK_CONFIGURATIONS,
  name: string,
  caBundle: string,
  signal: AbortSignal | undefined,
): Promise<InjectResult> {
  for (let attempt = 0;; attempt++) {
    let current: MutatingWebhookConfiguration;
    try {
      current = await client.get<MutatingWebhookConfiguration>(type, name, { signal });
    } catch (err) {
      if (isNotFound(err)) return "missing";
      throw err;
    }
    const webhooks = current.webhooks ?? [];
    if (webhooks.every((w) => w.clientConfig.caBundle === caBundle)) return "unchanged";
    for (const w of webhooks) w.clientConfig.caBundle = caBundle;
    try {
      await client.update(type, current, { signal });
      return "updated";
    } catch (err) {
      if (!isConflict(err) || attempt >= 4) throw err;
    }
  }
}
