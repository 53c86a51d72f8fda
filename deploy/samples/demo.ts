/**
 * `deno task demo` (run by `scripts/demo.sh` once `deno task cluster:up` is done): installs the CRD if needed,
 * applies every sample of this directory into the namespace `lws-demo`, prints `kubectl get lws` and how to use the
 * cluster, then waits until Ctrl-C (SIGINT) or SIGTERM. It stops nothing: `scripts/demo.sh` stops the cluster.
 *
 * No controller runs yet, so the LeaderWorkerSets exist as API objects only (no StatefulSets or pods, empty status).
 *
 * @module
 */
import { join } from "node:path";
import { CRD_NAME } from "../../api/constants.ts";
import { CRD_FILE } from "../../crds/generate.ts";
import { requireCluster } from "../../tests/cluster/harness.ts";

/** The namespace the demo applies the samples into. */
export const DEMO_NAMESPACE = "lws-demo";

const root = join(import.meta.dirname!, "..", "..");

/** The sample manifests, sorted by file name. */
export function sampleFiles(dir: string = join(root, "deploy", "samples")): string[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && /\.ya?ml$/.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/** Resolves on the first SIGINT or SIGTERM. */
function interrupted(): Promise<string> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handlers = signals.map((signal) => {
      const handler = () => {
        signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]!));
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}

async function main(): Promise<number> {
  const cluster = await requireCluster();
  await cluster.kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", join(root, CRD_FILE)]);
  await cluster.kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", `crd/${CRD_NAME}`]);
  await cluster.kubectlOk(["apply", "-f", "-"], {
    stdin: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: DEMO_NAMESPACE } }),
  });
  const files = sampleFiles();
  await cluster.kubectlOk(["apply", ...files.flatMap((f) => ["-f", f])], { namespace: DEMO_NAMESPACE });
  console.log(`Applied ${files.length} samples from deploy/samples/ into namespace ${DEMO_NAMESPACE}:\n`);
  console.log(await cluster.kubectlOk(["get", "lws"], { namespace: DEMO_NAMESPACE }));
  const kubectl = join(cluster.binDir, "kubectl");
  console.log([
    "Use the cluster from another terminal:",
    `  export KUBECONFIG=${cluster.kubeconfig}`,
    `  alias kubectl=${kubectl}`,
    `  kubectl get lws -n ${DEMO_NAMESPACE}                 # READY / UP-TO-DATE stay empty: no controller runs yet`,
    `  kubectl get lws all-fields -n ${DEMO_NAMESPACE} -o yaml   # CRD defaults filled in by the API server`,
    `  kubectl scale lws/minimal -n ${DEMO_NAMESPACE} --replicas=3`,
    `  kubectl explain lws.spec.leaderWorkerTemplate`,
    `  kubectl get nodes -L topology.kubernetes.io/zone,example.com/rack   # KWOK fake nodes`,
    "",
    "Press Ctrl-C to stop.",
  ].join("\n"));
  const signal = await interrupted();
  console.log(`\n${signal}: leaving the demo`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
