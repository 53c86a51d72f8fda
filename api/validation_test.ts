import { deepStrictEqual as assertEquals, doesNotThrow } from "node:assert/strict";
import fc from "fast-check";
import {
  aggregateErrors,
  renderFieldError,
  validateLeaderWorkerSetCreate,
  validateLeaderWorkerSetUpdate,
} from "./validation.ts";

type Json = Record<string, unknown>;
type Lws = {
  metadata: Json & { annotations?: Record<string, string> };
  spec: Json & {
    leaderWorkerTemplate: Json & { subGroupPolicy?: Json };
    rolloutStrategy: Json & { rollingUpdateConfiguration: Json };
    networkConfig?: Json;
  };
};

/** A valid LWS as it reaches the validating webhook (CRD and webhook defaults applied). */
function validLws(): Lws {
  return {
    metadata: { name: "test-sample", namespace: "default" },
    spec: {
      replicas: 2,
      startupPolicy: "LeaderCreated",
      leaderWorkerTemplate: {
        size: 4,
        restartPolicy: "RecreateGroupOnPodRestart",
        workerTemplate: { spec: { containers: [{ name: "c", image: "nginx" }] } },
      },
      rolloutStrategy: {
        type: "RollingUpdate",
        rollingUpdateConfiguration: { partition: 0, maxUnavailable: 1, maxSurge: 0 },
      },
      networkConfig: { subdomainPolicy: "Shared" },
    },
  };
}

const MU = "spec.rolloutStrategy.rollingUpdateConfiguration.maxUnavailable";
const MS = "spec.rolloutStrategy.rollingUpdateConfiguration.maxSurge";
const SGS = "spec.leaderWorkerTemplate.SubGroupPolicy.subGroupSize";
const PERCENT_MSG =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

type Case = { name: string; edit: (lws: Lws) => void; want: string[] };

function run(cases: Case[]) {
  return async (t: Deno.TestContext) => {
    for (const c of cases) {
      await t.step(c.name, () => {
        const lws = validLws();
        c.edit(lws);
        assertEquals(validateLeaderWorkerSetCreate(lws).map(renderFieldError), c.want);
      });
    }
  };
}

function subGroup(lws: Lws, size: number, policy: Json): void {
  lws.spec.leaderWorkerTemplate.size = size;
  lws.spec.leaderWorkerTemplate.subGroupPolicy = policy;
}

Deno.test("validateLeaderWorkerSetCreate() accepts a valid LeaderWorkerSet", () => {
  assertEquals(validateLeaderWorkerSetCreate(validLws()), []);
});

Deno.test(
  "validateLeaderWorkerSetCreate() checks metadata (V1)",
  run([
    { name: "pass: DNS-1035 name", edit: (l) => l.metadata.name = "a-1", want: [] },
    {
      name: "fail: upper case and underscore",
      edit: (l) => l.metadata.name = "Test_Sample",
      want: [`metadata.name: Invalid value: "Test_Sample": ${DNS1035_MSG}`],
    },
    {
      name: "fail: starts with a digit (valid DNS-1123 but not DNS-1035)",
      edit: (l) => l.metadata.name = "1abc",
      want: [`metadata.name: Invalid value: "1abc": ${DNS1035_MSG}`],
    },
    {
      name: "fail: dots",
      edit: (l) => l.metadata.name = "a.b",
      want: [`metadata.name: Invalid value: "a.b": ${DNS1035_MSG}`],
    },
    { name: "pass: 63 characters", edit: (l) => l.metadata.name = "a".repeat(63), want: [] },
    {
      name: "fail: 64 characters",
      edit: (l) => l.metadata.name = "a".repeat(64),
      want: [`metadata.name: Invalid value: "${"a".repeat(64)}": must be no more than 63 characters`],
    },
    {
      name: "fail: missing name",
      edit: (l) => delete l.metadata.name,
      want: ["metadata.name: Required value: name or generateName is required"],
    },
    {
      name: "fail: missing namespace",
      edit: (l) => delete l.metadata.namespace,
      want: ["metadata.namespace: Required value"],
    },
    {
      name: "fail: namespace with dots",
      edit: (l) => l.metadata.namespace = "a.b",
      want: ['metadata.namespace: Invalid value: "a.b": must not contain dots'],
    },
    {
      name: "pass: labels and annotations",
      edit: (l) => {
        l.metadata.labels = { "app.kubernetes.io/name": "x", "k": "" };
        l.metadata.annotations = { "Example.com/Some_Key": "anything at all" };
      },
      want: [],
    },
    {
      name: "fail: bad label key and value",
      edit: (l) => l.metadata.labels = { "bad key": "-bad" },
      want: [
        `metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
        `metadata.labels: Invalid value: "-bad": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      ],
    },
    {
      name: "fail: bad annotation key",
      edit: (l) => l.metadata.annotations = { "a/b/c": "v" },
      want: [
        `metadata.annotations: Invalid value: "a/b/c": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      ],
    },
    {
      name: "fail: annotations over 256 KiB",
      edit: (l) => l.metadata.annotations = { big: "x".repeat(256 * 1024) },
      want: ["metadata.annotations: Too long: may not be more than 262144 bytes"],
    },
  ]),
);

Deno.test(
  "validateLeaderWorkerSetCreate() checks replicas and size (V2-V5)",
  run([
    { name: "V2 pass: 0 replicas", edit: (l) => l.spec.replicas = 0, want: [] },
    {
      name: "V2 fail: negative replicas",
      edit: (l) => l.spec.replicas = -1,
      want: ["spec.replicas: Invalid value: -1: replicas must be equal or greater than 0"],
    },
    {
      name: "V3 pass: 1000000 replicas",
      edit: (l) => {
        l.spec.replicas = 1000000;
        l.spec.leaderWorkerTemplate.size = 1;
      },
      want: [],
    },
    {
      name: "V3 fail: 1000001 replicas",
      edit: (l) => {
        l.spec.replicas = 1000001;
        l.spec.leaderWorkerTemplate.size = 1;
      },
      want: ["spec.replicas: Invalid value: 1000001: replicas must be equal or less than 1000000"],
    },
    { name: "V4 pass: size 1", edit: (l) => l.spec.leaderWorkerTemplate.size = 1, want: [] },
    {
      name: "V4 fail: size 0",
      edit: (l) => l.spec.leaderWorkerTemplate.size = 0,
      want: ["spec.leaderWorkerTemplate.size: Invalid value: 0: size must be equal or greater than 1"],
    },
    {
      name: "V5 pass: product 2147000000",
      edit: (l) => {
        l.spec.replicas = 1000000;
        l.spec.leaderWorkerTemplate.size = 2147;
      },
      want: [],
    },
    {
      name: "V5 fail: product 2148000000",
      edit: (l) => {
        l.spec.replicas = 1000000;
        l.spec.leaderWorkerTemplate.size = 2148;
      },
      want: [
        "spec.replicas: Invalid value: 1000000: the product of replicas and worker replicas must not exceed 2147483647",
      ],
    },
  ]),
);

function rolling(values: Json): (lws: Lws) => void {
  return (l) => Object.assign(l.spec.rolloutStrategy.rollingUpdateConfiguration, values);
}

Deno.test(
  "validateLeaderWorkerSetCreate() checks the rolling update configuration (V6-V15)",
  run([
    { name: "V6 pass: percent", edit: rolling({ maxUnavailable: "50%" }), want: [] },
    {
      name: "V6 fail: string without % (V13 cannot scale it, so V15 counts it as 0)",
      edit: rolling({ maxUnavailable: "50" }),
      want: [
        `${MU}: Invalid value: "50": ${PERCENT_MSG}`,
        `${MU}: Invalid value: "50": invalid value`,
        `${MU}: Invalid value: "50": must not be 0 when \`maxSurge\` is 0`,
      ],
    },
    {
      name: "V7 fail: negative integer",
      edit: rolling({ maxUnavailable: -1 }),
      want: [`${MU}: Invalid value: -1: must be greater than or equal to 0`],
    },
    { name: "V8 pass: 100%", edit: rolling({ maxUnavailable: "100%" }), want: [] },
    {
      name: "V8 fail: 150%",
      edit: rolling({ maxUnavailable: "150%" }),
      want: [`${MU}: Invalid value: "150%": must not be greater than 100%`],
    },
    { name: "V9 pass: percent", edit: rolling({ maxSurge: "25%" }), want: [] },
    {
      name: "V9 fail: not a percent (and V14)",
      edit: rolling({ maxSurge: "abc" }),
      want: [`${MS}: Invalid value: "abc": ${PERCENT_MSG}`, `${MS}: Invalid value: "abc": invalid value`],
    },
    { name: "V10 pass: 0", edit: rolling({ maxSurge: 0 }), want: [] },
    {
      name: "V10 fail: negative integer",
      edit: rolling({ maxSurge: -2 }),
      want: [`${MS}: Invalid value: -2: must be greater than or equal to 0`],
    },
    {
      name: "V11 fail: 101%",
      edit: rolling({ maxSurge: "101%" }),
      want: [`${MS}: Invalid value: "101%": must not be greater than 100%`],
    },
    { name: "V12 pass: partition larger than replicas", edit: rolling({ partition: 10 }), want: [] },
    {
      name: "V12 fail: negative partition",
      edit: rolling({ partition: -1 }),
      want: [
        "spec.rolloutStrategy.rollingUpdateConfiguration.partition: Invalid value: -1: must be greater than or equal to 0",
      ],
    },
    {
      name: "V13 fail: out-of-range percent passes V6/V8 but cannot be scaled",
      edit: rolling({ maxUnavailable: "99999999999999999999%", maxSurge: 1 }),
      want: [`${MU}: Invalid value: "99999999999999999999%": invalid value`],
    },
    {
      name: "V13 fail: wrong type, and it counts as 0 for V15",
      edit: rolling({ maxUnavailable: true }),
      want: [
        `${MU}: Invalid value: true: invalid value`,
        `${MU}: Invalid value: true: must not be 0 when \`maxSurge\` is 0`,
      ],
    },
    {
      name: "V14 fail: out-of-range percent",
      edit: rolling({ maxSurge: "99999999999999999999%" }),
      want: [`${MS}: Invalid value: "99999999999999999999%": invalid value`],
    },
    {
      name: "V15 fail: both 0",
      edit: rolling({ maxUnavailable: 0, maxSurge: 0 }),
      want: [`${MU}: Invalid value: 0: must not be 0 when \`maxSurge\` is 0`],
    },
    {
      name: "V15 fail: percent rounds down to 0",
      edit: (l) => {
        l.spec.replicas = 5;
        rolling({ maxUnavailable: "10%", maxSurge: "0%" })(l);
      },
      want: [`${MU}: Invalid value: "10%": must not be 0 when \`maxSurge\` is 0`],
    },
    {
      name: "V15 pass: maxSurge percent rounds up to 1",
      edit: (l) => {
        l.spec.replicas = 5;
        rolling({ maxUnavailable: 0, maxSurge: "10%" })(l);
      },
      want: [],
    },
    {
      name: "V15 pass: both 0 with 0 replicas",
      edit: (l) => {
        l.spec.replicas = 0;
        rolling({ maxUnavailable: 0, maxSurge: 0 })(l);
      },
      want: [],
    },
    { name: "pass: values larger than replicas", edit: rolling({ maxUnavailable: 10, maxSurge: 10 }), want: [] },
  ]),
);

Deno.test(
  "validateLeaderWorkerSetCreate() checks the subgroup policy (V16-V20)",
  run([
    { name: "V16 pass: subGroupSize 2 of 4", edit: (l) => subGroup(l, 4, { subGroupSize: 2 }), want: [] },
    {
      name: "V16 fail: subGroupSize 0 (upstream panics; only V16)",
      edit: (l) => subGroup(l, 4, { subGroupSize: 0 }),
      want: [`${SGS}: Invalid value: 0: subGroupSize must be equal or greater than 1`],
    },
    {
      name: "V16 fail: missing subGroupSize (upstream panics)",
      edit: (l) => subGroup(l, 4, { subGroupPolicyType: "LeaderWorker" }),
      want: [`${SGS}: Invalid value: null: subGroupSize must be equal or greater than 1`],
    },
    {
      name: "V16 fail: negative subGroupSize",
      edit: (l) => subGroup(l, 4, { subGroupSize: -1 }),
      want: [`${SGS}: Invalid value: -1: subGroupSize must be equal or greater than 1`],
    },
    { name: "V17 pass: size - 1 divisible", edit: (l) => subGroup(l, 4, { subGroupSize: 3 }), want: [] },
    {
      name: "V17 fail: neither size nor size - 1 divisible",
      edit: (l) => subGroup(l, 5, { subGroupSize: 3 }),
      want: [`${SGS}: Invalid value: 3: size or size - 1 must be divisible by subGroupSize`],
    },
    { name: "V18 pass: equal to size", edit: (l) => subGroup(l, 4, { subGroupSize: 4 }), want: [] },
    {
      name: "V18 fail: larger than size",
      edit: (l) => subGroup(l, 1, { subGroupSize: 2 }),
      want: [`${SGS}: Invalid value: 2: subGroupSize cannot be larger than size`],
    },
    {
      name: "V19 pass: LeaderExcluded with size - 1 divisible",
      edit: (l) => subGroup(l, 5, { subGroupPolicyType: "LeaderExcluded", subGroupSize: 2 }),
      want: [],
    },
    {
      name: "V19 fail: LeaderExcluded with size - 1 not divisible",
      edit: (l) => subGroup(l, 4, { subGroupPolicyType: "LeaderExcluded", subGroupSize: 2 }),
      want: [`${SGS}: Invalid value: 2: size-1 must be divisible by subGroupSize when using LeaderExcluded`],
    },
    {
      name: "V20 pass: annotation with a subgroup policy",
      edit: (l) => {
        subGroup(l, 4, { subGroupSize: 2 });
        l.metadata.annotations = { "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology": "zone" };
      },
      want: [],
    },
    {
      name: "V20 fail: annotation without a subgroup policy",
      edit: (l) => l.metadata.annotations = { "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology": "zone" },
      want: [
        'metadata.annotations.leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology: Invalid value: "zone": cannot have subgroup-exclusive-topology without subGroupSize set',
      ],
    },
  ]),
);

Deno.test(
  "validateLeaderWorkerSetCreate() reports malformed input as field errors",
  run([
    { name: "null spec", edit: (l) => (l as Json).spec = null, want: ["spec: Required value"] },
    { name: "string spec", edit: (l) => (l as Json).spec = "x", want: ['spec: Invalid value: "x": must be an object'] },
    {
      name: "missing replicas, size and rollingUpdateConfiguration",
      edit: (l) => {
        delete l.spec.replicas;
        delete l.spec.leaderWorkerTemplate.size;
        delete (l.spec.rolloutStrategy as Json).rollingUpdateConfiguration;
      },
      want: [
        "spec.replicas: Required value",
        "spec.leaderWorkerTemplate.size: Required value",
        "spec.rolloutStrategy.rollingUpdateConfiguration: Required value",
      ],
    },
    {
      name: "missing leaderWorkerTemplate",
      edit: (l) => delete (l.spec as Json).leaderWorkerTemplate,
      want: ["spec.leaderWorkerTemplate: Required value"],
    },
    {
      name: "wrong types",
      edit: (l) => {
        l.spec.replicas = "3";
        l.spec.leaderWorkerTemplate.size = 1.5;
        l.spec.leaderWorkerTemplate.subGroupPolicy = { subGroupSize: "2" };
        l.metadata.labels = { a: 1 } as unknown as Json;
      },
      want: [
        "metadata.labels.a: Invalid value: 1: must be a string",
        'spec.replicas: Invalid value: "3": must be a 32-bit integer',
        "spec.leaderWorkerTemplate.size: Invalid value: 1.5: must be a 32-bit integer",
        'spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize: Invalid value: "2": must be a 32-bit integer',
      ],
    },
    {
      name: "absent maxUnavailable and maxSurge count as 0",
      edit: (l) => l.spec.rolloutStrategy.rollingUpdateConfiguration = {},
      want: [`${MU}: Invalid value: 0: must not be 0 when \`maxSurge\` is 0`],
    },
  ]),
);

Deno.test("validateLeaderWorkerSetCreate() returns every error in rule order", () => {
  const lws = validLws();
  lws.metadata.name = "Bad";
  lws.spec.replicas = -1;
  lws.spec.leaderWorkerTemplate.size = 0;
  lws.spec.rolloutStrategy.rollingUpdateConfiguration.partition = -1;
  const errors = validateLeaderWorkerSetCreate(lws);
  assertEquals(
    aggregateErrors(errors),
    `[metadata.name: Invalid value: "Bad": ${DNS1035_MSG}, ` +
      "spec.replicas: Invalid value: -1: replicas must be equal or greater than 0, " +
      "spec.leaderWorkerTemplate.size: Invalid value: 0: size must be equal or greater than 1, " +
      "spec.rolloutStrategy.rollingUpdateConfiguration.partition: Invalid value: -1: must be greater than or equal to 0]",
  );
  assertEquals(errors[1], {
    type: "Invalid",
    field: "spec.replicas",
    value: -1,
    detail: "replicas must be equal or greater than 0",
  });
});

Deno.test("validateLeaderWorkerSetCreate() never throws", () => {
  doesNotThrow(() => validateLeaderWorkerSetCreate(null));
  assertEquals(validateLeaderWorkerSetCreate("x").map(renderFieldError), [
    '<root>: Invalid value: "x": must be an object',
  ]);
  // Any JSON value at any position of a valid object gives errors or nothing, never an exception.
  const paths: string[][] = [
    ["metadata"],
    ["metadata", "annotations"],
    ["spec"],
    ["spec", "replicas"],
    ["spec", "leaderWorkerTemplate"],
    ["spec", "leaderWorkerTemplate", "size"],
    ["spec", "leaderWorkerTemplate", "subGroupPolicy"],
    ["spec", "leaderWorkerTemplate", "subGroupPolicy", "subGroupSize"],
    ["spec", "rolloutStrategy"],
    ["spec", "rolloutStrategy", "rollingUpdateConfiguration"],
    ["spec", "rolloutStrategy", "rollingUpdateConfiguration", "maxUnavailable"],
    ["spec", "networkConfig"],
  ];
  fc.assert(
    fc.property(fc.constantFrom(...paths), fc.jsonValue(), fc.jsonValue(), (path, value, old) => {
      const lws = validLws() as unknown as Json;
      let at = lws;
      for (const key of path.slice(0, -1)) {
        at[key] ??= {};
        at = at[key] as Json;
      }
      at[path.at(-1)!] = value;
      aggregateErrors(validateLeaderWorkerSetCreate(lws));
      aggregateErrors(validateLeaderWorkerSetUpdate({ spec: old }, lws));
    }),
    { numRuns: 300 },
  );
});

Deno.test("validateLeaderWorkerSetUpdate() also applies the create rules", () => {
  const lws = validLws();
  lws.spec.replicas = -1;
  assertEquals(validateLeaderWorkerSetUpdate(validLws(), lws).map(renderFieldError), [
    "spec.replicas: Invalid value: -1: replicas must be equal or greater than 0",
  ]);
});

Deno.test("validateLeaderWorkerSetUpdate() checks old against new (U1-U4)", async (t) => {
  const cases: { name: string; old: (l: Lws) => void; new: (l: Lws) => void; want: string[] }[] = [
    {
      name: "U1 pass: same subGroupSize",
      old: (l) => subGroup(l, 4, { subGroupSize: 2 }),
      new: (l) => subGroup(l, 4, { subGroupSize: 2 }),
      want: [],
    },
    {
      name: "U1 pass: policy type may change",
      old: (l) => subGroup(l, 5, { subGroupSize: 2 }),
      new: (l) => subGroup(l, 5, { subGroupSize: 2, subGroupPolicyType: "LeaderExcluded" }),
      want: [],
    },
    {
      name: "U1 fail: subGroupSize changed",
      old: (l) => subGroup(l, 8, { subGroupSize: 2 }),
      new: (l) => subGroup(l, 8, { subGroupSize: 4 }),
      want: [`${SGS}: Invalid value: 4: field is immutable`],
    },
    {
      name: "U2 fail: subgrouping enabled",
      old: () => {},
      new: (l) => subGroup(l, 4, { subGroupSize: 2 }),
      want: [`${SGS}: Invalid value: 2: cannot enable subGroupSize after the lws is already created`],
    },
    {
      name: "U3 fail: subgrouping removed",
      old: (l) => subGroup(l, 4, { subGroupSize: 2 }),
      new: () => {},
      want: [`${SGS}: Invalid value: 2: cannot remove subGroupSize after enabled`],
    },
    {
      name: "U4 pass: networkConfig removed (the mutating webhook re-defaults it)",
      old: () => {},
      new: (l) => delete l.spec.networkConfig,
      want: [],
    },
    {
      name: "U4 pass: subdomainPolicy changed",
      old: () => {},
      new: (l) => l.spec.networkConfig = { subdomainPolicy: "UniquePerReplica" },
      want: [],
    },
    {
      name: "U4 fail: null subdomainPolicy shows the old value",
      old: () => {},
      new: (l) => l.spec.networkConfig = { subdomainPolicy: null },
      want: ['spec.networkConfig.subdomainPolicy: Invalid value: "Shared": cannot set subdomainPolicy as null'],
    },
    {
      name: "U4 fail: old without networkConfig shows null",
      old: (l) => delete l.spec.networkConfig,
      new: (l) => l.spec.networkConfig = {},
      want: ["spec.networkConfig.subdomainPolicy: Invalid value: null: cannot set subdomainPolicy as null"],
    },
    {
      name: "pass: replicas, size, startupPolicy and rollout settings are mutable",
      old: () => {},
      new: (l) => {
        l.spec.replicas = 5;
        l.spec.leaderWorkerTemplate.size = 2;
        l.spec.startupPolicy = "LeaderReady";
        rolling({ partition: 3, maxSurge: "50%" })(l);
      },
      want: [],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const oldLws = validLws();
      const newLws = validLws();
      c.old(oldLws);
      c.new(newLws);
      assertEquals(validateLeaderWorkerSetUpdate(oldLws, newLws).map(renderFieldError), c.want);
    });
  }
});
