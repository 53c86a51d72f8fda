/**
 * The only place the product reads its configuration: command-line flags (as parsed by `cli/`), the environment and
 * upstream's configuration file (`config.lws.x-k8s.io/v1alpha1`, kind `Configuration`, spec §11.2). The result is a
 * plain {@linkcode Config} object that `run.ts` passes down; nothing below it looks at flags, files or `Deno.env`
 * for settings.
 *
 * Precedence (spec §11.1): built-in defaults < configuration file < flags, and a flag overrides the file only when
 * it is given on the command line. Defaults that depend on where the binary runs (local mode: a kubeconfig; in-cluster
 * mode: the service account) are filled in last by {@linkcode applyModeDefaults}.
 *
 * Every error is a {@linkcode ConfigError} whose message names the flag (`--kube-api-qps`) or the field
 * (`webhook.port`) and the offending value; the CLI prints it and exits 2.
 *
 * @module
 */
import { isMap, isScalar, isSeq, type Node, parseDocument } from "yaml";
import {
  DEFAULT_OPERATOR_NAMESPACE,
  DEFAULT_WEBHOOK_SECRET_NAME,
  DEFAULT_WEBHOOK_SERVICE_NAME,
} from "./api/constants.ts";
import { type FieldError, invalid, renderFieldError, required } from "./api/field_error.ts";
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain } from "./api/validation_meta.ts";

/** `apiVersion` of the configuration file. */
export const CONFIG_API_VERSION = "config.lws.x-k8s.io/v1alpha1";
/** `kind` of the configuration file. */
export const CONFIG_KIND = "Configuration";
/** Where upstream's manifests mount the configuration file. */
export const DEFAULT_CONFIG_PATH = "/controller_manager_config.yaml";
/** Default `webhook.certDir`. */
export const DEFAULT_CERT_DIR = "/tmp/k8s-webhook-server/serving-certs";
/** Where cert-manager installs mount the metrics serving certificate (spec §11.3). */
export const DEFAULT_METRICS_CERT_DIR = "/tmp/k8s-metrics-server/serving-certs";
/** The service-account namespace file (spec §11.1: the operator namespace). */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
/** Default dashboard port (8081 is the health probe port upstream). */
export const DEFAULT_DASHBOARD_PORT = 8082;
/** Default time a graceful stop may take before the process exits anyway (upstream pods get 10 s). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 8_000;
/**
 * Supported `gangSchedulingManagement.schedulerProvider` values: upstream's `volcano`, and `workload` (the
 * Kubernetes Workload API's PodGroups with the default kube-scheduler; `controller/pod/gang.ts`).
 */
export const SCHEDULER_PROVIDERS: readonly string[] = ["volcano", "workload"];
/** Supported `leaderElection.resourceLock` values. */
export const RESOURCE_LOCKS: readonly string[] = ["leases"];
/** Log levels of `--log-level`. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];
/** Log formats of `--log-format`: `text` is zap's development console format (tab-separated), `json` one object a line. */
export const LOG_FORMATS = ["text", "json"] as const;
/** One of {@linkcode LOG_FORMATS}. */
export type LogFormat = typeof LOG_FORMATS[number];

/** Go's TLS cipher suite names (`tls.CipherSuites()` and `tls.InsecureCipherSuites()`), accepted in `tls.cipherSuites`. */
export const TLS_CIPHER_SUITES: readonly string[] = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
  "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_RSA_WITH_AES_256_CBC_SHA",
  "TLS_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_RSA_WITH_RC4_128_SHA",
];

/** A configuration, flag or environment value is wrong; the message names it. The CLI exits 2. */
export class ConfigError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong, naming the flag or field and the value.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The configuration file

/**
 * The effective configuration (upstream's `Configuration`, defaulted). Durations are in milliseconds; the file
 * writes them as Go durations (`15s`).
 */
export interface Configuration {
  /** Webhook server. */
  webhook: { port: number; host: string; certDir: string };
  /** Leader election (Lease lock). */
  leaderElection: {
    leaderElect: boolean;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
    resourceLock: string;
    resourceName: string;
    /** `""`: the operator namespace (in-cluster it always wins, as upstream). */
    resourceNamespace: string;
  };
  /** Metrics server; `bindAddress` `0` disables it. */
  metrics: { bindAddress: string };
  /** Health probes. */
  health: { healthProbeBindAddress: string; readinessEndpointName: string; livenessEndpointName: string };
  /** Self-managed webhook certificates (spec §11.5); names are set only when enabled. */
  internalCertManagement: { enable: boolean; webhookServiceName?: string; webhookSecretName?: string };
  /** API client limits. */
  clientConnection: { qps: number; burst: number };
  /** Present when gang scheduling is configured. */
  gangSchedulingManagement?: { schedulerProvider: string };
  /** TLS options of the servers, when set. */
  tls?: { minVersion?: string; cipherSuites?: string[] };
  /** `controller.groupKindConcurrency` (e.g. `LeaderWorkerSet.leaderworkerset.x-k8s.io: 4`, `Pod: 8`). */
  groupKindConcurrency?: Record<string, number>;
}

/** What the configuration file (and the flags) may set: every field optional, nothing defaulted yet. */
export interface ConfigurationInput {
  /** `webhook`: port, host, certDir. */
  webhook?: { port?: number; host?: string; certDir?: string };
  /** `leaderElection` (component-base's LeaderElectionConfiguration; durations as Go durations). */
  leaderElection?: {
    leaderElect?: boolean;
    leaseDuration?: string;
    renewDeadline?: string;
    retryPeriod?: string;
    resourceLock?: string;
    resourceName?: string;
    resourceNamespace?: string;
  };
  /** `metrics.bindAddress`. */
  metrics?: { bindAddress?: string };
  /** `health`: probe address and endpoint names. */
  health?: { healthProbeBindAddress?: string; readinessEndpointName?: string; livenessEndpointName?: string };
  /** `internalCertManagement`. */
  internalCertManagement?: { enable?: boolean; webhookServiceName?: string; webhookSecretName?: string };
  /** `clientConnection`: qps, burst. */
  clientConnection?: { qps?: number; burst?: number };
  /** `gangSchedulingManagement`: present turns gang scheduling on. */
  gangSchedulingManagement?: { schedulerProvider?: string };
  /** `tls`: minVersion, cipherSuites. */
  tls?: { minVersion?: string; cipherSuites?: string[] };
  /** Accepted for compatibility, ignored. */
  pprofBindAddress?: string;
  /** `controller`: groupKindConcurrency (used), cacheSyncTimeout (ignored). */
  controller?: { groupKindConcurrency?: Record<string, number>; cacheSyncTimeout?: string };
}

type FieldType =
  | "string"
  | "int"
  | "float"
  | "bool"
  | "duration"
  | "stringList"
  | { intMap: true }
  | { fields: Record<string, FieldType> };

/** The shape of the file: exactly upstream's fields (strict decoding rejects anything else). */
const SCHEMA: { fields: Record<string, FieldType> } = {
  fields: {
    apiVersion: "string",
    kind: "string",
    webhook: { fields: { port: "int", host: "string", certDir: "string" } },
    leaderElection: {
      fields: {
        leaderElect: "bool",
        leaseDuration: "duration",
        renewDeadline: "duration",
        retryPeriod: "duration",
        resourceLock: "string",
        resourceName: "string",
        resourceNamespace: "string",
      },
    },
    metrics: { fields: { bindAddress: "string" } },
    health: {
      fields: { healthProbeBindAddress: "string", readinessEndpointName: "string", livenessEndpointName: "string" },
    },
    internalCertManagement: { fields: { enable: "bool", webhookServiceName: "string", webhookSecretName: "string" } },
    clientConnection: { fields: { qps: "float", burst: "int" } },
    gangSchedulingManagement: { fields: { schedulerProvider: "string" } },
    tls: { fields: { minVersion: "string", cipherSuites: "stringList" } },
    pprofBindAddress: "string",
    controller: { fields: { groupKindConcurrency: { intMap: true }, cacheSyncTimeout: "duration" } },
  },
};

const GO_TYPES: Record<string, string> = {
  string: "string",
  int: "int32",
  float: "float32",
  bool: "bool",
  duration: "duration",
  stringList: "[]string",
};

/**
 * Decodes a configuration file strictly, like upstream (`serializer.NewCodecFactory(...).UniversalDecoder` with
 * strict decoding): unknown fields, duplicate fields and values of the wrong type are errors; `apiVersion` and
 * `kind` must be upstream's.
 *
 * @param text The file's contents (YAML or JSON).
 * @param source Names the file in messages.
 * @returns The fields the file sets (nothing defaulted).
 * @throws {ConfigError} `Cannot load config file <source>: strict decoding error: unknown field "webhook.prot"` and
 *   the like, naming the field.
 * @example
 * decodeConfiguration("apiVersion: config.lws.x-k8s.io/v1alpha1\nkind: Configuration\nwebhook: {port: 9443}\n", "c.yaml");
 */
export function decodeConfiguration(text: string, source: string): ConfigurationInput {
  const fail = (message: string): never => {
    throw new ConfigError(`Cannot load config file ${source}: ${message}`);
  };
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) fail(`not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ""))) {
    fail(`it is empty, expected apiVersion: ${CONFIG_API_VERSION} and kind: ${CONFIG_KIND}`);
  }
  const value = decodeNode(root as Node, SCHEMA, "", fail) as Record<string, unknown>;
  if (value.apiVersion !== CONFIG_API_VERSION || value.kind !== CONFIG_KIND) {
    fail(
      `expected apiVersion: ${CONFIG_API_VERSION} and kind: ${CONFIG_KIND}, got apiVersion: ${
        JSON.stringify(value.apiVersion ?? "")
      } and kind: ${JSON.stringify(value.kind ?? "")}`,
    );
  }
  delete value.apiVersion;
  delete value.kind;
  return value as ConfigurationInput;
}

function decodeNode(node: Node | null, type: FieldType, path: string, fail: (m: string) => never): unknown {
  const at = path === "" ? "the document" : `"${path}"`;
  if (node === null || (isScalar(node) && node.value === null)) return undefined; // null: leave unset, as Go does
  const typeName = (t: FieldType) =>
    typeof t === "string" ? GO_TYPES[t] : "intMap" in t ? "map[string]int32" : "object";
  const mismatch = (got: string): never =>
    fail(`strict decoding error: cannot unmarshal ${got} into field ${at} of type ${typeName(type)}`);
  const kindOf = (n: Node): string =>
    isMap(n) ? "object" : isSeq(n) ? "array" : isScalar(n) ? (n.value === null ? "null" : typeof n.value) : "value";

  if (typeof type === "object") {
    if (!isMap(node)) return mismatch(kindOf(node));
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const child = path === "" ? key : `${path}.${key}`;
      if (seen.has(key)) fail(`strict decoding error: duplicate field "${child}"`);
      seen.add(key);
      if ("intMap" in type) {
        out[key] = decodeNode(pair.value as Node | null, "int", child, fail);
        continue;
      }
      const fieldType = type.fields[key];
      if (fieldType === undefined) fail(`strict decoding error: unknown field "${child}"`);
      const decoded = decodeNode(pair.value as Node | null, fieldType!, child, fail);
      if (decoded !== undefined) out[key] = decoded;
    }
    return out;
  }
  if (type === "stringList") {
    if (!isSeq(node)) return mismatch(kindOf(node));
    return node.items.map((item, i) => {
      if (!isScalar(item) || typeof item.value !== "string") {
        return fail(
          `strict decoding error: cannot unmarshal ${kindOf(item as Node)} into field "${path}[${i}]" of type string`,
        );
      }
      return item.value;
    });
  }
  if (!isScalar(node)) return mismatch(kindOf(node));
  const value = node.value;
  switch (type) {
    case "string":
      return typeof value === "string" ? value : mismatch(typeof value);
    case "bool":
      return typeof value === "boolean" ? value : mismatch(typeof value);
    case "int":
      if (typeof value !== "number") return mismatch(typeof value);
      if (!Number.isInteger(value) || Math.abs(value) > 2 ** 31 - 1) {
        return fail(`strict decoding error: cannot unmarshal number ${value} into field ${at} of type int32`);
      }
      return value;
    case "float":
      return typeof value === "number" ? value : mismatch(typeof value);
    case "duration": {
      if (typeof value !== "string") return mismatch(typeof value);
      const ms = parseDuration(value);
      if (ms === undefined) fail(`field ${at}: time: invalid duration ${JSON.stringify(value)}`);
      return value;
    }
  }
}

/**
 * Parses a Go duration (`1h2m3.5s`, `500ms`, `0`) into milliseconds.
 *
 * @param text The duration.
 * @returns Milliseconds, or `undefined` when it is not a Go duration (or negative).
 */
export function parseDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  if (text.length === 0) return undefined;
  while (index < text.length) {
    re.lastIndex = index;
    const match = re.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * units[match[2]!]!;
    index = re.lastIndex;
  }
  return total;
}

/**
 * Formats milliseconds as a Go duration, e.g. `15s`, `1m30s`, `500ms`.
 *
 * @param ms Milliseconds.
 * @returns The Go duration text.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

/**
 * Applies upstream's defaults (spec §11.2) to what the file and flags set.
 *
 * @param input The decoded file with flag overrides.
 * @returns The effective configuration (a new object).
 */
export function defaultConfiguration(input: ConfigurationInput): Configuration {
  const le = input.leaderElection ?? {};
  const icm = input.internalCertManagement ?? {};
  const enable = icm.enable ?? true;
  const config: Configuration = {
    webhook: {
      port: input.webhook?.port ?? 9443,
      host: input.webhook?.host ?? "",
      certDir: input.webhook?.certDir || DEFAULT_CERT_DIR,
    },
    leaderElection: {
      leaderElect: le.leaderElect ?? true,
      leaseDurationMs: parseDuration(le.leaseDuration ?? "15s")!,
      renewDeadlineMs: parseDuration(le.renewDeadline ?? "10s")!,
      retryPeriodMs: parseDuration(le.retryPeriod ?? "2s")!,
      resourceLock: le.resourceLock || "leases",
      resourceName: le.resourceName || "b8b2488c.x-k8s.io",
      resourceNamespace: le.resourceNamespace ?? "",
    },
    metrics: { bindAddress: input.metrics?.bindAddress || ":8443" },
    health: {
      healthProbeBindAddress: input.health?.healthProbeBindAddress || ":8081",
      readinessEndpointName: input.health?.readinessEndpointName || "/readyz",
      livenessEndpointName: input.health?.livenessEndpointName || "/healthz",
    },
    internalCertManagement: enable
      ? {
        enable,
        webhookServiceName: icm.webhookServiceName || DEFAULT_WEBHOOK_SERVICE_NAME,
        webhookSecretName: icm.webhookSecretName || DEFAULT_WEBHOOK_SECRET_NAME,
      }
      : { enable, webhookServiceName: icm.webhookServiceName, webhookSecretName: icm.webhookSecretName },
    clientConnection: { qps: input.clientConnection?.qps ?? 500, burst: input.clientConnection?.burst ?? 500 },
  };
  if (input.gangSchedulingManagement !== undefined) {
    config.gangSchedulingManagement = { schedulerProvider: input.gangSchedulingManagement.schedulerProvider ?? "" };
  }
  if (input.tls !== undefined) config.tls = structuredClone(input.tls);
  if (input.controller?.groupKindConcurrency) {
    config.groupKindConcurrency = { ...input.controller.groupKindConcurrency };
  }
  return config;
}

/**
 * Validates the effective configuration like upstream (spec §11.2) plus the checks the process needs to start
 * (addresses, ports, lease timings, client limits).
 *
 * @param config The effective configuration.
 * @returns Field errors in upstream's rendering, e.g.
 *   `gangSchedulingManagement.schedulerProvider: Required value: must be set when gang scheduling is enabled`;
 *   empty when valid.
 */
export function validateConfiguration(config: Configuration): string[] {
  const errors: FieldError[] = [];
  const icm = config.internalCertManagement;
  if (icm.enable) {
    const service = icm.webhookServiceName ?? "";
    const serviceErrors = isDNS1035Label(service);
    if (serviceErrors.length > 0) {
      errors.push(invalid("internalCertManagement.webhookServiceName", service, serviceErrors.join(",")));
    }
    const secret = icm.webhookSecretName ?? "";
    const secretErrors = isDNS1123Subdomain(secret);
    if (secretErrors.length > 0) {
      errors.push(invalid("internalCertManagement.webhookSecretName", secret, secretErrors.join(",")));
    }
  }
  const gang = config.gangSchedulingManagement;
  if (gang !== undefined) {
    if (!gang.schedulerProvider) {
      errors.push(
        required("gangSchedulingManagement.schedulerProvider", "must be set when gang scheduling is enabled"),
      );
    } else if (!SCHEDULER_PROVIDERS.includes(gang.schedulerProvider)) {
      errors.push({
        type: "NotSupported",
        field: "gangSchedulingManagement.schedulerProvider",
        value: gang.schedulerProvider,
        detail: `supported values: ${SCHEDULER_PROVIDERS.map((p) => `"${p}"`).join(", ")}`,
      });
    }
  }
  const tls = config.tls;
  if (tls !== undefined) {
    if (
      tls.minVersion !== undefined && tls.minVersion !== "" &&
      !["VersionTLS12", "VersionTLS13"].includes(tls.minVersion)
    ) {
      errors.push(
        invalid("tls.minVersion", tls.minVersion, "invalid minVersion. Please use VersionTLS12 or VersionTLS13"),
      );
    }
    for (const [i, suite] of (tls.cipherSuites ?? []).entries()) {
      if (!TLS_CIPHER_SUITES.includes(suite)) {
        errors.push(invalid(`tls.cipherSuites[${i}]`, suite, "unknown cipher suite"));
      }
    }
    if (tls.minVersion === "VersionTLS13" && (tls.cipherSuites?.length ?? 0) > 0) {
      errors.push(
        invalid(
          "tls.cipherSuites",
          tls.cipherSuites,
          "cipher suites may not be specified when minVersion is 'VersionTLS13'",
        ),
      );
    }
  }
  const le = config.leaderElection;
  if (!RESOURCE_LOCKS.includes(le.resourceLock)) {
    errors.push({
      type: "NotSupported",
      field: "leaderElection.resourceLock",
      value: le.resourceLock,
      detail: `supported values: ${RESOURCE_LOCKS.map((p) => `"${p}"`).join(", ")}`,
    });
  }
  if (le.leaderElect) {
    if (!(le.retryPeriodMs > 0)) {
      errors.push(invalid("leaderElection.retryPeriod", formatDuration(le.retryPeriodMs), "must be greater than zero"));
    }
    if (!(le.leaseDurationMs > le.renewDeadlineMs)) {
      errors.push(
        invalid(
          "leaderElection.leaseDuration",
          formatDuration(le.leaseDurationMs),
          `must be greater than renewDeadline (${formatDuration(le.renewDeadlineMs)})`,
        ),
      );
    }
    if (!(le.renewDeadlineMs > 1.2 * le.retryPeriodMs)) {
      errors.push(
        invalid(
          "leaderElection.renewDeadline",
          formatDuration(le.renewDeadlineMs),
          `must be greater than 1.2 × retryPeriod (${formatDuration(le.retryPeriodMs)})`,
        ),
      );
    }
    if (le.resourceNamespace !== "" && isDNS1123Label(le.resourceNamespace).length > 0) {
      errors.push(
        invalid(
          "leaderElection.resourceNamespace",
          le.resourceNamespace,
          isDNS1123Label(le.resourceNamespace).join(","),
        ),
      );
    }
    if (isDNS1123Subdomain(le.resourceName).length > 0) {
      errors.push(
        invalid("leaderElection.resourceName", le.resourceName, isDNS1123Subdomain(le.resourceName).join(",")),
      );
    }
  }
  if (!(config.webhook.port >= 0 && config.webhook.port <= 65535)) {
    errors.push(invalid("webhook.port", config.webhook.port, "must be between 0 and 65535, inclusive"));
  }
  for (
    const [field, address] of [
      ["metrics.bindAddress", config.metrics.bindAddress],
      ["health.healthProbeBindAddress", config.health.healthProbeBindAddress],
    ] as const
  ) {
    const problem = bindAddressProblem(address);
    if (problem) errors.push(invalid(field, address, problem));
  }
  for (
    const [field, path] of [
      ["health.readinessEndpointName", config.health.readinessEndpointName],
      ["health.livenessEndpointName", config.health.livenessEndpointName],
    ] as const
  ) {
    if (!path.startsWith("/")) errors.push(invalid(field, path, "must start with /"));
  }
  if (config.health.readinessEndpointName === config.health.livenessEndpointName) {
    errors.push(
      invalid(
        "health.readinessEndpointName",
        config.health.readinessEndpointName,
        "must differ from livenessEndpointName",
      ),
    );
  }
  if (!(config.clientConnection.qps >= 0)) {
    errors.push(invalid("clientConnection.qps", config.clientConnection.qps, "must be greater than or equal to 0"));
  }
  if (!(config.clientConnection.burst >= 1)) {
    errors.push(invalid("clientConnection.burst", config.clientConnection.burst, "must be greater than or equal to 1"));
  }
  for (const [kind, n] of Object.entries(config.groupKindConcurrency ?? {})) {
    if (!(n >= 1)) {
      errors.push(invalid(`controller.groupKindConcurrency.${kind}`, n, "must be greater than or equal to 1"));
    }
  }
  return [...new Set(errors.map(renderFieldError))];
}

// ---------------------------------------------------------------------------------------------------------------
// Addresses

/** A parsed bind address. */
export interface BindAddress {
  /** Interface to bind (`0.0.0.0` for all). */
  hostname: string;
  /** Port; `0` picks a free one. */
  port: number;
}

/**
 * Parses a Go-style bind address: `host:port`, `:port` (all interfaces), `[::1]:port`, or `0` (disabled).
 *
 * @param address The address.
 * @returns The address, or `"disabled"` for `0`.
 * @throws {ConfigError} When it is not an address (use {@linkcode bindAddressProblem} to check first).
 */
export function parseBindAddress(address: string): BindAddress | "disabled" {
  const problem = bindAddressProblem(address);
  if (problem) throw new ConfigError(`Cannot use bind address ${JSON.stringify(address)}: ${problem}`);
  if (address === "0") return "disabled";
  const colon = address.lastIndexOf(":");
  let hostname = address.slice(0, colon);
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  return { hostname: hostname === "" ? "0.0.0.0" : hostname, port: Number(address.slice(colon + 1)) };
}

/**
 * Why a bind address is unusable.
 *
 * @param address The address.
 * @returns The problem, or `undefined` when it is valid.
 */
export function bindAddressProblem(address: string): string | undefined {
  if (address === "0") return undefined;
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(address);
  if (!match) return `must be host:port, :port or 0 (disabled)`;
  const port = Number(match[2]);
  if (port > 65535) return `port must be 0-65535, got ${port}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The `lws run` configuration

/** Certificate modes of the webhook (`--webhook-cert-mode`). */
export const WEBHOOK_CERT_MODES = ["local", "internal", "directory"] as const;
/** One of {@linkcode WEBHOOK_CERT_MODES}. */
export type WebhookCertMode = typeof WEBHOOK_CERT_MODES[number];

/** Where the binary runs: with a kubeconfig on a workstation, or in a pod with its service account. */
export type RunMode = "local" | "in-cluster";

/**
 * The options of `lws run` as the CLI parsed them. Every field is optional: `undefined` means "not given", so the
 * configuration file (or the default) applies.
 */
export interface RunFlags {
  /** `--config`: the configuration file. */
  config?: string;
  /** `--kubeconfig`. */
  kubeconfig?: string;
  /** `--context`. */
  context?: string;
  /** `--namespace`: the watch scope. */
  namespace?: string;
  /** `--kube-api-qps`. */
  kubeApiQps?: number;
  /** `--kube-api-burst`. */
  kubeApiBurst?: number;
  /** `--leader-elect` / `--no-leader-elect`. */
  leaderElect?: boolean;
  /** `--leader-elect-lease-duration` (Go duration). */
  leaderElectLeaseDuration?: string;
  /** `--leader-elect-renew-deadline` (Go duration). */
  leaderElectRenewDeadline?: string;
  /** `--leader-elect-retry-period` (Go duration). */
  leaderElectRetryPeriod?: string;
  /** `--leader-elect-resource-lock`. */
  leaderElectResourceLock?: string;
  /** `--leader-elect-resource-name`. */
  leaderElectResourceName?: string;
  /** `--leader-elect-resource-namespace`. */
  leaderElectResourceNamespace?: string;
  /** `--metrics-bind-address`. */
  metricsBindAddress?: string;
  /** `--metrics-secure`. */
  metricsSecure?: boolean;
  /** `--health-probe-bind-address`. */
  healthProbeBindAddress?: string;
  /** `--dashboard-bind-address`. */
  dashboardBindAddress?: string;
  /** `--webhook-port`. */
  webhookPort?: number;
  /** `--webhook-host`. */
  webhookHost?: string;
  /** `--webhook-cert-mode`. */
  webhookCertMode?: string;
  /** `false` for `--no-controllers`. */
  controllers?: boolean;
  /** `false` for `--no-webhook`. */
  webhook?: boolean;
  /** `false` for `--no-dashboard`. */
  dashboard?: boolean;
  /** `--concurrency`. */
  concurrency?: number;
  /** `--shutdown-timeout` (Go duration). */
  shutdownTimeout?: string;
  /** `--log-level` (or `--zap-log-level`). */
  logLevel?: string;
  /** `--log-format`. */
  logFormat?: string;
}

/** What `lws run` does, fully resolved except for the mode-dependent defaults. */
export interface Config {
  /** The effective upstream configuration (file + flags + defaults). */
  configuration: Configuration;
  /** The configuration file read, if any. */
  configFile?: string;
  /** `--kubeconfig`; undefined: `$KUBECONFIG`, in-cluster, `~/.kube/config` (controller-runtime's order). */
  kubeconfig?: string;
  /** `--context` of the kubeconfig. */
  context?: string;
  /** Watch scope: only this namespace; undefined: all namespaces. */
  namespace?: string;
  /** Run the LWS and pod controllers (behind leader election when enabled). */
  controllers: { enabled: boolean; concurrency?: number | { leaderWorkerSet?: number; pod?: number } };
  /**
   * Serve the admission webhooks (`--no-webhook` or `ENABLE_WEBHOOKS=false` turn them off). `certMode` overrides
   * where the certificate comes from (default: `local` with a kubeconfig; in-cluster `internal`, or `directory` when
   * `internalCertManagement.enable` is false).
   */
  webhook: { enabled: boolean; certMode?: WebhookCertMode };
  /** The dashboard; `bindAddress` undefined: the mode's default. */
  dashboard: { enabled: boolean; bindAddress?: string };
  /** `--metrics-secure` (default true): HTTPS with TokenReview + SubjectAccessReview; false: plain HTTP, no auth. */
  metricsSecure: boolean;
  /** Which addresses were given explicitly (file or flag), so the mode's defaults leave them alone. */
  explicit: { metrics: boolean; health: boolean; webhookHost: boolean };
  /** How long a graceful stop may take. */
  shutdownTimeoutMs: number;
  /** Logging. */
  log: { level: LogLevel; format: LogFormat };
  /** Things worth a log line at start-up (accepted but ignored settings). */
  notes: string[];
}

/** A {@linkcode Config} with the mode applied: everything `run.ts` needs, concrete. */
export interface EffectiveConfig extends Config {
  /** Local (kubeconfig) or in-cluster (service account). */
  mode: RunMode;
  /**
   * Operator namespace (lease, webhook secret): in-cluster the service-account namespace; local: see
   * {@linkcode applyModeDefaults}.
   */
  operatorNamespace: string;
  /** Where the dashboard listens (`disabled` when off). */
  dashboardAddress: BindAddress | "disabled";
  /** Where metrics are served (`disabled` when off). */
  metricsAddress: BindAddress | "disabled";
  /** Where health probes are served (`disabled` when off). */
  healthAddress: BindAddress | "disabled";
}

/** What {@linkcode resolveConfig} reads besides the flags; injectable for tests. */
export interface ConfigSources {
  /** Environment lookup (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
  /** File reader (default `Deno.readTextFile`). */
  readTextFile?: (path: string) => Promise<string>;
}

/**
 * Resolves the flags of `lws run`, the environment (`ENABLE_WEBHOOKS`) and the configuration file into a
 * {@linkcode Config}. Flags override the file only when given.
 *
 * @param flags What the CLI parsed.
 * @param sources Environment and file reader.
 * @returns The configuration (mode-dependent defaults still open; see {@linkcode applyModeDefaults}).
 * @throws {ConfigError} Naming the flag, variable or field that is wrong.
 * @example
 * const config = await resolveConfig({ config: "/controller_manager_config.yaml", kubeApiQps: 50 });
 */
export async function resolveConfig(flags: RunFlags, sources: ConfigSources = {}): Promise<Config> {
  const env = sources.env ?? ((name: string) => Deno.env.get(name));
  const readTextFile = sources.readTextFile ?? ((path: string) => Deno.readTextFile(path));

  let input: ConfigurationInput = {};
  if (flags.config) {
    let text: string;
    try {
      text = await readTextFile(flags.config);
    } catch (err) {
      throw new ConfigError(`Cannot read config file ${flags.config} (--config): ${(err as Error).message}`, {
        cause: err,
      });
    }
    input = decodeConfiguration(text, flags.config);
  }
  const explicit = {
    metrics: flags.metricsBindAddress !== undefined || !!input.metrics?.bindAddress,
    health: flags.healthProbeBindAddress !== undefined || !!input.health?.healthProbeBindAddress,
    webhookHost: flags.webhookHost !== undefined || input.webhook?.host !== undefined,
  };

  const durationFlag = (name: string, value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    if (parseDuration(value) === undefined) {
      throw new ConfigError(`Invalid value for --${name}: ${JSON.stringify(value)} is not a duration (e.g. 15s, 1m)`);
    }
    return value;
  };
  const le = { ...input.leaderElection };
  if (flags.leaderElect !== undefined) le.leaderElect = flags.leaderElect;
  const overrides: [keyof typeof le, string, string | undefined][] = [
    ["leaseDuration", "leader-elect-lease-duration", flags.leaderElectLeaseDuration],
    ["renewDeadline", "leader-elect-renew-deadline", flags.leaderElectRenewDeadline],
    ["retryPeriod", "leader-elect-retry-period", flags.leaderElectRetryPeriod],
  ];
  for (const [field, flag, value] of overrides) {
    const checked = durationFlag(flag, value);
    if (checked !== undefined) (le as Record<string, unknown>)[field] = checked;
  }
  if (flags.leaderElectResourceLock !== undefined) le.resourceLock = flags.leaderElectResourceLock;
  if (flags.leaderElectResourceName !== undefined) le.resourceName = flags.leaderElectResourceName;
  if (flags.leaderElectResourceNamespace !== undefined) le.resourceNamespace = flags.leaderElectResourceNamespace;
  input = {
    ...input,
    leaderElection: le,
    webhook: {
      ...input.webhook,
      ...(flags.webhookPort !== undefined ? { port: flags.webhookPort } : {}),
      ...(flags.webhookHost !== undefined ? { host: flags.webhookHost } : {}),
    },
    metrics: {
      ...input.metrics,
      ...(flags.metricsBindAddress !== undefined ? { bindAddress: flags.metricsBindAddress } : {}),
    },
    health: {
      ...input.health,
      ...(flags.healthProbeBindAddress !== undefined ? { healthProbeBindAddress: flags.healthProbeBindAddress } : {}),
    },
    clientConnection: {
      ...input.clientConnection,
      ...(flags.kubeApiQps !== undefined ? { qps: flags.kubeApiQps } : {}),
      ...(flags.kubeApiBurst !== undefined ? { burst: flags.kubeApiBurst } : {}),
    },
  };
  const configuration = defaultConfiguration(input);
  const notes: string[] = [];
  if (input.pprofBindAddress) {
    notes.push("pprofBindAddress is accepted for compatibility and ignored (no pprof in Deno)");
  }
  if (input.controller?.cacheSyncTimeout) notes.push("controller.cacheSyncTimeout is accepted and ignored");
  if (input.tls?.cipherSuites?.length) {
    notes.push("tls.cipherSuites is validated but not applied: the servers use the runtime's TLS 1.2+ suites");
  }
  if (input.tls?.minVersion === "VersionTLS13") {
    notes.push("tls.minVersion VersionTLS13 applies to the metrics server; the webhook server accepts TLS 1.2+");
  }
  const errors = validateConfiguration(configuration);
  if (errors.length > 0) {
    const where = flags.config ? `config file ${flags.config} with the flags given` : "the flags given";
    throw new ConfigError(`Invalid configuration (${where}): ${errors.join("; ")}`);
  }

  if (flags.dashboardBindAddress !== undefined) {
    const problem = bindAddressProblem(flags.dashboardBindAddress);
    if (problem) {
      throw new ConfigError(
        `Invalid value for --dashboard-bind-address: ${JSON.stringify(flags.dashboardBindAddress)}: ${problem}`,
      );
    }
  }
  if (flags.namespace !== undefined) {
    const problems = isDNS1123Label(flags.namespace);
    if (problems.length > 0) {
      throw new ConfigError(`Invalid value for --namespace: ${JSON.stringify(flags.namespace)}: ${problems.join(",")}`);
    }
  }

  // Upstream: any value but `false` leaves the webhooks on.
  const webhookEnabled = (flags.webhook ?? true) && env("ENABLE_WEBHOOKS") !== "false";
  const certMode = flags.webhookCertMode as WebhookCertMode | undefined;
  if (certMode !== undefined && !WEBHOOK_CERT_MODES.includes(certMode)) {
    throw new ConfigError(
      `Invalid value for --webhook-cert-mode: ${JSON.stringify(certMode)}: must be one of ${
        WEBHOOK_CERT_MODES.join(", ")
      }`,
    );
  }

  const shutdownTimeoutMs = flags.shutdownTimeout === undefined
    ? DEFAULT_SHUTDOWN_TIMEOUT_MS
    : parseDuration(durationFlag("shutdown-timeout", flags.shutdownTimeout)!)!;

  const logLevel = (flags.logLevel ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      `Invalid value for --log-level: ${JSON.stringify(flags.logLevel)}: must be one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  const logFormat = (flags.logFormat ?? "text") as LogFormat;
  if (!LOG_FORMATS.includes(logFormat)) {
    throw new ConfigError(
      `Invalid value for --log-format: ${JSON.stringify(flags.logFormat)}: must be one of ${LOG_FORMATS.join(", ")}`,
    );
  }

  let concurrency: Config["controllers"]["concurrency"] = flags.concurrency;
  if (concurrency === undefined && configuration.groupKindConcurrency) {
    const gkc = configuration.groupKindConcurrency;
    concurrency = { leaderWorkerSet: gkc["LeaderWorkerSet.leaderworkerset.x-k8s.io"], pod: gkc["Pod"] };
  }

  return {
    configuration,
    configFile: flags.config,
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    namespace: flags.namespace,
    controllers: { enabled: flags.controllers ?? true, concurrency },
    webhook: { enabled: webhookEnabled, certMode },
    dashboard: {
      enabled: (flags.dashboard ?? true) && flags.dashboardBindAddress !== "0",
      bindAddress: flags.dashboardBindAddress,
    },
    metricsSecure: flags.metricsSecure ?? true,
    explicit,
    shutdownTimeoutMs,
    log: { level: logLevel, format: logFormat },
    notes,
  };
}

/**
 * Fills in what depends on the mode:
 * - local (kubeconfig): servers bind to 127.0.0.1 unless an address was given (metrics `127.0.0.1:8443`, health
 *   `127.0.0.1:8081`, dashboard `127.0.0.1:8082`, webhook host `127.0.0.1`); the operator namespace is
 *   `leaderElection.resourceNamespace`, else the watch namespace (`--namespace`), else `lws-system`.
 * - in-cluster: upstream's addresses (`:8443`, `:8081`), dashboard `:8082`; the operator namespace is the
 *   service account's (`operatorNamespace`), and it always holds the lease, as upstream.
 *
 * @param config The resolved configuration.
 * @param mode Where the binary runs.
 * @param serviceAccountNamespace In-cluster: the content of the service-account namespace file, if readable.
 * @returns The effective configuration (a new object).
 */
export function applyModeDefaults(config: Config, mode: RunMode, serviceAccountNamespace?: string): EffectiveConfig {
  const local = mode === "local";
  const configuration = structuredClone(config.configuration);
  if (local && !config.explicit.metrics) configuration.metrics.bindAddress = "127.0.0.1:8443";
  if (local && !config.explicit.health) configuration.health.healthProbeBindAddress = "127.0.0.1:8081";
  if (local && !config.explicit.webhookHost) configuration.webhook.host = "127.0.0.1";
  const operatorNamespace = local
    ? configuration.leaderElection.resourceNamespace || config.namespace || DEFAULT_OPERATOR_NAMESPACE
    : serviceAccountNamespace?.trim() || DEFAULT_OPERATOR_NAMESPACE;
  const dashboardAddress = config.dashboard.enabled
    ? parseBindAddress(config.dashboard.bindAddress ?? (local ? "127.0.0.1" : "") + `:${DEFAULT_DASHBOARD_PORT}`)
    : "disabled";
  return {
    ...config,
    configuration,
    mode,
    operatorNamespace,
    dashboardAddress,
    metricsAddress: parseBindAddress(configuration.metrics.bindAddress),
    healthAddress: parseBindAddress(configuration.health.healthProbeBindAddress),
  };
}

/**
 * Reads the service-account namespace file (spec §11.1), trimmed.
 *
 * @param path The file (default {@linkcode SERVICE_ACCOUNT_NAMESPACE_FILE}).
 * @returns Its content, or `undefined` when it cannot be read.
 */
export async function readServiceAccountNamespace(path = SERVICE_ACCOUNT_NAMESPACE_FILE): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(path)).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The effective configuration as upstream's file would write it (logged at start-up, spec §11.2).
 *
 * @param config The effective configuration.
 * @returns A plain object in the file's shape (durations as Go durations).
 */
export function configurationForLog(config: Configuration): Record<string, unknown> {
  const { leaderElection: le, groupKindConcurrency, ...rest } = config;
  return {
    apiVersion: CONFIG_API_VERSION,
    kind: CONFIG_KIND,
    ...rest,
    leaderElection: {
      leaderElect: le.leaderElect,
      leaseDuration: formatDuration(le.leaseDurationMs),
      renewDeadline: formatDuration(le.renewDeadlineMs),
      retryPeriod: formatDuration(le.retryPeriodMs),
      resourceLock: le.resourceLock,
      resourceName: le.resourceName,
      resourceNamespace: le.resourceNamespace,
    },
    ...(groupKindConcurrency ? { controller: { groupKindConcurrency } } : {}),
  };
}
