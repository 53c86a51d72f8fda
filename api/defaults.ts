/**
 * Defaulting of LeaderWorkerSets, in two clearly separate layers:
 *
 * - {@linkcode defaultLeaderWorkerSet}: what the LWS mutating webhook does (spec §3 steps 1–5), nothing more.
 * - {@linkcode applyCrdDefaults}: what the API server's structural-schema defaulting does before any webhook runs
 *   (spec §1.4). The real API server does this by itself; the helper exists for unit tests and for running the
 *   webhook logic standalone (e.g. `applyCrdDefaults` then `defaultLeaderWorkerSet` then validation).
 *
 * Both are pure: they return a new object and never mutate their input. Input of an unexpected shape (e.g. a
 * `spec` that is a string) is left as it is for validation to reject; they never throw.
 *
 * @module
 */
import type { LeaderWorkerSet } from "./types.ts";
import { isObject, type JsonObject } from "./_json.ts";

/** Result of {@linkcode defaultLeaderWorkerSet}. */
export interface DefaultingResult {
  /** The defaulted object: always a new object (a deep copy), even when nothing changed. */
  lws: LeaderWorkerSet;
  /** Whether any default was applied; when false the webhook answers `allowed: true` with no patch. */
  changed: boolean;
}

/** Empty means absent, `null` or `""` (a Go string field's zero value). */
function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

/**
 * Returns `parent[key]` as an object, creating it when absent or `null` (Go decodes both to a zero-value struct).
 * Returns undefined when the field holds something that is not an object: validation will reject it.
 */
function childObject(parent: JsonObject, key: string, create: boolean): JsonObject | undefined {
  const value = parent[key];
  if (isObject(value)) return value;
  if ((value === undefined || value === null) && create) {
    const created: JsonObject = {};
    parent[key] = created;
    return created;
  }
  return undefined;
}

/**
 * Applies the LWS mutating webhook's defaults (spec §3), in order:
 * 1. empty `leaderWorkerTemplate.restartPolicy` → `RecreateGroupOnPodRestart`;
 * 2. `restartPolicy` `Default` (deprecated) → `None`;
 * 3. empty `rolloutStrategy.type` → `RollingUpdate`;
 * 4. `RollingUpdate` without `rollingUpdateConfiguration` → `{partition: 0, maxUnavailable: 1, maxSurge: 0}`;
 * 5. absent `networkConfig` → `{subdomainPolicy: "Shared"}`; absent `networkConfig.subdomainPolicy` → `Shared`.
 *
 * Nothing else is defaulted here (replicas, size, startupPolicy and subGroupPolicyType are CRD defaults, see
 * {@linkcode applyCrdDefaults}). Like upstream's Go structs, an absent `spec`, `leaderWorkerTemplate` or
 * `rolloutStrategy` is treated as empty and created as needed; a field of the wrong type is left for validation.
 *
 * @param lws The object from the admission request. Not mutated.
 * @returns A deep copy with the defaults applied, and whether anything changed.
 * @example
 * const { lws: defaulted, changed } = defaultLeaderWorkerSet(lws);
 * if (changed) respondWithPatch(lws, defaulted);
 */
export function defaultLeaderWorkerSet(lws: LeaderWorkerSet): DefaultingResult {
  const copy = structuredClone(lws) as unknown;
  if (!isObject(copy)) return { lws: copy as LeaderWorkerSet, changed: false };
  let changed = false;
  const spec = childObject(copy, "spec", true);
  if (spec === undefined) return { lws: copy as unknown as LeaderWorkerSet, changed: false };

  const template = childObject(spec, "leaderWorkerTemplate", true);
  if (template !== undefined) {
    // Steps 1 and 2.
    if (isEmpty(template.restartPolicy)) {
      template.restartPolicy = "RecreateGroupOnPodRestart";
      changed = true;
    } else if (template.restartPolicy === "Default") {
      template.restartPolicy = "None";
      changed = true;
    }
  }

  const strategy = childObject(spec, "rolloutStrategy", true);
  if (strategy !== undefined) {
    // Step 3.
    if (isEmpty(strategy.type)) {
      strategy.type = "RollingUpdate";
      changed = true;
    }
    // Step 4.
    if (strategy.type === "RollingUpdate" && (strategy.rollingUpdateConfiguration ?? null) === null) {
      strategy.rollingUpdateConfiguration = { partition: 0, maxUnavailable: 1, maxSurge: 0 };
      changed = true;
    }
  }

  // Step 5.
  if ((spec.networkConfig ?? null) === null) {
    spec.networkConfig = { subdomainPolicy: "Shared" };
    changed = true;
  } else if (isObject(spec.networkConfig) && (spec.networkConfig.subdomainPolicy ?? null) === null) {
    spec.networkConfig.subdomainPolicy = "Shared";
    changed = true;
  }

  return { lws: copy as unknown as LeaderWorkerSet, changed };
}

/**
 * Applies the CRD schema defaults of spec §1.4 the way the API server's structural defaulting does: a default is
 * filled in only inside an object that is present. So `spec.replicas` = 1 and `spec.startupPolicy` =
 * `LeaderCreated` (when `spec` exists); `leaderWorkerTemplate.size` = 1 and `restartPolicy` =
 * `RecreateGroupOnPodRestart`; `subGroupPolicy.subGroupPolicyType` = `LeaderWorker` (only when `subGroupPolicy` is
 * present); `rolloutStrategy.type` = `RollingUpdate` (only when `rolloutStrategy` is present);
 * `rollingUpdateConfiguration.partition` = 0, `maxUnavailable` = 1, `maxSurge` = 0 (only when that object is
 * present).
 *
 * Not covered: the core/v1 defaults inside embedded pod templates and volume claim templates (e.g.
 * `ports[].protocol`), which the API server also applies. This is not the webhook's defaulting; use
 * {@linkcode defaultLeaderWorkerSet} for that.
 *
 * @param lws Any LeaderWorkerSet-shaped object. Not mutated.
 * @returns A deep copy with the CRD defaults applied.
 * @example
 * const admitted = defaultLeaderWorkerSet(applyCrdDefaults(userManifest)).lws;
 */
export function applyCrdDefaults(lws: LeaderWorkerSet): LeaderWorkerSet {
  const copy = structuredClone(lws) as unknown;
  if (!isObject(copy)) return copy as LeaderWorkerSet;
  const spec = childObject(copy, "spec", false);
  if (spec === undefined) return copy as unknown as LeaderWorkerSet;
  setIfAbsent(spec, "replicas", 1);
  setIfAbsent(spec, "startupPolicy", "LeaderCreated");

  const template = childObject(spec, "leaderWorkerTemplate", false);
  if (template !== undefined) {
    setIfAbsent(template, "size", 1);
    setIfAbsent(template, "restartPolicy", "RecreateGroupOnPodRestart");
    const subGroupPolicy = childObject(template, "subGroupPolicy", false);
    if (subGroupPolicy !== undefined) setIfAbsent(subGroupPolicy, "subGroupPolicyType", "LeaderWorker");
  }

  const strategy = childObject(spec, "rolloutStrategy", false);
  if (strategy !== undefined) {
    setIfAbsent(strategy, "type", "RollingUpdate");
    const config = childObject(strategy, "rollingUpdateConfiguration", false);
    if (config !== undefined) {
      setIfAbsent(config, "partition", 0);
      setIfAbsent(config, "maxUnavailable", 1);
      setIfAbsent(config, "maxSurge", 0);
    }
  }
  return copy as unknown as LeaderWorkerSet;
}

/** Structural defaulting fills absent fields only (`null` is pruned to absent by the API server first). */
function setIfAbsent(object: JsonObject, key: string, value: unknown): void {
  if (object[key] === undefined || object[key] === null) object[key] = value;
}
