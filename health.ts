/**
 * The health probes (spec §11.3): plain HTTP on `health.healthProbeBindAddress` (`:8081`), `GET /healthz`
 * (liveness) and `GET /readyz` (readiness), answering `200 ok` when every check passes and `500` with one line per
 * check otherwise, in the API server's format (`[+]informers ok`, `[-]webhook failed: not serving`); `?verbose`
 * lists every check even when all pass.
 *
 * Upstream's readiness is a plain ping; ours also waits for the informer cache to be synced and, when the webhook
 * runs, for its certificate to be published and the server to be serving — so a replica takes admission traffic
 * only once it can answer it.
 *
 * @module
 */
import { Hono } from "hono";
import type { BindAddress } from "./config.ts";

/** One named check: returns `undefined` when healthy, else why not. Must be cheap and synchronous. */
export interface HealthCheck {
  /** Short name, e.g. `informers`. */
  name: string;
  /** `undefined` when healthy; a short reason otherwise. */
  check(): string | undefined;
}

/** Options of {@linkcode createHealthApp}. */
export interface HealthAppOptions {
  /** Liveness path (default `/healthz`). */
  livenessPath?: string;
  /** Readiness path (default `/readyz`). */
  readinessPath?: string;
  /** Checks of the liveness endpoint besides `ping`. */
  liveness?: readonly HealthCheck[];
  /** Checks of the readiness endpoint besides `ping`. */
  readiness?: readonly HealthCheck[];
}

/**
 * Builds the health app.
 *
 * @param options Paths and checks.
 * @returns A Hono app (test it with `app.request()`).
 * @example
 * const app = createHealthApp({ readiness: [{ name: "informers", check: () => cache.isSynced() ? undefined : "not synced" }] });
 */
export function createHealthApp(options: HealthAppOptions = {}): Hono {
  const app = new Hono();
  const ping: HealthCheck = { name: "ping", check: () => undefined };
  const endpoint = (path: string, checks: readonly HealthCheck[], what: string) => {
    app.get(path, (c) => {
      const results = [ping, ...checks].map((check) => {
        let problem: string | undefined;
        try {
          problem = check.check();
        } catch (err) {
          problem = err instanceof Error ? err.message : String(err);
        }
        return { name: check.name, problem };
      });
      const failed = results.some((r) => r.problem !== undefined);
      const verbose = c.req.query("verbose") !== undefined;
      if (!failed && !verbose) return c.text("ok", 200);
      const lines = results.map((
        r,
      ) => (r.problem === undefined ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.problem}`));
      lines.push(failed ? `${what} check failed` : `${what} check passed`);
      return c.text(lines.join("\n") + "\n", failed ? 500 : 200);
    });
  };
  endpoint(options.livenessPath ?? "/healthz", options.liveness ?? [], "healthz");
  endpoint(options.readinessPath ?? "/readyz", options.readiness ?? [], "readyz");
  app.notFound((c) => c.text("Not found", 404));
  return app;
}

/** A running health server. */
export interface HealthServer {
  /** The bound address (the real port when 0 was asked). */
  readonly addr: { hostname: string; port: number };
  /** `http://host:port`. */
  readonly url: string;
  /** Resolves when the server stopped. */
  readonly finished: Promise<void>;
}

/**
 * Serves the health app over plain HTTP until `signal` aborts.
 *
 * @param address Where to listen.
 * @param options The app's options and the stop signal.
 * @returns Once listening.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 */
export function startHealthServer(
  address: BindAddress,
  options: HealthAppOptions & { signal: AbortSignal },
): HealthServer {
  const app = createHealthApp(options);
  const server = Deno.serve(
    { hostname: address.hostname, port: address.port, signal: options.signal, onListen: () => {} },
    app.fetch,
  );
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return {
    addr: { hostname: address.hostname, port: server.addr.port },
    url: `http://${host}:${server.addr.port}`,
    finished: server.finished,
  };
}
