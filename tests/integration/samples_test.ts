/**
 * The manifests in deploy/samples/ apply and come back field for field (nothing pruned); the invalid fixtures in
 * tests/fixtures/ are rejected by the API server with a message naming the field. API server + CRD only.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { CRD_NAME } from "../../api/constants.ts";
import { CRD_FILE } from "../../crds/generate.ts";
import { clusterTest, type TestCluster } from "../cluster/harness.ts";

const root = join(import.meta.dirname!, "..", "..");
const samplesDir = join(root, "deploy", "samples");
const fixturesDir = join(root, "tests", "fixtures");

/** The YAML files of a directory, sorted. */
function yamlFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => e.isFile && /\.ya?ml$/.test(e.name)).map((e) => e.name).sort();
}

async function installCrd(cluster: TestCluster): Promise<void> {
  await cluster.kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", join(root, CRD_FILE)]);
  await cluster.kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", `crd/${CRD_NAME}`]);
}

/**
 * Every leaf of `want` must be in `got` with the same value; `got` may hold more (CRD defaults, server metadata).
 * Lists are compared item by item and must have the same length.
 *
 * @returns one line per missing or different leaf, with its path
 */
function notPreserved(want: unknown, got: unknown, path = ""): string[] {
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) {
      return [`${path}: want a list of ${want.length}, got ${JSON.stringify(got)}`];
    }
    return want.flatMap((item, i) => notPreserved(item, got[i], `${path}[${i}]`));
  }
  if (want !== null && typeof want === "object") {
    if (got === null || typeof got !== "object" || Array.isArray(got)) {
      return [`${path}: want an object, got ${JSON.stringify(got)}`];
    }
    return Object.entries(want).flatMap(([key, value]) =>
      notPreserved(value, (got as Record<string, unknown>)[key], `${path}.${key}`)
    );
  }
  return Object.is(want, got) ? [] : [`${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
}

Deno.test("notPreserved() finds missing and changed leaves only", () => {
  const want = { a: 1, b: { c: ["x", { d: true }] } };
  assert.deepEqual(notPreserved(want, { a: 1, b: { c: ["x", { d: true, e: 0 }] }, f: 2 }), []);
  assert.deepEqual(notPreserved(want, { a: "1", b: { c: ["x", {}] } }), [
    '.a: want 1, got "1"',
    ".b.c[1].d: want true, got undefined",
  ]);
  assert.deepEqual(notPreserved(want, { a: 1, b: { c: ["x"] } }), ['.b.c: want a list of 2, got ["x"]']);
});

Deno.test("deploy/samples/ holds one LeaderWorkerSet per file, each with its own name", () => {
  const files = yamlFiles(samplesDir);
  assert.ok(files.length >= 8, `only ${files.length} samples`);
  const names = files.map((file) => {
    const doc = parse(Deno.readTextFileSync(join(samplesDir, file))) as { kind: string; metadata: { name: string } };
    assert.equal(doc.kind, "LeaderWorkerSet", file);
    assert.equal(`${doc.metadata.name}.yaml`, file, "the file is named after the object");
    return doc.metadata.name;
  });
  assert.equal(new Set(names).size, names.length);
});

clusterTest("every sample applies and reads back field for field", async ({ t, cluster, namespace }) => {
  await installCrd(cluster);
  for (const file of yamlFiles(samplesDir)) {
    await t.step(file, async () => {
      const path = join(samplesDir, file);
      const sample = parse(await Deno.readTextFile(path)) as { metadata: { name: string } };
      await cluster.kubectlOk(["apply", "-f", path], { namespace });
      const got = JSON.parse(
        await cluster.kubectlOk(["get", "lws", sample.metadata.name, "-o", "json"], { namespace }),
      ) as unknown;
      assert.deepEqual(notPreserved(sample, got), [], `${file} did not come back as written`);
    });
  }
});

clusterTest("invalid samples are rejected with a message naming the field", async ({ t, cluster, namespace }) => {
  await installCrd(cluster);
  const expected: Record<string, RegExp> = {
    "invalid-container-without-name.yaml":
      /spec\.leaderWorkerTemplate\.workerTemplate\.spec\.containers\[0\]\.name: Required value/,
    "invalid-port-string.yaml":
      /spec\.leaderWorkerTemplate\.workerTemplate\.spec\.containers\[0\]\.ports\[0\]\.containerPort: Invalid value: "string"/,
  };
  assert.deepEqual(yamlFiles(fixturesDir).filter((f) => f.startsWith("invalid-")), Object.keys(expected).sort());
  for (const [file, message] of Object.entries(expected)) {
    await t.step(file, async () => {
      const result = await cluster.kubectl(["apply", "-f", join(fixturesDir, file)], { namespace });
      assert.notEqual(result.code, 0, `${file} was accepted: ${result.stdout}`);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /The LeaderWorkerSet "invalid-[a-z-]+" is invalid/);
    });
  }
});
