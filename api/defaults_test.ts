import { deepStrictEqual as assertEquals, notStrictEqual } from "node:assert/strict";
import { applyCrdDefaults, defaultLeaderWorkerSet } from "./defaults.ts";
import type { LeaderWorkerSet } from "./types.ts";

const podTemplate = { spec: { containers: [{ name: "c", image: "nginx" }] } };

/** An LWS as the API server hands it to the mutating webhook: CRD defaults applied, webhook defaults not. */
function crdDefaulted(): LeaderWorkerSet {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: "test-sample", namespace: "default" },
    spec: {
      replicas: 1,
      startupPolicy: "LeaderCreated",
      leaderWorkerTemplate: { size: 1, restartPolicy: "RecreateGroupOnPodRestart", workerTemplate: podTemplate },
    },
  };
}

/** The same object after the webhook: every default present. */
function fullyDefaulted(): LeaderWorkerSet {
  const lws = crdDefaulted();
  lws.spec.rolloutStrategy = {
    type: "RollingUpdate",
    rollingUpdateConfiguration: { partition: 0, maxUnavailable: 1, maxSurge: 0 },
  };
  lws.spec.networkConfig = { subdomainPolicy: "Shared" };
  return lws;
}

Deno.test("defaultLeaderWorkerSet() applies spec 3 steps 1-5", async (t) => {
  const cases: {
    name: string;
    edit: (lws: LeaderWorkerSet) => void;
    check: (lws: LeaderWorkerSet) => unknown;
    want: unknown;
    changed: boolean;
  }[] = [
    {
      name: "1: empty restartPolicy becomes RecreateGroupOnPodRestart",
      edit: (l) => delete l.spec.leaderWorkerTemplate.restartPolicy,
      check: (l) => l.spec.leaderWorkerTemplate.restartPolicy,
      want: "RecreateGroupOnPodRestart",
      changed: true,
    },
    {
      name: "1: empty-string restartPolicy becomes RecreateGroupOnPodRestart",
      edit: (l) => (l.spec.leaderWorkerTemplate as unknown as Record<string, unknown>).restartPolicy = "",
      check: (l) => l.spec.leaderWorkerTemplate.restartPolicy,
      want: "RecreateGroupOnPodRestart",
      changed: true,
    },
    {
      name: "1: a set restartPolicy is kept",
      edit: (l) => l.spec.leaderWorkerTemplate.restartPolicy = "RecreateGroupAfterStart",
      check: (l) => l.spec.leaderWorkerTemplate.restartPolicy,
      want: "RecreateGroupAfterStart",
      changed: false,
    },
    {
      name: "2: deprecated Default becomes None",
      edit: (l) => l.spec.leaderWorkerTemplate.restartPolicy = "Default",
      check: (l) => l.spec.leaderWorkerTemplate.restartPolicy,
      want: "None",
      changed: true,
    },
    {
      name: "2: None is kept",
      edit: (l) => l.spec.leaderWorkerTemplate.restartPolicy = "None",
      check: (l) => l.spec.leaderWorkerTemplate.restartPolicy,
      want: "None",
      changed: false,
    },
    {
      name: "3: absent rolloutStrategy gets type RollingUpdate (and step 4's configuration)",
      edit: (l) => delete l.spec.rolloutStrategy,
      check: (l) => l.spec.rolloutStrategy,
      want: { type: "RollingUpdate", rollingUpdateConfiguration: { partition: 0, maxUnavailable: 1, maxSurge: 0 } },
      changed: true,
    },
    {
      name: "3: empty type becomes RollingUpdate, configuration kept",
      edit: (l) => l.spec.rolloutStrategy = { rollingUpdateConfiguration: { partition: 2, maxSurge: "50%" } },
      check: (l) => l.spec.rolloutStrategy,
      want: { rollingUpdateConfiguration: { partition: 2, maxSurge: "50%" }, type: "RollingUpdate" },
      changed: true,
    },
    {
      name: "4: RollingUpdate without configuration gets integers 1/0/0",
      edit: (l) => l.spec.rolloutStrategy = { type: "RollingUpdate" },
      check: (l) => l.spec.rolloutStrategy?.rollingUpdateConfiguration,
      want: { partition: 0, maxUnavailable: 1, maxSurge: 0 },
      changed: true,
    },
    {
      name: "4: an existing configuration is not completed (the CRD does that)",
      edit: (l) => l.spec.rolloutStrategy = { type: "RollingUpdate", rollingUpdateConfiguration: { maxSurge: 2 } },
      check: (l) => l.spec.rolloutStrategy?.rollingUpdateConfiguration,
      want: { maxSurge: 2 },
      changed: false,
    },
    {
      name: "5: absent networkConfig becomes Shared",
      edit: (l) => delete l.spec.networkConfig,
      check: (l) => l.spec.networkConfig,
      want: { subdomainPolicy: "Shared" },
      changed: true,
    },
    {
      name: "5: null networkConfig becomes Shared",
      edit: (l) => (l.spec as unknown as Record<string, unknown>).networkConfig = null,
      check: (l) => l.spec.networkConfig,
      want: { subdomainPolicy: "Shared" },
      changed: true,
    },
    {
      name: "5: networkConfig without subdomainPolicy gets Shared",
      edit: (l) => l.spec.networkConfig = {},
      check: (l) => l.spec.networkConfig,
      want: { subdomainPolicy: "Shared" },
      changed: true,
    },
    {
      name: "5: UniquePerReplica is kept",
      edit: (l) => l.spec.networkConfig = { subdomainPolicy: "UniquePerReplica" },
      check: (l) => l.spec.networkConfig,
      want: { subdomainPolicy: "UniquePerReplica" },
      changed: false,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const input = fullyDefaulted();
      c.edit(input);
      const before = structuredClone(input);
      const result = defaultLeaderWorkerSet(input);
      assertEquals(c.check(result.lws), c.want);
      assertEquals(result.changed, c.changed);
      assertEquals(input, before, "input must not be mutated");
      notStrictEqual(result.lws, input);
    });
  }
});

Deno.test("defaultLeaderWorkerSet() defaults nothing else", () => {
  const { lws, changed } = defaultLeaderWorkerSet(crdDefaulted());
  assertEquals(changed, true);
  assertEquals(lws, fullyDefaulted());
  assertEquals(defaultLeaderWorkerSet(fullyDefaulted()), { lws: fullyDefaulted(), changed: false });
  // replicas, size, startupPolicy and subGroupPolicyType are CRD defaults, not webhook defaults.
  const bare = crdDefaulted();
  delete bare.spec.replicas;
  delete bare.spec.leaderWorkerTemplate.size;
  delete bare.spec.startupPolicy;
  bare.spec.leaderWorkerTemplate.subGroupPolicy = { subGroupSize: 1 };
  const out = defaultLeaderWorkerSet(bare).lws;
  assertEquals(out.spec.replicas, undefined);
  assertEquals(out.spec.leaderWorkerTemplate.size, undefined);
  assertEquals(out.spec.startupPolicy, undefined);
  assertEquals(out.spec.leaderWorkerTemplate.subGroupPolicy, { subGroupSize: 1 });
});

Deno.test("defaultLeaderWorkerSet() tolerates malformed input without throwing", async (t) => {
  await t.step("missing spec is created like a Go zero value", () => {
    const { lws, changed } = defaultLeaderWorkerSet({ metadata: { name: "x" } } as unknown as LeaderWorkerSet);
    assertEquals(changed, true);
    assertEquals(lws.spec, {
      leaderWorkerTemplate: { restartPolicy: "RecreateGroupOnPodRestart" },
      rolloutStrategy: {
        type: "RollingUpdate",
        rollingUpdateConfiguration: { partition: 0, maxUnavailable: 1, maxSurge: 0 },
      },
      networkConfig: { subdomainPolicy: "Shared" },
    });
  });
  await t.step("a spec of the wrong type is left for validation", () => {
    const input = { metadata: { name: "x" }, spec: "nope" } as unknown as LeaderWorkerSet;
    assertEquals(defaultLeaderWorkerSet(input), { lws: input, changed: false });
  });
  await t.step("a non-object is returned unchanged", () => {
    assertEquals(defaultLeaderWorkerSet(null as unknown as LeaderWorkerSet), { lws: null, changed: false });
  });
});

Deno.test("applyCrdDefaults() fills spec 1.4 defaults only inside present objects", async (t) => {
  await t.step("minimal manifest", () => {
    const input = {
      metadata: { name: "x", namespace: "default" },
      spec: { leaderWorkerTemplate: { workerTemplate: podTemplate } },
    } as LeaderWorkerSet;
    const before = structuredClone(input);
    assertEquals(applyCrdDefaults(input).spec, {
      leaderWorkerTemplate: { workerTemplate: podTemplate, size: 1, restartPolicy: "RecreateGroupOnPodRestart" },
      replicas: 1,
      startupPolicy: "LeaderCreated",
    });
    assertEquals(input, before, "input must not be mutated");
  });
  await t.step("present subGroupPolicy and rollout objects get their defaults", () => {
    const input = {
      metadata: { name: "x" },
      spec: {
        replicas: 3,
        leaderWorkerTemplate: { workerTemplate: podTemplate, size: 4, subGroupPolicy: { subGroupSize: 2 } },
        rolloutStrategy: { rollingUpdateConfiguration: { maxSurge: "25%" } },
      },
    } as LeaderWorkerSet;
    const spec = applyCrdDefaults(input).spec;
    assertEquals(spec.replicas, 3);
    assertEquals(spec.leaderWorkerTemplate.size, 4);
    assertEquals(spec.leaderWorkerTemplate.subGroupPolicy, { subGroupSize: 2, subGroupPolicyType: "LeaderWorker" });
    assertEquals(spec.rolloutStrategy, {
      type: "RollingUpdate",
      rollingUpdateConfiguration: { maxSurge: "25%", partition: 0, maxUnavailable: 1 },
    });
  });
  await t.step("set values and LeaderExcluded are kept", () => {
    const input = {
      metadata: { name: "x" },
      spec: {
        startupPolicy: "LeaderReady",
        leaderWorkerTemplate: {
          workerTemplate: podTemplate,
          restartPolicy: "None",
          subGroupPolicy: { subGroupPolicyType: "LeaderExcluded", subGroupSize: 2 },
        },
      },
    } as LeaderWorkerSet;
    const spec = applyCrdDefaults(input).spec;
    assertEquals(spec.startupPolicy, "LeaderReady");
    assertEquals(spec.leaderWorkerTemplate.restartPolicy, "None");
    assertEquals(spec.leaderWorkerTemplate.subGroupPolicy?.subGroupPolicyType, "LeaderExcluded");
  });
  await t.step("absent spec stays absent", () => {
    assertEquals(applyCrdDefaults({ metadata: { name: "x" } } as LeaderWorkerSet), { metadata: { name: "x" } });
  });
});
