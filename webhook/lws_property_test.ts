/**
 * Property-based tests of the LWS webhooks through the HTTP handler: generated valid specs are admitted (after the
 * mutating webhook's patch, like the API server chains them), generated invalid specs are denied with the field
 * path of every planted error, and arbitrary JSON never makes the handler throw.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { WEBHOOK_PATH_MUTATE_LWS, WEBHOOK_PATH_VALIDATE_LWS } from "../api/constants.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import type { AdmissionRequest } from "./admission.ts";
import { createWebhookApp } from "./app.ts";
import { admit } from "./_testing.ts";

const app = createWebhookApp();
const INT32_MAX = 2147483647;
const RU = "spec.rolloutStrategy.rollingUpdateConfiguration";
const SG = "spec.leaderWorkerTemplate.SubGroupPolicy.subGroupSize";
const SUBGROUP_TOPOLOGY = "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology";
const RUNS = { valid: 5000, invalid: 5000, update: 1000, garbage: 2000 };

type IntOrString = number | string;

interface Shape {
  name: string;
  namespace: string;
  replicas: number;
  size: number;
  maxUnavailable: IntOrString;
  maxSurge: IntOrString;
  partition: number;
  subGroup: { type: "LeaderWorker" | "LeaderExcluded"; pick: number } | null;
  exclusive: string | null;
  subGroupExclusive: string | null;
  restartPolicy: string | null;
  startupPolicy: string;
  subdomainPolicy: string | null;
  omitRolloutStrategy: boolean;
  labels: Record<string, string>;
}

const labelValue = fc.stringMatching(/^([a-z0-9]([-a-z0-9_.]{0,20}[a-z0-9])?)?$/);
const intOrPercent = fc.oneof(
  fc.integer({ min: 0, max: 20 }),
  fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`),
);

const shape: fc.Arbitrary<Shape> = fc.record({
  name: fc.stringMatching(/^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$/),
  namespace: fc.constantFrom("default", "team-a", "x"),
  replicas: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 1_000_000 })),
  size: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 2147 })),
  maxUnavailable: intOrPercent,
  maxSurge: intOrPercent,
  partition: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: INT32_MAX })),
  subGroup: fc.option(
    fc.record({ type: fc.constantFrom("LeaderWorker" as const, "LeaderExcluded" as const), pick: fc.nat() }),
  ),
  exclusive: fc.option(fc.constantFrom("topology.kubernetes.io/zone", "rack")),
  subGroupExclusive: fc.option(fc.constantFrom("kubernetes.io/hostname", "rack")),
  restartPolicy: fc.option(fc.constantFrom("Default", "RecreateGroupOnPodRestart", "RecreateGroupAfterStart", "None")),
  startupPolicy: fc.constantFrom("LeaderCreated", "LeaderReady"),
  subdomainPolicy: fc.option(fc.constantFrom("Shared", "UniquePerReplica")),
  omitRolloutStrategy: fc.boolean(),
  labels: fc.dictionary(fc.stringMatching(/^[a-z]([-a-z0-9.]{0,10}[a-z0-9])?$/), labelValue, { maxKeys: 3 }),
});

function scaled(value: IntOrString, total: number, roundUp: boolean): number {
  if (typeof value === "number") return value;
  const percent = Number(value.slice(0, -1));
  const raw = (percent * total) / 100;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}

function divisorsUpTo(n: number, max: number): number[] {
  const result: number[] = [];
  for (let k = 1; k <= max; k++) if (n % k === 0) result.push(k);
  return result;
}

/** Builds a LeaderWorkerSet that satisfies every rule of spec §4.1 (before the mutating webhook's defaults). */
function buildValid(s: Shape): LeaderWorkerSet {
  let maxUnavailable = s.maxUnavailable;
  if (
    s.replicas !== 0 && scaled(maxUnavailable, s.replicas, false) === 0 && scaled(s.maxSurge, s.replicas, true) === 0
  ) {
    maxUnavailable = 1; // V15
  }
  const annotations: Record<string, string> = {};
  if (s.exclusive !== null) annotations["leaderworkerset.sigs.k8s.io/exclusive-topology"] = s.exclusive;
  const template: LeaderWorkerSet["spec"]["leaderWorkerTemplate"] = {
    size: s.size,
    workerTemplate: { spec: { containers: [{ name: "worker", image: "nginx" }] } },
  };
  if (s.restartPolicy !== null) template.restartPolicy = s.restartPolicy as "None";
  if (s.subGroup !== null) {
    const candidates = s.subGroup.type === "LeaderExcluded"
      ? (s.size === 1 ? [1] : divisorsUpTo(s.size - 1, s.size))
      : [...new Set([...divisorsUpTo(s.size, s.size), ...(s.size === 1 ? [1] : divisorsUpTo(s.size - 1, s.size))])];
    template.subGroupPolicy = {
      subGroupPolicyType: s.subGroup.type,
      subGroupSize: candidates[s.subGroup.pick % candidates.length]!,
    };
    if (s.subGroupExclusive !== null) annotations[SUBGROUP_TOPOLOGY] = s.subGroupExclusive;
  }
  const lws: LeaderWorkerSet = {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: s.name, namespace: s.namespace, labels: s.labels, annotations },
    spec: { replicas: s.replicas, leaderWorkerTemplate: template, startupPolicy: s.startupPolicy as "LeaderCreated" },
  };
  if (!s.omitRolloutStrategy) {
    lws.spec.rolloutStrategy = {
      type: "RollingUpdate",
      rollingUpdateConfiguration: { maxUnavailable, maxSurge: s.maxSurge, partition: s.partition },
    };
  }
  if (s.subdomainPolicy !== null) lws.spec.networkConfig = { subdomainPolicy: s.subdomainPolicy as "Shared" };
  return lws;
}

/** Runs the LWS through the mutating webhook and applies its patch, like the API server before validation. */
async function defaulted(lws: unknown, operation: "CREATE" | "UPDATE" = "CREATE"): Promise<unknown> {
  const mutated = await admit(app, WEBHOOK_PATH_MUTATE_LWS, { operation, object: lws });
  assert.equal(mutated.status, 200);
  assert.equal(mutated.response.allowed, true, mutated.response.status?.message);
  return mutated.object;
}

async function validate(request: Partial<AdmissionRequest> & Pick<AdmissionRequest, "operation">) {
  const result = await admit(app, WEBHOOK_PATH_VALIDATE_LWS, request);
  assert.equal(result.status, 200);
  return result.response;
}

/** One planted error: how to break a valid LWS, and the field path the denial must name. */
interface Breakage {
  path: string;
  /** Fields the breakage writes; breakages combined in one sample touch disjoint fields. */
  touches: string[];
  apply(lws: LeaderWorkerSet): void;
}

function br(path: string, touches: string[], apply: (lws: LeaderWorkerSet) => void): Breakage {
  return { path, touches, apply };
}

function disjoint(breakages: Breakage[]): boolean {
  const all = breakages.flatMap((b) => b.touches);
  return new Set(all).size === all.length;
}

const rollout = (lws: LeaderWorkerSet) => lws.spec.rolloutStrategy!.rollingUpdateConfiguration!;
const notPercent = fc.string({ maxLength: 6 }).filter((text) => !/^[0-9]+%$/.test(text));

function intOrStringBreakages(field: "maxUnavailable" | "maxSurge"): fc.Arbitrary<Breakage>[] {
  const path = `${RU}.${field}`;
  const set = (value: IntOrString) => br(path, [field], (l) => void (rollout(l)[field] = value));
  return [
    notPercent.map(set),
    fc.integer({ min: -INT32_MAX, max: -1 }).map(set),
    fc.integer({ min: 101, max: 100000 }).map((p) => set(`${p}%`)),
  ];
}

const SUBGROUP = ["size", "subGroup"];
const setSubGroup = (l: LeaderWorkerSet, size: number, k: number, type = "LeaderWorker") => {
  l.spec.leaderWorkerTemplate.size = size;
  l.spec.leaderWorkerTemplate.subGroupPolicy = { subGroupPolicyType: type as "LeaderWorker", subGroupSize: k };
};

const breakage: fc.Arbitrary<Breakage> = fc.oneof(
  fc.integer({ min: -INT32_MAX, max: -1 }).map((n) => br("spec.replicas", ["replicas"], (l) => (l.spec.replicas = n))),
  fc.integer({ min: 1_000_001, max: INT32_MAX }).map((n) =>
    br("spec.replicas", ["replicas"], (l) => (l.spec.replicas = n))
  ),
  fc.integer({ min: -1000, max: 0 }).map((n) =>
    br("spec.leaderWorkerTemplate.size", ["size", "subGroup", "annotation"], (l) => {
      l.spec.leaderWorkerTemplate.size = n;
      delete l.spec.leaderWorkerTemplate.subGroupPolicy;
      delete l.metadata.annotations?.[SUBGROUP_TOPOLOGY];
    })
  ),
  fc.integer({ min: 1000, max: 1_000_000 }).map((r) =>
    br("spec.replicas", ["replicas", "size", "subGroup"], (l) => {
      l.spec.replicas = r;
      l.spec.leaderWorkerTemplate.size = Math.floor(INT32_MAX / r) + 1; // V5
      delete l.spec.leaderWorkerTemplate.subGroupPolicy;
    })
  ),
  ...intOrStringBreakages("maxUnavailable"),
  ...intOrStringBreakages("maxSurge"),
  fc.integer({ min: -INT32_MAX, max: -1 }).map((n) =>
    br(`${RU}.partition`, ["partition"], (l) => (rollout(l).partition = n))
  ),
  fc.integer({ min: 1, max: 1000 }).map((r) =>
    br(`${RU}.maxUnavailable`, ["replicas", "maxUnavailable", "maxSurge"], (l) => {
      l.spec.replicas = r;
      rollout(l).maxUnavailable = 0;
      rollout(l).maxSurge = 0; // V15
    })
  ),
  fc.integer({ min: -100, max: 0 }).map((k) => br(SG, SUBGROUP, (l) => setSubGroup(l, 4, k))), // V16
  fc.tuple(fc.integer({ min: 3, max: 50 }), fc.integer({ min: 1, max: 20 })).map(([k, m]) =>
    br(SG, SUBGROUP, (l) => setSubGroup(l, k * m + 2, k)) // V17
  ),
  fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 20 })).map(([size, extra]) =>
    br(SG, SUBGROUP, (l) => setSubGroup(l, size, size + extra)) // V18
  ),
  fc.tuple(fc.integer({ min: 2, max: 50 }), fc.integer({ min: 1, max: 20 })).map(([k, m]) =>
    br(SG, SUBGROUP, (l) => setSubGroup(l, k * m, k, "LeaderExcluded")) // V19
  ),
  fc.constantFrom("rack", "").map((value) =>
    br(`metadata.annotations.${SUBGROUP_TOPOLOGY}`, ["subGroup", "annotation"], (l) => {
      delete l.spec.leaderWorkerTemplate.subGroupPolicy; // V20
      l.metadata.annotations = { ...l.metadata.annotations, [SUBGROUP_TOPOLOGY]: value };
    })
  ),
  fc.oneof(
    fc.stringMatching(/^[0-9A-Z_][a-z]{0,5}$/),
    fc.stringMatching(/^[a-z]{64,70}$/),
    fc.constantFrom("a.b", "a-", "ab_c"),
  ).map((name) => br("metadata.name", ["name"], (l) => (l.metadata.name = name))),
  fc.constant(br("metadata.namespace", ["namespace"], (l) => delete l.metadata.namespace)),
  fc.constantFrom("-bad", "a/b/c", "x".repeat(64)).map((key) =>
    br("metadata.labels", ["labels"], (l) => (l.metadata.labels = { ...l.metadata.labels, [key]: "v" }))
  ),
);

Deno.test("LWS webhooks admit every generated valid spec (mutate, then validate)", async () => {
  await fc.assert(
    fc.asyncProperty(shape, async (s) => {
      const lws = buildValid(s);
      const object = await defaulted(lws);
      const response = await validate({ operation: "CREATE", object });
      assert.equal(response.allowed, true, `${response.status?.message}\n${JSON.stringify(lws)}`);
    }),
    { numRuns: RUNS.valid },
  );
});

Deno.test("LWS validating webhook denies every generated invalid spec with the planted field paths", async () => {
  await fc.assert(
    fc.asyncProperty(
      shape,
      fc.array(breakage, { minLength: 1, maxLength: 3 }).filter(disjoint),
      async (s, breakages) => {
        const lws = buildValid({ ...s, omitRolloutStrategy: false });
        for (const b of breakages) b.apply(lws);
        const object = await defaulted(lws);
        const response = await validate({ operation: "CREATE", object });
        assert.equal(response.allowed, false, JSON.stringify(lws));
        assert.equal(response.status?.code, 403);
        assert.equal(response.status?.reason, "Forbidden");
        const message = response.status?.message ?? "";
        for (const b of breakages) {
          assert.ok(message.includes(`${b.path}: `) || message.includes(`${b.path}[`), `${b.path} not in ${message}`);
        }
      },
    ),
    { numRuns: RUNS.invalid },
  );
});

Deno.test("LWS validating webhook denies generated subGroupSize changes on UPDATE", async () => {
  await fc.assert(
    fc.asyncProperty(
      shape,
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 6 }),
      fc.constantFrom("change", "enable", "remove"),
      async (s, a, b, kind) => {
        fc.pre(kind !== "change" || a !== b);
        const base = buildValid({ ...s, subGroup: null, subGroupExclusive: null, size: 1 });
        const withK = (k: number) => {
          const l = structuredClone(base);
          setSubGroup(l, 60, k); // 60 is divisible by 1..6
          return l;
        };
        const without = structuredClone(base);
        without.spec.leaderWorkerTemplate.size = 60;
        const [oldObject, object] = kind === "change"
          ? [withK(a), withK(b)]
          : kind === "enable"
          ? [without, withK(a)]
          : [withK(a), without];
        const response = await validate({
          operation: "UPDATE",
          oldObject: await defaulted(oldObject),
          object: await defaulted(object, "UPDATE"),
        });
        assert.equal(response.allowed, false);
        assert.ok(response.status?.message?.startsWith(`${SG}: Invalid value: `), response.status?.message);
      },
    ),
    { numRuns: RUNS.update },
  );
});

/** Replaces the value at a random path of the object (or the object itself) with arbitrary JSON. */
const garbage = fc.tuple(shape, fc.array(fc.nat(), { maxLength: 6 }), fc.jsonValue({ maxDepth: 3 })).map(
  ([s, choices, value]) => {
    const root: Record<string, unknown> = { object: buildValid(s) };
    let parent: Record<string, unknown> = root;
    let key = "object";
    for (const choice of choices) {
      const current = parent[key];
      if (typeof current !== "object" || current === null) break;
      const keys = Object.keys(current);
      if (keys.length === 0) break;
      parent = current as Record<string, unknown>;
      key = keys[choice % keys.length]!;
    }
    parent[key] = value;
    return root.object;
  },
);

Deno.test("LWS webhooks never throw on arbitrary JSON and name a field when they deny", async () => {
  await fc.assert(
    fc.asyncProperty(garbage, fc.option(garbage), async (object, oldObject) => {
      const mutated = await admit(app, WEBHOOK_PATH_MUTATE_LWS, { operation: "CREATE", object });
      assert.equal(mutated.status, 200);
      assert.notEqual(mutated.response.status?.code, 500, mutated.response.status?.message);
      for (const operation of ["CREATE", "UPDATE"] as const) {
        const response = await validate({ operation, object: mutated.object, oldObject: oldObject ?? undefined });
        assert.notEqual(response.status?.code, 500, response.status?.message);
        if (!response.allowed) {
          assert.equal(response.status?.code, 403);
          assert.match(response.status?.message ?? "", /^\[?(<root>|metadata|spec)[^:]*: [A-Z]/);
        }
      }
    }),
    { numRuns: RUNS.garbage },
  );
});
