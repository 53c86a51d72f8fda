/**
 * The product as the user runs it: `deno task lws -- run …` as a child process — the `lws` task's exact command
 * (read from deno.json: `deno run <the binary's permission flags> mod.ts`), spawned directly rather than through
 * `deno task` so that a signal reaches the product itself (a `kill -9` of `deno task` would orphan it).
 *
 * Each process serves everything on free loopback ports, logs in the default text format (zap console, which this
 * module parses), and is stopped with SIGTERM (SIGKILL after a grace period) when disposed; local-mode webhook
 * configurations of its namespace are removed afterwards whatever happened.
 *
 * @module
 */
import https from "node:https";
import { join } from "node:path";
import { eventually, type TestCluster } from "../../cluster/harness.ts";
import { permissionFlags } from "../../../scripts/compile.ts";

export { parseMetrics } from "../../../metrics/_testing.ts";

const ROOT = join(import.meta.dirname!, "..", "..", "..");

/**
 * The `lws` task's command line, split: `["run", <flags>, "mod.ts"]` (arguments of `deno`).
 *
 * @returns The arguments after the `deno` executable.
 */
export function lwsTaskArgs(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))) as { tasks: Record<string, string> };
  return ["run", ...permissionFlags(config.tasks.lws ?? ""), "mod.ts"];
}

/** `deno task lws -- <args>`, run directly with the task's command line; returns its output. */
export async function lwsCommand(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...lwsTaskArgs(), ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** One parsed log line of the product (zap console format: time, level, logger, message, JSON fields). */
export interface LogLine {
  /** Milliseconds since the epoch (from the line). */
  time: number;
  /** `INFO`, `WARN`, … */
  level: string;
  /** Logger name, e.g. `lws.run` or `controller-runtime.metrics`. */
  logger: string;
  /** The message. */
  msg: string;
  /** The structured fields. */
  fields: Record<string, unknown>;
  /** The raw line. */
  raw: string;
}

/** Parses one text-format line; `undefined` for anything else (e.g. `deno` warnings). */
export function parseLogLine(raw: string): LogLine | undefined {
  const parts = raw.split("\t");
  if (parts.length < 4 || !/^\d{4}-\d\d-\d\dT/.test(parts[0]!)) return undefined;
  let fields: Record<string, unknown> = {};
  if (parts[4]) {
    try {
      fields = JSON.parse(parts.slice(4).join("\t"));
    } catch {
      fields = {};
    }
  }
  return { time: Date.parse(parts[0]!), level: parts[1]!, logger: parts[2]!, msg: parts[3]!, fields, raw };
}

/** Options of {@linkcode ProductProcess.start}. */
export interface ProductOptions {
  /** Kubeconfig (default the cluster's admin kubeconfig). */
  kubeconfig?: string;
  /** Watch namespace (`--namespace`); also where the lease lives in local mode. */
  namespace: string;
  /** Extra arguments of `lws run`. */
  args?: string[];
  /** A name for error messages. */
  name?: string;
  /** Wait until it logs `Ready in …` (default true). */
  waitReady?: boolean;
  /** Timeout of that wait (default 60 s). */
  readyTimeoutMs?: number;
  /** A compiled `lws` binary to run instead of the `lws` task's `deno run`. */
  binary?: string;
}

/** A running `lws run`. */
export class ProductProcess implements AsyncDisposable {
  /** Every parsed log line so far. */
  readonly lines: LogLine[] = [];
  /** Raw stderr lines that were not log lines. */
  readonly other: string[] = [];
  /** When the process was spawned (ms since the epoch). */
  readonly spawnedAt: number;
  /** Resolves with the exit status. */
  readonly status: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  readonly #reading: Promise<void>;
  #exited = false;

  private constructor(
    readonly cluster: TestCluster,
    readonly options: ProductOptions,
    readonly name: string,
  ) {
    this.spawnedAt = Date.now();
    const args = [
      ...(options.binary ? [] : lwsTaskArgs()),
      "run",
      "--kubeconfig",
      options.kubeconfig ?? cluster.kubeconfig,
      "--namespace",
      options.namespace,
      "--webhook-port",
      "0",
      "--metrics-bind-address",
      "127.0.0.1:0",
      "--health-probe-bind-address",
      "127.0.0.1:0",
      "--dashboard-bind-address",
      "127.0.0.1:0",
      ...(options.args ?? []),
    ];
    const child = new Deno.Command(options.binary ?? Deno.execPath(), {
      args,
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.status = child.status.then((s) => {
      this.#exited = true;
      return s;
    });
    this.#reading = (async () => {
      let buffer = "";
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const raw = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const line = parseLogLine(raw);
          if (line) this.lines.push(line);
          else if (raw.trim()) this.other.push(raw);
        }
      }
    })();
  }

  /**
   * Spawns `lws run` and (by default) waits until it is ready.
   *
   * @param cluster The test cluster.
   * @param options Namespace, kubeconfig, extra arguments.
   * @returns The process.
   */
  static async start(cluster: TestCluster, options: ProductOptions): Promise<ProductProcess> {
    const product = new ProductProcess(cluster, options, options.name ?? "lws");
    if (options.waitReady ?? true) {
      try {
        await product.waitForLog("ready", (l) => l.logger === "lws.run" && l.msg.startsWith("Ready in"), {
          timeoutMs: options.readyTimeoutMs ?? 60_000,
        });
      } catch (err) {
        await product[Symbol.asyncDispose]();
        throw err;
      }
    }
    return product;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /**
   * Waits for a log line.
   *
   * @param what Names the line in errors.
   * @param match The predicate.
   * @param options Timeout (default 30 s) and lines to skip (only look at lines after this index).
   * @returns The first matching line.
   * @throws When the process exits first or on timeout (with the log tail).
   */
  async waitForLog(
    what: string,
    match: (line: LogLine) => boolean,
    options: { timeoutMs?: number; after?: number } = {},
  ): Promise<LogLine> {
    try {
      return await eventually(what, () => {
        const found = this.lines.slice(options.after ?? 0).find(match);
        if (found) return Promise.resolve(found);
        if (this.#exited) throw new Error(`${this.name} exited`);
        return Promise.resolve(undefined);
      }, { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 50 });
    } catch (err) {
      throw new Error(`${this.name}: ${(err as Error).message}\n${this.tail()}`);
    }
  }

  /** The first line matching, if any. */
  find(match: (line: LogLine) => boolean): LogLine | undefined {
    return this.lines.find(match);
  }

  /** The last lines of the log, for error messages. */
  tail(n = 40): string {
    return [
      `--- last lines of ${this.name} (pid ${this.pid}):`,
      ...this.other.slice(-5),
      ...this.lines.slice(-n).map((l) => l.raw),
    ]
      .join("\n");
  }

  /** A URL the product logged (from the `Ready in` line's `urls`). */
  url(kind: "dashboard" | "metrics" | "health" | "webhook"): string {
    const ready = this.find((l) => l.logger === "lws.run" && l.msg.startsWith("Ready in"));
    const urls = ready?.fields.urls as Record<string, string> | undefined;
    const url = urls?.[kind];
    if (!url) throw new Error(`${this.name} logged no ${kind} URL\n${this.tail()}`);
    return url;
  }

  /** Sends a signal (ignored when it already exited). */
  kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // Already gone.
    }
  }

  /**
   * SIGTERM, then SIGKILL after `graceMs`; waits for the exit and the end of its output.
   *
   * @returns The exit status.
   */
  async stop(graceMs = 15_000): Promise<Deno.CommandStatus> {
    if (!this.#exited) this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    try {
      const status = await this.status;
      await this.#reading;
      return status;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the process and removes the local-mode webhook configurations of its namespace. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await removeLocalWebhooks(this.cluster, this.options.namespace);
  }
}

/** Deletes the local-mode webhook configurations of a namespace-scoped run (`lws-…-configuration-<namespace>`). */
export async function removeLocalWebhooks(cluster: TestCluster, namespace: string): Promise<void> {
  await cluster.kubectl([
    "delete",
    `mutatingwebhookconfiguration/lws-mutating-webhook-configuration-${namespace}`,
    `validatingwebhookconfiguration/lws-validating-webhook-configuration-${namespace}`,
    "--ignore-not-found",
  ]);
}

/**
 * GETs a URL of the product; the metrics server's self-signed certificate is accepted (tests only).
 *
 * @param url The URL.
 * @param token A bearer token.
 * @returns Status and body.
 */
export async function httpGet(url: string, token?: string): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (url.startsWith("http:")) {
    const response = await fetch(url, { headers });
    return { status: response.status, body: await response.text() };
  }
  return await new Promise((resolve, reject) => {
    const request = https.get(url, { headers, rejectUnauthorized: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}

/**
 * Writes a kubeconfig that authenticates with a bearer token (e.g. from `kubectl create token`).
 *
 * @param path Where to write it.
 * @param cluster The test cluster (server and CA).
 * @param token The token.
 */
export async function writeTokenKubeconfig(path: string, cluster: TestCluster, token: string): Promise<void> {
  await Deno.writeTextFile(
    path,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${cluster.server}
    certificate-authority-data: ${btoa(cluster.credentials.caCert)}
users:
- name: u
  user:
    token: ${token}
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`,
  );
}
