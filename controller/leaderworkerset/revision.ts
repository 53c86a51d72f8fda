/**
 * ControllerRevisions of a LeaderWorkerSet, byte-compatible with upstream (spec §5.4, §7.3, §7.12): the patch
 * document, its canonical bytes, the FNV-1 hash and revision key, the ControllerRevision object, and the
 * "has the template changed" test with upstream's semantic-equality fallback. Pure functions: objects in, new
 * objects out; nothing here talks to the API server.
 *
 * @module
 */
import type { ControllerRevision } from "kubernetes-types/apps/v1.d.ts";
import { API_VERSION, KIND, LABEL_NAME, LABEL_TEMPLATE_REVISION_HASH } from "../../api/constants.ts";
import type { LeaderWorkerSet } from "../../api/types.ts";
import { canonicalJson, type JsonValue } from "./canonical_json.ts";
import { type JsonObject, normalizeLeaderWorkerTemplate, normalizeNetworkConfig } from "./normalize.ts";

/** Directive key of a strategic-merge patch. */
const PATCH_DIRECTIVE = "$patch";
/** ControllerRevision name prefixes are cut to this many bytes (spec §5.1). */
const NAME_PREFIX_MAX_BYTES = 220;
/** Go's `rand.SafeEncodeString` alphabet (no vowels, no confusable characters). */
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/**
 * Builds the revision patch document of an LWS (spec §5.4.1):
 * `{"spec":{"leaderWorkerTemplate":T+{"$patch":"replace"},"networkConfig":NC+{"$patch":"replace"}}}` with `T` and
 * `NC` Go-normalised, and `NC` = `{"subdomainPolicy":"Shared"}` when `networkConfig` is absent or null.
 *
 * @param lws The LeaderWorkerSet as read from the API server (not modified).
 * @returns A new JSON object.
 * @throws {Error} When the template holds values Go could not decode.
 */
export function buildRevisionPatch(lws: Pick<LeaderWorkerSet, "spec">): JsonObject {
  const template = normalizeLeaderWorkerTemplate(lws.spec?.leaderWorkerTemplate);
  const networkConfig = normalizeNetworkConfig(lws.spec?.networkConfig) ?? { subdomainPolicy: "Shared" };
  return {
    spec: {
      leaderWorkerTemplate: { ...template, [PATCH_DIRECTIVE]: "replace" },
      networkConfig: { ...networkConfig, [PATCH_DIRECTIVE]: "replace" },
    },
  };
}

/**
 * The canonical bytes of an LWS revision (spec §5.4.2): what upstream stores as ControllerRevision `data` and
 * hashes.
 *
 * @param lws The LeaderWorkerSet as read from the API server.
 * @returns The canonical JSON text (a JavaScript string; its UTF-8 encoding is the byte sequence).
 * @throws {Error} When the template holds values Go could not decode.
 */
export function revisionData(lws: Pick<LeaderWorkerSet, "spec">): string {
  return canonicalJson(buildRevisionPatch(lws));
}

/**
 * 32-bit FNV-1 (not FNV-1a) of some bytes, as Go's `hash/fnv.New32`.
 *
 * @param bytes The input.
 * @returns The hash as an unsigned 32-bit integer.
 */
export function fnv1Hash32(bytes: Uint8Array): number {
  let h = 2166136261;
  for (const b of bytes) {
    h = Math.imul(h, 16777619) >>> 0;
    h = (h ^ b) >>> 0;
  }
  return h;
}

/**
 * Go's `rand.SafeEncodeString` over the decimal rendering of a hash (spec §5.4.4 step 3).
 *
 * @param hash An unsigned 32-bit integer.
 * @returns The encoded hash, e.g. `7bdcf6cbd6`.
 */
export function safeEncodeHash(hash: number): string {
  let out = "";
  for (const c of String(hash >>> 0)) out += ALPHABET[c.charCodeAt(0) % ALPHABET.length];
  return out;
}

/**
 * Hash of revision data (FNV-1 over the UTF-8 bytes, then {@link safeEncodeHash}).
 *
 * @param data Canonical revision data as returned by {@link revisionData}.
 * @returns The hash string.
 */
export function hashRevisionData(data: string): string {
  return safeEncodeHash(fnv1Hash32(new TextEncoder().encode(data)));
}

/**
 * The hash of an LWS's current template (the value a freshly built revision's key takes).
 *
 * @param lws The LeaderWorkerSet as read from the API server.
 * @returns The hash string.
 * @throws {Error} When the template holds values Go could not decode.
 */
export function revisionHash(lws: Pick<LeaderWorkerSet, "spec">): string {
  return hashRevisionData(revisionData(lws));
}

/**
 * The revision key of a ControllerRevision: its `template-revision-hash` label.
 *
 * @param revision A ControllerRevision.
 * @returns The key, or `""` when the label is missing.
 */
export function revisionKey(revision: Pick<ControllerRevision, "metadata">): string {
  return revision.metadata?.labels?.[LABEL_TEMPLATE_REVISION_HASH] ?? "";
}

/** What {@link buildControllerRevision} returns. */
export interface BuiltRevision {
  /**
   * The ControllerRevision to create. Its `data` is the parsed patch document; send {@link BuiltRevision.data}
   * verbatim instead of re-serialising it, so the stored bytes are the hashed bytes.
   */
  revision: ControllerRevision & { metadata: NonNullable<ControllerRevision["metadata"]> };
  /** The canonical bytes of `revision.data`, to splice into the request body unchanged. */
  data: string;
  /** The hash of `data` (used in the name even when the key differs). */
  hash: string;
  /** The revision key (the `template-revision-hash` label value). */
  key: string;
}

/** Cuts a string to at most `max` UTF-8 bytes (names are ASCII in practice). */
function truncateBytes(s: string, max: number): string {
  const bytes = new TextEncoder().encode(s);
  if (bytes.length <= max) return s;
  return new TextDecoder().decode(bytes.subarray(0, max));
}

/**
 * Builds the ControllerRevision for an LWS's current template (spec §5.4.5).
 *
 * @param lws The LeaderWorkerSet as read from the API server; `metadata.name`, `namespace` and `uid` are used.
 * @param options `revisionNumber`: the `revision` field (see {@link nextRevisionNumber}); `key`: the revision key
 *   when it must differ from the hash (spec §7.3 step 3, a legacy leader StatefulSet's key); defaults to the hash.
 * @returns The object, its exact data bytes, hash and key.
 * @throws {Error} When the template holds values Go could not decode.
 * @example
 * ```ts
 * const { revision, data } = buildControllerRevision(lws, { revisionNumber: nextRevisionNumber(revisionsOf(lws, all)) });
 * ```
 */
export function buildControllerRevision(
  lws: LeaderWorkerSet,
  options: { revisionNumber: number; key?: string },
): BuiltRevision {
  const patch = buildRevisionPatch(lws);
  const data = canonicalJson(patch);
  const hash = hashRevisionData(data);
  const key = options.key || hash;
  const name = lws.metadata.name ?? "";
  const revision: BuiltRevision["revision"] = {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: `${truncateBytes(name, NAME_PREFIX_MAX_BYTES)}-${hash}-${options.revisionNumber}`,
      namespace: lws.metadata.namespace,
      labels: { [LABEL_NAME]: name, [LABEL_TEMPLATE_REVISION_HASH]: key },
      ownerReferences: [{
        apiVersion: API_VERSION,
        kind: KIND,
        name,
        uid: lws.metadata.uid ?? "",
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    data: JSON.parse(data),
    revision: options.revisionNumber,
  };
  return { revision, data, hash, key };
}

/**
 * The JSON request body for creating a built revision, with `data` spliced in as the exact canonical bytes (a
 * generic serializer would reorder the keys and change the bytes the hash was computed over).
 *
 * @param built What {@link buildControllerRevision} returned.
 * @returns The body text; `JSON.parse` of it equals `built.revision`.
 */
export function controllerRevisionBody(built: BuiltRevision): string {
  const { data: _data, ...rest } = built.revision;
  const head = JSON.stringify(rest);
  return `${head.slice(0, -1)}${head === "{}" ? "" : ","}"data":${built.data}}`;
}

/**
 * The `revision` number for a new ControllerRevision: one more than the highest existing one, or 1.
 *
 * @param revisions The existing revisions of the LWS (see {@link revisionsOf}).
 * @returns The next revision number.
 */
export function nextRevisionNumber(revisions: readonly Pick<ControllerRevision, "revision">[]): number {
  let max = 0;
  for (const r of revisions) if (r.revision > max) max = r.revision;
  return max + 1;
}

/**
 * The revisions of an LWS (spec §5.4.5): ControllerRevisions in its namespace with label `name=<lws>` whose
 * controller owner is this LWS's UID, or that have no controller owner at all.
 *
 * @param lws The LeaderWorkerSet.
 * @param all Candidate ControllerRevisions (e.g. every one in the cache; other namespaces are skipped).
 * @returns The matching revisions, in input order.
 */
export function revisionsOf<R extends ControllerRevision>(lws: LeaderWorkerSet, all: readonly R[]): R[] {
  const { name, namespace, uid } = lws.metadata;
  return all.filter((r) => {
    const meta = r.metadata;
    if (!meta || meta.namespace !== namespace || meta.labels?.[LABEL_NAME] !== name) return false;
    const controller = meta.ownerReferences?.find((o) => o.controller === true);
    return controller === undefined || controller.uid === uid;
  });
}

/** Revision data as a parsed object (the API returns it embedded; a string is parsed). */
function revisionPatch(revision: Pick<ControllerRevision, "data">): Record<string, unknown> {
  const data: unknown = typeof revision.data === "string" ? JSON.parse(revision.data) : revision.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error(`Cannot read revision data: expected a JSON object, got ${JSON.stringify(data)}`);
  }
  return data as Record<string, unknown>;
}

function hasDirective(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.hasOwn(v, PATCH_DIRECTIVE);
}

function withoutDirective(v: unknown): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
  const { [PATCH_DIRECTIVE]: _directive, ...rest } = v as Record<string, unknown>;
  return rest;
}

/**
 * Rebuilds the LWS a revision was taken from (spec §5.4.6): the live object with `spec.leaderWorkerTemplate` and
 * `spec.networkConfig` replaced wholesale by the revision's subtrees (without `$patch` markers). A subtree the
 * revision lacks is kept from the live object; one it holds as `null` is removed. Everything else comes from the
 * live object.
 *
 * One exception, as upstream's ApplyRevision (a strategic merge patch onto the Go-encoded live object) behaves: when
 * the live LWS has no `networkConfig` (absent or `null`: Go's nil pointer, omitted when encoded), the revision's
 * `networkConfig` — a map carrying `"$patch"` for a key the original lacks — is dropped, not applied, so the result
 * has no `networkConfig` either (and serialises as the `Shared` default). `leaderWorkerTemplate` is a non-pointer
 * struct in Go, always present in the encoded original, so it is always replaced. Pinned by
 * tests/oracle/upstream (upstream v0.9.0's own code) and the semantic cases s13/s14.
 *
 * @param lws The live LeaderWorkerSet (not modified).
 * @param revision A ControllerRevision of it.
 * @returns A new LeaderWorkerSet (shallow copies down to `spec`; the subtrees are the revision's).
 * @throws {Error} When the revision data is not a JSON object.
 */
export function applyRevision(lws: LeaderWorkerSet, revision: Pick<ControllerRevision, "data">): LeaderWorkerSet {
  const patch = revisionPatch(revision);
  const spec: Record<string, unknown> = { ...lws.spec };
  const patchSpec = patch.spec;
  if (typeof patchSpec === "object" && patchSpec !== null && !Array.isArray(patchSpec)) {
    for (const key of ["leaderWorkerTemplate", "networkConfig"] as const) {
      if (!Object.hasOwn(patchSpec, key)) continue;
      const value = (patchSpec as Record<string, unknown>)[key];
      const liveLacks = key === "networkConfig" && (spec[key] === undefined || spec[key] === null);
      if (value === null || (liveLacks && hasDirective(value))) delete spec[key];
      else spec[key] = structuredClone(withoutDirective(value));
    }
  }
  return { ...lws, spec: spec as unknown as LeaderWorkerSet["spec"] };
}

/**
 * Spec §7.3 step 5: is the LWS's current template the one `baseRevision` holds?
 *
 * First the candidate's canonical bytes are compared with the stored data, parsed and re-serialised canonically
 * (never the raw API text). When those differ, the semantic-equality fallback applies the base revision to the
 * live LWS, normalises and serialises the result and compares again, so data written by older serialisers (e.g.
 * `"creationTimestamp":null`) does not count as a change.
 *
 * @param lws The live LeaderWorkerSet.
 * @param baseRevision The base revision (from the leader StatefulSet's revision key).
 * @returns `true` when unchanged; `false` when a new revision is needed.
 * @throws {Error} When the template or the revision holds values Go could not decode.
 */
export function isTemplateUnchanged(
  lws: LeaderWorkerSet,
  baseRevision: Pick<ControllerRevision, "data">,
): boolean {
  const candidate = revisionData(lws);
  if (canonicalJson(revisionPatch(baseRevision) as JsonValue) === candidate) return true;
  return revisionData(applyRevision(lws, baseRevision)) === candidate;
}
