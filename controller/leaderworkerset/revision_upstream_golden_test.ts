/**
 * Compares upstream LWS's own revision code with golden.json and with this port. tests/oracle/upstream/upstream.json
 * is written by a Go program that imports the published `sigs.k8s.io/lws` module (its API types and
 * pkg/utils/revision: NewRevision on a controller-runtime fake client, EqualRevision, SetMatchesRevision,
 * ApplyRevision); tests/oracle/current_test.ts checks that the committed file is what that program computes today.
 * Fast: no Go here.
 */
import assert from "node:assert/strict";
import type { ControllerRevision } from "kubernetes-types/apps/v1.d.ts";
import { LABEL_NAME } from "../../api/constants.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import {
  applyRevision,
  buildControllerRevision,
  isTemplateUnchanged,
  nextRevisionNumber,
  revisionData,
  revisionsOf,
} from "./revision.ts";

interface UpstreamRevision {
  fixture: string;
  unknownFields: string[];
  newRevisionError?: string;
  data: string;
  key: string;
  name: string;
  revision: number;
  keyedName: string;
  keyedLabel: string;
  roundTrip: boolean;
  restoredOnto: string;
  restored: string;
  legacyEqual: boolean;
  legacySetMatches: boolean;
  legacyUnchanged: boolean;
}
interface Upstream {
  versions: Record<string, string>;
  revisions: UpstreamRevision[];
  semantic: { case: string; unknownFields: string[]; candidate: string; unchanged: boolean }[];
  numbering: { case: string; name: string; revision: number }[];
}
interface Golden {
  revisions: { fixture: string; data: string; hash: string; legacyData: string; legacyUnchanged: boolean }[];
  semantic: { case: string; candidate: string; unchanged: boolean }[];
}

const ORACLE = new URL("../../tests/oracle/", import.meta.url);
const readJson = (path: string) => JSON.parse(Deno.readTextFileSync(new URL(path, ORACLE)));
const upstream: Upstream = readJson("upstream/upstream.json");
const golden: Golden = readJson("golden.json");

/** The upstream release the vectors come from (tests/oracle/upstream/go.mod). */
const UPSTREAM_VERSION = "v0.9.0";

/**
 * Fields upstream's decoder drops, per input. Only the deliberately invalid `legacy-*` inputs may have any; a
 * fixture listed here for another reason would be one upstream v0.9.0 cannot represent (none today: its
 * LeaderWorkerTemplate and NetworkConfig have the same fields as v0.10.0's, and k8s.io/api v0.36.2 has every core
 * field the fixtures use). Every fixture is therefore compared; none is excluded.
 */
const EXPECTED_UNKNOWN_FIELDS: Record<string, string[]> = {
  "070-legacy-unknown-fields.json": [
    'unknown field "spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].Image"',
    'unknown field "spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].foo"',
    'unknown field "spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].resources.extra"',
    'unknown field "spec.leaderWorkerTemplate.workerTemplate.spec.unknownPodField"',
  ],
};

/**
 * Fixtures whose LWS upstream's NewRevision refuses: it uses the LWS name as a label value in its list selector,
 * and a name over 63 bytes fails label validation (the LWS webhook admits no such name, spec V1, so this is
 * unreachable in a cluster; fixture 085 exists to pin the 220-byte name truncation, which is therefore dead code
 * upstream). Data and key are still compared for them (computed upstream on a copy with the name cut to 63 bytes;
 * neither depends on the name); the ControllerRevision name is not.
 */
const NEW_REVISION_REFUSED = new Set(["085-realistic-vllm-long-name.json"]);

/** Where two strings first differ, for a readable mismatch report. */
function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `first difference at offset ${i}: ${JSON.stringify(a.slice(i, i + 60))} vs ${
    JSON.stringify(b.slice(i, i + 60))
  }`;
}

Deno.test(`upstream.json comes from sigs.k8s.io/lws ${UPSTREAM_VERSION} and covers every fixture`, () => {
  assert.equal(upstream.versions["sigs.k8s.io/lws"], UPSTREAM_VERSION);
  assert.deepEqual(upstream.revisions.map((v) => v.fixture), golden.revisions.map((v) => v.fixture));
  assert.deepEqual(upstream.semantic.map((v) => v.case), golden.semantic.map((v) => v.case));
  assert.ok(upstream.revisions.length >= 50, `only ${upstream.revisions.length} fixtures`);
  const unknown = [
    ...upstream.revisions.map((v) => [v.fixture, v.unknownFields] as const),
    ...upstream.semantic.map((
      v,
    ) => [v.case, v.unknownFields] as const),
  ].filter(([name, fields]) => JSON.stringify(fields) !== JSON.stringify(EXPECTED_UNKNOWN_FIELDS[name] ?? []));
  assert.deepEqual(unknown, [], "fields upstream's types do not know (see EXPECTED_UNKNOWN_FIELDS)");
  const refused = upstream.revisions.filter((v) => v.newRevisionError !== undefined).map((v) => v.fixture);
  assert.deepEqual(refused, [...NEW_REVISION_REFUSED], "fixtures upstream's NewRevision refuses");
});

Deno.test("upstream's NewRevision data and key equal golden.json on every fixture", () => {
  const goldenBy = new Map(golden.revisions.map((v) => [v.fixture, v]));
  const mismatches: string[] = [];
  for (const v of upstream.revisions) {
    const g = goldenBy.get(v.fixture)!;
    if (v.data !== g.data) {
      mismatches.push(`${v.fixture}: data: upstream ${v.data} golden ${g.data}; ${firstDifference(v.data, g.data)}`);
    }
    if (v.key !== g.hash) mismatches.push(`${v.fixture}: key: upstream ${v.key}, golden ${g.hash}`);
    if (v.legacyUnchanged !== g.legacyUnchanged) {
      mismatches.push(`${v.fixture}: legacy verdict: upstream ${v.legacyUnchanged}, golden ${g.legacyUnchanged}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

Deno.test("buildControllerRevision() names, keys and numbers revisions like upstream's NewRevision", () => {
  const mismatches: string[] = [];
  for (const v of upstream.revisions) {
    const lws: LeaderWorkerSet = readJson(`fixtures/${v.fixture}`);
    const built = buildControllerRevision(lws, { revisionNumber: v.revision });
    if (built.data !== v.data) mismatches.push(`${v.fixture}: data: ${firstDifference(built.data, v.data)}`);
    if (built.key !== v.key) mismatches.push(`${v.fixture}: key ${built.key}, upstream ${v.key}`);
    if (NEW_REVISION_REFUSED.has(v.fixture)) continue;
    if (built.revision.metadata.name !== v.name) {
      mismatches.push(`${v.fixture}: name ${built.revision.metadata.name}, upstream ${v.name}`);
    }
    const keyed = buildControllerRevision(lws, { revisionNumber: v.revision, key: v.keyedLabel });
    if (keyed.revision.metadata.name !== v.keyedName) {
      mismatches.push(`${v.fixture}: keyed name ${keyed.revision.metadata.name}, upstream ${v.keyedName}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

Deno.test("applyRevision() restores like upstream's ApplyRevision (own revision, and onto another LWS)", () => {
  const mismatches: string[] = [];
  for (const v of upstream.revisions) {
    const lws: LeaderWorkerSet = readJson(`fixtures/${v.fixture}`);
    const own = revisionData(applyRevision(lws, { data: JSON.parse(v.data) })) === v.data;
    if (own !== v.roundTrip) mismatches.push(`${v.fixture}: round trip ${own}, upstream ${v.roundTrip}`);
    const onto: LeaderWorkerSet = readJson(`fixtures/${v.restoredOnto}`);
    const restored = revisionData(applyRevision(onto, { data: JSON.parse(v.data) }));
    if (restored !== v.restored) {
      mismatches.push(`${v.fixture} onto ${v.restoredOnto}: ${firstDifference(restored, v.restored)}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

Deno.test("isTemplateUnchanged() agrees with upstream's EqualRevision || SetMatchesRevision", () => {
  const goldenBy = new Map(golden.revisions.map((v) => [v.fixture, v]));
  const mismatches: string[] = [];
  for (const v of upstream.revisions) {
    const lws: LeaderWorkerSet = readJson(`fixtures/${v.fixture}`);
    const legacy = JSON.parse(goldenBy.get(v.fixture)!.legacyData);
    const ours = isTemplateUnchanged(lws, { data: legacy });
    if (ours !== v.legacyUnchanged) {
      mismatches.push(`${v.fixture} (legacy data): ours ${ours}, upstream ${v.legacyUnchanged}`);
    }
  }
  const goldenSemantic = new Map(golden.semantic.map((v) => [v.case, v]));
  for (const v of upstream.semantic) {
    const c: { lws: LeaderWorkerSet; revisionData: Record<string, unknown> } = readJson(`semantic/${v.case}`);
    const candidate = revisionData(c.lws);
    if (candidate !== v.candidate) mismatches.push(`${v.case}: candidate: ${firstDifference(candidate, v.candidate)}`);
    if (v.candidate !== goldenSemantic.get(v.case)!.candidate) {
      mismatches.push(`${v.case}: upstream candidate != golden`);
    }
    if (v.unchanged !== goldenSemantic.get(v.case)!.unchanged) mismatches.push(`${v.case}: upstream verdict != golden`);
    const ours = isTemplateUnchanged(c.lws, { data: c.revisionData });
    if (ours !== v.unchanged) mismatches.push(`${v.case}: ours ${ours}, upstream ${v.unchanged}`);
  }
  assert.deepEqual(mismatches, []);
});

Deno.test("nextRevisionNumber(revisionsOf()) numbers revisions like upstream's NewRevision", () => {
  const lws: LeaderWorkerSet = readJson("fixtures/001-spec-e2e-default.json");
  const input: {
    cases: {
      name: string;
      existing: { namespace: string; nameLabel: string; owner: string | null; revision: number }[];
    }[];
  } = readJson("upstream/numbering.json");
  assert.equal(upstream.numbering.length, input.cases.length);
  for (const [i, c] of input.cases.entries()) {
    const existing: ControllerRevision[] = c.existing.map((e, j) => ({
      metadata: {
        name: `existing-${j}`,
        namespace: e.namespace,
        labels: { [LABEL_NAME]: e.nameLabel },
        ownerReferences: e.owner === null ? undefined : [{
          apiVersion: "leaderworkerset.x-k8s.io/v1",
          kind: "LeaderWorkerSet",
          name: e.nameLabel,
          uid: e.owner,
          controller: true,
        }],
      },
      revision: e.revision,
    }));
    const number = nextRevisionNumber(revisionsOf(lws, existing));
    const want = upstream.numbering[i]!;
    assert.equal(want.case, c.name);
    assert.equal(number, want.revision, c.name);
    assert.equal(buildControllerRevision(lws, { revisionNumber: number }).revision.metadata.name, want.name, c.name);
  }
});
