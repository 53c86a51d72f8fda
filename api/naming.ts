/**
 * Deterministic names and keys of the objects LWS manages (spec §5.1–§5.3), plus int-or-percent scaling (spec §4
 * notes) shared by validation and the rolling-update code. All pure.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { goAtoi, goQuote } from "./go_strconv.ts";

/** Maximum length, in UTF-8 bytes, of the LWS-name prefix of a ControllerRevision name. */
export const REVISION_NAME_PREFIX_MAX_BYTES = 220;

/**
 * Name of the leader StatefulSet, which is also the shared headless Service's name: `<lws>`.
 *
 * @param lwsName The LeaderWorkerSet name.
 * @returns The StatefulSet name.
 */
export function leaderStatefulSetName(lwsName: string): string {
  return lwsName;
}

/**
 * Name of the leader pod of group `g`: `<lws>-<g>` (the leader StatefulSet's pod naming).
 *
 * @param lwsName The LeaderWorkerSet name.
 * @param groupIndex The group index.
 * @returns The pod name.
 */
export function leaderPodName(lwsName: string, groupIndex: number): string {
  return `${lwsName}-${groupIndex}`;
}

/**
 * Name of the worker StatefulSet of group `g`: `<lws>-<g>`, the same name as its leader pod.
 *
 * @param lwsName The LeaderWorkerSet name.
 * @param groupIndex The group index.
 * @returns The StatefulSet name.
 */
export function workerStatefulSetName(lwsName: string, groupIndex: number): string {
  return leaderPodName(lwsName, groupIndex);
}

/**
 * Name of worker pod `w` (1..S-1) of group `g`: `<lws>-<g>-<w>`.
 *
 * @param lwsName The LeaderWorkerSet name.
 * @param groupIndex The group index.
 * @param workerIndex The worker index (≥ 1; the leader is worker 0 and is named by {@linkcode leaderPodName}).
 * @returns The pod name.
 */
export function workerPodName(lwsName: string, groupIndex: number, workerIndex: number): string {
  return `${lwsName}-${groupIndex}-${workerIndex}`;
}

/**
 * Name of the shared headless Service (subdomain policy `Shared`): `<lws>`.
 *
 * @param lwsName The LeaderWorkerSet name.
 * @returns The Service name.
 */
export function sharedServiceName(lwsName: string): string {
  return lwsName;
}

/**
 * Name of the per-replica headless Service of group `g` (subdomain policy `UniquePerReplica`): `<lws>-<g>`, the
 * leader pod's name.
 *
 * @param lwsName The LeaderWorkerSet name.
 * @param groupIndex The group index.
 * @returns The Service name.
 */
export function perReplicaServiceName(lwsName: string, groupIndex: number): string {
  return leaderPodName(lwsName, groupIndex);
}

/**
 * Name of a ControllerRevision: `<prefix>-<hash>-<revision>`, where the prefix is the LWS name cut to 220 UTF-8
 * bytes. Go slices bytes; this cut never splits a character (the two agree for the ASCII names validation allows).
 *
 * @param lwsName The LeaderWorkerSet name.
 * @param hash The template hash (spec §5.4.4), used even when the revision key differs.
 * @param revision The revision number.
 * @returns The ControllerRevision name.
 */
export function controllerRevisionName(lwsName: string, hash: string, revision: number): string {
  return `${truncateUtf8(lwsName, REVISION_NAME_PREFIX_MAX_BYTES)}-${hash}-${revision}`;
}

/**
 * Name of the Volcano PodGroup of group `g`: `<lws>-<g>-<revisionKey>` (also the pods' `scheduling.k8s.io/group-name`).
 *
 * @param lwsName The LeaderWorkerSet name.
 * @param groupIndex The group index.
 * @param revisionKey The revision key of the leader pod.
 * @returns The PodGroup name.
 */
export function podGroupName(lwsName: string, groupIndex: number | string, revisionKey: string): string {
  return `${lwsName}-${groupIndex}-${revisionKey}`;
}

function truncateUtf8(value: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of value) {
    const code = char.codePointAt(0)!;
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return value.slice(0, end);
}

/** Result of {@linkcode parseParentAndOrdinal}. */
export interface ParentAndOrdinal {
  /** Everything before the last `-<digits>`; `""` when the name has no trailing `-<digits>`. */
  parent: string;
  /** The trailing digits as a 32-bit integer; −1 when absent or out of range. */
  ordinal: number;
}

const PARENT_ORDINAL = /([^\n]*)-([0-9]+)$/;
const INT32_MAX = 2 ** 31 - 1;

/**
 * Splits a StatefulSet pod name into its parent (StatefulSet) name and ordinal, like the StatefulSet controller's
 * `(.*)-([0-9]+)$`: `"lws-1-2"` → `{parent: "lws-1", ordinal: 2}`. Digits that overflow a 32-bit integer keep the
 * parent and give ordinal −1; a name without a trailing `-<digits>` gives `{parent: "", ordinal: -1}`.
 *
 * @param name A pod (or worker StatefulSet) name.
 * @returns The parent name and ordinal.
 */
export function parseParentAndOrdinal(name: string): ParentAndOrdinal {
  const match = PARENT_ORDINAL.exec(name);
  if (match === null) return { parent: "", ordinal: -1 };
  const digits = match[2]!;
  const big = BigInt(digits);
  return { parent: match[1]!, ordinal: big > BigInt(INT32_MAX) ? -1 : Number(big) };
}

function sha1Hex(text: string): string {
  return createHash("sha1").update(text, "utf8").digest("hex");
}

/**
 * Group key of a leader pod (label `leaderworkerset.sigs.k8s.io/group-key`): lowercase hex SHA-1 of `<ns>/<pod>`.
 *
 * @param namespace The pod's namespace.
 * @param leaderPodName The leader pod's name.
 * @returns 40 lowercase hex characters.
 */
export function groupKey(namespace: string, leaderPodName: string): string {
  return sha1Hex(`${namespace}/${leaderPodName}`);
}

/**
 * Subgroup key (label `leaderworkerset.sigs.k8s.io/subgroup-key`): lowercase hex SHA-1 of `<leader pod>/<index>`,
 * without the namespace.
 *
 * @param leaderPodName The leader pod's name (for workers: their `leader-name` annotation).
 * @param subGroupIndex The subgroup index (0 for the leader).
 * @returns 40 lowercase hex characters.
 */
export function subGroupKey(leaderPodName: string, subGroupIndex: number | string): string {
  return sha1Hex(`${leaderPodName}/${subGroupIndex}`);
}

/**
 * Subgroup index of worker `w` (spec §5.3, v0.10.0 rule): when `(S-1) % k == 0` and `S % k != 0` the leader is the
 * extra pod of subgroup 0 and the index is `(w-1) div k`; otherwise `w div k`. The leader itself always gets 0
 * (or no subgroup at all under `LeaderExcluded`); that decision is the caller's.
 *
 * @param size The group size `S` (size annotation).
 * @param subGroupSize The subgroup size `k` (subgroup-size annotation).
 * @param workerIndex The worker index `w` (≥ 1).
 * @returns The subgroup index.
 * @throws {RangeError} When `subGroupSize` is not a positive integer (upstream would divide by zero).
 * @example
 * subGroupIndex(5, 2, 3); // 1
 */
export function subGroupIndex(size: number, subGroupSize: number, workerIndex: number): number {
  if (!Number.isInteger(subGroupSize) || subGroupSize < 1) {
    throw new RangeError(`Cannot compute subgroup index: subGroupSize must be a positive integer, got ${subGroupSize}`);
  }
  const leaderIsExtra = (size - 1) % subGroupSize === 0 && size % subGroupSize !== 0;
  const index = Math.trunc((leaderIsExtra ? workerIndex - 1 : workerIndex) / subGroupSize);
  return index + 0; // normalise -0
}

/** Result of {@linkcode scaleIntOrPercent}: the scaled value, or Go's error text. */
export type ScaleResult = { value: number } | { error: string };

/**
 * Scales an int-or-string against a total like Kubernetes' `intstr.GetScaledValueFromIntOrPercent`: an integer is
 * returned as is; a string must end in `%` with an integer (`strconv.Atoi`) before it, and gives
 * `percent × total / 100` rounded up or down.
 *
 * @param value The int-or-string (any shape: bad input gives an error, never a throw).
 * @param total What 100% is (e.g. `spec.replicas`).
 * @param roundUp Round up (maxSurge) instead of down (maxUnavailable).
 * @returns `{ value }` or `{ error }` with Go's text, e.g. `invalid value for IntOrString: invalid type: string is
 *   not a percentage`.
 * @example
 * scaleIntOrPercent("50%", 3, true); // { value: 2 }
 */
export function scaleIntOrPercent(value: unknown, total: number, roundUp: boolean): ScaleResult {
  if (value === undefined || value === null) return { error: "nil value for IntOrString" };
  if (typeof value === "number") {
    if (Number.isInteger(value)) return { value };
    return { error: "invalid value for IntOrString: invalid type: neither int nor percentage" };
  }
  if (typeof value !== "string") {
    return { error: "invalid value for IntOrString: invalid type: neither int nor percentage" };
  }
  if (!value.endsWith("%")) {
    return { error: "invalid value for IntOrString: invalid type: string is not a percentage" };
  }
  const parsed = goAtoi(value.slice(0, -1));
  if ("error" in parsed) {
    return { error: `invalid value for IntOrString: invalid value ${goQuote(value)}: ${parsed.error}` };
  }
  const scaled = (parsed.value * total) / 100;
  return { value: (roundUp ? Math.ceil(scaled) : Math.floor(scaled)) + 0 };
}
