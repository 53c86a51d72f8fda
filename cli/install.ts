/**
 * `lws install` and `lws uninstall` for running the binary outside the cluster (local mode):
 *
 * - install: the operator namespace (home of the leader-election Lease, default `lws-system`) and the CRD embedded
 *   in the binary, by server-side apply (field manager `lws`), then waits until the CRD is Established. The webhook
 *   configurations are **not** installed here: their CA lives in the memory of `lws run`, which registers them when
 *   its webhook serves and removes them when it stops.
 * - uninstall: removes the local-mode webhook configurations (a crashed `lws run` may have left them behind, with
 *   `failurePolicy: Fail`), then deletes the CRD — and with it every LeaderWorkerSet — unless `--keep-crd`.
 *
 * In-cluster installs use `kubectl apply -k deploy/` instead.
 *
 * @module
 */
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1.d.ts";
import { join } from "node:path";
import { parse } from "yaml";
import { CRD_NAME, FIELD_MANAGER } from "../api/constants.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { CUSTOM_RESOURCE_DEFINITIONS, NAMESPACES } from "../kube/resources.ts";
import { removeWebhookConfigurations } from "../webhook/mod.ts";
import { ROOT_DIR } from "./build_info.ts";

/** The CRD file, relative to the repository root (embedded in the compiled binary with `--include`). */
export const CRD_PATH = "crds/leaderworkersets.leaderworkerset.x-k8s.io.yaml";

/**
 * Reads the embedded CRD.
 *
 * @param root The repository (or embedded files') root.
 * @returns The CRD object.
 * @throws When the file is missing or holds no CustomResourceDefinition.
 */
export async function readCrd(root: string = ROOT_DIR): Promise<CustomResourceDefinition> {
  const text = await Deno.readTextFile(join(root, CRD_PATH));
  const crd = parse(text) as CustomResourceDefinition;
  if (crd?.kind !== "CustomResourceDefinition" || crd.metadata?.name !== CRD_NAME) {
    throw new Error(`Cannot install: ${CRD_PATH} holds no CustomResourceDefinition named ${CRD_NAME}`);
  }
  return crd;
}

/** Options of {@linkcode install}. */
export interface InstallOptions {
  /** Namespace to create for the Lease (default `lws-system`). */
  namespace: string;
  /** Validate on the server only (`dryRun=All`), change nothing. */
  dryRun?: boolean;
  /** How long to wait for the CRD to be Established, in ms (default 60 000). */
  timeoutMs?: number;
  /** Progress lines (stdout). */
  say: (line: string) => void;
  /** Aborts the calls. */
  signal?: AbortSignal;
}

/**
 * Installs the namespace and the CRD (see the module documentation).
 *
 * @param client An API client allowed to apply namespaces and CRDs.
 * @param options Namespace, dry run, timeout, output.
 * @throws An `ApiError` when the API server refuses; an Error when the CRD is not Established in time.
 */
export async function install(client: KubeClient, options: InstallOptions): Promise<void> {
  const suffix = options.dryRun ? " (server dry run)" : "";
  await client.apply(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: options.namespace } }, {
    fieldManager: FIELD_MANAGER,
    force: true,
    dryRun: options.dryRun,
    signal: options.signal,
  });
  options.say(`namespace/${options.namespace} serverside-applied${suffix}`);
  const crd = await readCrd();
  await client.apply(CUSTOM_RESOURCE_DEFINITIONS, crd, {
    fieldManager: FIELD_MANAGER,
    force: true,
    dryRun: options.dryRun,
    signal: options.signal,
  });
  options.say(`customresourcedefinition.apiextensions.k8s.io/${CRD_NAME} serverside-applied${suffix}`);
  if (options.dryRun) return;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (true) {
    const current = await client.get<CustomResourceDefinition>(CUSTOM_RESOURCE_DEFINITIONS, CRD_NAME, {
      signal: options.signal,
    });
    if (current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
    if (Date.now() > deadline) throw new Error(`Cannot install: CRD ${CRD_NAME} is not Established after the timeout`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  options.say(`customresourcedefinition.apiextensions.k8s.io/${CRD_NAME} condition met (Established)`);
}

/** Options of {@linkcode uninstall}. */
export interface UninstallOptions {
  /** Also remove the configurations of a `lws run --namespace <namespace>`. */
  namespaces?: readonly string[];
  /** Keep the CRD (and every LeaderWorkerSet). */
  keepCrd?: boolean;
  /** Progress lines (stdout). */
  say: (line: string) => void;
  /** Aborts the calls. */
  signal?: AbortSignal;
  /** Names of the local-mode configurations of a watch namespace (`run.ts` decides them). */
  namesFor: (namespace: string | undefined) => { mutatingName: string; validatingName: string };
}

/**
 * Removes the local-mode webhook configurations and (unless `keepCrd`) the CRD.
 *
 * @param client An API client allowed to delete both configuration kinds and CRDs.
 * @param options What to remove, output.
 */
export async function uninstall(client: KubeClient, options: UninstallOptions): Promise<void> {
  for (const namespace of [undefined, ...(options.namespaces ?? [])]) {
    const names = options.namesFor(namespace);
    await removeWebhookConfigurations(client, names, options.signal);
    options.say(`mutatingwebhookconfiguration/${names.mutatingName} removed (if it existed)`);
    options.say(`validatingwebhookconfiguration/${names.validatingName} removed (if it existed)`);
  }
  if (options.keepCrd) return;
  try {
    await client.delete(CUSTOM_RESOURCE_DEFINITIONS, CRD_NAME, { signal: options.signal });
    options.say(`customresourcedefinition.apiextensions.k8s.io/${CRD_NAME} deleted (with every LeaderWorkerSet)`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    options.say(`customresourcedefinition.apiextensions.k8s.io/${CRD_NAME} not found`);
  }
}
