import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  aggregateErrors,
  type FieldError,
  invalid,
  renderFieldError,
  renderValue,
  required,
  tooLong,
} from "./field_error.ts";

Deno.test("renderValue() renders like Kubernetes field errors", async (t) => {
  const cases: { value: unknown; want: string }[] = [
    { value: 3, want: "3" },
    { value: -1, want: "-1" },
    { value: true, want: "true" },
    { value: "50%", want: '"50%"' },
    { value: 'a"b\\c', want: '"a\\"b\\\\c"' },
    { value: "line\nnext\ttab\x01\x7f", want: '"line\\nnext\\ttab\\x01\\x7f"' },
    { value: "héllo ☃ 日本", want: '"héllo ☃ 日本"' },
    { value: "zero\u200bwidth", want: '"zero\\u200bwidth"' },
    { value: undefined, want: "null" },
    { value: null, want: "null" },
    { value: { a: 1, b: "<x>" }, want: '{"a":1,"b":"\\u003cx\\u003e"}' },
    { value: ["orphan", "foregroundDeletion"], want: '["orphan","foregroundDeletion"]' },
  ];
  for (const c of cases) {
    await t.step(c.want, () => assertEquals(renderValue(c.value), c.want));
  }
});

Deno.test("renderFieldError() renders <path>: <type>[: <value>][: <detail>]", async (t) => {
  const cases: { error: FieldError; want: string }[] = [
    {
      error: invalid("spec.replicas", -1, "replicas must be equal or greater than 0"),
      want: "spec.replicas: Invalid value: -1: replicas must be equal or greater than 0",
    },
    { error: invalid("a.b", "x", ""), want: 'a.b: Invalid value: "x"' },
    { error: required("metadata.namespace"), want: "metadata.namespace: Required value" },
    {
      error: required("metadata.name", "name or generateName is required"),
      want: "metadata.name: Required value: name or generateName is required",
    },
    {
      error: tooLong("metadata.annotations", 262144),
      want: "metadata.annotations: Too long: may not be more than 262144 bytes",
    },
    {
      error: { type: "Forbidden", field: "metadata.namespace", value: "x", detail: "not allowed on this type" },
      want: "metadata.namespace: Forbidden: not allowed on this type",
    },
    {
      error: { type: "NotSupported", field: "f", value: "x", detail: 'supported values: "a"' },
      want: 'f: Unsupported value: "x": supported values: "a"',
    },
  ];
  for (const c of cases) {
    await t.step(c.want, () => assertEquals(renderFieldError(c.error), c.want));
  }
});

Deno.test("aggregateErrors() renders one, several and duplicate errors", async (t) => {
  const a = invalid("spec.replicas", -1, "replicas must be equal or greater than 0");
  const b = invalid("spec.leaderWorkerTemplate.size", 0, "size must be equal or greater than 1");
  const aText = "spec.replicas: Invalid value: -1: replicas must be equal or greater than 0";
  const bText = "spec.leaderWorkerTemplate.size: Invalid value: 0: size must be equal or greater than 1";
  await t.step("none", () => assertEquals(aggregateErrors([]), ""));
  await t.step("single", () => assertEquals(aggregateErrors([a]), aText));
  await t.step("several", () => assertEquals(aggregateErrors([a, b]), `[${aText}, ${bText}]`));
  await t.step("duplicates dropped", () => assertEquals(aggregateErrors([a, b, { ...a }, b]), `[${aText}, ${bText}]`));
  await t.step("only duplicates render alone", () => assertEquals(aggregateErrors([a, { ...a }]), aText));
});
