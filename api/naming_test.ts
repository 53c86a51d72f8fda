import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import {
  controllerRevisionName,
  groupKey,
  leaderPodName,
  leaderStatefulSetName,
  parseParentAndOrdinal,
  perReplicaServiceName,
  podGroupName,
  scaleIntOrPercent,
  sharedServiceName,
  subGroupIndex,
  subGroupKey,
  workerPodName,
  workerStatefulSetName,
} from "./naming.ts";

Deno.test("object names follow spec 5.1", () => {
  assertEquals(leaderStatefulSetName("lws"), "lws");
  assertEquals(leaderPodName("lws", 3), "lws-3");
  assertEquals(workerStatefulSetName("lws", 3), "lws-3");
  assertEquals(workerPodName("lws", 3, 2), "lws-3-2");
  assertEquals(sharedServiceName("lws"), "lws");
  assertEquals(perReplicaServiceName("lws", 0), "lws-0");
  assertEquals(podGroupName("lws", 1, "7bdcf6cbd6"), "lws-1-7bdcf6cbd6");
});

Deno.test("controllerRevisionName() cuts the LWS name to 220 bytes", async (t) => {
  const cases: { name: string; lws: string; want: string }[] = [
    { name: "short name kept", lws: "test-sample", want: "test-sample-7bdcf6cbd6-1" },
    { name: "220 bytes kept", lws: "a".repeat(220), want: `${"a".repeat(220)}-7bdcf6cbd6-1` },
    { name: "221 bytes cut", lws: "b".repeat(221), want: `${"b".repeat(220)}-7bdcf6cbd6-1` },
    { name: "multi-byte not split", lws: "a".repeat(219) + "é", want: `${"a".repeat(219)}-7bdcf6cbd6-1` },
  ];
  for (const c of cases) {
    await t.step(c.name, () => assertEquals(controllerRevisionName(c.lws, "7bdcf6cbd6", 1), c.want));
  }
});

Deno.test("parseParentAndOrdinal() splits off the trailing -<digits>", async (t) => {
  const cases: { name: string; want: { parent: string; ordinal: number } }[] = [
    { name: "lws-0", want: { parent: "lws", ordinal: 0 } },
    { name: "lws-1-2", want: { parent: "lws-1", ordinal: 2 } },
    { name: "my-lws-12", want: { parent: "my-lws", ordinal: 12 } },
    { name: "lws-007", want: { parent: "lws", ordinal: 7 } },
    { name: "lws-2147483647", want: { parent: "lws", ordinal: 2147483647 } },
    { name: "lws-2147483648", want: { parent: "lws", ordinal: -1 } },
    { name: "lws-99999999999999999999999", want: { parent: "lws", ordinal: -1 } },
    { name: "lws", want: { parent: "", ordinal: -1 } },
    { name: "lws-", want: { parent: "", ordinal: -1 } },
    { name: "lws-1a", want: { parent: "", ordinal: -1 } },
    { name: "lws1", want: { parent: "", ordinal: -1 } },
    { name: "", want: { parent: "", ordinal: -1 } },
    { name: "-5", want: { parent: "", ordinal: 5 } },
  ];
  for (const c of cases) {
    await t.step(JSON.stringify(c.name), () => assertEquals(parseParentAndOrdinal(c.name), c.want));
  }
});

Deno.test("groupKey() is the SHA-1 of <ns>/<pod>", () => {
  assertEquals(groupKey("default", "test-sample-0"), "40bb642a1417b0c5aea271dac9e8065b7e86f411");
  assertEquals(groupKey("ns", "x-0"), "037b96f38b2bbd674681ee41ddc2f96585a6cdb2");
});

Deno.test("subGroupKey() is the SHA-1 of <leader>/<index> without namespace", () => {
  assertEquals(subGroupKey("test-sample-0", 0), "3e98e62c76bd126e006af0c545a11ad79d8c5bf2");
  assertEquals(subGroupKey("test-sample-0", "1"), "620a179cf2c3cdd1e4239d6b4a5cea0010729070");
});

Deno.test("subGroupIndex() follows the v0.10.0 rule", async (t) => {
  const cases: { size: number; k: number; want: number[] }[] = [
    // want[i] is the index of worker i+1
    { size: 4, k: 2, want: [0, 1, 1] },
    { size: 5, k: 2, want: [0, 0, 1, 1] },
    { size: 3, k: 1, want: [1, 2] }, // before v0.10.0 this gave [0, 1]
    { size: 6, k: 3, want: [0, 0, 1, 1, 1] },
    { size: 7, k: 3, want: [0, 0, 0, 1, 1, 1] },
  ];
  for (const c of cases) {
    await t.step(`S=${c.size} k=${c.k}`, () => {
      assertEquals(c.want.map((_, i) => subGroupIndex(c.size, c.k, i + 1)), c.want);
    });
  }
  await t.step("k=0 throws", () => {
    throws(() => subGroupIndex(4, 0, 1), {
      name: "RangeError",
      message: "Cannot compute subgroup index: subGroupSize must be a positive integer, got 0",
    });
  });
});

Deno.test("scaleIntOrPercent() scales like intstr.GetScaledValueFromIntOrPercent", async (t) => {
  const cases: { value: unknown; total: number; roundUp: boolean; want: unknown }[] = [
    { value: 1, total: 10, roundUp: false, want: { value: 1 } },
    { value: 0, total: 10, roundUp: true, want: { value: 0 } },
    { value: -3, total: 10, roundUp: true, want: { value: -3 } },
    { value: "50%", total: 3, roundUp: true, want: { value: 2 } },
    { value: "50%", total: 3, roundUp: false, want: { value: 1 } },
    { value: "10%", total: 5, roundUp: false, want: { value: 0 } },
    { value: "10%", total: 5, roundUp: true, want: { value: 1 } },
    { value: "200%", total: 4, roundUp: false, want: { value: 8 } },
    { value: "+10%", total: 10, roundUp: false, want: { value: 1 } },
    { value: "-10%", total: 10, roundUp: false, want: { value: -1 } },
    { value: "0%", total: 10, roundUp: true, want: { value: 0 } },
    {
      value: "50",
      total: 10,
      roundUp: false,
      want: { error: "invalid value for IntOrString: invalid type: string is not a percentage" },
    },
    {
      value: "x%",
      total: 10,
      roundUp: false,
      want: { error: 'invalid value for IntOrString: invalid value "x%": strconv.Atoi: parsing "x": invalid syntax' },
    },
    {
      value: "%",
      total: 10,
      roundUp: false,
      want: { error: 'invalid value for IntOrString: invalid value "%": strconv.Atoi: parsing "": invalid syntax' },
    },
    {
      value: "99999999999999999999%",
      total: 10,
      roundUp: false,
      want: {
        error: 'invalid value for IntOrString: invalid value "99999999999999999999%": strconv.Atoi: parsing ' +
          '"99999999999999999999": value out of range',
      },
    },
    { value: null, total: 10, roundUp: false, want: { error: "nil value for IntOrString" } },
    {
      value: 1.5,
      total: 10,
      roundUp: false,
      want: { error: "invalid value for IntOrString: invalid type: neither int nor percentage" },
    },
    {
      value: true,
      total: 10,
      roundUp: false,
      want: { error: "invalid value for IntOrString: invalid type: neither int nor percentage" },
    },
  ];
  for (const c of cases) {
    await t.step(`${JSON.stringify(c.value)} of ${c.total} ${c.roundUp ? "up" : "down"}`, () => {
      assertEquals(scaleIntOrPercent(c.value, c.total, c.roundUp), c.want);
    });
  }
});
