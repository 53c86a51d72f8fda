/**
 * `deno task demo` (run by `scripts/demo.sh` once the demo's control plane is up): the product, locally, against
 * that cluster.
 *
 * 1. `lws install` (CRD and the `lws-system` namespace), then `lws run` as a child process — the `lws` task's exact
 *    command — with the webhook in local mode (registered at 127.0.0.1) and the dashboard on 127.0.0.1; its log
 *    goes to `<cluster dir>/lws.log`.
 * 2. Applies every sample of this directory: into `lws-demo`, except samples with exclusive placement, which keep
 *    every other group off their topology domains and so get a namespace of their own (`lws-demo-<name>`).
 * 3. Waits until they are Available, prints the dashboard URL and a few things to try (scale, roll, fail a pod).
 * 4. Ctrl-C: `lws run` stops gracefully (it gets the same SIGINT; it releases the lease and removes its webhook
 *    configurations), then any configuration left behind is removed (`lws uninstall --keep-crd`). The control
 *    plane is stopped by `scripts/demo.sh`.
 *
 * @module
 */
import { join } from "node:path";
import { parse } from "yaml";
import type { LeaderWorkerSet } from "../../api/types.ts";
import {
  FAIL_POD_LABEL,
  requireCluster,
  RESTART_CONTAINERS_LABEL,
  type TestCluster,
} from "../../tests/cluster/harness.ts";
import { clusterDir } from "../../tests/cluster/state.ts";
import { lwsPermissionFlags } from "../../scripts/compile.ts";

/** The namespace of the samples that can share one. */
export const DEMO_NAMESPACE = "lws-demo";

const root = join(import.meta.dirname!, "..", "..");

/** The sample manifests, sorted by file name. */
export function sampleFiles(dir: string = join(root, "deploy", "samples")): string[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && /\.ya?ml$/.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/** Where a sample goes: its own namespace when it asks for exclusive placement. */
export function namespaceOf(lws: LeaderWorkerSet): string {
  const exclusive = Object.keys(lws.metadata.annotations ?? {}).some((k) => k.endsWith("exclusive-topology"));
  return exclusive ? `${DEMO_NAMESPACE}-${lws.metadata.name}` : DEMO_NAMESPACE;
}

function say(line = ""): void {
  console.log(line);
}

/** `lws <args>` with the `lws` task's command line; returns the output. */
async function lws(flags: string[], args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "mod.ts", ...args],
    cwd: root,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** A running `lws run`: its log lines go to a file; `ready` resolves with the URLs it serves. */
interface RunningLws {
  child: Deno.ChildProcess;
  status: Promise<Deno.CommandStatus>;
  ready: Promise<Record<string, string>>;
  done: Promise<void>;
}

function startLws(flags: string[], kubeconfig: string, logPath: string): RunningLws {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...flags,
      "mod.ts",
      "run",
      "--kubeconfig",
      kubeconfig,
      "--webhook-port",
      "0",
      "--metrics-secure=false",
    ],
    cwd: root,
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  const status = child.status;
  let resolveReady: (urls: Record<string, string>) => void = () => {};
  let rejectReady: (err: Error) => void = () => {};
  const ready = new Promise<Record<string, string>>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  const done = (async () => {
    const file = await Deno.open(logPath, { create: true, write: true, truncate: true });
    const encoder = new TextEncoder();
    let buffer = "";
    try {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        await file.write(encoder.encode(chunk));
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          const [, level, logger, message, fields] = line.split("\t");
          if (logger === "lws.run" && message?.startsWith("Ready in") && fields) {
            resolveReady(JSON.parse(fields).urls);
          }
          if (level === "ERROR") console.error(`lws: ${message}`);
        }
      }
    } finally {
      file.close();
      rejectReady(new Error(`lws run exited before it was ready; see ${logPath}`));
    }
  })();
  return { child, status, ready, done };
}

/**
 * Resolves on the first SIGINT or SIGTERM. The listeners stay until `cancel()`, so later signals (`deno task`
 * forwards Ctrl-C again) cannot kill the demo half-way through its clean-up.
 */
function interrupted(): { promise: Promise<string>; cancel(): void } {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let cancel = () => {};
  const promise = new Promise<string>((resolve) => {
    const handlers = signals.map((signal) => {
      const handler = () => resolve(signal);
      Deno.addSignalListener(signal, handler);
      return handler;
    });
    cancel = () => signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]!));
  });
  return { promise, cancel };
}

async function waitAvailable(cluster: TestCluster, placed: { namespace: string; name: string }[]): Promise<void> {
  const deadline = Date.now() + 180_000;
  const pending = new Set(placed.map((p) => `${p.namespace}/${p.name}`));
  while (pending.size > 0 && Date.now() < deadline) {
    for (const key of [...pending]) {
      const [namespace, name] = key.split("/") as [string, string];
      const got = await cluster.kubectl(["get", "lws", name, "-o", "json"], { namespace });
      if (got.code !== 0) continue;
      const live = JSON.parse(got.stdout) as LeaderWorkerSet;
      if (live.status?.conditions?.some((c) => c.type === "Available" && c.status === "True")) {
        pending.delete(key);
        say(`  ${key} Available (${live.status.readyReplicas}/${live.spec.replicas ?? 1} groups ready)`);
      }
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  if (pending.size > 0) say(`  still progressing after 3 minutes: ${[...pending].join(", ")}`);
}

async function main(): Promise<number> {
  const cluster = await requireCluster();
  const flags = await lwsPermissionFlags(root);
  const kubectl = join(cluster.binDir, "kubectl");
  const logPath = join(clusterDir(), "lws.log");
  const stop = interrupted();

  say(`Control plane ${cluster.server}; installing the CRD with \`lws install\``);
  const installed = await lws(flags, ["install", "--kubeconfig", cluster.kubeconfig]);
  if (installed.code !== 0) {
    console.error(installed.stderr);
    return installed.code;
  }
  say(installed.stdout.trimEnd().replace(/^/gm, "  "));

  say(`Starting \`lws run\` (log: ${logPath})`);
  const running = startLws(flags, cluster.kubeconfig, logPath);
  let code = 0;
  try {
    const urls = await Promise.race([running.ready, stop.promise.then(() => undefined)]);
    if (!urls) return 130;
    say(`  ready: dashboard ${urls.dashboard}, webhook ${urls.webhook}, metrics ${urls.metrics}`);

    const placed: { namespace: string; name: string; file: string }[] = sampleFiles().map((file) => {
      const sample = parse(Deno.readTextFileSync(file)) as LeaderWorkerSet;
      return { namespace: namespaceOf(sample), name: sample.metadata.name!, file };
    });
    for (const namespace of new Set(placed.map((p) => p.namespace))) {
      await cluster.kubectlOk(["apply", "-f", "-"], {
        stdin: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }),
      });
      const files = placed.filter((p) => p.namespace === namespace).map((p) => p.file);
      await cluster.kubectlOk(["apply", ...files.flatMap((f) => ["-f", f])], { namespace });
    }
    say(`Applied ${placed.length} samples from deploy/samples/; waiting until they are Available:`);
    await waitAvailable(cluster, placed);
    say();
    say(await cluster.kubectlOk(["get", "lws", "-A"]));
    const n = DEMO_NAMESPACE;
    const image = JSON.stringify([{
      op: "replace",
      path: "/spec/leaderWorkerTemplate/workerTemplate/spec/containers/0/image",
      value: "nginx:1.28",
    }]);
    say([
      `Dashboard:  ${urls.dashboard}`,
      `Metrics:    ${urls.metrics}   (plain HTTP in the demo: --metrics-secure=false)`,
      `Probes:     ${urls.health}/readyz?verbose`,
      "",
      "Try, from another terminal:",
      `  export KUBECONFIG=${cluster.kubeconfig}`,
      `  alias kubectl=${kubectl}`,
      "",
      "  # Scale: two more groups of minimal (a leader and two workers each)",
      `  kubectl -n ${n} scale lws/minimal --replicas=3`,
      "  # Roll: a new image, rolled out group by group (watch UP-TO-DATE and the dashboard)",
      `  kubectl -n ${n} patch lws minimal --type=json -p '${image}'`,
      `  kubectl -n ${n} get lws minimal -w`,
      "  # Fail a pod: KWOK turns it Failed; the restart policy recreates its whole group",
      `  kubectl -n ${n} label pod minimal-0-1 ${FAIL_POD_LABEL}=true`,
      "  # Restart a container instead (restartCount + 1): the group is recreated too",
      `  kubectl -n ${n} label pod minimal-0-2 ${RESTART_CONTAINERS_LABEL}=true`,
      `  kubectl -n ${n} get events --field-selector reason=RecreateGroup`,
      "  # The LWS metrics",
      `  curl -s ${urls.metrics} | grep -E '^lws_(groups|group|rollout)'`,
      "",
      "Press Ctrl-C to stop: lws stops gracefully and removes its webhook configurations, then the control plane stops.",
    ].join("\n"));
    const exited = running.status.then((s) => `exit ${s.code}`);
    const why = await Promise.race([stop.promise, exited]);
    if (why.startsWith("exit")) {
      console.error(`lws run stopped by itself (${why}); see ${logPath}`);
      code = 1;
    } else {
      say(`\n${why}: stopping lws run`);
    }
  } finally {
    // Ctrl-C reached lws too (same process group); give it time, then ask once (a second signal means "now").
    let status = await Promise.race([running.status, new Promise<undefined>((r) => setTimeout(r, 10_000))]);
    if (!status) {
      running.child.kill("SIGTERM");
      status = await Promise.race([running.status, new Promise<undefined>((r) => setTimeout(r, 10_000))]);
      if (!status) running.child.kill("SIGKILL");
    }
    status = await running.status;
    await running.done;
    const leftover = await lws(flags, ["uninstall", "--keep-crd", "--kubeconfig", cluster.kubeconfig]);
    const remaining =
      (await cluster.kubectl(["get", "mutatingwebhookconfigurations,validatingwebhookconfigurations", "-o", "name"]))
        .stdout.trim();
    say(
      leftover.code === 0 && remaining === ""
        ? `lws run stopped (exit ${status?.code ?? "?"}); no webhook configuration is left in the cluster`
        : `lws run stopped; webhook configurations left: ${remaining || leftover.stderr}`,
    );
    stop.cancel();
  }
  return code;
}

if (import.meta.main) Deno.exit(await main());
