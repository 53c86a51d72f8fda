/**
 * Where the API server is and how to authenticate to it: kubeconfig files (client certificates, bearer tokens,
 * token files, basic auth, `exec` credential plugins) and in-cluster service-account auth.
 *
 * The result is a {@linkcode ClusterConfig}; `kube/client.ts` turns it into HTTP requests. Credentials that can
 * change (token files, exec plugins) are re-read or re-run behind {@linkcode Credentials}, and the client calls
 * `invalidate()` after a 401.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";
import { getLogger } from "@logtape/logtape";
import { type Clock, realClock } from "./clock.ts";

const log = getLogger(["lws", "kube", "kubeconfig"]);

/** The default in-cluster service-account directory. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** How often a token file (kubeconfig `tokenFile`, the service-account token) is re-read, like client-go. */
export const TOKEN_FILE_REREAD_MS = 60_000;

/** What one request authenticates with. All fields are optional (anonymous when empty). */
export interface AuthMaterial {
  /** Value of the `Authorization` header (`Bearer …` or `Basic …`). */
  authorization?: string;
  /** PEM client certificate (chain) for mutual TLS. */
  cert?: string;
  /** PEM private key of `cert`. */
  key?: string;
}

/**
 * The credentials of a cluster config. `get()` may read files or run an exec plugin, and caches; concurrent
 * calls share one refresh.
 */
export interface Credentials {
  /**
   * The material to use now.
   *
   * @throws {KubeConfigError} when a token file cannot be read or an exec plugin fails
   */
  get(signal?: AbortSignal): Promise<AuthMaterial>;
  /** Drops cached material so the next `get()` re-reads it (called after a 401). */
  invalidate(): void;
  /** `true` when `invalidate()` can yield different material, so a 401 is worth one retry. */
  readonly refreshable: boolean;
}

/** A resolved connection to one API server. */
export interface ClusterConfig {
  /** Base URL of the API server, without a trailing slash (e.g. `https://127.0.0.1:6443`). */
  server: string;
  /** The context's namespace (in-cluster: the pod's namespace), `default` when unset. */
  namespace: string;
  /** PEM certificates that verify the server; absent means the system roots. */
  caCerts?: string[];
  /** `insecure-skip-tls-verify`: do not verify the server certificate. */
  insecureSkipTLSVerify: boolean;
  /** `tls-server-name`: the name to verify the server certificate against (and send as SNI). */
  tlsServerName?: string;
  /** `proxy-url` of the cluster. */
  proxyUrl?: string;
  /** How requests authenticate. */
  credentials: Credentials;
  /** Where this came from, for logs: `kubeconfig /path (context "x")` or `in-cluster`. */
  source: string;
  /** The context used, when loaded from a kubeconfig. */
  context?: string;
}

/** A kubeconfig or in-cluster configuration could not be loaded; the message names the file and the field. */
export class KubeConfigError extends Error {
  /**
   * @param message what is wrong, naming the file and field
   * @param options the underlying error
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "KubeConfigError";
  }
}

/** Reads an environment variable; injectable for tests. */
export type EnvLookup = (name: string) => string | undefined;

const denoEnv: EnvLookup = (name) => Deno.env.get(name);

/** Options of {@linkcode loadKubeConfig}. */
export interface LoadKubeConfigOptions {
  /** Kubeconfig path (`--kubeconfig`). Default: the first entry of `$KUBECONFIG`, else `~/.kube/config`. */
  path?: string;
  /** Context to use (`--context`). Default: the file's `current-context`. */
  context?: string;
  /** Environment lookup (default `Deno.env.get`). */
  env?: EnvLookup;
  /** Clock for token-file re-reads and exec credential expiry (default the system clock). */
  clock?: Clock;
}

/**
 * The kubeconfig path that {@linkcode loadKubeConfig} would read: `path`, else the first non-empty entry of
 * `$KUBECONFIG`, else `$HOME/.kube/config`.
 *
 * @param path an explicit path (`--kubeconfig`)
 * @param env environment lookup
 * @returns the path, or `undefined` when none can be determined (no HOME either)
 */
export function kubeConfigPath(path: string | undefined, env: EnvLookup = denoEnv): string | undefined {
  if (path) return path;
  const fromEnv = (env("KUBECONFIG") ?? "").split(Deno.build.os === "windows" ? ";" : ":").find((p) => p !== "");
  if (fromEnv) return fromEnv;
  const home = env("HOME") ?? env("USERPROFILE");
  return home ? `${home}/.kube/config` : undefined;
}

// ---- kubeconfig file shapes (only what is read) ----

interface KubeConfigCluster {
  server?: string;
  "certificate-authority"?: string;
  "certificate-authority-data"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "tls-server-name"?: string;
  "proxy-url"?: string;
}
interface ExecEnvVar {
  name?: string;
  value?: string;
}
interface ExecConfig {
  apiVersion?: string;
  command?: string;
  args?: string[];
  env?: ExecEnvVar[] | null;
  provideClusterInfo?: boolean;
  interactiveMode?: string;
  installHint?: string;
}
interface KubeConfigUser {
  "client-certificate"?: string;
  "client-certificate-data"?: string;
  "client-key"?: string;
  "client-key-data"?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  "auth-provider"?: { name?: string };
}
interface KubeConfigContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

/**
 * Loads a kubeconfig file and resolves one context to a {@linkcode ClusterConfig}. Relative file paths in the
 * kubeconfig (certificates, keys, token files, an exec command containing a `/`) are resolved against the
 * kubeconfig's directory, like client-go.
 *
 * @param options path, context, env and clock
 * @returns the cluster config of the chosen context
 * @throws {KubeConfigError} naming the file and field when the file is missing or invalid, the context, cluster or
 *   user is not found, or a referenced certificate/key file cannot be read
 * @example
 * const config = await loadKubeConfig({ path: "/tmp/kubeconfig", context: "kind-lws" });
 */
export async function loadKubeConfig(options: LoadKubeConfigOptions = {}): Promise<ClusterConfig> {
  const env = options.env ?? denoEnv;
  const clock = options.clock ?? realClock;
  const file = kubeConfigPath(options.path, env);
  if (!file) throw new KubeConfigError("Cannot find a kubeconfig: no path given, KUBECONFIG and HOME are unset");
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (err) {
    throw new KubeConfigError(`Cannot read kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new KubeConfigError(`Cannot parse kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!isRecord(doc)) throw new KubeConfigError(`Cannot load kubeconfig ${file}: the file is not a YAML mapping`);
  const dir = dirname(file);
  const where = (field: string) => `kubeconfig ${file}: ${field}`;

  const contextName = options.context || stringField(doc["current-context"]);
  if (!contextName) {
    throw new KubeConfigError(`Cannot load ${where("current-context")} is not set and no context was given`);
  }
  const context = findNamed<KubeConfigContext>(doc, "contexts", "context", contextName, file);
  if (!context) {
    throw new KubeConfigError(
      `Cannot load ${where(`contexts`)} has no context named "${contextName}" (have: ${
        namesOf(doc, "contexts").join(", ") || "none"
      })`,
    );
  }
  const clusterName = stringField(context.cluster);
  if (!clusterName) {
    throw new KubeConfigError(`Cannot load ${where(`contexts[name=${contextName}].context.cluster`)} is empty`);
  }
  const cluster = findNamed<KubeConfigCluster>(doc, "clusters", "cluster", clusterName, file);
  if (!cluster) {
    throw new KubeConfigError(
      `Cannot load ${where("clusters")} has no cluster named "${clusterName}" (used by context "${contextName}")`,
    );
  }
  const clusterPath = `clusters[name=${clusterName}].cluster`;
  const server = stringField(cluster.server);
  if (!server) throw new KubeConfigError(`Cannot load ${where(`${clusterPath}.server`)} is empty`);

  const userName = stringField(context.user);
  let user: KubeConfigUser = {};
  if (userName) {
    const found = findNamed<KubeConfigUser>(doc, "users", "user", userName, file);
    if (!found) {
      throw new KubeConfigError(
        `Cannot load ${where("users")} has no user named "${userName}" (used by context "${contextName}")`,
      );
    }
    user = found;
  }
  const userPath = `users[name=${userName ?? ""}].user`;

  let caCerts: string[] | undefined;
  if (cluster["certificate-authority-data"]) {
    caCerts = [
      decodeBase64Field(cluster["certificate-authority-data"], where(`${clusterPath}.certificate-authority-data`)),
    ];
  } else if (cluster["certificate-authority"]) {
    caCerts = [
      await readField(
        resolvePath(dir, cluster["certificate-authority"]),
        where(`${clusterPath}.certificate-authority`),
      ),
    ];
  }

  const serverUrl = normaliseServer(server, where(`${clusterPath}.server`));
  const credentials = await credentialsFromUser(user, {
    dir,
    where: (field) => where(`${userPath}.${field}`),
    userName: userName ?? "",
    env,
    clock,
    cluster: {
      server: serverUrl,
      "certificate-authority-data": caCerts?.[0] ? base64(caCerts[0]) : undefined,
      "insecure-skip-tls-verify": cluster["insecure-skip-tls-verify"] === true,
      "tls-server-name": stringField(cluster["tls-server-name"]),
      "proxy-url": stringField(cluster["proxy-url"]),
    },
  });

  return {
    server: serverUrl,
    namespace: stringField(context.namespace) || "default",
    caCerts,
    insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"] === true,
    tlsServerName: stringField(cluster["tls-server-name"]),
    proxyUrl: stringField(cluster["proxy-url"]),
    credentials,
    source: `kubeconfig ${file} (context "${contextName}")`,
    context: contextName,
  };
}

/** Options of {@linkcode inClusterConfig}. */
export interface InClusterOptions {
  /** Environment lookup (default `Deno.env.get`); reads `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`. */
  env?: EnvLookup;
  /** Service-account directory holding `token`, `ca.crt`, `namespace` (default {@linkcode SERVICE_ACCOUNT_DIR}). */
  serviceAccountDir?: string;
  /** Clock for token re-reads. */
  clock?: Clock;
}

/**
 * The in-cluster configuration: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, the service-account
 * CA and token (the token is re-read every minute and after a 401, so projected-token rotation is picked up) and
 * the pod's namespace (`default` when the file is missing).
 *
 * @param options env, service-account directory and clock
 * @returns the cluster config
 * @throws {KubeConfigError} when the env vars are unset or the token / CA cannot be read
 */
export async function inClusterConfig(options: InClusterOptions = {}): Promise<ClusterConfig> {
  const env = options.env ?? denoEnv;
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env("KUBERNETES_SERVICE_HOST");
  const port = env("KUBERNETES_SERVICE_PORT");
  if (!host || !port) {
    throw new KubeConfigError(
      `Cannot load in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set, got "${
        host ?? ""
      }" and "${port ?? ""}"`,
    );
  }
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const ca = await readField(`${dir}/ca.crt`, "in-cluster config: service-account CA");
  const tokenPath = `${dir}/token`;
  // Fail early and clearly when the token is missing.
  await readField(tokenPath, "in-cluster config: service-account token");
  let namespace = "default";
  try {
    namespace = (await Deno.readTextFile(`${dir}/namespace`)).trim() || "default";
  } catch {
    // No namespace file: client-go falls back to "default" too.
  }
  return {
    server: `https://${hostPart}:${port}`,
    namespace,
    caCerts: [ca],
    insecureSkipTLSVerify: false,
    credentials: tokenFileCredentials(tokenPath, {
      clock: options.clock ?? realClock,
      where: "in-cluster config: service-account token",
    }),
    source: "in-cluster",
  };
}

/** Options of {@linkcode loadClusterConfig}. */
export interface LoadClusterConfigOptions extends LoadKubeConfigOptions, InClusterOptions {}

/**
 * Resolves the cluster config the way controller-runtime's `GetConfig` does: `--kubeconfig` (`options.path`), then
 * `$KUBECONFIG`, then in-cluster (when `KUBERNETES_SERVICE_HOST` is set), then `~/.kube/config`.
 *
 * @param options kubeconfig path, context, env, service-account directory, clock
 * @returns the cluster config
 * @throws {KubeConfigError} when nothing usable is found or the chosen source is invalid
 */
export async function loadClusterConfig(options: LoadClusterConfigOptions = {}): Promise<ClusterConfig> {
  const env = options.env ?? denoEnv;
  if (options.path || (env("KUBECONFIG") ?? "").trim() !== "") return await loadKubeConfig({ ...options, env });
  if (env("KUBERNETES_SERVICE_HOST")) return await inClusterConfig({ ...options, env });
  const path = kubeConfigPath(undefined, env);
  if (path && await exists(path)) return await loadKubeConfig({ ...options, path, env });
  throw new KubeConfigError(
    `Cannot find a cluster config: no --kubeconfig, KUBECONFIG unset, not in a cluster, and ${
      path ?? "~/.kube/config"
    } does not exist`,
  );
}

// ---- credentials ----

/** Static credentials (fixed token, basic auth, client certificate). */
export function staticCredentials(material: AuthMaterial): Credentials {
  const frozen = { ...material };
  return { get: () => Promise.resolve(frozen), invalidate: () => {}, refreshable: false };
}

/**
 * Bearer-token credentials read from a file, cached for {@linkcode TOKEN_FILE_REREAD_MS} and re-read after
 * `invalidate()`. When a re-read fails, the last good token is kept (and the failure logged).
 *
 * @param path the token file
 * @param options clock, extra material (client certificate) and a field description for errors
 */
export function tokenFileCredentials(
  path: string,
  options: { clock?: Clock; base?: AuthMaterial; where?: string; fallbackToken?: string } = {},
): Credentials {
  const clock = options.clock ?? realClock;
  const where = options.where ?? `token file ${path}`;
  let token: string | undefined;
  let readAt = -Infinity;
  let inflight: Promise<AuthMaterial> | undefined;
  const material = (): AuthMaterial => ({ ...options.base, authorization: `Bearer ${token}` });
  return {
    refreshable: true,
    invalidate() {
      readAt = -Infinity;
    },
    get() {
      if (token !== undefined && clock.now() - readAt < TOKEN_FILE_REREAD_MS) return Promise.resolve(material());
      inflight ??= (async () => {
        try {
          const text = (await Deno.readTextFile(path)).trim();
          if (text === "") throw new Error("the file is empty");
          token = text;
          readAt = clock.now();
        } catch (err) {
          if (token !== undefined) {
            log.warn("Cannot re-read token file {path}, keeping the previous token: {error}", {
              path,
              error: (err as Error).message,
            });
            readAt = clock.now();
          } else if (options.fallbackToken) {
            token = options.fallbackToken;
            readAt = clock.now();
          } else {
            throw new KubeConfigError(`Cannot read ${where} (${path}): ${(err as Error).message}`, { cause: err });
          }
        } finally {
          inflight = undefined;
        }
        return material();
      })();
      return inflight;
    },
  };
}

/** The `ExecCredential` an exec plugin prints (client.authentication.k8s.io/v1 or v1beta1). */
interface ExecCredential {
  apiVersion?: string;
  kind?: string;
  status?: {
    token?: string;
    clientCertificateData?: string;
    clientKeyData?: string;
    expirationTimestamp?: string;
  };
}

const EXEC_API_VERSIONS = new Set(["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]);

/** Options of {@linkcode execCredentials}. */
export interface ExecCredentialsOptions {
  /** Directory a relative command (one containing `/`) is resolved against: the kubeconfig's directory. */
  dir: string;
  /** Names the kubeconfig field in errors, e.g. `kubeconfig /x: users[name=u].user.exec`. */
  where: string;
  /** Environment of this process, merged under the plugin's `env`. */
  env?: Record<string, string>;
  /** The cluster, passed in `KUBERNETES_EXEC_INFO` when `provideClusterInfo` is set. */
  cluster?: Record<string, unknown>;
  /** Clock for `expirationTimestamp`. */
  clock?: Clock;
}

/**
 * Credentials from an `exec` credential plugin. The command runs with its args and env (plus
 * `KUBERNETES_EXEC_INFO`), without a terminal; its `ExecCredential` is cached until `expirationTimestamp` (forever
 * when absent) and the plugin runs again after `invalidate()` (a 401). Concurrent `get()` calls share one run.
 *
 * @param exec the kubeconfig `exec` stanza
 * @param options directory, field description, env, cluster info, clock
 * @returns the credentials
 * @throws {KubeConfigError} (from `get()`) when the plugin cannot start, exits non-zero, or prints an invalid
 *   ExecCredential
 */
export function execCredentials(exec: ExecConfig, options: ExecCredentialsOptions): Credentials {
  const clock = options.clock ?? realClock;
  const apiVersion = exec.apiVersion ?? "";
  if (!EXEC_API_VERSIONS.has(apiVersion)) {
    throw new KubeConfigError(
      `Cannot use ${options.where}.apiVersion: must be client.authentication.k8s.io/v1 or v1beta1, got "${apiVersion}"`,
    );
  }
  if (!exec.command) throw new KubeConfigError(`Cannot use ${options.where}.command: it is empty`);
  if (apiVersion.endsWith("/v1") && !exec.interactiveMode) {
    throw new KubeConfigError(`Cannot use ${options.where}.interactiveMode: it is required for ${apiVersion}`);
  }
  if (exec.interactiveMode === "Always") {
    throw new KubeConfigError(
      `Cannot use ${options.where}.interactiveMode: "Always" needs a terminal, and the controller has none`,
    );
  }
  const command = exec.command.includes("/") ? resolvePath(options.dir, exec.command) : exec.command;
  let cached: { material: AuthMaterial; expiresAt: number } | undefined;
  let inflight: Promise<AuthMaterial> | undefined;

  const run = async (): Promise<AuthMaterial> => {
    const info: Record<string, unknown> = {
      kind: "ExecCredential",
      apiVersion,
      spec: { interactive: false, ...(exec.provideClusterInfo && options.cluster ? { cluster: options.cluster } : {}) },
    };
    const env: Record<string, string> = { ...options.env };
    for (const [i, e] of (exec.env ?? []).entries()) {
      if (!e?.name) throw new KubeConfigError(`Cannot use ${options.where}.env[${i}].name: it is empty`);
      env[e.name] = e.value ?? "";
    }
    env.KUBERNETES_EXEC_INFO = JSON.stringify(info);
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command(command, {
        args: exec.args ?? [],
        env,
        clearEnv: options.env !== undefined,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (err) {
      const hint = exec.installHint ? ` (${exec.installHint.trim()})` : "";
      throw new KubeConfigError(
        `Cannot run ${options.where}.command "${command}": ${(err as Error).message}${hint}`,
        { cause: err },
      );
    }
    const stderr = new TextDecoder().decode(output.stderr).trim();
    if (!output.success) {
      throw new KubeConfigError(
        `Cannot get credentials from ${options.where}.command "${command}": exit code ${output.code}${
          stderr ? `: ${stderr.slice(0, 1000)}` : ""
        }`,
      );
    }
    let cred: ExecCredential;
    try {
      cred = JSON.parse(new TextDecoder().decode(output.stdout)) as ExecCredential;
    } catch (err) {
      throw new KubeConfigError(
        `Cannot parse the output of ${options.where}.command "${command}" as an ExecCredential: ${
          (err as Error).message
        }`,
        { cause: err },
      );
    }
    if (cred.kind !== "ExecCredential" || cred.apiVersion !== apiVersion) {
      throw new KubeConfigError(
        `Cannot use the output of ${options.where}.command "${command}": want kind ExecCredential, apiVersion ${apiVersion}, got kind "${
          cred.kind ?? ""
        }", apiVersion "${cred.apiVersion ?? ""}"`,
      );
    }
    const status = cred.status ?? {};
    const material: AuthMaterial = {};
    if (status.token) material.authorization = `Bearer ${status.token}`;
    if (status.clientCertificateData || status.clientKeyData) {
      if (!status.clientCertificateData || !status.clientKeyData) {
        throw new KubeConfigError(
          `Cannot use the output of ${options.where}.command "${command}": status.clientCertificateData and status.clientKeyData must both be set`,
        );
      }
      material.cert = status.clientCertificateData;
      material.key = status.clientKeyData;
    }
    if (!material.authorization && !material.cert) {
      throw new KubeConfigError(
        `Cannot use the output of ${options.where}.command "${command}": status has neither token nor client certificate`,
      );
    }
    let expiresAt = Infinity;
    if (status.expirationTimestamp) {
      const t = Date.parse(status.expirationTimestamp);
      if (Number.isNaN(t)) {
        throw new KubeConfigError(
          `Cannot use the output of ${options.where}.command "${command}": status.expirationTimestamp is not a time, got "${status.expirationTimestamp}"`,
        );
      }
      expiresAt = t;
    }
    cached = { material, expiresAt };
    return material;
  };

  return {
    refreshable: true,
    invalidate() {
      cached = undefined;
    },
    get() {
      if (cached && clock.now() < cached.expiresAt) return Promise.resolve(cached.material);
      inflight ??= run().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}

async function credentialsFromUser(
  user: KubeConfigUser,
  ctx: {
    dir: string;
    where: (field: string) => string;
    userName: string;
    env: EnvLookup;
    clock: Clock;
    cluster: Record<string, unknown>;
  },
): Promise<Credentials> {
  if (user["auth-provider"]) {
    throw new KubeConfigError(
      `Cannot use ${ctx.where("auth-provider")}: auth providers ("${
        user["auth-provider"].name ?? ""
      }") are not supported, use an exec credential plugin`,
    );
  }
  const base: AuthMaterial = {};
  if (user["client-certificate-data"]) {
    base.cert = decodeBase64Field(user["client-certificate-data"], ctx.where("client-certificate-data"));
  } else if (user["client-certificate"]) {
    base.cert = await readField(resolvePath(ctx.dir, user["client-certificate"]), ctx.where("client-certificate"));
  }
  if (user["client-key-data"]) {
    base.key = decodeBase64Field(user["client-key-data"], ctx.where("client-key-data"));
  } else if (user["client-key"]) {
    base.key = await readField(resolvePath(ctx.dir, user["client-key"]), ctx.where("client-key"));
  }
  if (base.cert && !base.key) {
    throw new KubeConfigError(`Cannot use ${ctx.where("client-key")}: a client certificate is set but no key`);
  }
  if (base.key && !base.cert) {
    throw new KubeConfigError(`Cannot use ${ctx.where("client-certificate")}: a client key is set but no certificate`);
  }

  if (user.exec) {
    const exec = execCredentials(user.exec, {
      dir: ctx.dir,
      where: ctx.where("exec"),
      cluster: ctx.cluster,
      clock: ctx.clock,
    });
    if (!base.cert) return exec;
    return {
      refreshable: true,
      invalidate: () => exec.invalidate(),
      get: async (signal) => ({ ...base, ...(await exec.get(signal)) }),
    };
  }
  if (user.tokenFile) {
    return tokenFileCredentials(resolvePath(ctx.dir, user.tokenFile), {
      clock: ctx.clock,
      base,
      where: ctx.where("tokenFile"),
      fallbackToken: user.token,
    });
  }
  if (user.token) return staticCredentials({ ...base, authorization: `Bearer ${user.token}` });
  if (user.username !== undefined || user.password !== undefined) {
    const basic = base64(`${user.username ?? ""}:${user.password ?? ""}`);
    return staticCredentials({ ...base, authorization: `Basic ${basic}` });
  }
  return staticCredentials(base);
}

// ---- helpers ----

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringField(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function namesOf(doc: Record<string, unknown>, listKey: string): string[] {
  const list = doc[listKey];
  return Array.isArray(list) ? list.filter(isRecord).map((e) => String(e.name ?? "")) : [];
}

function findNamed<T>(
  doc: Record<string, unknown>,
  listKey: string,
  itemKey: string,
  name: string,
  file: string,
): T | undefined {
  const list = doc[listKey];
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) throw new KubeConfigError(`Cannot load kubeconfig ${file}: ${listKey} is not a list`);
  const entry = list.find((e): e is Record<string, unknown> => isRecord(e) && e.name === name);
  if (!entry) return undefined;
  const value = entry[itemKey];
  if (value === undefined || value === null) return {} as T;
  if (!isRecord(value)) {
    throw new KubeConfigError(`Cannot load kubeconfig ${file}: ${listKey}[name=${name}].${itemKey} is not a mapping`);
  }
  return value as T;
}

function base64(text: string): string {
  return btoa(Array.from(new TextEncoder().encode(text), (b) => String.fromCharCode(b)).join(""));
}

function decodeBase64Field(value: string, where: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(value.replace(/\s+/g, "")), (c) => c.charCodeAt(0)));
  } catch (err) {
    throw new KubeConfigError(`Cannot decode ${where}: not valid base64`, { cause: err });
  }
}

async function readField(path: string, where: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new KubeConfigError(`Cannot read ${where} (${path}): ${(err as Error).message}`, { cause: err });
  }
}

function normaliseServer(server: string, where: string): string {
  let url: URL;
  try {
    url = new URL(server.includes("://") ? server : `https://${server}`);
  } catch (err) {
    throw new KubeConfigError(`Cannot use ${where}: not a URL, got "${server}"`, { cause: err });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeConfigError(`Cannot use ${where}: scheme must be https or http, got "${url.protocol}"`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

function resolvePath(dir: string, path: string): string {
  if (path.startsWith("/")) return path;
  return `${dir}/${path}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
