import assert from "node:assert/strict";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { buildControllerRevision, hashRevisionData, isTemplateUnchanged, revisionData } from "./revision.ts";

/** tests/oracle/golden.json, written by the Go oracle (tests/oracle/README.md). */
interface Golden {
  revisions: {
    fixture: string;
    data: string;
    hash: string;
    legacyData: string;
    legacyHash: string;
    legacyUnchanged: boolean;
  }[];
  semantic: { case: string; candidate: string; unchanged: boolean }[];
}

const ORACLE = new URL("../../tests/oracle/", import.meta.url);
const golden: Golden = JSON.parse(Deno.readTextFileSync(new URL("golden.json", ORACLE)));
const readJson = (path: string) => JSON.parse(Deno.readTextFileSync(new URL(path, ORACLE)));

Deno.test("revisionData() matches the Go oracle on every fixture", () => {
  assert.ok(golden.revisions.length >= 60, `only ${golden.revisions.length} fixtures`);
  const mismatches: string[] = [];
  for (const v of golden.revisions) {
    const lws: LeaderWorkerSet = readJson(`fixtures/${v.fixture}`);
    const built = buildControllerRevision(lws, { revisionNumber: 1 });
    if (built.data !== v.data) mismatches.push(`${v.fixture}: data differs`);
    else if (built.hash !== v.hash) mismatches.push(`${v.fixture}: hash ${built.hash}, Go ${v.hash}`);
    if (hashRevisionData(v.legacyData) !== v.legacyHash) mismatches.push(`${v.fixture}: legacy hash differs`);
    if (isTemplateUnchanged(lws, { data: JSON.parse(v.legacyData) }) !== v.legacyUnchanged) {
      mismatches.push(`${v.fixture}: legacy verdict differs (Go ${v.legacyUnchanged})`);
    }
  }
  assert.deepEqual(mismatches, []);
});

Deno.test("revisionData() on the spec §5.4.4 fixtures agrees with the spec's hashes", () => {
  const hashes = Object.fromEntries(golden.revisions.map((v) => [v.fixture, v.hash]));
  assert.equal(hashes["001-spec-e2e-default.json"], "7bdcf6cbd6");
  assert.equal(hashes["002-spec-e2e-renamed-worker.json"], "6956876d89");
  assert.equal(hashes["003-spec-e2e-unique-per-replica.json"], "675dbb7bc5");
});

Deno.test("isTemplateUnchanged() matches the Go oracle on every semantic-equality case", () => {
  assert.ok(golden.semantic.length >= 10);
  const mismatches: string[] = [];
  for (const v of golden.semantic) {
    const c: { lws: LeaderWorkerSet; revisionData: Record<string, unknown> } = readJson(`semantic/${v.case}`);
    if (revisionData(c.lws) !== v.candidate) mismatches.push(`${v.case}: candidate differs`);
    const unchanged = isTemplateUnchanged(c.lws, { data: c.revisionData });
    if (unchanged !== v.unchanged) mismatches.push(`${v.case}: ours ${unchanged}, Go ${v.unchanged}`);
  }
  assert.deepEqual(mismatches, []);
});
