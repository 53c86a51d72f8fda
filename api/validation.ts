/**
 * Validation of LeaderWorkerSets as the LWS validating webhook does it (spec §4): rules V1–V20 on CREATE and UPDATE
 * (in that order), U1–U4 additionally on UPDATE. Every failure is returned, never just the first; render them with
 * {@linkcode aggregateErrors}.
 *
 * Robustness beyond upstream (which assumes CRD and webhook defaults and panics otherwise):
 * - any input shape is accepted and never throws; a field of the wrong type gives an `Invalid` error with detail
 *   `must be an object` / `must be a 32-bit integer` / ..., and the rules that need that field are skipped;
 * - a missing `spec`, `spec.replicas`, `spec.leaderWorkerTemplate`, `leaderWorkerTemplate.size` or
 *   `rolloutStrategy.rollingUpdateConfiguration` (all guaranteed by defaulting) gives `Required value`;
 * - a missing or zero `subGroupSize` gives V16's message only (upstream panics);
 * - an absent or `null` `maxUnavailable`/`maxSurge` counts as the integer 0, as Go decodes it.
 *
 * @module
 */
import { ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY } from "./constants.ts";
import { aggregateErrors, type FieldError, invalid, renderFieldError, required } from "./field_error.ts";
import { scaleIntOrPercent } from "./naming.ts";
import { goAtoi } from "./go_strconv.ts";
import { isValidPercent, NEGATIVE_ERROR_MESSAGE, validateObjectMeta } from "./validation_meta.ts";
import { isAbsent, isObject, type JsonObject } from "./_json.ts";

export { aggregateErrors, renderFieldError };
export type { FieldError };

/** Upper bound of `spec.replicas` (since v0.10.0). */
export const MAX_REPLICAS = 1_000_000;
const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

const REPLICAS_PATH = "spec.replicas";
const SIZE_PATH = "spec.leaderWorkerTemplate.size";
const ROLLING_UPDATE_PATH = "spec.rolloutStrategy.rollingUpdateConfiguration";
const MAX_UNAVAILABLE_PATH = `${ROLLING_UPDATE_PATH}.maxUnavailable`;
const MAX_SURGE_PATH = `${ROLLING_UPDATE_PATH}.maxSurge`;
const PARTITION_PATH = `${ROLLING_UPDATE_PATH}.partition`;
/** Upstream's path for subgroup rules, with the capital `S` in `SubGroupPolicy` (exact, spec §4.1 V16). */
export const SUBGROUP_SIZE_RULE_PATH = "spec.leaderWorkerTemplate.SubGroupPolicy.subGroupSize";
const SUBDOMAIN_POLICY_PATH = "spec.networkConfig.subdomainPolicy";

/** Reads an optional object field: absent → undefined; wrong type → error pushed, undefined. */
function readObject(parent: JsonObject | undefined, key: string, path: string, errors: FieldError[]) {
  const value = parent?.[key];
  if (isAbsent(value)) return undefined;
  if (!isObject(value)) {
    errors.push(invalid(path, value, "must be an object"));
    return undefined;
  }
  return value;
}

/** Reads a 32-bit integer field: absent → undefined (no error); wrong type → error pushed, undefined. */
function readInt32(parent: JsonObject | undefined, key: string, path: string, errors: FieldError[]) {
  const value = parent?.[key];
  if (isAbsent(value)) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    errors.push(invalid(path, value, "must be a 32-bit integer"));
    return undefined;
  }
  return value;
}

/** V6–V8 (resp. V9–V11): the int-or-string checks of one rollout parameter. */
function validateIntOrPercent(value: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (typeof value === "string") {
    for (const message of isValidPercent(value)) errors.push(invalid(path, value, message));
    // Upstream's getPercentValue: an unparsable (out of range) percent counts as 0, so it is not "> 100%".
    const percent = isValidPercent(value).length === 0 ? goAtoi(value.slice(0, -1)) : { value: 0 };
    if ("value" in percent && percent.value > 100) errors.push(invalid(path, value, "must not be greater than 100%"));
  } else if (typeof value === "number" && value < 0) {
    errors.push(invalid(path, value, NEGATIVE_ERROR_MESSAGE));
  }
  return errors;
}

/**
 * Validates a LeaderWorkerSet on CREATE: rules V1–V20 of spec §4.1, in order.
 *
 * @param lws The object from the admission request, of any shape (typically already defaulted). A non-object gives
 *   the single error `<root>: Invalid value: ...: must be an object`.
 * @returns Every field error found; empty when valid.
 * @example
 * const errors = validateLeaderWorkerSetCreate(lws);
 * if (errors.length > 0) deny(aggregateErrors(errors));
 */
export function validateLeaderWorkerSetCreate(lws: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const object = isObject(lws) ? lws : undefined;
  if (object === undefined) return [invalid("<root>", lws, "must be an object")];

  // V1
  errors.push(...validateObjectMeta(object.metadata, { path: "metadata", requiresNamespace: true }));

  const spec = readObject(object, "spec", "spec", errors);
  if (spec === undefined) {
    if (isAbsent(object.spec)) errors.push(required("spec"));
    errors.push(...validateSubgroupAnnotation(object, undefined));
    return errors;
  }
  const template = readObject(spec, "leaderWorkerTemplate", "spec.leaderWorkerTemplate", errors);
  if (isAbsent(spec.leaderWorkerTemplate)) errors.push(required("spec.leaderWorkerTemplate"));
  const replicas = readInt32(spec, "replicas", REPLICAS_PATH, errors);
  if (isAbsent(spec.replicas)) errors.push(required(REPLICAS_PATH));
  const size = readInt32(template, "size", SIZE_PATH, errors);
  if (template !== undefined && isAbsent(template.size)) errors.push(required(SIZE_PATH));

  // V2, V3
  if (replicas !== undefined && replicas < 0) {
    errors.push(invalid(REPLICAS_PATH, replicas, "replicas must be equal or greater than 0"));
  }
  if (replicas !== undefined && replicas > MAX_REPLICAS) {
    errors.push(invalid(REPLICAS_PATH, replicas, `replicas must be equal or less than ${MAX_REPLICAS}`));
  }
  // V4
  if (size !== undefined && size < 1) errors.push(invalid(SIZE_PATH, size, "size must be equal or greater than 1"));
  // V5
  if (replicas !== undefined && size !== undefined && BigInt(replicas) * BigInt(size) > BigInt(INT32_MAX)) {
    errors.push(
      invalid(REPLICAS_PATH, replicas, `the product of replicas and worker replicas must not exceed ${INT32_MAX}`),
    );
  }

  errors.push(...validateRollingUpdate(spec, replicas));
  errors.push(...validateSubGroupPolicy(template, size));
  // V20
  errors.push(...validateSubgroupAnnotation(object, template));
  return errors;
}

/** V6–V15 on `spec.rolloutStrategy.rollingUpdateConfiguration`. */
function validateRollingUpdate(spec: JsonObject, replicas: number | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const strategy = readObject(spec, "rolloutStrategy", "spec.rolloutStrategy", errors);
  if (!isAbsent(spec.rolloutStrategy) && strategy === undefined) return errors;
  const config = readObject(strategy, "rollingUpdateConfiguration", ROLLING_UPDATE_PATH, errors);
  if (config === undefined) {
    if (isAbsent(strategy?.rollingUpdateConfiguration)) errors.push(required(ROLLING_UPDATE_PATH));
    return errors;
  }
  // Go decodes an absent or null IntOrString as the integer 0.
  const maxUnavailable = config.maxUnavailable ?? 0;
  const maxSurge = config.maxSurge ?? 0;

  errors.push(...validateIntOrPercent(maxUnavailable, MAX_UNAVAILABLE_PATH)); // V6–V8
  errors.push(...validateIntOrPercent(maxSurge, MAX_SURGE_PATH)); // V9–V11
  const partition = readInt32(config, "partition", PARTITION_PATH, errors);
  if (partition !== undefined && partition < 0) {
    errors.push(invalid(PARTITION_PATH, partition, NEGATIVE_ERROR_MESSAGE)); // V12
  }

  const total = replicas ?? 0;
  const scaledUnavailable = scaleIntOrPercent(maxUnavailable, total, false);
  if ("error" in scaledUnavailable) errors.push(invalid(MAX_UNAVAILABLE_PATH, maxUnavailable, "invalid value")); // V13
  const scaledSurge = scaleIntOrPercent(maxSurge, total, true);
  if ("error" in scaledSurge) errors.push(invalid(MAX_SURGE_PATH, maxSurge, "invalid value")); // V14
  // V15: a value that failed to scale counts as 0.
  const unavailable = "value" in scaledUnavailable ? scaledUnavailable.value : 0;
  const surge = "value" in scaledSurge ? scaledSurge.value : 0;
  if (replicas !== undefined && replicas !== 0 && unavailable === 0 && surge === 0) {
    errors.push(invalid(MAX_UNAVAILABLE_PATH, maxUnavailable, "must not be 0 when `maxSurge` is 0"));
  }
  return errors;
}

/** V16–V19 on `spec.leaderWorkerTemplate.subGroupPolicy`. */
function validateSubGroupPolicy(template: JsonObject | undefined, size: number | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const policy = readObject(template, "subGroupPolicy", "spec.leaderWorkerTemplate.subGroupPolicy", errors);
  if (policy === undefined) return errors;
  const subGroupSize = readInt32(
    policy,
    "subGroupSize",
    "spec.leaderWorkerTemplate.subGroupPolicy.subGroupSize",
    errors,
  );
  if (!isAbsent(policy.subGroupSize) && subGroupSize === undefined) return errors;
  // V16. Missing or 0 stops here: upstream would panic (nil dereference, division by zero).
  if (subGroupSize === undefined || subGroupSize < 1) {
    errors.push(invalid(SUBGROUP_SIZE_RULE_PATH, subGroupSize ?? null, "subGroupSize must be equal or greater than 1"));
  }
  if (subGroupSize === undefined || subGroupSize === 0 || size === undefined) return errors;
  // V17–V19 (for a negative subGroupSize too, like upstream; `%` truncates like Go's).
  if (size % subGroupSize !== 0 && (size - 1) % subGroupSize !== 0) {
    errors.push(invalid(SUBGROUP_SIZE_RULE_PATH, subGroupSize, "size or size - 1 must be divisible by subGroupSize"));
  }
  if (size < subGroupSize) {
    errors.push(invalid(SUBGROUP_SIZE_RULE_PATH, subGroupSize, "subGroupSize cannot be larger than size"));
  }
  if (policy.subGroupPolicyType === "LeaderExcluded" && (size - 1) % subGroupSize !== 0) {
    errors.push(
      invalid(
        SUBGROUP_SIZE_RULE_PATH,
        subGroupSize,
        "size-1 must be divisible by subGroupSize when using LeaderExcluded",
      ),
    );
  }
  return errors;
}

/** V20: the subgroup-exclusive-topology annotation needs a subGroupPolicy. */
function validateSubgroupAnnotation(object: JsonObject, template: JsonObject | undefined): FieldError[] {
  if (!isAbsent(template?.subGroupPolicy)) return [];
  const metadata = object.metadata;
  if (!isObject(metadata) || !isObject(metadata.annotations)) return [];
  const annotations = metadata.annotations;
  if (!Object.hasOwn(annotations, ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY)) return [];
  return [
    invalid(
      `metadata.annotations.${ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY}`,
      annotations[ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY],
      "cannot have subgroup-exclusive-topology without subGroupSize set",
    ),
  ];
}

/** `spec.leaderWorkerTemplate.subGroupPolicy` of a LeaderWorkerSet of any shape, when it is an object. */
function subGroupPolicyOf(lws: unknown): JsonObject | undefined {
  if (!isObject(lws) || !isObject(lws.spec) || !isObject(lws.spec.leaderWorkerTemplate)) return undefined;
  const policy = lws.spec.leaderWorkerTemplate.subGroupPolicy;
  return isObject(policy) ? policy : undefined;
}

/**
 * Validates a LeaderWorkerSet on UPDATE: all CREATE rules on the new object (V1–V20), then U1–U4 of spec §4.2
 * (subGroupSize immutable, cannot be enabled or removed; `networkConfig.subdomainPolicy` cannot be null).
 *
 * @param oldLws The stored object, of any shape.
 * @param newLws The updated object from the admission request, of any shape.
 * @returns Every field error found; empty when valid.
 */
export function validateLeaderWorkerSetUpdate(oldLws: unknown, newLws: unknown): FieldError[] {
  const errors = validateLeaderWorkerSetCreate(newLws);
  const oldPolicy = subGroupPolicyOf(oldLws);
  const newPolicy = subGroupPolicyOf(newLws);
  const oldSize = oldPolicy?.subGroupSize ?? null;
  const newSize = newPolicy?.subGroupSize ?? null;
  if (oldPolicy !== undefined && newPolicy !== undefined && oldSize !== newSize) {
    errors.push(invalid(SUBGROUP_SIZE_RULE_PATH, newSize, "field is immutable")); // U1
  }
  if (newPolicy !== undefined && oldPolicy === undefined) {
    errors.push(
      invalid(SUBGROUP_SIZE_RULE_PATH, newSize, "cannot enable subGroupSize after the lws is already created"),
    ); // U2
  }
  if (newPolicy === undefined && oldPolicy !== undefined) {
    errors.push(invalid(SUBGROUP_SIZE_RULE_PATH, oldSize, "cannot remove subGroupSize after enabled")); // U3
  }
  // U4: the value shown is the old object's subdomainPolicy (upstream would panic without an old networkConfig).
  const newSpec = isObject(newLws) && isObject(newLws.spec) ? newLws.spec : undefined;
  if (isObject(newSpec?.networkConfig) && isAbsent(newSpec.networkConfig.subdomainPolicy)) {
    const oldSpec = isObject(oldLws) && isObject(oldLws.spec) ? oldLws.spec : undefined;
    const oldPolicyValue = isObject(oldSpec?.networkConfig) ? oldSpec.networkConfig.subdomainPolicy : undefined;
    errors.push(invalid(SUBDOMAIN_POLICY_PATH, oldPolicyValue ?? null, "cannot set subdomainPolicy as null"));
  }
  return errors;
}
