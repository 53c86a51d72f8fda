/**
 * TPU environment variables of LWS pods (spec §9.5): the `TPU_*` variables for pods with and without subgrouping.
 * Who requests TPUs (§9.5.1) is `api/tpu.ts`. The functions modify the pod they are given: call them on a copy.
 *
 * @module
 */
import type { Container, Pod } from "kubernetes-types/core/v1.d.ts";
import {
  ANNOTATION_LEADER_REQUESTS_TPUS,
  ANNOTATION_SUBGROUP_SIZE,
  DEFAULT_TPU_PROCESS_PORT,
  ENV_TPU_NAME,
  ENV_TPU_PROCESS_ADDRESSES,
  ENV_TPU_PROCESS_PORT,
  ENV_TPU_WORKER_HOSTNAMES,
  ENV_TPU_WORKER_ID,
  LABEL_SUBGROUP_INDEX,
  LABEL_WORKER_INDEX,
} from "../api/constants.ts";
import { goAtoi } from "../api/go_strconv.ts";
import { parseParentAndOrdinal } from "../api/naming.ts";
import { tpuContainersOf } from "../api/tpu.ts";
import { envValue } from "./_pod_util.ts";

function alreadyInjected(container: Container): boolean {
  return envValue(container, ENV_TPU_WORKER_HOSTNAMES) !== undefined ||
    envValue(container, ENV_TPU_WORKER_ID) !== undefined;
}

function appendTpuEnv(
  container: Container,
  values: { hosts: string[]; id: number; name: string; addresses: string[]; port: string; userPort: boolean },
): void {
  const env = container.env ?? [];
  env.push(
    { name: ENV_TPU_WORKER_HOSTNAMES, value: values.hosts.join(",") },
    { name: ENV_TPU_WORKER_ID, value: String(values.id) },
    { name: ENV_TPU_NAME, value: values.name },
    { name: ENV_TPU_PROCESS_ADDRESSES, value: values.addresses.join(",") },
  );
  if (!values.userPort) env.push({ name: ENV_TPU_PROCESS_PORT, value: values.port });
  container.env = env;
}

/**
 * Injects the TPU variables into the TPU containers of an LWS pod (spec §9.5.2 without subgrouping, §9.5.3 with
 * the `subgroup-size` annotation). Does nothing when the pod has no TPU container or the first one already has
 * `TPU_WORKER_HOSTNAMES` or `TPU_WORKER_ID`.
 *
 * @param pod The pod after the leader/worker labelling steps (worker-index set, subdomain final). Modified.
 * @param size The group size `S` (size annotation).
 * @returns An error message that denies the pod, or undefined.
 */
export function addTpuVariables(pod: Pod, size: number): string | undefined {
  const containers = tpuContainersOf(pod.spec);
  if (containers.length === 0 || alreadyInjected(containers[0]!)) return undefined;
  if (pod.metadata?.annotations?.[ANNOTATION_SUBGROUP_SIZE] !== undefined) {
    return addTpuVariablesSubGroup(pod, containers[0]!);
  }
  const name = pod.metadata?.name ?? "";
  const subdomain = pod.spec?.subdomain ?? "";
  const leaderRequestsTpus = pod.metadata?.annotations?.[ANNOTATION_LEADER_REQUESTS_TPUS] === "true";
  const isLeader = pod.metadata?.labels?.[LABEL_WORKER_INDEX] === "0";
  let leaderName = name;
  let index = 0;
  if (!isLeader) {
    const { parent, ordinal } = parseParentAndOrdinal(name);
    if (ordinal === -1) return `parsing parent name from pod ${name}`;
    leaderName = parent;
    index = leaderRequestsTpus ? ordinal : ordinal - 1;
  }
  const n = containers.length;
  const ports = containers.map((c, i) => envValue(c, ENV_TPU_PROCESS_PORT) ?? String(DEFAULT_TPU_PROCESS_PORT + i));
  const hosts: string[] = [];
  const addresses: string[] = [];
  const addPod = (host: string) => {
    for (let k = 0; k < n; k++) {
      hosts.push(host);
      addresses.push(`${host}:${ports[k]}`);
    }
  };
  if (isLeader || leaderRequestsTpus) addPod(`${leaderName}.${subdomain}`);
  for (let j = 1; j <= size - 1; j++) addPod(`${leaderName}-${j}.${subdomain}`);
  containers.forEach((container, i) => {
    appendTpuEnv(container, {
      hosts,
      id: index * n + i,
      name: leaderName,
      addresses,
      port: ports[i]!,
      userPort: envValue(container, ENV_TPU_PROCESS_PORT) !== undefined,
    });
  });
  return undefined;
}

function addTpuVariablesSubGroup(pod: Pod, container: Container): string | undefined {
  const annotations = pod.metadata?.annotations ?? {};
  const labels = pod.metadata?.labels ?? {};
  const k = goAtoi(annotations[ANNOTATION_SUBGROUP_SIZE] ?? "");
  if ("error" in k) return k.error;
  const sgParsed = goAtoi(labels[LABEL_SUBGROUP_INDEX] ?? "");
  if ("error" in sgParsed) return sgParsed.error;
  const w = goAtoi(labels[LABEL_WORKER_INDEX] ?? "");
  if ("error" in w) return w.error;
  if (k.value === 0) return "runtime error: integer divide by zero";
  const leaderRequestsTpus = annotations[ANNOTATION_LEADER_REQUESTS_TPUS] === "true";
  const name = pod.metadata?.name ?? "";
  const subdomain = pod.spec?.subdomain ?? "";
  let sg = sgParsed.value;
  let id = goMod(w.value, k.value);
  if (w.value !== 0 && !leaderRequestsTpus) {
    id = goMod(w.value - 1, k.value);
    sg = Math.trunc((w.value - 1) / k.value);
  }
  const userPort = envValue(container, ENV_TPU_PROCESS_PORT);
  const port = userPort ?? String(DEFAULT_TPU_PROCESS_PORT);
  let start = k.value * sg + 1;
  let end = k.value * (sg + 1);
  const hosts: string[] = [];
  let leaderName: string;
  if (w.value === 0) {
    hosts.push(`${name}.${subdomain}`);
    end -= 1;
    leaderName = name;
  } else {
    leaderName = parseParentAndOrdinal(name).parent;
    if (leaderRequestsTpus && sg === 0) {
      hosts.push(`${leaderName}.${subdomain}`);
      end -= 1;
    } else if (leaderRequestsTpus) {
      start -= 1;
      end -= 1;
    }
  }
  for (let i = start; i <= end; i++) hosts.push(`${leaderName}-${i}.${subdomain}`);
  appendTpuEnv(container, {
    hosts,
    id,
    name: leaderName,
    addresses: hosts.map((h) => `${h}:${port}`),
    port,
    userPort: userPort !== undefined,
  });
  return undefined;
}

/** Go's `%` (truncated, sign of the dividend), normalising `-0`. */
function goMod(a: number, b: number): number {
  return (a % b) + 0;
}
