/**
 * One leader-election candidate as its own OS process, for tests/integration/leader_election_test.ts.
 *
 * Usage: `deno run --allow-read --allow-net --allow-env --allow-sys contender.ts <kubeconfig> <namespace> <identity>`
 *
 * Prints one JSON object per line on stdout: `{"event":"campaigning"}`, `{"event":"new-leader","holder":…}`,
 * `{"event":"leading"}`, `{"event":"stopped-leading"}`, `{"event":"exit","outcome":"stopped"|"lost"}`, each with
 * `identity` and `at` (epoch ms). SIGTERM stops it gracefully (the lease is released); SIGKILL is a crash.
 *
 * @module
 */
import { configure, defaultTextFormatter } from "@logtape/logtape";
import { buildUserAgent, createClient } from "../../../kube/client.ts";
import { loadKubeConfig } from "../../../kube/kubeconfig.ts";
import { clientLeaseClient, createLeaderElector } from "../../../kube/leader_election.ts";

const [kubeconfig, namespace, identity] = Deno.args;
if (!kubeconfig || !namespace || !identity) {
  console.error("Usage: contender.ts <kubeconfig> <namespace> <identity>");
  Deno.exit(2);
}

// The elector's own log goes to stderr, which the test prints when it fails.
await configure({
  sinks: { stderr: (record) => console.error(defaultTextFormatter(record).trimEnd()) },
  loggers: [
    { category: ["lws"], lowestLevel: "debug", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

const say = (event: string, extra: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ event, identity, at: Date.now(), ...extra }));

const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
const client = createClient(await loadKubeConfig({ path: kubeconfig }), {
  qps: 20,
  burst: 30,
  userAgent: buildUserAgent({ version: "v0.1.0-contender" }),
});
const elector = createLeaderElector(clientLeaseClient(client), {
  namespace,
  identity,
  onStartedLeading: () => say("leading"),
  onStoppedLeading: () => say("stopped-leading"),
  onNewLeader: (holder) => say("new-leader", { holder }),
});
say("campaigning");
const outcome = await elector.run(stop.signal);
say("exit", { outcome });
client.close();
Deno.exit(outcome === "stopped" ? 0 : 1);
