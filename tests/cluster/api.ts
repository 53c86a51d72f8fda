/**
 * The little HTTP the harness needs of its own: kubeconfig files (write ours, read any with embedded or file
 * credentials) and one-shot requests over mutual TLS with Deno's fetch. Each request makes and closes its own
 * HTTP client and reads the whole body, so nothing outlives the call (test sanitizers stay quiet).
 *
 * @module
 */
import { dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";

/** Everything needed to talk to an API server with a client certificate. PEM contents, not paths. */
export interface Credentials {
  caCert: string;
  clientCert: string;
  clientKey: string;
}

/** A kubeconfig reduced to its current context. */
export interface KubeconfigTarget {
  server: string;
  credentials: Credentials;
}

/**
 * Writes a kubeconfig with one cluster, user and context (`lws-test`), credentials embedded as base64 data, so
 * the file works wherever it is copied.
 *
 * @param path where to write it
 * @param target server URL and PEM credentials
 */
export async function writeKubeconfig(path: string, target: KubeconfigTarget): Promise<void> {
  const b64 = (pem: string) => btoa(pem);
  const text = `apiVersion: v1
kind: Config
clusters:
- name: lws-test
  cluster:
    server: ${target.server}
    certificate-authority-data: ${b64(target.credentials.caCert)}
users:
- name: lws-test-admin
  user:
    client-certificate-data: ${b64(target.credentials.clientCert)}
    client-key-data: ${b64(target.credentials.clientKey)}
contexts:
- name: lws-test
  context:
    cluster: lws-test
    user: lws-test-admin
current-context: lws-test
`;
  await Deno.writeTextFile(path, text, { mode: 0o600 });
}

interface RawKubeconfig {
  "current-context"?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: Record<string, string | undefined> }[];
  users?: { name: string; user: Record<string, string | undefined> }[];
}

/**
 * Reads the current context of a kubeconfig that authenticates with a client certificate.
 *
 * @param path the kubeconfig file
 * @returns server URL and PEM credentials
 * @throws when the file is missing, has no current context, or does not use client-certificate auth
 */
export async function readKubeconfig(path: string): Promise<KubeconfigTarget> {
  const raw = parse(await Deno.readTextFile(path)) as RawKubeconfig;
  const contextName = raw["current-context"];
  const context = raw.contexts?.find((c) => c.name === contextName)?.context;
  const cluster = raw.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = raw.users?.find((u) => u.name === context?.user)?.user;
  if (!context || !cluster?.server || !user) {
    throw new Error(`Cannot use kubeconfig ${path}: no complete current context, got ${JSON.stringify(contextName)}`);
  }
  const base = dirname(path);
  const pem = async (field: string): Promise<string> => {
    const source = field.startsWith("certificate-authority") ? cluster : user;
    const data = source[`${field}-data`];
    if (data) return atob(data);
    const file = source[field];
    if (file) return await Deno.readTextFile(isAbsolute(file) ? file : join(base, file));
    throw new Error(`Cannot use kubeconfig ${path}: the current context has no ${field}(-data)`);
  };
  return {
    server: cluster.server,
    credentials: {
      caCert: await pem("certificate-authority"),
      clientCert: await pem("client-certificate"),
      clientKey: await pem("client-key"),
    },
  };
}

/** The outcome of {@linkcode request}: status and the whole body as text. */
export interface ApiResponse {
  status: number;
  body: string;
}

/**
 * Makes one HTTPS request with a client certificate and reads the whole response.
 *
 * @param url full URL (`https://127.0.0.1:6443/readyz`)
 * @param credentials CA and client certificate; `clientCert`/`clientKey` may be empty for servers that need none
 * @param options `method`; `body`: a string is sent as is, anything else as JSON; `contentType` (default
 *   `application/json`); `timeoutMs` (default 10 s)
 * @returns status and body
 * @throws on connection errors and timeouts
 */
export async function request(
  url: string,
  credentials: Credentials,
  options: { method?: string; body?: unknown; contentType?: string; timeoutMs?: number } = {},
): Promise<ApiResponse> {
  const client = Deno.createHttpClient({
    caCerts: [credentials.caCert],
    ...(credentials.clientCert ? { cert: credentials.clientCert, key: credentials.clientKey } : {}),
  });
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new Error(`timed out after ${options.timeoutMs ?? 10_000} ms`)),
    options.timeoutMs ?? 10_000,
  );
  try {
    // Deno's fetch takes a `client`; the DOM typing of RequestInit does not know it.
    const init: RequestInit & { client: Deno.HttpClient } = {
      client,
      method: options.method ?? "GET",
      signal: abort.signal,
      headers: options.body === undefined ? {} : { "content-type": options.contentType ?? "application/json" },
      body: options.body === undefined || typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body),
    };
    const response = await fetch(url, init);
    return { status: response.status, body: await response.text() };
  } finally {
    clearTimeout(timer);
    client.close();
  }
}
