/**
 * A rollout survives its controller being SIGKILLed, again and again (spec §7.2, §7.3; upstream #225): the product
 * runs as the user runs it (`deno task lws -- run`, a subprocess with leader election on a short lease), and is
 * killed with SIGKILL at random moments — before it is ready, while it campaigns for the lease, while its controllers
 * work — twelve times during one rollout, restarted each time; the last one finishes the rollout. The cluster's history is checked state by
 * state (`support/rollout.ts`): the budget holds throughout, no group ever mixes revisions, exactly one new revision
 * is created, and every group is restarted exactly once (one new leader pod UID per group).
 *
 * @module
 */
import assert from "node:assert/strict";
import { LABEL_NAME } from "../../api/constants.ts";
import { clusterTest } from "../cluster/harness.ts";
import { installCrd, lwsManifest, type Product, sleep, waitAvailable } from "./support/product.ts";
import { type LogLine, ProductProcess, removeLocalWebhooks } from "./support/product_process.ts";
import {
  assertRestarts,
  assertRolledOut,
  assertRollout,
  budgetOf,
  groupsOf,
  History,
  type RolloutRules,
  testClient,
  waitNewKey,
  waitRolledOut,
  waitSettled,
  withImage,
} from "./support/rollout.ts";

const N = 8;
/** SIGKILLs during the rollout; afterwards the last process may finish it. */
const KILLS = 12;
/** A short lease, so a restarted process takes over soon after its killed predecessor's lease lapses. */
const LEASE = [
  "--leader-elect-lease-duration",
  "2s",
  "--leader-elect-renew-deadline",
  "1500ms",
  "--leader-elect-retry-period",
  "250ms",
];

function randomMs(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min));
}

clusterTest("rollout: SIGKILLed 12 times mid-rollout, the product restarts every group exactly once", async ({
  cluster,
  namespace,
}) => {
  await installCrd(cluster);
  const client = await testClient(cluster);
  // The product's own helpers only need a client and the namespace to read through.
  const reader = { cluster, namespace, client } as unknown as Product;
  let product: ProductProcess | undefined;
  const start = () => ProductProcess.start(cluster, { namespace, args: LEASE, waitReady: false, name: "lws" });
  try {
    product = await ProductProcess.start(cluster, { namespace, args: LEASE, name: "lws" });
    const lws = lwsManifest("killed", { replicas: N, size: 2 });
    await cluster.kubectlOk(["apply", "-f", "-"], { namespace, stdin: JSON.stringify(lws) });
    await waitAvailable(reader, "killed", { timeoutMs: 120_000 });
    await using history = await History.start(cluster, namespace);
    const oldKey = await waitSettled(history, "killed");
    await cluster.kubectlOk(["apply", "-f", "-"], { namespace, stdin: JSON.stringify(withImage(lws, "nginx:1.28")) });
    const newKey = await waitNewKey(history, "killed", oldKey);
    const rules: RolloutRules = {
      lws: "killed",
      size: 2,
      newKey,
      ...budgetOf(history.live.leaderWorkerSets.get("killed")!),
    };
    const rolledOut = () => waitRolledOut(history, rules, { timeoutMs: 1 }).then(() => true, () => false);

    const phases: string[] = [];
    while (phases.length < KILLS) {
      product ??= await start();
      // Aim at every phase, mostly at controllers at work: during start-up, once ready (campaigning for the lease,
      // its predecessor's lease not lapsed yet), or a moment after the controllers started. Only controllers move a
      // rollout on; when fewer groups are left than kills to come, aim at start-up so that all kills fall within it.
      const left = [...groupsOf(history.live, "killed", 2).values()]
        .filter((g) => g.index < N && !(g.available && g.key === newKey)).length;
      const aim = left <= KILLS - phases.length ? 0 : Math.random();
      if (aim >= 0.2) {
        const p: ProductProcess = product;
        const line = aim < 0.4
          ? (l: LogLine) => l.msg.startsWith("Ready in")
          : (l: LogLine) => l.msg === "Starting controllers";
        await p.waitForLog("the moment to kill", line, { timeoutMs: 60_000 });
      }
      await sleep(aim < 0.2 ? randomMs(100, 1_000) : aim < 0.4 ? randomMs(0, 500) : randomMs(0, 800));
      if (await rolledOut()) break;
      const p: ProductProcess = product;
      const phase = p.find((l) => l.msg === "Starting controllers")
        ? "controllers running"
        : p.find((l) => l.msg.startsWith("Ready in"))
        ? "ready, campaigning"
        : "starting";
      p.kill("SIGKILL");
      const status = await p.stop();
      assert.equal(status.signal, "SIGKILL", `${p.name} died of SIGKILL\n${p.tail()}`);
      phases.push(phase);
      product = undefined;
    }
    assert.equal(phases.length, KILLS, `only ${phases.length} kills before the rollout was complete`);
    product ??= await start();
    await waitRolledOut(history, rules, { timeoutMs: 120_000 });

    const report = assertRollout(history, rules);
    assertRestarts(report, { lws: "killed", replicas: N, size: 2 });
    const created = history.changes().filter((c) =>
      c.kind === "revision" && c.type === "ADDED" && c.rv > history.startRv &&
      c.object.metadata?.labels?.[LABEL_NAME] === "killed" &&
      c.object.metadata.ownerReferences?.some((o) => o.kind === "LeaderWorkerSet")
    );
    assert.deepEqual(created.map((c) => c.object.metadata?.name), [`killed-${newKey}-2`], "one new revision");
    // (assertRolledOut waits for the old revision to be truncated.)
    await assertRolledOut(reader, { report, rules, oldKey, elapsedMs: 0, lws, history });
    const byPhase = Object.entries(Object.groupBy(phases, (p) => p)).map(([p, list]) => `${list!.length} ${p}`);
    console.log(
      `  ${phases.length} SIGKILLs mid-rollout (${byPhase.join(", ")}); partitions ${report.partitions.join("→")}`,
    );
  } finally {
    await product?.[Symbol.asyncDispose]();
    await removeLocalWebhooks(cluster, namespace);
    client.close();
  }
});
