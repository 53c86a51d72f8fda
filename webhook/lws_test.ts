import assert from "node:assert/strict";
import { WEBHOOK_PATH_MUTATE_LWS, WEBHOOK_PATH_VALIDATE_LWS } from "../api/constants.ts";
import type { LeaderWorkerSet } from "../api/types.ts";
import { createWebhookApp } from "./app.ts";
import { admit } from "./_testing.ts";

const app = createWebhookApp();

/** A LeaderWorkerSet as the API server sends it after CRD defaulting and the mutating webhook. */
function lws(): LeaderWorkerSet {
  return {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: "sample", namespace: "default" },
    spec: {
      replicas: 2,
      leaderWorkerTemplate: {
        size: 3,
        restartPolicy: "RecreateGroupOnPodRestart",
        workerTemplate: { spec: { containers: [{ name: "worker", image: "nginx" }] } },
      },
      startupPolicy: "LeaderCreated",
      rolloutStrategy: {
        type: "RollingUpdate",
        rollingUpdateConfiguration: { partition: 0, maxUnavailable: 1, maxSurge: 0 },
      },
      networkConfig: { subdomainPolicy: "Shared" },
    },
  };
}

/** Returns a copy of `object` with the dotted `path` set to `value` (`undefined` deletes it). */
function set<T>(object: T, path: string, value: unknown): T {
  const copy = structuredClone(object) as Record<string, unknown>;
  const keys = path.split(".");
  let current = copy;
  for (const key of keys.slice(0, -1)) {
    if (typeof current[key] !== "object" || current[key] === null) current[key] = {};
    current = current[key] as Record<string, unknown>;
  }
  const last = keys.at(-1)!;
  if (value === undefined) delete current[last];
  else current[last] = value;
  return copy as T;
}

function edit<T>(object: T, edits: Record<string, unknown>): T {
  let result = object;
  for (const [path, value] of Object.entries(edits)) result = set(result, path, value);
  return result;
}

Deno.test("LWS mutating webhook applies every default of spec §3 and answers with a JSON patch", async (t) => {
  const cases: { name: string; input: Record<string, unknown>; expected: Record<string, unknown> }[] = [
    {
      name: "empty restartPolicy becomes RecreateGroupOnPodRestart",
      input: { "spec.leaderWorkerTemplate.restartPolicy": undefined },
      expected: { "spec.leaderWorkerTemplate.restartPolicy": "RecreateGroupOnPodRestart" },
    },
    {
      name: "empty-string restartPolicy becomes RecreateGroupOnPodRestart",
      input: { "spec.leaderWorkerTemplate.restartPolicy": "" },
      expected: { "spec.leaderWorkerTemplate.restartPolicy": "RecreateGroupOnPodRestart" },
    },
    {
      name: "deprecated Default becomes None",
      input: { "spec.leaderWorkerTemplate.restartPolicy": "Default" },
      expected: { "spec.leaderWorkerTemplate.restartPolicy": "None" },
    },
    {
      name: "absent rolloutStrategy gets RollingUpdate with the default configuration",
      input: { "spec.rolloutStrategy": undefined },
      expected: {
        "spec.rolloutStrategy": {
          type: "RollingUpdate",
          rollingUpdateConfiguration: { partition: 0, maxUnavailable: 1, maxSurge: 0 },
        },
      },
    },
    {
      name: "empty rolloutStrategy.type becomes RollingUpdate",
      input: { "spec.rolloutStrategy.type": "" },
      expected: {},
    },
    {
      name: "RollingUpdate without rollingUpdateConfiguration gets integers 1/0/0",
      input: { "spec.rolloutStrategy.rollingUpdateConfiguration": undefined },
      expected: {},
    },
    {
      name: "absent networkConfig becomes Shared",
      input: { "spec.networkConfig": undefined },
      expected: {},
    },
    {
      name: "networkConfig without subdomainPolicy becomes Shared",
      input: { "spec.networkConfig": {} },
      expected: {},
    },
    {
      name: "all defaults at once",
      input: {
        "spec.leaderWorkerTemplate.restartPolicy": "Default",
        "spec.rolloutStrategy": undefined,
        "spec.networkConfig": undefined,
      },
      expected: { "spec.leaderWorkerTemplate.restartPolicy": "None" },
    },
  ];
  for (const operation of ["CREATE", "UPDATE"] as const) {
    for (const c of cases) {
      await t.step(`${operation}: ${c.name}`, async () => {
        const input = edit(lws(), c.input);
        const result = await admit(app, WEBHOOK_PATH_MUTATE_LWS, { operation, object: input, oldObject: lws() });
        assert.equal(result.status, 200);
        assert.equal(result.response.allowed, true);
        assert.equal(result.response.patchType, "JSONPatch");
        assert.deepEqual(result.response.status, { metadata: {}, code: 200 });
        assert.deepEqual(result.object, edit(lws(), c.expected));
      });
    }
  }
  await t.step("a fully defaulted object gets no patch", async () => {
    const result = await admit(app, WEBHOOK_PATH_MUTATE_LWS, { operation: "CREATE", object: lws() });
    assert.equal(result.response.allowed, true);
    assert.equal(result.response.patch, undefined);
    assert.equal(result.response.patchType, undefined);
  });
  await t.step("user values are kept (UniquePerReplica, None, percent strings)", async () => {
    const input = edit(lws(), {
      "spec.networkConfig.subdomainPolicy": "UniquePerReplica",
      "spec.leaderWorkerTemplate.restartPolicy": "None",
      "spec.rolloutStrategy.rollingUpdateConfiguration": { maxUnavailable: "50%", maxSurge: "10%", partition: 1 },
    });
    const result = await admit(app, WEBHOOK_PATH_MUTATE_LWS, { operation: "CREATE", object: input });
    assert.equal(result.response.patch, undefined);
  });
  await t.step("DELETE is admitted untouched", async () => {
    const result = await admit(app, WEBHOOK_PATH_MUTATE_LWS, { operation: "DELETE", oldObject: lws() });
    assert.equal(result.response.allowed, true);
    assert.equal(result.response.patch, undefined);
  });
  await t.step("a CREATE without an object is refused with code 400", async () => {
    const result = await admit(app, WEBHOOK_PATH_MUTATE_LWS, { operation: "CREATE" });
    assert.equal(result.response.allowed, false);
    assert.equal(result.response.status?.code, 400);
  });
});

const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const PERCENT =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
const RU = "spec.rolloutStrategy.rollingUpdateConfiguration";
const SG = "spec.leaderWorkerTemplate.SubGroupPolicy.subGroupSize";
const SUBGROUP_TOPOLOGY = "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology";

Deno.test("LWS validating webhook denies every rule of spec §4.1 with its exact message", async (t) => {
  const cases: { name: string; edits: Record<string, unknown>; message: string }[] = [
    {
      name: "V1 name is not a DNS-1035 label",
      edits: { "metadata.name": "1sample" },
      message: `metadata.name: Invalid value: "1sample": ${DNS1035}`,
    },
    {
      name: "V1 namespace is required",
      edits: { "metadata.namespace": undefined },
      message: "metadata.namespace: Required value",
    },
    {
      name: "V2 negative replicas",
      edits: { "spec.replicas": -1 },
      message: "spec.replicas: Invalid value: -1: replicas must be equal or greater than 0",
    },
    {
      name: "V3 replicas above 1000000",
      edits: { "spec.replicas": 1000001, "spec.leaderWorkerTemplate.size": 1 },
      message: "spec.replicas: Invalid value: 1000001: replicas must be equal or less than 1000000",
    },
    {
      name: "V4 size below 1",
      edits: { "spec.leaderWorkerTemplate.size": 0 },
      message: "spec.leaderWorkerTemplate.size: Invalid value: 0: size must be equal or greater than 1",
    },
    {
      name: "V5 replicas × size overflows int32",
      edits: { "spec.replicas": 1000000, "spec.leaderWorkerTemplate.size": 2148 },
      message:
        "spec.replicas: Invalid value: 1000000: the product of replicas and worker replicas must not exceed 2147483647",
    },
    {
      name: "V6 + V13 + V15 maxUnavailable not a percent",
      edits: { [`${RU}.maxUnavailable`]: "50" },
      message: `[${RU}.maxUnavailable: Invalid value: "50": ${PERCENT}, ${RU}.maxUnavailable: Invalid value: "50": ` +
        "invalid value, " + `${RU}.maxUnavailable: Invalid value: "50": must not be 0 when \`maxSurge\` is 0]`,
    },
    {
      name: "V7 negative maxUnavailable",
      edits: { [`${RU}.maxUnavailable`]: -1, [`${RU}.maxSurge`]: 1 },
      message: `${RU}.maxUnavailable: Invalid value: -1: must be greater than or equal to 0`,
    },
    {
      name: "V8 maxUnavailable above 100%",
      edits: { [`${RU}.maxUnavailable`]: "101%" },
      message: `${RU}.maxUnavailable: Invalid value: "101%": must not be greater than 100%`,
    },
    {
      name: "V9 + V14 maxSurge not a percent",
      edits: { [`${RU}.maxSurge`]: "x%" },
      message: `[${RU}.maxSurge: Invalid value: "x%": ${PERCENT}, ${RU}.maxSurge: Invalid value: "x%": invalid value]`,
    },
    {
      name: "V10 negative maxSurge",
      edits: { [`${RU}.maxSurge`]: -2 },
      message: `${RU}.maxSurge: Invalid value: -2: must be greater than or equal to 0`,
    },
    {
      name: "V11 maxSurge above 100%",
      edits: { [`${RU}.maxSurge`]: "150%" },
      message: `${RU}.maxSurge: Invalid value: "150%": must not be greater than 100%`,
    },
    {
      name: "V12 negative partition",
      edits: { [`${RU}.partition`]: -1 },
      message: `${RU}.partition: Invalid value: -1: must be greater than or equal to 0`,
    },
    {
      name: "V15 maxUnavailable and maxSurge both 0",
      edits: { [`${RU}.maxUnavailable`]: 0 },
      message: `${RU}.maxUnavailable: Invalid value: 0: must not be 0 when \`maxSurge\` is 0`,
    },
    {
      name: "V15 percentages that scale to 0",
      edits: { [`${RU}.maxUnavailable`]: "10%", [`${RU}.maxSurge`]: "0%" },
      message: `${RU}.maxUnavailable: Invalid value: "10%": must not be 0 when \`maxSurge\` is 0`,
    },
    {
      name: "V16 negative subGroupSize",
      edits: { "spec.leaderWorkerTemplate.subGroupPolicy": { subGroupSize: -1 } },
      message: `${SG}: Invalid value: -1: subGroupSize must be equal or greater than 1`,
    },
    {
      name: "V16 zero subGroupSize (upstream panics)",
      edits: { "spec.leaderWorkerTemplate.subGroupPolicy": { subGroupSize: 0 } },
      message: `${SG}: Invalid value: 0: subGroupSize must be equal or greater than 1`,
    },
    {
      name: "V16 missing subGroupSize (upstream panics)",
      edits: { "spec.leaderWorkerTemplate.subGroupPolicy": { subGroupPolicyType: "LeaderWorker" } },
      message: `${SG}: Invalid value: null: subGroupSize must be equal or greater than 1`,
    },
    {
      name: "V17 + V18 subGroupSize larger than size and not dividing",
      edits: { "spec.leaderWorkerTemplate.subGroupPolicy": { subGroupSize: 4 } },
      message: `[${SG}: Invalid value: 4: size or size - 1 must be divisible by subGroupSize, ` +
        `${SG}: Invalid value: 4: subGroupSize cannot be larger than size]`,
    },
    {
      name: "V17 size nor size-1 divisible",
      edits: { "spec.leaderWorkerTemplate.size": 8, "spec.leaderWorkerTemplate.subGroupPolicy": { subGroupSize: 3 } },
      message: `${SG}: Invalid value: 3: size or size - 1 must be divisible by subGroupSize`,
    },
    {
      name: "V18 subGroupSize larger than size",
      edits: { "spec.leaderWorkerTemplate.size": 1, "spec.leaderWorkerTemplate.subGroupPolicy": { subGroupSize: 2 } },
      message: `${SG}: Invalid value: 2: subGroupSize cannot be larger than size`,
    },
    {
      name: "V19 LeaderExcluded needs size-1 divisible",
      edits: {
        "spec.leaderWorkerTemplate.size": 4,
        "spec.leaderWorkerTemplate.subGroupPolicy": { subGroupPolicyType: "LeaderExcluded", subGroupSize: 2 },
      },
      message: `${SG}: Invalid value: 2: size-1 must be divisible by subGroupSize when using LeaderExcluded`,
    },
    {
      name: "V20 subgroup-exclusive-topology without subGroupPolicy",
      edits: { "metadata.annotations": { [SUBGROUP_TOPOLOGY]: "rack" } },
      message: `metadata.annotations.${SUBGROUP_TOPOLOGY}: Invalid value: "rack": ` +
        "cannot have subgroup-exclusive-topology without subGroupSize set",
    },
    {
      name: "several rules aggregate in order",
      edits: { "spec.replicas": -1, "spec.leaderWorkerTemplate.size": 0, [`${RU}.partition`]: -3 },
      message: "[spec.replicas: Invalid value: -1: replicas must be equal or greater than 0, " +
        "spec.leaderWorkerTemplate.size: Invalid value: 0: size must be equal or greater than 1, " +
        `${RU}.partition: Invalid value: -3: must be greater than or equal to 0]`,
    },
  ];
  for (const operation of ["CREATE", "UPDATE"] as const) {
    for (const c of cases) {
      await t.step(`${operation}: ${c.name}`, async () => {
        const object = edit(lws(), c.edits);
        // On UPDATE the old object has the same subGroupPolicy, so only the V rules fire.
        const oldObject = edit(object, { "spec.replicas": 1 });
        const result = await admit(app, WEBHOOK_PATH_VALIDATE_LWS, { operation, object, oldObject });
        assert.equal(result.status, 200);
        assert.equal(result.response.allowed, false);
        assert.deepEqual(result.response.status, { metadata: {}, code: 403, reason: "Forbidden", message: c.message });
      });
    }
  }
});

Deno.test("LWS validating webhook admits valid objects and edge cases upstream allows", async (t) => {
  const cases: { name: string; edits: Record<string, unknown> }[] = [
    { name: "the sample", edits: {} },
    {
      name: "replicas 0 with maxUnavailable and maxSurge 0",
      edits: { "spec.replicas": 0, [`${RU}.maxUnavailable`]: 0 },
    },
    { name: "maxSurge alone is enough", edits: { [`${RU}.maxUnavailable`]: 0, [`${RU}.maxSurge`]: 1 } },
    { name: "maxUnavailable larger than replicas", edits: { [`${RU}.maxUnavailable`]: 10 } },
    { name: "partition larger than replicas", edits: { [`${RU}.partition`]: 10 } },
    { name: "100% maxUnavailable", edits: { [`${RU}.maxUnavailable`]: "100%" } },
    { name: "50% maxSurge rounds up", edits: { [`${RU}.maxUnavailable`]: 0, [`${RU}.maxSurge`]: "1%" } },
    { name: "replicas 1000000", edits: { "spec.replicas": 1000000, "spec.leaderWorkerTemplate.size": 2147 } },
    {
      name: "subGroupSize dividing size",
      edits: {
        "spec.leaderWorkerTemplate.size": 4,
        "spec.leaderWorkerTemplate.subGroupPolicy": { subGroupPolicyType: "LeaderWorker", subGroupSize: 2 },
      },
    },
    {
      name: "subGroupSize dividing size-1 with LeaderExcluded and the topology annotation",
      edits: {
        "spec.leaderWorkerTemplate.size": 5,
        "spec.leaderWorkerTemplate.subGroupPolicy": { subGroupPolicyType: "LeaderExcluded", subGroupSize: 2 },
        "metadata.annotations": { [SUBGROUP_TOPOLOGY]: "rack" },
      },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const object = edit(lws(), c.edits);
      const result = await admit(app, WEBHOOK_PATH_VALIDATE_LWS, { operation: "CREATE", object });
      assert.equal(result.response.allowed, true, result.response.status?.message);
      assert.deepEqual(result.response.status, { metadata: {}, code: 200 });
    });
  }
  await t.step("DELETE is not validated", async () => {
    const object = edit(lws(), { "spec.replicas": -5 });
    const result = await admit(app, WEBHOOK_PATH_VALIDATE_LWS, { operation: "DELETE", oldObject: object });
    assert.equal(result.response.allowed, true);
  });
});

Deno.test("LWS validating webhook applies the UPDATE-only rules of spec §4.2", async (t) => {
  const policy = (size: number) => ({ subGroupPolicyType: "LeaderWorker", subGroupSize: size });
  const withPolicy = (size: number) =>
    edit(lws(), { "spec.leaderWorkerTemplate.size": 4, "spec.leaderWorkerTemplate.subGroupPolicy": policy(size) });
  const withoutPolicy = edit(lws(), { "spec.leaderWorkerTemplate.size": 4 });
  const cases: { name: string; oldObject: LeaderWorkerSet; object: LeaderWorkerSet; message?: string }[] = [
    {
      name: "U1 subGroupSize is immutable",
      oldObject: withPolicy(2),
      object: withPolicy(4),
      message: `${SG}: Invalid value: 4: field is immutable`,
    },
    {
      name: "U2 subGroupSize cannot be enabled",
      oldObject: withoutPolicy,
      object: withPolicy(2),
      message: `${SG}: Invalid value: 2: cannot enable subGroupSize after the lws is already created`,
    },
    {
      name: "U3 subGroupSize cannot be removed",
      oldObject: withPolicy(2),
      object: withoutPolicy,
      message: `${SG}: Invalid value: 2: cannot remove subGroupSize after enabled`,
    },
    {
      name: "U4 subdomainPolicy cannot be set to null",
      oldObject: lws(),
      object: edit(lws(), { "spec.networkConfig": {} }),
      message: 'spec.networkConfig.subdomainPolicy: Invalid value: "Shared": cannot set subdomainPolicy as null',
    },
    { name: "size, replicas and templates are mutable", oldObject: lws(), object: edit(lws(), { "spec.replicas": 9 }) },
    {
      name: "subGroupPolicyType is mutable",
      oldObject: edit(withPolicy(2), { "spec.leaderWorkerTemplate.size": 5 }),
      object: edit(withPolicy(2), {
        "spec.leaderWorkerTemplate.size": 5,
        "spec.leaderWorkerTemplate.subGroupPolicy.subGroupPolicyType": "LeaderExcluded",
      }),
    },
    {
      name: "networkConfig can change both ways",
      oldObject: lws(),
      object: edit(lws(), { "spec.networkConfig.subdomainPolicy": "UniquePerReplica" }),
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const result = await admit(app, WEBHOOK_PATH_VALIDATE_LWS, {
        operation: "UPDATE",
        object: c.object,
        oldObject: c.oldObject,
      });
      if (c.message === undefined) {
        assert.equal(result.response.allowed, true, result.response.status?.message);
      } else {
        assert.equal(result.response.allowed, false);
        assert.equal(result.response.status?.message, c.message);
        assert.equal(result.response.status?.code, 403);
      }
    });
  }
});
