/**
 * The LWS dashboard as one Hono app: pages (`/`, `/lws/:ns/:name`), the JSON + SSE API (`/api/`) and the embedded
 * assets (`/static/`), each an area of its own mounted with `app.route()`. It reads only the
 * {@linkcode DashboardSource} (the controller's cache): a page view costs no API server traffic.
 *
 * Read-only (GET and HEAD only), every response carries a strict CSP without external origins and the usual
 * hardening headers, and {@linkcode serveDashboard} binds to 127.0.0.1 by default and then only answers requests
 * addressed to a loopback host name (a guard against DNS rebinding).
 *
 * @example
 * const app = createDashboardApp(source);
 * const server = serveDashboard(source, { port: 8081, signal });
 * await server.finished;
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { Hono } from "hono";
import { type Clock, realClock } from "../kube/clock.ts";
import { apiApp } from "./api.ts";
import { assetsApp, loadAssets, STATIC_DIR } from "./assets.ts";
import type { Assets, DashboardContext } from "./context.ts";
import { pagesApp } from "./pages.tsx";
import type { DashboardSource } from "./source.ts";
import { LiveHub, type StreamCounters } from "./stream.ts";
import { DEFAULT_PAGE_SIZE } from "./view_model.ts";

/** Options of {@linkcode createDashboardApp}. */
export interface DashboardOptions {
  /** Time source for ages and SSE timers. Default: the real clock. */
  clock?: Clock;
  /** Minimum time between two SSE updates of a view, in ms. Default 250. */
  streamIntervalMs?: number;
  /** SSE heartbeat period, in ms. Default 15,000. */
  heartbeatMs?: number;
  /** Default groups per grid page (1–500). Default 50. */
  pageSize?: number;
  /**
   * Host names (without port) the app answers; other `Host` headers get 403. `undefined`: any host.
   * {@linkcode serveDashboard} sets loopback names when it binds to a loopback address.
   */
  allowedHosts?: readonly string[];
  /** Directory of `islands.js` and `style.css`. Default: `ui/static` next to this module. */
  staticDir?: string;
  /** SSE counters to update (benchmarks, metrics). */
  counters?: StreamCounters;
}

/** The Content-Security-Policy of every response: only this origin, no inline script or style, no framing. */
export const CONTENT_SECURITY_POLICY: string = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const log = getLogger(["lws", "ui"]);

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), usb=()",
};

/** Host names that mean "this machine". */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "[::1]", "::1"];

function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1).toLowerCase();
  return host.replace(/:\d+$/, "").toLowerCase();
}

/**
 * Builds the dashboard app. Cheap: nothing runs until requests arrive; the live hub subscribes to the source only
 * while SSE clients are connected.
 *
 * @param source The read-only cache (see `ui/kube_source.ts` for the kube/ adapter).
 * @param options Timing, paging, host allow-list, asset directory.
 * @returns A Hono app; serve it with `Deno.serve({ handler: app.fetch })` or {@linkcode serveDashboard}.
 */
export function createDashboardApp(source: DashboardSource, options: DashboardOptions = {}): Hono {
  return buildDashboard(source, options).app;
}

function buildDashboard(source: DashboardSource, options: DashboardOptions): { app: Hono; hub: LiveHub } {
  const clock = options.clock ?? realClock;
  const hub = new LiveHub(source, {
    clock,
    intervalMs: options.streamIntervalMs,
    heartbeatMs: options.heartbeatMs,
    counters: options.counters,
  });
  let assets: Promise<Assets> | undefined;
  const ctx: DashboardContext = {
    source,
    hub,
    now: () => clock.now(),
    pageSize: Math.min(500, Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE)),
    assets: () => {
      assets ??= loadAssets(options.staticDir ?? STATIC_DIR).catch((error) => {
        assets = undefined; // retry on the next request
        throw error;
      });
      return assets;
    },
  };
  const allowed = options.allowedHosts?.map((h) => h.toLowerCase());

  const app = new Hono();
  app.use("*", async (c, next) => {
    if (allowed) {
      const host = hostnameOf(c.req.header("host") ?? new URL(c.req.url).host);
      if (!allowed.includes(host)) {
        return new Response("Host not allowed", { status: 403, headers: SECURITY_HEADERS });
      }
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      return new Response("The dashboard is read-only", {
        status: 405,
        headers: { ...SECURITY_HEADERS, allow: "GET, HEAD" },
      });
    }
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });
  app.route("/static", assetsApp(ctx));
  app.route("/api", apiApp(ctx));
  app.route("/", pagesApp(ctx));
  app.notFound((c) => {
    if (new URL(c.req.url).pathname.startsWith("/api/")) {
      return c.json({ error: `No API route ${new URL(c.req.url).pathname}` }, 404);
    }
    return c.text("Not found", 404);
  });
  app.onError((error, c) => {
    log.error("Dashboard request {path} failed: {error}", { path: new URL(c.req.url).pathname, error });
    return c.text("Internal error", 500);
  });
  return { app, hub };
}

/** Options of {@linkcode serveDashboard}. */
export interface ServeDashboardOptions extends DashboardOptions {
  /** Address to bind. Default `127.0.0.1` (loopback only). */
  hostname?: string;
  /** Port. Default 8081; 0 picks a free port. */
  port?: number;
  /** Stops the server (and closes SSE streams) when aborted. */
  signal?: AbortSignal;
  /** Called once listening, with the bound address. */
  onListen?: (addr: Deno.NetAddr) => void;
}

/** A running dashboard server. */
export interface DashboardServer {
  /** The bound address (the real port when 0 was asked). */
  addr: Deno.NetAddr;
  /** `http://<host>:<port>`. */
  url: string;
  /** Settles when the server has stopped. */
  finished: Promise<void>;
}

/**
 * Serves the dashboard with `Deno.serve`. Binds to 127.0.0.1 unless told otherwise; when bound to a loopback
 * address and `allowedHosts` is not given, only loopback `Host` headers are answered.
 *
 * @param source The read-only cache.
 * @param options Address, port, abort signal and app options.
 * @returns The server's address and a promise that settles when it stops.
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export function serveDashboard(source: DashboardSource, options: ServeDashboardOptions = {}): DashboardServer {
  const hostname = options.hostname ?? "127.0.0.1";
  const loopback = hostname === "127.0.0.1" || hostname === "localhost" || hostname === "::1" ||
    hostname.startsWith("127.");
  const { app, hub } = buildDashboard(source, {
    ...options,
    allowedHosts: options.allowedHosts ?? (loopback ? [...LOOPBACK_HOSTS, hostname] : undefined),
  });
  // Open SSE streams would keep a graceful shutdown waiting: end them with the server.
  options.signal?.addEventListener("abort", () => hub.close(), { once: true });
  const server = Deno.serve({
    hostname,
    port: options.port ?? 8081,
    signal: options.signal,
    onListen: (addr) => options.onListen?.(addr),
  }, app.fetch);
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return { addr, url: `http://${host}:${addr.port}`, finished: server.finished };
}
