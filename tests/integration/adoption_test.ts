/**
 * Adoption of what upstream LWS left behind (spec §7.3, §6.3, §6.4): a LeaderWorkerSet whose ControllerRevision,
 * leader StatefulSet, worker StatefulSets, shared Service and pods were made by upstream — the revision's `data`
 * bytes and key are upstream's own (the Go oracle's golden vector for the fixture, `tests/oracle/golden.json`), the
 * StatefulSets are written as spec §6.3/§6.4 describe upstream's (applied with upstream's field manager `lws`), and
 * the pods come from the real StatefulSet controller through the pod webhook — is recognised as current: starting
 * our controllers on it restarts no group (no pod, worker StatefulSet or leader sts revision changes) and creates
 * no revision beyond what §7.3 allows.
 *
 * Three generations of upstream: current (canonical data), legacy data with `"creationTimestamp":null` in the
 * templates (the semantic-equality fallback of §7.3 step 5), and a leader sts carrying a key with no
 * ControllerRevision at all (§7.3 step 3: the one revision created is the "missing revision" with that key).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { StatefulSet } from "kubernetes-types/apps/v1.d.ts";
import type { Service } from "kubernetes-types/core/v1.d.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { revisionData } from "../../controller/leaderworkerset/revision.ts";

import { clusterTest, eventually, type TestCluster } from "../cluster/harness.ts";
import { countEvents, eventsOf, getLws, sleep } from "./support/product.ts";
import { assertRollout, groupsOf, History, lwsRevisions, RestartableProduct } from "./support/rollout.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const ROOT = join(import.meta.dirname!, "..", "..");
const FIXTURE = "001-spec-e2e-default.json";

interface Golden {
  revisions: {
    fixture: string;
    data: string;
    hash: string;
    legacyData: string;
    legacyHash: string;
    legacyUnchanged: boolean;
  }[];
}

async function golden(): Promise<Golden["revisions"][number]> {
  const all = JSON.parse(await Deno.readTextFile(join(ROOT, "tests", "oracle", "golden.json"))) as Golden;
  return all.revisions.find((r) => r.fixture === FIXTURE)!;
}

/** The fixture's LWS as a user would apply it, under another name. */
async function fixtureLws(name: string): Promise<LeaderWorkerSet> {
  const lws = JSON.parse(
    await Deno.readTextFile(join(ROOT, "tests", "oracle", "fixtures", FIXTURE)),
  ) as LeaderWorkerSet;
  return { apiVersion: lws.apiVersion, kind: lws.kind, metadata: { name }, spec: lws.spec };
}

function lwsOwner(lws: LeaderWorkerSet) {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    name: lws.metadata.name!,
    uid: lws.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Upstream's objects for a live LWS: revision (unless `revision` is undefined), leader sts, Service, worker sts. */
interface Upstream {
  /** The key on the leader sts, its template, the worker sts and their pods. */
  key: string;
  /** The ControllerRevision upstream stored: its name and exact `data` bytes; none for the oldest generation. */
  revision?: { name: string; data: string };
}

async function createUpstreamObjects(
  cluster: TestCluster,
  history: History,
  live: LeaderWorkerSet,
  upstream: Upstream,
) {
  const name = live.metadata.name!;
  const namespace = live.metadata.namespace!;
  const n = live.spec.replicas!;
  const size = live.spec.leaderWorkerTemplate.size!;
  const { key } = upstream;
  const kubectl = (args: string[], object: unknown) =>
    cluster.kubectlOk(args, { namespace, stdin: typeof object === "string" ? object : JSON.stringify(object) });
  if (upstream.revision) {
    // The data bytes are spliced in verbatim, as upstream's client sent them.
    const head = JSON.stringify({
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: {
        name: upstream.revision.name,
        namespace,
        labels: { [`${P}name`]: name, [`${P}template-revision-hash`]: key },
        ownerReferences: [lwsOwner(live)],
      },
      revision: 1,
    });
    await kubectl(["create", "-f", "-"], `${head.slice(0, -1)},"data":${upstream.revision.data}}`);
  }
  // The leader sts as upstream applies it (spec §6.3), server-side with its field manager.
  const lwt = live.spec.leaderWorkerTemplate;
  const leaderTemplate = lwt.leaderTemplate ?? lwt.workerTemplate;
  const leaderSts: StatefulSet = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: {
      name,
      namespace,
      labels: { [`${P}name`]: name, [`${P}template-revision-hash`]: key },
      annotations: { [`${P}replicas`]: String(n) },
      ownerReferences: [lwsOwner(live)],
    },
    spec: {
      replicas: n,
      podManagementPolicy: "Parallel",
      serviceName: name,
      selector: { matchLabels: { [`${P}name`]: name, [`${P}worker-index`]: "0" } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0, maxUnavailable: 1 } },
      template: {
        metadata: {
          ...leaderTemplate.metadata,
          labels: {
            ...leaderTemplate.metadata?.labels,
            [`${P}worker-index`]: "0",
            [`${P}name`]: name,
            [`${P}template-revision-hash`]: key,
          },
          annotations: { ...leaderTemplate.metadata?.annotations, [`${P}size`]: String(size) },
        },
        spec: leaderTemplate.spec,
      },
    },
  };
  await kubectl(["apply", "--server-side", "--field-manager=lws", "--force-conflicts", "-f", "-"], leaderSts);
  const service: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels: { [`${P}name`]: name }, ownerReferences: [lwsOwner(live)] },
    spec: { clusterIP: "None", selector: { [`${P}name`]: name }, publishNotReadyAddresses: true },
  };
  await kubectl(["create", "-f", "-"], service);
  // Worker sts per leader pod (spec §6.4), once the StatefulSet controller and the pod webhook made the leaders.
  const leaders = await eventually("the leader pods", () => {
    const groups = groupsOf(history.live, name, size);
    return Promise.resolve(groups.size === n ? [...groups.values()].map((g) => g.leader) : undefined);
  }, { timeoutMs: 60_000 });
  for (const leader of leaders) {
    const labels = leader.metadata!.labels!;
    const selector = {
      [`${P}group-index`]: labels[`${P}group-index`]!,
      [`${P}name`]: name,
      [`${P}group-key`]: labels[`${P}group-key`]!,
    };
    const workerSts: StatefulSet = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: {
        name: leader.metadata!.name!,
        namespace,
        labels: { ...selector, [`${P}template-revision-hash`]: labels[`${P}template-revision-hash`]! },
        ownerReferences: [{
          apiVersion: "v1",
          kind: "Pod",
          name: leader.metadata!.name!,
          uid: leader.metadata!.uid!,
          controller: true,
          blockOwnerDeletion: true,
        }],
      },
      spec: {
        replicas: size - 1,
        podManagementPolicy: "Parallel",
        ordinals: { start: 1 },
        serviceName: name,
        selector: { matchLabels: selector },
        template: {
          metadata: {
            labels: { ...lwt.workerTemplate.metadata?.labels, ...selector, [`${P}template-revision-hash`]: key },
            annotations: { [`${P}size`]: String(size), [`${P}leader-name`]: leader.metadata!.name! },
          },
          spec: lwt.workerTemplate.spec,
        },
      },
    };
    await kubectl(["create", "--field-manager=lws", "-f", "-"], workerSts);
  }
}

/** What must not change when our controllers take over. */
function snapshot(history: History, name: string) {
  const sts = history.live.statefulSets.get(name)!;
  return {
    pods: Object.fromEntries([...history.live.pods.values()].map((p) => [p.metadata!.name!, p.metadata!.uid!])),
    statefulSets: Object.fromEntries(
      [...history.live.statefulSets.values()].map((s) => [s.metadata!.name!, s.metadata!.uid!]),
    ),
    leaderTemplateRevision: sts.status?.updateRevision,
    leaderKey: sts.metadata?.labels?.[`${P}template-revision-hash`],
  };
}

/**
 * Creates the LWS through the webhook only (upstream's webhook would default it the same way), upstream's objects,
 * waits until every pod runs, then starts our controllers and checks that they adopt everything as it is.
 *
 * @returns The revisions of the LWS afterwards and its events.
 */
async function adopt(
  cluster: TestCluster,
  namespace: string,
  name: string,
  upstream: (live: LeaderWorkerSet) => Upstream,
) {
  await using product = await RestartableProduct.start(cluster, namespace, { controllers: false });
  await using history = await History.start(cluster, namespace);
  await cluster.kubectlOk(["apply", "-f", "-"], { namespace, stdin: JSON.stringify(await fixtureLws(name)) });
  const live = await eventually("the LWS", () => Promise.resolve(history.live.leaderWorkerSets.get(name)));
  const objects = upstream(live);
  await createUpstreamObjects(cluster, history, live, objects);
  const n = live.spec.replicas!;
  const size = live.spec.leaderWorkerTemplate.size!;
  await eventually("upstream's groups to run", () => {
    const groups = groupsOf(history.live, name, size);
    const sts = history.live.statefulSets.get(name);
    const settled = sts?.status?.updateRevision !== undefined &&
      sts.status.currentRevision === sts.status.updateRevision;
    return Promise.resolve(settled && groups.size === n && [...groups.values()].every((g) => g.available));
  }, { timeoutMs: 90_000 });
  const before = snapshot(history, name);
  const fromRv = history.changes().at(-1)!.rv;

  await product.startControllers();
  const ours = product.product;
  await eventually("our controllers to reconcile everything", () => {
    const stats = ours.controllers.stats();
    const lwsDone = stats.leaderWorkerSet.reconciles.success >= 1;
    const podsDone = stats.pod.reconciles.success >= n * size;
    const lws = history.live.leaderWorkerSets.get(name);
    const available = lws?.status?.conditions?.find((c) => c.type === "Available");
    return Promise.resolve(
      lwsDone && podsDone && available?.status === "True" &&
        lws?.status?.observedGeneration === lws?.metadata.generation,
    );
  }, { timeoutMs: 60_000 });
  await sleep(3_000); // and nothing happens afterwards either

  const after = snapshot(history, name);
  assert.deepEqual(after, before, "no pod, StatefulSet or leader template revision changed");
  const report = assertRollout(history, {
    lws: name,
    replicas: n,
    size,
    maxUnavailable: 0,
    maxSurge: 0,
    newKey: objects.key,
    fromRv,
  });
  assert.ok(report.minAvailable === n, "every group stayed available");
  const lws = await getLws(ours, name);
  assert.equal(lws.status?.updatedReplicas, n);
  assert.equal(lws.status?.readyReplicas, n);
  const created = history.changes().filter((c) => c.kind === "revision" && c.type === "ADDED" && c.rv > fromRv);
  return { created, revisions: lwsRevisions(history.live, name), events: await eventsOf(ours, name), key: objects.key };
}

clusterTest(
  "adoption: upstream's objects with canonical revision data restart no group",
  async ({ cluster, namespace }) => {
    const vector = await golden();
    const result = await adopt(cluster, namespace, "adopted", (live) => {
      assert.equal(revisionData(live), vector.data, "the stored LWS is the fixture the golden vector was made from");
      return { key: vector.hash, revision: { name: `adopted-${vector.hash}-1`, data: vector.data } };
    });
    assert.deepEqual(result.created.map((c) => c.object.metadata?.name), [], "no revision created");
    assert.deepEqual(result.revisions.map((r) => r.metadata?.name), [`adopted-${vector.hash}-1`]);
    assert.equal(countEvents(result.events, "CreatingRevision"), 0);
  },
);

clusterTest(
  "adoption: legacy revision data (creationTimestamp: null) is semantically equal and restarts no group",
  async ({
    cluster,
    namespace,
  }) => {
    const vector = await golden();
    assert.equal(vector.legacyUnchanged, true, "the oracle says upstream treats it as unchanged");
    const result = await adopt(cluster, namespace, "legacy", () => ({
      key: vector.legacyHash,
      revision: { name: `legacy-${vector.legacyHash}-1`, data: vector.legacyData },
    }));
    assert.deepEqual(
      result.created.map((c) => c.object.metadata?.name),
      [],
      "no revision created",
    );
    const [revision] = result.revisions;
    assert.equal(result.revisions.length, 1);
    assert.equal(revision!.metadata?.name, `legacy-${vector.legacyHash}-1`);
    assert.match(JSON.stringify(revision!.data), /"creationTimestamp":null/, "the legacy data is kept as it is");
    assert.equal(countEvents(result.events, "CreatingRevision"), 0);
  },
);

clusterTest(
  "adoption: a leader sts with a key but no revision gets the missing revision, and no group restarts",
  async ({
    cluster,
    namespace,
  }) => {
    const vector = await golden();
    const legacyKey = "5c4d7b9f8";
    const result = await adopt(cluster, namespace, "keyonly", () => ({ key: legacyKey }));
    // §7.3 step 3: one revision, built from the live LWS (name from its hash), labelled with the sts's key.
    assert.deepEqual(result.created.map((c) => c.object.metadata?.name), [`keyonly-${vector.hash}-1`]);
    assert.deepEqual(result.revisions.map((r) => r.metadata?.labels?.[`${P}template-revision-hash`]), [legacyKey]);
    assert.equal(
      countEvents(
        result.events,
        "CreatingRevision",
        `Creating missing revision with key ${legacyKey} for existing LeaderWorkerSet`,
      ),
      1,
    );
    assert.equal(countEvents(result.events, "CreatingRevision"), 1);
  },
);
