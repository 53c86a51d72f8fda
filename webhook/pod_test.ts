import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Container, EnvVar, Pod } from "kubernetes-types/core/v1.d.ts";
import { WEBHOOK_PATH_MUTATE_POD, WEBHOOK_PATH_VALIDATE_POD } from "../api/constants.ts";
import { createWebhookApp } from "./app.ts";
import { admit } from "./_testing.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const app = createWebhookApp();
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

interface PodInput {
  name: string;
  lws?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  subdomain?: string;
  containers?: Container[];
  initContainers?: Container[];
}

/** A pod as the leader StatefulSet creates it (before admission). */
function leader(input: Partial<PodInput> & { size: number }): Pod {
  const lws = input.lws ?? "sample";
  const name = input.name ?? `${lws}-0`;
  return pod({
    ...input,
    name,
    labels: { [`${P}name`]: lws, [`${P}worker-index`]: "0", [`${P}template-revision-hash`]: "rev1", ...input.labels },
    annotations: { [`${P}size`]: String(input.size), ...input.annotations },
  });
}

/** A pod as a worker StatefulSet creates it (before admission). */
function worker(input: Partial<PodInput> & { size: number; group?: number; worker: number }): Pod {
  const lws = input.lws ?? "sample";
  const leaderName = `${lws}-${input.group ?? 0}`;
  return pod({
    ...input,
    name: `${leaderName}-${input.worker}`,
    labels: {
      [`${P}name`]: lws,
      [`${P}group-index`]: String(input.group ?? 0),
      [`${P}group-key`]: sha1(`${input.namespace ?? "default"}/${leaderName}`),
      [`${P}template-revision-hash`]: "rev1",
      ...input.labels,
    },
    annotations: { [`${P}size`]: String(input.size), [`${P}leader-name`]: leaderName, ...input.annotations },
  });
}

function pod(input: PodInput): Pod {
  const spec: Pod["spec"] = {
    containers: input.containers ?? [{ name: "main", image: "nginx" }],
    hostname: input.name,
    subdomain: input.subdomain ?? input.lws ?? "sample",
  };
  if (input.initContainers) spec.initContainers = input.initContainers;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: input.name,
      namespace: input.namespace ?? "default",
      labels: input.labels,
      annotations: input.annotations,
    },
    spec,
  };
}

/** Returns a copy of the pod with changes applied by `change`. */
function expect(input: Pod, change: (pod: Pod) => void): Pod {
  const copy = structuredClone(input);
  change(copy);
  return copy;
}

function lwsEnv(address: string, size: number, workerIndex: number | string): EnvVar[] {
  return [
    { name: "LWS_LEADER_ADDRESS", value: address },
    { name: "LWS_GROUP_SIZE", value: String(size) },
    { name: "LWS_WORKER_INDEX", value: String(workerIndex) },
  ];
}

function tpuEnv(hosts: string[], id: number, name: string, ports: string[], port?: string): EnvVar[] {
  const env: EnvVar[] = [
    { name: "TPU_WORKER_HOSTNAMES", value: hosts.join(",") },
    { name: "TPU_WORKER_ID", value: String(id) },
    { name: "TPU_NAME", value: name },
    { name: "TPU_PROCESS_ADDRESSES", value: hosts.map((h, i) => `${h}:${ports[i % ports.length]}`).join(",") },
  ];
  if (port !== undefined) env.push({ name: "TPU_PROCESS_PORT", value: port });
  return env;
}

function labelsOf(p: Pod): Record<string, string> {
  return p.metadata!.labels!;
}

async function mutate(input: Pod, options: { namespace?: string } = {}) {
  const result = await admit(app, WEBHOOK_PATH_MUTATE_POD, {
    operation: "CREATE",
    object: input,
    namespace: options.namespace ?? input.metadata?.namespace,
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
  });
  assert.equal(result.status, 200);
  return result;
}

async function assertMutated(input: Pod, expected: Pod) {
  const result = await mutate(input);
  assert.equal(result.response.allowed, true, result.response.status?.message);
  assert.deepEqual(result.object, expected);
}

async function assertDenied(input: Pod, message: string) {
  const result = await mutate(input);
  assert.equal(result.response.allowed, false);
  assert.deepEqual(result.response.status, { metadata: {}, code: 403, reason: "Forbidden", message });
}

Deno.test("pod mutating webhook labels leader and worker pods and injects LWS env (spec §9.2, §9.4)", async (t) => {
  const groupKey = sha1("default/sample-0");

  await t.step("leader, Shared subdomain", async () => {
    const input = leader({ size: 3 });
    await assertMutated(
      input,
      expect(input, (p) => {
        Object.assign(labelsOf(p), { [`${P}group-index`]: "0", [`${P}group-key`]: groupKey });
        p.spec!.containers[0]!.env = lwsEnv("sample-0.sample.default", 3, 0);
      }),
    );
  });

  await t.step("leader of group 2, UniquePerReplica subdomain", async () => {
    const input = leader({
      name: "sample-2",
      size: 2,
      annotations: { [`${P}subdomainPolicy`]: "UniquePerReplica" },
    });
    await assertMutated(
      input,
      expect(input, (p) => {
        Object.assign(labelsOf(p), { [`${P}group-index`]: "2", [`${P}group-key`]: sha1("default/sample-2") });
        p.spec!.subdomain = "sample-2";
        p.spec!.containers[0]!.env = lwsEnv("sample-2.sample-2.default", 2, 0);
      }),
    );
  });

  await t.step("leader keeps existing group-index and group-key labels", async () => {
    const input = leader({ size: 1, labels: { [`${P}group-index`]: "7", [`${P}group-key`]: "given" } });
    await assertMutated(
      input,
      expect(input, (p) => {
        p.spec!.containers[0]!.env = lwsEnv("sample-7.sample.default", 1, 0);
      }),
    );
  });

  await t.step("worker gets its worker index (always overwritten)", async () => {
    const input = worker({ size: 3, worker: 2, labels: { [`${P}worker-index`]: "9" } });
    await assertMutated(
      input,
      expect(input, (p) => {
        labelsOf(p)[`${P}worker-index`] = "2";
        p.spec!.containers[0]!.env = lwsEnv("sample-0.sample.default", 3, 2);
      }),
    );
  });

  await t.step("worker of a UniquePerReplica group uses the worker sts subdomain", async () => {
    const input = worker({ size: 2, group: 1, worker: 1, subdomain: "sample-1" });
    await assertMutated(
      input,
      expect(input, (p) => {
        labelsOf(p)[`${P}worker-index`] = "1";
        p.spec!.containers[0]!.env = lwsEnv("sample-1.sample-1.default", 2, 1);
      }),
    );
  });

  await t.step("env goes first in every container and init container; user copies and duplicates drop", async () => {
    const input = worker({
      size: 2,
      worker: 1,
      containers: [
        {
          name: "a",
          env: [
            { name: "USER", value: "1" },
            { name: "LWS_GROUP_SIZE", value: "99" },
            { name: "USER", value: "2" },
            { name: "FROM", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          ],
        },
        { name: "b" },
      ],
      initContainers: [{ name: "init", env: [{ name: "LWS_LEADER_ADDRESS", value: "x" }] }],
    });
    input.spec!.ephemeralContainers = [{ name: "debug", env: [{ name: "E", value: "1" }] }];
    const env = lwsEnv("sample-0.sample.default", 2, 1);
    await assertMutated(
      input,
      expect(input, (p) => {
        labelsOf(p)[`${P}worker-index`] = "1";
        p.spec!.containers[0]!.env = [
          ...env,
          { name: "USER", value: "1" },
          { name: "FROM", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        ];
        p.spec!.containers[1]!.env = env;
        p.spec!.initContainers![0]!.env = env;
      }),
    );
  });

  await t.step("namespace of the request is used when the object has none", async () => {
    const input = leader({ size: 1 });
    delete input.metadata!.namespace;
    const result = await mutate(input, { namespace: "team" });
    const out = result.object as Pod;
    assert.equal(out.metadata!.labels![`${P}group-key`], sha1("team/sample-0"));
    assert.equal(out.spec!.containers[0]!.env![0]!.value, "sample-0.sample.team");
  });

  await t.step("gang scheduling adds scheduling.k8s.io/group-name when configured", async () => {
    const gangApp = createWebhookApp({ gangScheduling: true });
    const input = worker({ size: 2, group: 3, worker: 1 });
    const result = await admit(gangApp, WEBHOOK_PATH_MUTATE_POD, { operation: "CREATE", object: input });
    const out = result.object as Pod;
    assert.equal(out.metadata!.annotations!["scheduling.k8s.io/group-name"], "sample-3-rev1");
    const plain = await mutate(input);
    assert.equal((plain.object as Pod).metadata!.annotations!["scheduling.k8s.io/group-name"], undefined);
    type WithGroup = { schedulingGroup?: { podGroupName: string } };
    assert.equal((out.spec as WithGroup).schedulingGroup, undefined, "volcano: no spec.schedulingGroup");
  });

  await t.step("the workload provider also sets spec.schedulingGroup.podGroupName on leaders and workers", async () => {
    const app = createWebhookApp({ gangScheduling: true, schedulingGroup: true });
    type WithGroup = { schedulingGroup?: { podGroupName: string } };
    for (const input of [leader({ size: 2 }), worker({ size: 2, group: 3, worker: 1 })]) {
      const out = (await admit(app, WEBHOOK_PATH_MUTATE_POD, { operation: "CREATE", object: input })).object as Pod;
      const name = out.metadata!.annotations!["scheduling.k8s.io/group-name"]!;
      assert.match(name, /^sample-\d+-rev1$/);
      assert.deepEqual((out.spec as WithGroup).schedulingGroup, { podGroupName: name });
    }
  });
});

Deno.test("pod mutating webhook assigns subgroups (spec §5.3, §9.2)", async (t) => {
  const cases: {
    name: string;
    size: number;
    k: number;
    policy?: string;
    leaderIndex?: number;
    workerIndexes: number[];
  }[] = [
    { name: "S=4 k=2 LeaderWorker", size: 4, k: 2, policy: "LeaderWorker", leaderIndex: 0, workerIndexes: [0, 1, 1] },
    { name: "S=5 k=2 LeaderWorker", size: 5, k: 2, leaderIndex: 0, workerIndexes: [0, 0, 1, 1] },
    { name: "S=5 k=2 LeaderExcluded", size: 5, k: 2, policy: "LeaderExcluded", workerIndexes: [0, 0, 1, 1] },
    { name: "S=3 k=1 (v0.10.0 fix)", size: 3, k: 1, leaderIndex: 0, workerIndexes: [1, 2] },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const annotations: Record<string, string> = { [`${P}subgroup-size`]: String(c.k) };
      if (c.policy) annotations[`${P}subgroup-policy-type`] = c.policy;
      const leaderInput = leader({ size: c.size, annotations });
      await assertMutated(
        leaderInput,
        expect(leaderInput, (p) => {
          Object.assign(labelsOf(p), { [`${P}group-index`]: "0", [`${P}group-key`]: sha1("default/sample-0") });
          if (c.leaderIndex !== undefined) {
            Object.assign(labelsOf(p), { [`${P}subgroup-index`]: "0", [`${P}subgroup-key`]: sha1("sample-0/0") });
          }
          p.spec!.containers[0]!.env = lwsEnv("sample-0.sample.default", c.size, 0);
        }),
      );
      for (const [i, index] of c.workerIndexes.entries()) {
        const w = i + 1;
        const input = worker({ size: c.size, worker: w, annotations });
        await assertMutated(
          input,
          expect(input, (p) => {
            Object.assign(labelsOf(p), {
              [`${P}worker-index`]: String(w),
              [`${P}subgroup-index`]: String(index),
              [`${P}subgroup-key`]: sha1(`sample-0/${index}`),
            });
            p.spec!.containers[0]!.env = lwsEnv("sample-0.sample.default", c.size, w);
          }),
        );
      }
    });
  }
  await t.step("an existing subgroup-index label is kept", async () => {
    const input = worker({
      size: 4,
      worker: 3,
      annotations: { [`${P}subgroup-size`]: "2" },
      labels: { [`${P}subgroup-index`]: "5" },
    });
    const out = (await mutate(input)).object as Pod;
    assert.equal(labelsOf(out)[`${P}subgroup-index`], "5");
    assert.equal(labelsOf(out)[`${P}subgroup-key`], undefined);
  });
});

function groupTerms(key: string, value: string, topology: string) {
  return {
    affinity: {
      labelSelector: { matchExpressions: [{ key, operator: "In", values: [value] }] },
      topologyKey: topology,
    },
    anti: {
      labelSelector: {
        matchExpressions: [{ key, operator: "Exists" }, { key, operator: "NotIn", values: [value] }],
      },
      topologyKey: topology,
    },
  };
}

Deno.test("pod mutating webhook adds exclusive placement terms (spec §9.6)", async (t) => {
  const gk = sha1("default/sample-0");
  const group = groupTerms(`${P}group-key`, gk, "zone");

  await t.step("group exclusive on the leader", async () => {
    const input = leader({ size: 2, annotations: { [`${P}exclusive-topology`]: "zone" } });
    await assertMutated(
      input,
      expect(input, (p) => {
        Object.assign(labelsOf(p), { [`${P}group-index`]: "0", [`${P}group-key`]: gk });
        p.spec!.affinity = {
          podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [group.affinity] },
          podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [group.anti] },
        };
        p.spec!.containers[0]!.env = lwsEnv("sample-0.sample.default", 2, 0);
      }),
    );
  });

  await t.step("workers never get group terms from the webhook", async () => {
    const input = worker({ size: 2, worker: 1, annotations: { [`${P}exclusive-topology`]: "zone" } });
    const out = (await mutate(input)).object as Pod;
    assert.equal(out.spec!.affinity, undefined);
  });

  await t.step("terms are appended to the user's affinity", async () => {
    const user = groupTerms("app", "x", "zone");
    const input = leader({ size: 1, annotations: { [`${P}exclusive-topology`]: "zone" } });
    input.spec!.affinity = {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [user.affinity] },
      nodeAffinity: {},
    };
    const out = (await mutate(input)).object as Pod;
    assert.deepEqual(out.spec!.affinity, {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [user.affinity, group.affinity] },
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [group.anti] },
      nodeAffinity: {},
    });
  });

  await t.step("re-admission does not duplicate terms", async () => {
    const input = leader({ size: 1, annotations: { [`${P}exclusive-topology`]: "zone" } });
    const once = (await mutate(input)).object as Pod;
    const twice = (await mutate(once)).object as Pod;
    assert.deepEqual(twice.spec!.affinity, once.spec!.affinity);
  });

  const subAnnotations = {
    [`${P}subgroup-size`]: "2",
    [`${P}subgroup-exclusive-topology`]: "rack",
  };
  await t.step("subgroup exclusive on the leader (subgroup 0) and on workers", async () => {
    const leaderInput = leader({ size: 4, annotations: subAnnotations });
    const sub0 = groupTerms(`${P}subgroup-key`, sha1("sample-0/0"), "rack");
    await assertMutated(
      leaderInput,
      expect(leaderInput, (p) => {
        Object.assign(labelsOf(p), {
          [`${P}group-index`]: "0",
          [`${P}group-key`]: gk,
          [`${P}subgroup-index`]: "0",
          [`${P}subgroup-key`]: sha1("sample-0/0"),
        });
        p.spec!.affinity = {
          podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [sub0.affinity] },
          podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [sub0.anti] },
        };
        p.spec!.containers[0]!.env = lwsEnv("sample-0.sample.default", 4, 0);
      }),
    );
    const workerInput = worker({ size: 4, worker: 2, annotations: subAnnotations });
    const sub1 = groupTerms(`${P}subgroup-key`, sha1("sample-0/1"), "rack");
    await assertMutated(
      workerInput,
      expect(workerInput, (p) => {
        Object.assign(labelsOf(p), {
          [`${P}worker-index`]: "2",
          [`${P}subgroup-index`]: "1",
          [`${P}subgroup-key`]: sha1("sample-0/1"),
        });
        p.spec!.affinity = {
          podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [sub1.affinity] },
          podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [sub1.anti] },
        };
        p.spec!.containers[0]!.env = lwsEnv("sample-0.sample.default", 4, 2);
      }),
    );
  });

  await t.step("group and subgroup on different keys: both sets of terms on the leader", async () => {
    const input = leader({ size: 4, annotations: { ...subAnnotations, [`${P}exclusive-topology`]: "zone" } });
    const out = (await mutate(input)).object as Pod;
    const sub0 = groupTerms(`${P}subgroup-key`, sha1("sample-0/0"), "rack");
    assert.deepEqual(out.spec!.affinity, {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [group.affinity, sub0.affinity] },
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [group.anti, sub0.anti] },
    });
  });

  await t.step("group and subgroup on the same key: only the group terms", async () => {
    const input = leader({
      size: 4,
      annotations: {
        ...subAnnotations,
        [`${P}subgroup-exclusive-topology`]: "zone",
        [`${P}exclusive-topology`]: "zone",
      },
    });
    const out = (await mutate(input)).object as Pod;
    assert.deepEqual(out.spec!.affinity, {
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [group.affinity] },
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [group.anti] },
    });
  });
});

const TPU = (count: string | number, where: "limits" | "requests" = "limits"): Container["resources"] => ({
  [where]: { "google.com/tpu": count },
});

Deno.test("pod mutating webhook injects TPU env without subgrouping (spec §9.5.2)", async (t) => {
  await t.step("upstream e2e example: S=2, two TPU containers in leader and worker", async () => {
    const containers = (): Container[] => [
      { name: "c1", resources: TPU("4") },
      { name: "c2", resources: TPU(4) },
    ];
    const hosts = [
      "test-sample-0.test-sample",
      "test-sample-0.test-sample",
      "test-sample-0-1.test-sample",
      "test-sample-0-1.test-sample",
    ];
    const ports = ["8476", "8477"];
    const leaderInput = leader({ lws: "test-sample", size: 2, containers: containers() });
    await assertMutated(
      leaderInput,
      expect(leaderInput, (p) => {
        Object.assign(labelsOf(p), {
          [`${P}group-index`]: "0",
          [`${P}group-key`]: sha1("default/test-sample-0"),
        });
        const env = lwsEnv("test-sample-0.test-sample.default", 2, 0);
        p.spec!.containers[0]!.env = [...env, ...tpuEnv(hosts, 0, "test-sample-0", ports, "8476")];
        p.spec!.containers[1]!.env = [...env, ...tpuEnv(hosts, 1, "test-sample-0", ports, "8477")];
      }),
    );
    const workerInput = worker({
      lws: "test-sample",
      size: 2,
      worker: 1,
      containers: containers(),
      annotations: { [`${P}leader-requests-tpus`]: "true" },
    });
    await assertMutated(
      workerInput,
      expect(workerInput, (p) => {
        labelsOf(p)[`${P}worker-index`] = "1";
        const env = lwsEnv("test-sample-0.test-sample.default", 2, 1);
        p.spec!.containers[0]!.env = [...env, ...tpuEnv(hosts, 2, "test-sample-0", ports, "8476")];
        p.spec!.containers[1]!.env = [...env, ...tpuEnv(hosts, 3, "test-sample-0", ports, "8477")];
      }),
    );
  });

  await t.step("leader without TPUs: workers count from 0 and the host list skips the leader", async () => {
    for (const w of [1, 2]) {
      const input = worker({ size: 3, worker: w, containers: [{ name: "tpu", resources: TPU("1", "requests") }] });
      const hosts = ["sample-0-1.sample", "sample-0-2.sample"];
      await assertMutated(
        input,
        expect(input, (p) => {
          labelsOf(p)[`${P}worker-index`] = String(w);
          p.spec!.containers[0]!.env = [
            ...lwsEnv("sample-0.sample.default", 3, w),
            ...tpuEnv(hosts, w - 1, "sample-0", ["8476"], "8476"),
          ];
        }),
      );
    }
  });

  await t.step("UniquePerReplica: hosts use the per-replica subdomain", async () => {
    const input = leader({
      size: 2,
      annotations: { [`${P}subdomainPolicy`]: "UniquePerReplica" },
      containers: [{ name: "tpu", resources: TPU(1) }],
    });
    const out = (await mutate(input)).object as Pod;
    assert.deepEqual(
      out.spec!.containers[0]!.env!.slice(3),
      tpuEnv(
        ["sample-0.sample-0", "sample-0-1.sample-0"],
        0,
        "sample-0",
        ["8476"],
        "8476",
      ),
    );
    const workerInput = worker({
      size: 2,
      worker: 1,
      subdomain: "sample-0",
      annotations: { [`${P}leader-requests-tpus`]: "true" },
      containers: [{ name: "tpu", resources: TPU(1) }],
    });
    const workerOut = (await mutate(workerInput)).object as Pod;
    assert.deepEqual(
      workerOut.spec!.containers[0]!.env!.slice(3),
      tpuEnv(
        ["sample-0.sample-0", "sample-0-1.sample-0"],
        1,
        "sample-0",
        ["8476"],
        "8476",
      ),
    );
  });

  await t.step("user TPU_PROCESS_PORT is used and not repeated; init containers count after containers", async () => {
    const input = leader({
      size: 1,
      containers: [
        { name: "plain" },
        { name: "tpu", resources: TPU(2), env: [{ name: "TPU_PROCESS_PORT", value: "9000" }] },
      ],
      initContainers: [{ name: "init-tpu", resources: TPU(1) }],
    });
    const out = (await mutate(input)).object as Pod;
    const env = lwsEnv("sample-0.sample.default", 1, 0);
    const hosts = ["sample-0.sample", "sample-0.sample"];
    assert.deepEqual(out.spec!.containers[0]!.env, env);
    assert.deepEqual(out.spec!.containers[1]!.env, [
      ...env,
      { name: "TPU_PROCESS_PORT", value: "9000" },
      ...tpuEnv(hosts, 0, "sample-0", ["9000", "8477"]),
    ]);
    assert.deepEqual(out.spec!.initContainers![0]!.env, [
      ...env,
      ...tpuEnv(hosts, 1, "sample-0", ["9000", "8477"], "8477"),
    ]);
  });

  await t.step("idempotent: a container that already has TPU_WORKER_ID is left alone", async () => {
    const input = leader({
      size: 2,
      containers: [{ name: "tpu", resources: TPU(1), env: [{ name: "TPU_WORKER_ID", value: "5" }] }],
    });
    const out = (await mutate(input)).object as Pod;
    assert.deepEqual(out.spec!.containers[0]!.env, [
      ...lwsEnv("sample-0.sample.default", 2, 0),
      { name: "TPU_WORKER_ID", value: "5" },
    ]);
  });

  await t.step("non-TPU pods: zero quantities, limit 0 over a request, other resources", async () => {
    for (
      const resources of [
        TPU("0"),
        TPU(0),
        { limits: { "google.com/tpu": "0" }, requests: { "google.com/tpu": "4" } },
        { limits: { cpu: "1" } },
        undefined,
      ]
    ) {
      const input = leader({ size: 2, containers: [{ name: "c", resources }] });
      const out = (await mutate(input)).object as Pod;
      assert.deepEqual(out.spec!.containers[0]!.env, lwsEnv("sample-0.sample.default", 2, 0));
    }
  });
});

Deno.test("pod mutating webhook injects TPU env with subgrouping (spec §9.5.3)", async (t) => {
  interface Case {
    name: string;
    size: number;
    k: number;
    policy?: string;
    leaderTpu: boolean;
    expected: Record<number, { hosts: string[]; id: number }>;
  }
  const cases: Case[] = [
    {
      name: "S=4 k=2, leader requests TPUs",
      size: 4,
      k: 2,
      leaderTpu: true,
      expected: {
        0: { hosts: ["x-0.sd", "x-0-1.sd"], id: 0 },
        1: { hosts: ["x-0.sd", "x-0-1.sd"], id: 1 },
        2: { hosts: ["x-0-2.sd", "x-0-3.sd"], id: 0 },
        3: { hosts: ["x-0-2.sd", "x-0-3.sd"], id: 1 },
      },
    },
    {
      name: "S=5 k=2 LeaderExcluded, leader without TPUs",
      size: 5,
      k: 2,
      policy: "LeaderExcluded",
      leaderTpu: false,
      expected: {
        1: { hosts: ["x-0-1.sd", "x-0-2.sd"], id: 0 },
        2: { hosts: ["x-0-1.sd", "x-0-2.sd"], id: 1 },
        3: { hosts: ["x-0-3.sd", "x-0-4.sd"], id: 0 },
        4: { hosts: ["x-0-3.sd", "x-0-4.sd"], id: 1 },
      },
    },
    {
      name: "S=3 k=1, leader requests TPUs",
      size: 3,
      k: 1,
      leaderTpu: true,
      expected: {
        0: { hosts: ["x-0.sd"], id: 0 },
        1: { hosts: ["x-0-1.sd"], id: 0 },
        2: { hosts: ["x-0-2.sd"], id: 0 },
      },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const annotations: Record<string, string> = { [`${P}subgroup-size`]: String(c.k) };
      if (c.policy) annotations[`${P}subgroup-policy-type`] = c.policy;
      for (const [w, want] of Object.entries(c.expected)) {
        const index = Number(w);
        const containers = [{ name: "tpu", resources: TPU(4) }, { name: "second-tpu", resources: TPU(4) }];
        const input = index === 0
          ? leader({ lws: "x", size: c.size, subdomain: "sd", annotations, containers })
          : worker({
            lws: "x",
            size: c.size,
            worker: index,
            subdomain: "sd",
            containers,
            annotations: { ...annotations, ...(c.leaderTpu ? { [`${P}leader-requests-tpus`]: "true" } : {}) },
          });
        const out = (await mutate(input)).object as Pod;
        const env = out.spec!.containers[0]!.env!;
        assert.deepEqual(env.slice(0, 3), lwsEnv("x-0.sd.default", c.size, index));
        assert.deepEqual(env.slice(3), tpuEnv(want.hosts, want.id, "x-0", ["8476"], "8476"), `worker ${w}`);
        // Only the first TPU container is touched.
        assert.deepEqual(out.spec!.containers[1]!.env, lwsEnv("x-0.sd.default", c.size, index));
      }
    });
  }
  await t.step("a TPU-requesting leader under LeaderExcluded is denied", async () => {
    const input = leader({
      size: 5,
      annotations: { [`${P}subgroup-size`]: "2", [`${P}subgroup-policy-type`]: "LeaderExcluded" },
      containers: [{ name: "tpu", resources: TPU(1) }],
    });
    await assertDenied(input, 'strconv.Atoi: parsing "": invalid syntax');
  });
});

Deno.test("pod mutating webhook denies pods it cannot complete and ignores others", async (t) => {
  await t.step("missing size annotation", async () => {
    const input = leader({ size: 1 });
    delete input.metadata!.annotations![`${P}size`];
    await assertDenied(input, "size annotation is unexpectedly missing for pod sample-0");
  });
  await t.step("size annotation that is not an integer", async () => {
    await assertDenied(
      leader({ size: 1, annotations: { [`${P}size`]: "three" } }),
      'strconv.Atoi: parsing "three": invalid syntax',
    );
  });
  await t.step("leader name without an ordinal", async () => {
    await assertDenied(leader({ name: "sample", size: 1 }), "parsing pod ordinal for pod sample");
  });
  await t.step("worker name without an ordinal", async () => {
    const input = worker({ size: 2, worker: 1 });
    input.metadata!.name = "sample-x";
    await assertDenied(input, "parsing pod ordinal for pod sample-x");
  });
  await t.step("worker without a group-index label", async () => {
    const input = worker({ size: 2, worker: 1 });
    delete input.metadata!.labels![`${P}group-index`];
    await assertDenied(
      input,
      "Failure constructing environment variables, no group index label found for pod default/sample-0-1",
    );
  });
  await t.step("subgroup size that is not an integer", async () => {
    const input = worker({ size: 2, worker: 1, annotations: { [`${P}subgroup-size`]: "two" } });
    await assertDenied(input, 'strconv.Atoi: parsing "two": invalid syntax');
  });
  await t.step("pods without the name label are admitted untouched", async () => {
    const input = leader({ size: 1 });
    delete input.metadata!.labels![`${P}name`];
    const result = await mutate(input);
    assert.equal(result.response.allowed, true);
    assert.equal(result.response.patch, undefined);
    const bare = await mutate({ apiVersion: "v1", kind: "Pod", metadata: { name: "x" }, spec: { containers: [] } });
    assert.equal(bare.response.patch, undefined);
  });
  await t.step("UPDATE is admitted untouched", async () => {
    const input = leader({ size: 1 });
    const result = await admit(app, WEBHOOK_PATH_MUTATE_POD, { operation: "UPDATE", object: input, oldObject: input });
    assert.equal(result.response.allowed, true);
    assert.equal(result.response.patch, undefined);
  });
});

Deno.test("pod validating webhook admits everything", async () => {
  for (const operation of ["CREATE", "UPDATE", "DELETE"] as const) {
    const bad = leader({ name: "sample", size: 1 });
    const result = await admit(app, WEBHOOK_PATH_VALIDATE_POD, { operation, object: bad, oldObject: bad });
    assert.equal(result.response.allowed, true);
    assert.equal(result.response.patch, undefined);
  }
});
