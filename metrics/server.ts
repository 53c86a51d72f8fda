/**
 * The metrics endpoint, served like controller-runtime's secure metrics server (spec §11.3): HTTPS on
 * `metrics.bindAddress` (`:8443`), path `/metrics`, Prometheus text format, HTTP/1.1 only; every request is
 * authenticated with a TokenReview of its bearer token and authorised with a SubjectAccessReview for the
 * non-resource URL `/metrics`, verb `get` (401 / 403 otherwise). The certificate is `tls.crt`/`tls.key` from
 * `/tmp/k8s-metrics-server/serving-certs` when both exist (re-read when they change), else an in-memory
 * self-signed one for `localhost`/`127.0.0.1`.
 *
 * `--metrics-secure=false` serves plain HTTP without authentication (kubebuilder's flag), for local use.
 *
 * @module
 */
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { getLogger } from "@logtape/logtape";
import { Hono } from "hono";
import type { Registry } from "prom-client";
import type { BindAddress } from "../config.ts";
import { type Clock, realClock } from "../kube/clock.ts";
import type { KubeClient } from "../kube/client.ts";
import type { ResourceType } from "../kube/types.ts";
import {
  generateCertificateAuthority,
  generateServingCertificate,
  type KeyPairPem,
  localIdentity,
} from "../webhook/certs.ts";

/** The logger upstream's e2e greps (`controller-runtime.metrics\tServing metrics server`). */
const metricsLog = getLogger(["controller-runtime", "metrics"]);
const log = getLogger(["lws", "metrics"]);

/** authentication.k8s.io/v1 TokenReview (create only). */
export const TOKEN_REVIEWS: ResourceType = {
  group: "authentication.k8s.io",
  version: "v1",
  kind: "TokenReview",
  plural: "tokenreviews",
  namespaced: false,
};
/** authorization.k8s.io/v1 SubjectAccessReview (create only). */
export const SUBJECT_ACCESS_REVIEWS: ResourceType = {
  group: "authorization.k8s.io",
  version: "v1",
  kind: "SubjectAccessReview",
  plural: "subjectaccessreviews",
  namespaced: false,
};

/** The answer for one bearer token. */
export type AccessDecision = "allowed" | "unauthenticated" | "forbidden";

/** Decides whether a bearer token may `get /metrics`. */
export type MetricsAuthorizer = (token: string, signal?: AbortSignal) => Promise<AccessDecision>;

interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
}

/**
 * An authorizer asking the API server: TokenReview, then SubjectAccessReview (`get` on `/metrics`). Decisions are
 * cached per token for `ttlMs` (default 60 s; at most 1024 tokens), so a Prometheus scraping every few seconds
 * costs two API calls a minute. RBAC: `create` on `tokenreviews` and `subjectaccessreviews` (ClusterRole
 * `lws-proxy-role`).
 *
 * @param client API client with `create`.
 * @param options Cache lifetime and clock.
 * @returns The authorizer.
 */
export function tokenReviewAuthorizer(
  client: Pick<KubeClient, "create">,
  options: { ttlMs?: number; clock?: Clock } = {},
): MetricsAuthorizer {
  const ttlMs = options.ttlMs ?? 60_000;
  const clock = options.clock ?? realClock;
  const cache = new Map<string, { decision: AccessDecision; until: number }>();
  return async (token, signal) => {
    const key = await sha256(token);
    const hit = cache.get(key);
    if (hit && hit.until > clock.now()) return hit.decision;
    const review = await client.create<{ apiVersion: string; kind: string; status?: TokenReviewStatus }>(
      TOKEN_REVIEWS,
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } } as never,
      { signal },
    );
    let decision: AccessDecision;
    const user = review.status?.user;
    if (!review.status?.authenticated || !user) {
      decision = "unauthenticated";
    } else {
      const sar = await client.create<{ apiVersion: string; kind: string; status?: { allowed?: boolean } }>(
        SUBJECT_ACCESS_REVIEWS,
        {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            nonResourceAttributes: { path: "/metrics", verb: "get" },
          },
        } as never,
        { signal },
      );
      decision = sar.status?.allowed ? "allowed" : "forbidden";
    }
    if (cache.size >= 1024) cache.clear();
    cache.set(key, { decision, until: clock.now() + ttlMs });
    return decision;
  };
}

async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The metrics app: `GET /metrics` renders the registry; with an authorizer, a bearer token is required (401
 * without or with an invalid one, 403 when not allowed, 500 when the API server cannot be asked).
 *
 * @param registry The registry to render.
 * @param authorize The authorizer; absent: no authentication.
 * @returns A Hono app (test it with `app.request()`).
 */
export function createMetricsApp(registry: Registry, authorize?: MetricsAuthorizer): Hono {
  const app = new Hono();
  app.get("/metrics", async (c) => {
    if (authorize) {
      const header = c.req.header("authorization") ?? "";
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) return c.text("Unauthorized", 401);
      let decision: AccessDecision;
      try {
        decision = await authorize(match[1]!, c.req.raw.signal);
      } catch (err) {
        log.error("Cannot authorize a metrics request: {error}", { error: err });
        return c.text("Authorization failed", 500);
      }
      if (decision === "unauthenticated") return c.text("Unauthorized", 401);
      if (decision === "forbidden") return c.text("Forbidden", 403);
    }
    return c.body(await registry.metrics(), 200, { "content-type": registry.contentType });
  });
  app.notFound((c) => c.text("Not found", 404));
  return app;
}

/** Options of {@linkcode startMetricsServer}. */
export interface MetricsServerOptions {
  /** What `/metrics` renders. */
  registry: Registry;
  /** Where to listen. */
  address: BindAddress;
  /** HTTPS with TokenReview/SubjectAccessReview (default) or plain HTTP without authentication. */
  secure: boolean;
  /** Required when `secure`: asks the API server about tokens. */
  authorize?: MetricsAuthorizer;
  /** Directory of `tls.crt`/`tls.key` (default `/tmp/k8s-metrics-server/serving-certs`). */
  certDir?: string;
  /** How often the certificate files are checked for changes; default 60 s. */
  certCheckIntervalMs?: number;
  /** Stops the server. */
  signal: AbortSignal;
  /** Clock for the self-signed certificate and the file checks. */
  clock?: Clock;
  /** `tls.minVersion` of the configuration (`VersionTLS12`, default, or `VersionTLS13`). */
  tlsMinVersion?: string;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The bound address (the real port when 0 was asked). */
  readonly addr: { hostname: string; port: number };
  /** `https://host:port/metrics` (or `http://`). */
  readonly url: string;
  /** Resolves when the server stopped after the signal aborted. */
  readonly finished: Promise<void>;
}

/**
 * Starts the metrics server and logs `Serving metrics server` on the `controller-runtime.metrics` logger.
 *
 * @param options Registry, address, security, signal.
 * @returns Once listening.
 * @throws When the address cannot be bound or `secure` is set without `authorize`.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { hostname, port } = options.address;
  const display = `${hostname.includes(":") ? `[${hostname}]` : hostname}`;
  if (!options.secure) {
    const app = createMetricsApp(options.registry);
    const server = Deno.serve({ hostname, port, signal: options.signal, onListen: () => {} }, app.fetch);
    const url = `http://${display}:${server.addr.port}/metrics`;
    metricsLog.info("Serving metrics server", { bindAddress: `${hostname}:${server.addr.port}`, secure: false });
    return { addr: { hostname, port: server.addr.port }, url, finished: server.finished };
  }
  if (!options.authorize) throw new Error("Cannot serve secure metrics without an authorizer");
  const clock = options.clock ?? realClock;
  const certDir = options.certDir ?? "/tmp/k8s-metrics-server/serving-certs";
  const files = await readCertificateFiles(certDir);
  const certificate = files?.pair ?? await selfSigned(clock.now());
  if (!files) log.info("No metrics certificate in {certDir}: serving a self-signed one for localhost", { certDir });

  const app = createMetricsApp(options.registry, options.authorize);
  const server = https.createServer({
    cert: certificate.cert,
    key: certificate.key,
    ALPNProtocols: ["http/1.1"],
    minVersion: options.tlsMinVersion === "VersionTLS13" ? "TLSv1.3" : "TLSv1.2",
  }, (req, res) => void serveOne(app.fetch, req, res));
  server.requestTimeout = 30_000;
  server.on(
    "tlsClientError",
    (err: Error) => log.debug("Metrics TLS handshake failed: {error}", { error: err.message }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;
  metricsLog.info("Serving metrics server", { bindAddress: `${hostname}:${bound}`, secure: true });

  // Follow cert-manager's rotations of the mounted files.
  let lastStamp = files?.stamp;
  const watching = (async () => {
    if (!files) return;
    while (await clock.sleep(options.certCheckIntervalMs ?? 60_000, options.signal)) {
      const next = await readCertificateFiles(certDir);
      if (next && next.stamp !== lastStamp) {
        try {
          server.setSecureContext({ cert: next.pair.cert, key: next.pair.key });
          lastStamp = next.stamp;
          log.info("Metrics serving certificate reloaded from {certDir}", { certDir });
        } catch (err) {
          log.error("Cannot reload the metrics certificate: {error}", { error: err });
        }
      }
    }
  })();
  const finished = new Promise<void>((resolve) => {
    const stop = async () => {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      await watching;
      resolve();
    };
    if (options.signal.aborted) void stop();
    else options.signal.addEventListener("abort", () => void stop(), { once: true });
  });
  return { addr: { hostname, port: bound }, url: `https://${display}:${bound}/metrics`, finished };
}

async function readCertificateFiles(dir: string): Promise<{ pair: KeyPairPem; stamp: string } | undefined> {
  try {
    const [certStat, keyStat] = await Promise.all([Deno.stat(join(dir, "tls.crt")), Deno.stat(join(dir, "tls.key"))]);
    const pair = {
      cert: await Deno.readTextFile(join(dir, "tls.crt")),
      key: await Deno.readTextFile(join(dir, "tls.key")),
    };
    return { pair, stamp: `${certStat.mtime?.getTime()}/${keyStat.mtime?.getTime()}/${pair.cert.length}` };
  } catch {
    return undefined;
  }
}

async function selfSigned(now: number): Promise<KeyPairPem> {
  const ca = await generateCertificateAuthority(now);
  const serving = await generateServingCertificate(ca, localIdentity(), now);
  return { cert: serving.cert + ca.cert, key: serving.key };
}

/** Adapts one node request to a fetch handler (GET requests with small responses only). */
async function serveOne(
  handler: (request: Request) => Response | Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) { for (const v of value) headers.append(name, v); }
      else if (value !== undefined) headers.set(name, value);
    }
    // Bodies are never read (GET only): drain whatever arrives.
    req.resume();
    const response = await handler(
      new Request(`https://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, { method: req.method, headers }),
    );
    const body = new Uint8Array(await response.arrayBuffer());
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => (out[name] = value));
    out["content-length"] = String(body.byteLength);
    res.writeHead(response.status, out);
    res.end(body);
  } catch (err) {
    log.error("Metrics request failed: {error}", { error: err });
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("internal error");
  }
}
