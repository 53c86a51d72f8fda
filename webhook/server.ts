/**
 * The HTTPS server of the webhooks (spec §11.3): TLS with a PEM certificate and key, HTTP/1.1 only (ALPN offers
 * `http/1.1`, never `h2`), certificate hot-reload without dropping requests, stop by `AbortSignal`.
 *
 * Built on `node:https` (Deno's Node compatibility) rather than `Deno.serve`, for two reasons measured on Deno
 * 2.9.6: `Deno.serve` with TLS always offers `h2` by ALPN (upstream disables HTTP/2), and it cannot change its
 * certificate without a new listener, while `node:https` swaps it per handshake with `setSecureContext()` — new
 * connections get the new certificate, established ones finish undisturbed, and nothing is ever refused. (Also:
 * `Deno.serve` answered TLS HTTP/1.1 requests from Deno's own fetch in ~45 ms each against ~0.5 ms here.)
 *
 * The request handler is a fetch-style function (`app.fetch` of the Hono app); the adapter streams the request body
 * and buffers the (small) response.
 *
 * @module
 */
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { getLogger } from "@logtape/logtape";
import type { KeyPairPem } from "./certs.ts";

const log = getLogger(["lws", "webhook", "server"]);

/** A fetch-style request handler, e.g. `app.fetch` of the webhook app. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@linkcode startWebhookServer}. */
export interface WebhookServerOptions {
  /** The serving certificate and key (PEM; PKCS#1 or PKCS#8 keys). Replace it later with `setCertificate()`. */
  certificate: KeyPairPem;
  /** Port; `0` picks a free one (see `addr`). Upstream default 9443. */
  port: number;
  /** Interface to bind; default `0.0.0.0` (upstream's `webhook.host` `""` = all interfaces). */
  hostname?: string;
  /** Aborting it stops the server gracefully (like `shutdown()`). */
  signal?: AbortSignal;
  /** Time allowed for one whole request (headers and body), in ms; default 30 000. */
  requestTimeoutMs?: number;
  /** How long `shutdown()` waits for in-flight requests before cutting connections, in ms; default 10 000. */
  shutdownGraceMs?: number;
  /**
   * Lowest TLS version accepted (config `tls.minVersion`: `VersionTLS12` → `TLSv1.2`, `VersionTLS13` → `TLSv1.3`);
   * default `TLSv1.2`. Cipher suites cannot be chosen (the runtime's TLS stack decides).
   */
  minTlsVersion?: "TLSv1.2" | "TLSv1.3";
}

/** A running webhook server. */
export interface WebhookServer {
  /** Where it listens (the real port when `port` was 0). */
  readonly addr: { hostname: string; port: number };
  /** True while it is serving with a certificate (readiness); false before start and after shutdown. */
  readonly ready: boolean;
  /**
   * Replaces the certificate for every TLS handshake from now on; connections already established keep theirs.
   *
   * @throws {Error} When the certificate or key does not parse (the old one stays in use).
   */
  setCertificate(certificate: KeyPairPem): void;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes every connection. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/**
 * Starts the HTTPS server and resolves once it listens.
 *
 * @param handler The request handler (the webhook app's `fetch`).
 * @param options Certificate, address, signal, timeouts.
 * @returns The running server.
 * @throws {Error} When the certificate does not parse or the address cannot be bound.
 * @example
 * const server = await startWebhookServer(createWebhookApp().fetch, { certificate, port: 9443, signal });
 * certManager.onChange((pair) => server.setCertificate(pair));
 */
export async function startWebhookServer(handler: FetchHandler, options: WebhookServerOptions): Promise<WebhookServer> {
  assertUsable(options.certificate);
  const hostname = options.hostname ?? "0.0.0.0";
  const graceMs = options.shutdownGraceMs ?? 10_000;
  const server = https.createServer({
    cert: options.certificate.cert,
    key: options.certificate.key,
    ALPNProtocols: ["http/1.1"],
    minVersion: options.minTlsVersion ?? "TLSv1.2",
  }, (req, res) => void serveOne(handler, req, res));
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  server.headersTimeout = Math.min(server.requestTimeout, 10_000);
  server.on("tlsClientError", (err: Error) => log.debug("TLS handshake failed: {error}", { error: err.message }));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  let ready = true;
  let stopping: Promise<void> | undefined;
  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  log.info("Serving webhooks on https://{hostname}:{port}", { hostname, port });

  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      ready = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([closed, grace]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
      options.signal?.removeEventListener("abort", onAbort);
      log.info("Stopped serving webhooks on port {port}", { port });
      resolveFinished();
    })();
    return stopping;
  };
  const onAbort = () => void shutdown();
  if (options.signal?.aborted) await shutdown();
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  return {
    addr: { hostname, port },
    get ready() {
      return ready;
    },
    setCertificate(certificate) {
      assertUsable(certificate);
      server.setSecureContext({ cert: certificate.cert, key: certificate.key });
      log.info("Webhook serving certificate reloaded");
    },
    shutdown,
    finished,
  };
}

/**
 * The request body as a web stream, with back-pressure. Not `Readable.toWeb()`: in Deno 2.9 its adapter throws an
 * uncaught error (killing the process) when data arrives after the reader was cancelled — which is exactly what
 * happens when the app refuses an oversized chunked body. After a cancel the rest of the body is read and dropped.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Uint8Array) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 1) <= 0) req.pause();
      });
      req.on("end", () => {
        if (done) return;
        done = true;
        controller.close();
      });
      const fail = (err: unknown) => {
        if (done) return;
        done = true;
        controller.error(err instanceof Error ? err : new Error("request aborted"));
      };
      req.on("error", fail);
      req.on("close", () => fail(new Error("request aborted before its body was complete")));
    },
    pull() {
      req.resume();
    },
    cancel() {
      done = true;
      req.resume();
    },
  }, { highWaterMark: 256 * 1024, size: (chunk) => chunk.byteLength });
}

/** Throws unless the certificate parses and matches the key (`setSecureContext` would accept garbage silently). */
function assertUsable(certificate: KeyPairPem): void {
  let matches: boolean;
  try {
    matches = new X509Certificate(certificate.cert).checkPrivateKey(createPrivateKey(certificate.key));
  } catch (err) {
    throw new Error(`Cannot use certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!matches) throw new Error("Cannot use certificate: the key does not match the certificate");
}

async function serveOne(handler: FetchHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) { for (const v of value) headers.append(name, v); }
      else if (value !== undefined) headers.set(name, value);
    }
    const method = req.method ?? "GET";
    const hasBody = method !== "GET" && method !== "HEAD";
    const request = new Request(`https://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
      method,
      headers,
      body: hasBody ? bodyStream(req) : undefined,
      // @ts-ignore: `duplex` is required by fetch for streamed bodies but missing from the RequestInit type.
      duplex: "half",
    });
    const response = await handler(request);
    const body = new Uint8Array(await response.arrayBuffer());
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (outHeaders[name] = value));
    outHeaders["content-length"] = String(body.byteLength);
    // Answered before the whole body arrived (413, 408): the connection cannot be reused, say so to the client.
    if (hasBody && !req.complete) outHeaders["connection"] = "close";
    res.writeHead(response.status, outHeaders);
    res.end(body);
  } catch (err) {
    log.error("Webhook request failed: {error}", { error: err instanceof Error ? err.message : String(err) });
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
    res.end("internal error");
  }
}
