/**
 * Where a pod sits in its LeaderWorkerSet (group and worker index), shared by the view model and the failure record.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { LABEL_GROUP_INDEX, LABEL_WORKER_INDEX } from "../api/constants.ts";

/**
 * Parses a non-negative decimal integer label.
 *
 * @param value The label value.
 * @returns The number, or `undefined` when absent or malformed.
 */
export function parseIndex(value: string | undefined): number | undefined {
  if (value === undefined || !/^[0-9]{1,9}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Where a pod sits in its LWS: group index and worker index (0: the leader), from its labels, else from its name
 * `<lws>-<g>[-<w>]`.
 *
 * @param pod The pod.
 * @param lwsName Name of its LeaderWorkerSet.
 * @returns The position, or `undefined` when neither labels nor name tell it.
 */
export function podPosition(pod: Pod, lwsName: string): { group: number; worker: number } | undefined {
  const labels = pod.metadata?.labels;
  let group = parseIndex(labels?.[LABEL_GROUP_INDEX]);
  let worker = parseIndex(labels?.[LABEL_WORKER_INDEX]);
  if (group === undefined || worker === undefined) {
    // Labels missing (a pod read before the webhook labelled it): fall back to the name `<lws>-<g>[-<w>]`.
    const name = pod.metadata?.name ?? "";
    const match = name.startsWith(`${lwsName}-`)
      ? /^([0-9]{1,9})(?:-([0-9]{1,9}))?$/.exec(name.slice(lwsName.length + 1))
      : null;
    if (!match) return undefined;
    group ??= Number(match[1]);
    worker ??= match[2] === undefined ? 0 : Number(match[2]);
  }
  return { group, worker };
}
