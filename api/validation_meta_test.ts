import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { renderFieldError } from "./field_error.ts";
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPercent,
  regexError,
  validateObjectMeta,
} from "./validation_meta.ts";

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const PERCENT_MSG =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
const QNAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

Deno.test("regexError() reproduces Kubernetes' example list, double space included", () => {
  assertEquals(regexError("m", "f"), "m (regex used for validation is 'f')");
  assertEquals(regexError("m", "f", "a"), "m (e.g. 'a', regex used for validation is 'f')");
  assertEquals(regexError("m", "f", "a", "b"), "m (e.g. 'a',  or 'b', regex used for validation is 'f')");
});

Deno.test("name validators accept and reject like Kubernetes", async (t) => {
  const cases: { name: string; got: string[]; want: string[] }[] = [
    { name: "DNS-1035 ok", got: isDNS1035Label("abc-123"), want: [] },
    { name: "DNS-1035 trailing dash", got: isDNS1035Label("abc-"), want: [DNS1035_MSG] },
    { name: "DNS-1035 leading digit", got: isDNS1035Label("1abc"), want: [DNS1035_MSG] },
    {
      name: "DNS-1123 label leading digit ok, too long",
      got: isDNS1123Label("1" + "a".repeat(63)),
      want: ["must be no more than 63 characters"],
    },
    { name: "DNS-1123 label with dots", got: isDNS1123Label("a.b"), want: ["must not contain dots"] },
    { name: "DNS-1123 subdomain ok", got: isDNS1123Subdomain("example.com"), want: [] },
    { name: "DNS-1123 subdomain upper case", got: isDNS1123Subdomain("Example.com"), want: [SUBDOMAIN_MSG] },
    { name: "qualified name with prefix ok", got: isQualifiedName("example.com/My_Name.1"), want: [] },
    {
      name: "qualified name bad prefix",
      got: isQualifiedName("Example.com/x"),
      want: ["prefix part " + SUBDOMAIN_MSG],
    },
    {
      name: "qualified name empty prefix and name",
      got: isQualifiedName("/"),
      want: ["prefix part must be non-empty", "name part must be non-empty", "name part " + QNAME_MSG],
    },
    {
      name: "qualified name too long",
      got: isQualifiedName("a".repeat(64)),
      want: ["name part must be no more than 63 characters"],
    },
    { name: "label value empty ok", got: isValidLabelValue(""), want: [] },
    { name: "label value 63 ok", got: isValidLabelValue("a".repeat(63)), want: [] },
    {
      name: "label value too long",
      got: isValidLabelValue("a".repeat(64)),
      want: ["must be no more than 63 characters"],
    },
    { name: "percent ok", got: isValidPercent("0%"), want: [] },
    { name: "percent signed", got: isValidPercent("+5%"), want: [PERCENT_MSG] },
    { name: "percent without %", got: isValidPercent("5"), want: [PERCENT_MSG] },
  ];
  for (const c of cases) {
    await t.step(c.name, () => assertEquals(c.got, c.want));
  }
});

Deno.test("validateObjectMeta() covers generateName, generation and finalizers", async (t) => {
  const cases: { name: string; meta: unknown; want: string[] }[] = [
    {
      name: "generateName prefix ok",
      meta: { generateName: "abc-", namespace: "ns" },
      want: [
        "metadata.name: Required value: name or generateName is required",
      ],
    },
    {
      name: "generateName masks the last two characters (upstream quirk)",
      meta: { name: "a", generateName: "A-", namespace: "ns" },
      want: [],
    },
    {
      name: "generateName invalid",
      meta: { name: "a", generateName: "Ab-", namespace: "ns" },
      want: [
        `metadata.generateName: Invalid value: "Ab-": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      ],
    },
    {
      name: "negative generation",
      meta: { name: "a", namespace: "ns", generation: -1 },
      want: ["metadata.generation: Invalid value: -1: must be greater than or equal to 0"],
    },
    { name: "valid finalizer", meta: { name: "a", namespace: "ns", finalizers: ["example.com/f"] }, want: [] },
    {
      name: "conflicting finalizers",
      meta: { name: "a", namespace: "ns", finalizers: ["orphan", "foregroundDeletion"] },
      want: [
        'metadata.finalizers: Invalid value: ["orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set',
      ],
    },
    { name: "metadata of the wrong type", meta: 5, want: ["metadata: Invalid value: 5: must be an object"] },
  ];
  for (const c of cases) {
    await t.step(c.name, () => assertEquals(validateObjectMeta(c.meta).map(renderFieldError), c.want));
  }
  await t.step("cluster-scoped forbids a namespace", () => {
    assertEquals(
      validateObjectMeta({ name: "a", namespace: "ns" }, { requiresNamespace: false }).map(renderFieldError),
      ["metadata.namespace: Forbidden: not allowed on this type"],
    );
  });
});
