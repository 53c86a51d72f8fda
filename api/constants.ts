/**
 * Exact identifiers of the LWS API and its controllers: API identity, reserved labels, annotations and environment
 * variables, condition and event texts, webhook registrations and install names. Every value is byte-for-byte
 * upstream's (spec §1.1, §2, §3, §4, §7.10, §7.11, §9.1, §11, §12.1); never reword one.
 *
 * Note the two domains: the API group is `leaderworkerset.x-k8s.io`, every label/annotation key starts with
 * `leaderworkerset.sigs.k8s.io/`.
 *
 * @module
 */
import type {
  LeaderWorkerSetConditionType,
  RestartPolicyType,
  RolloutStrategyType,
  StartupPolicyType,
  SubdomainPolicy,
  SubGroupPolicyType,
} from "./types.ts";

// ---------------------------------------------------------------------------------------------------------------
// API identity (§1.1)

/** API group of the CRD. */
export const GROUP = "leaderworkerset.x-k8s.io";
/** The only served and stored version. */
export const VERSION = "v1";
/** `apiVersion` of LeaderWorkerSet objects. */
export const API_VERSION = "leaderworkerset.x-k8s.io/v1";
/** Kind of the resource. */
export const KIND = "LeaderWorkerSet";
/** Kind of a list of the resource. */
export const LIST_KIND = "LeaderWorkerSetList";
/** Plural resource name (URL path segment). */
export const PLURAL = "leaderworkersets";
/** Singular resource name. */
export const SINGULAR = "leaderworkerset";
/** kubectl short name. */
export const SHORT_NAME = "lws";
/** Name of the CustomResourceDefinition (`<plural>.<group>`). */
export const CRD_NAME = "leaderworkersets.leaderworkerset.x-k8s.io";

// ---------------------------------------------------------------------------------------------------------------
// Labels (§2.1)

/** Common prefix of every reserved label and annotation key. */
export const KEY_PREFIX = "leaderworkerset.sigs.k8s.io/";
/** LWS name; on both StatefulSets, every pod, headless services, ControllerRevisions and PodGroups. */
export const LABEL_NAME = "leaderworkerset.sigs.k8s.io/name";
/** Group index `<g>` (decimal). */
export const LABEL_GROUP_INDEX = "leaderworkerset.sigs.k8s.io/group-index";
/** Worker index `<w>` (decimal; `"0"` for the leader). */
export const LABEL_WORKER_INDEX = "leaderworkerset.sigs.k8s.io/worker-index";
/** Group key: 40-hex SHA-1 of `<ns>/<leader pod>` (§5.2). */
export const LABEL_GROUP_KEY = "leaderworkerset.sigs.k8s.io/group-key";
/** Revision key of the template a StatefulSet, pod, ControllerRevision or PodGroup was built from (§5.4). */
export const LABEL_TEMPLATE_REVISION_HASH = "leaderworkerset.sigs.k8s.io/template-revision-hash";
/** Subgroup index (decimal), when subgrouping is on. */
export const LABEL_SUBGROUP_INDEX = "leaderworkerset.sigs.k8s.io/subgroup-index";
/** Subgroup key: 40-hex SHA-1 of `<leader pod>/<subgroup index>` (§5.2). */
export const LABEL_SUBGROUP_KEY = "leaderworkerset.sigs.k8s.io/subgroup-key";

// ---------------------------------------------------------------------------------------------------------------
// Annotations (§2.2)

/** Node label key for 1:1 group-per-topology placement (user sets it on the LWS). */
export const ANNOTATION_EXCLUSIVE_TOPOLOGY = "leaderworkerset.sigs.k8s.io/exclusive-topology";
/** Node label key for 1:1 subgroup-per-topology placement (user sets it on the LWS). */
export const ANNOTATION_SUBGROUP_EXCLUSIVE_TOPOLOGY = "leaderworkerset.sigs.k8s.io/subgroup-exclusive-topology";
/** Group size `S` (decimal) on leader and worker pod templates. */
export const ANNOTATION_SIZE = "leaderworkerset.sigs.k8s.io/size";
/** Replicas `N` (decimal) used for the last apply, on the leader StatefulSet. */
export const ANNOTATION_REPLICAS = "leaderworkerset.sigs.k8s.io/replicas";
/** Leader pod name, on the worker pod template; must never appear on a leader pod. */
export const ANNOTATION_LEADER_NAME = "leaderworkerset.sigs.k8s.io/leader-name";
/** Subgroup size (decimal) on pod templates when subgrouping is on. */
export const ANNOTATION_SUBGROUP_SIZE = "leaderworkerset.sigs.k8s.io/subgroup-size";
/** Subgroup policy type (`LeaderWorker` / `LeaderExcluded`) on pod templates when subgrouping is on. */
export const ANNOTATION_SUBGROUP_POLICY_TYPE = "leaderworkerset.sigs.k8s.io/subgroup-policy-type";
/** Subdomain policy on the leader pod template, only for `UniquePerReplica`. Camel case, exactly as upstream. */
export const ANNOTATION_SUBDOMAIN_POLICY = "leaderworkerset.sigs.k8s.io/subdomainPolicy";
/** Legacy switch for recreate-group-after-start (presence matters, any value; since v0.8.0). */
export const ANNOTATION_EXPERIMENTAL_RECREATE_GROUP_AFTER_START =
  "leaderworkerset.sigs.k8s.io/experimental-recreate-group-after-start";
/** `"true"` on the worker pod template iff the leader pod requests TPUs. */
export const ANNOTATION_LEADER_REQUESTS_TPUS = "leaderworkerset.sigs.k8s.io/leader-requests-tpus";
/** PodGroup name on every LWS pod when gang scheduling is configured (§10). */
export const ANNOTATION_SCHEDULING_GROUP_NAME = "scheduling.k8s.io/group-name";
/** Volcano queue, set by the user on the LWS and copied to the PodGroup's `spec.queue`. */
export const ANNOTATION_VOLCANO_QUEUE_NAME = "scheduling.volcano.sh/queue-name";
/** LWS annotations whose key starts with this prefix are copied to PodGroups (since v0.8.0). */
export const VOLCANO_ANNOTATION_PREFIX = "volcano.sh/";

// ---------------------------------------------------------------------------------------------------------------
// Environment variables (§2.3, §9.4, §9.5)

/** `<lws>-<g>.<subdomain>.<ns>`, first env entry of every container and init container. */
export const ENV_LWS_LEADER_ADDRESS = "LWS_LEADER_ADDRESS";
/** Value of the size annotation. */
export const ENV_LWS_GROUP_SIZE = "LWS_GROUP_SIZE";
/** Value of the worker-index label (since v0.6.0). */
export const ENV_LWS_WORKER_INDEX = "LWS_WORKER_INDEX";
/** Comma-separated TPU host list. */
export const ENV_TPU_WORKER_HOSTNAMES = "TPU_WORKER_HOSTNAMES";
/** TPU worker id. */
export const ENV_TPU_WORKER_ID = "TPU_WORKER_ID";
/** TPU slice name (the leader pod name). */
export const ENV_TPU_NAME = "TPU_NAME";
/** Comma-separated `host:port` list (since v0.8.0). */
export const ENV_TPU_PROCESS_ADDRESSES = "TPU_PROCESS_ADDRESSES";
/** TPU process port (since v0.8.0). */
export const ENV_TPU_PROCESS_PORT = "TPU_PROCESS_PORT";

// ---------------------------------------------------------------------------------------------------------------
// Other constants (§2.3, §6.2, §11.4)

/** Extended resource name of TPUs. */
export const TPU_RESOURCE_NAME = "google.com/tpu";
/** Default TPU process port; TPU container i of a pod gets `DEFAULT_TPU_PROCESS_PORT + i`. */
export const DEFAULT_TPU_PROCESS_PORT = 8476;
/** Field manager of every write (server-side apply of the leader sts, creates, status updates). */
export const FIELD_MANAGER = "lws";
/** Name of the leader-election Lease in the operator namespace. */
export const LEADER_ELECTION_LEASE_NAME = "b8b2488c.x-k8s.io";

// ---------------------------------------------------------------------------------------------------------------
// Enum values (§1.4), for validation and iteration

/** Every value of `leaderWorkerTemplate.restartPolicy` the CRD accepts. */
export const RESTART_POLICY_TYPES: readonly RestartPolicyType[] = [
  "Default",
  "RecreateGroupOnPodRestart",
  "RecreateGroupAfterStart",
  "None",
];
/** Every value of `subGroupPolicy.subGroupPolicyType` the CRD accepts. */
export const SUB_GROUP_POLICY_TYPES: readonly SubGroupPolicyType[] = ["LeaderWorker", "LeaderExcluded"];
/** Every value of `rolloutStrategy.type` the CRD accepts. */
export const ROLLOUT_STRATEGY_TYPES: readonly RolloutStrategyType[] = ["RollingUpdate"];
/** Every value of `startupPolicy` the CRD accepts. */
export const STARTUP_POLICY_TYPES: readonly StartupPolicyType[] = ["LeaderCreated", "LeaderReady"];
/** Every value of `networkConfig.subdomainPolicy` the CRD accepts. */
export const SUBDOMAIN_POLICIES: readonly SubdomainPolicy[] = ["Shared", "UniquePerReplica"];

// ---------------------------------------------------------------------------------------------------------------
// Conditions (§7.10)

/** All groups are ready. */
export const CONDITION_AVAILABLE = "Available" satisfies LeaderWorkerSetConditionType;
/** Groups are being created or are not yet ready. */
export const CONDITION_PROGRESSING = "Progressing" satisfies LeaderWorkerSetConditionType;
/** A rolling update is in progress. */
export const CONDITION_UPDATE_IN_PROGRESS = "UpdateInProgress" satisfies LeaderWorkerSetConditionType;

/** Reason of `Available`. */
export const REASON_ALL_GROUPS_READY = "AllGroupsReady";
/** Reason of `Progressing`. */
export const REASON_GROUPS_PROGRESSING = "GroupsProgressing";
/** Reason of `UpdateInProgress`. */
export const REASON_GROUPS_UPDATING = "GroupsUpdating";

/** Message of `Available`. */
export const MESSAGE_ALL_GROUPS_READY = "All replicas are ready";
/** Message of `Progressing`. */
export const MESSAGE_GROUPS_PROGRESSING = "Replicas are progressing";
/** Message of `UpdateInProgress`. */
export const MESSAGE_GROUPS_UPDATING = "Rolling Upgrade is in progress";

// ---------------------------------------------------------------------------------------------------------------
// Events (§7.11); all events.k8s.io/v1

/** `reportingController` of every event. */
export const EVENT_REPORTING_CONTROLLER = "leaderworkerset";
/** Event reason: a ControllerRevision is being created. */
export const EVENT_REASON_CREATING_REVISION = "CreatingRevision";
/** Event reason (Warning): creating an object failed. */
export const EVENT_REASON_FAILED_CREATE = "FailedCreate";
/** Event reason (Warning): updating the leader StatefulSet failed (since v0.9.0). */
export const EVENT_REASON_FAILED_UPDATE = "FailedUpdate";
/** Event reason: groups created/deleted or the `Progressing` condition changed. */
export const EVENT_REASON_GROUPS_PROGRESSING = REASON_GROUPS_PROGRESSING;
/** Event reason: partition moved or the `UpdateInProgress` condition changed. */
export const EVENT_REASON_GROUPS_UPDATING = REASON_GROUPS_UPDATING;
/** Event reason: the `Available` condition changed. */
export const EVENT_REASON_ALL_GROUPS_READY = REASON_ALL_GROUPS_READY;
/** Event reason: a group was restarted by deleting its leader pod. */
export const EVENT_REASON_RECREATE_GROUP = "RecreateGroup";
/** Event type `Normal`. */
export const EVENT_TYPE_NORMAL = "Normal";
/** Event type `Warning`. */
export const EVENT_TYPE_WARNING = "Warning";
/** Event action `Create`. */
export const EVENT_ACTION_CREATE = "Create";
/** Event action `Update`. */
export const EVENT_ACTION_UPDATE = "Update";
/** Event action `Delete`. */
export const EVENT_ACTION_DELETE = "Delete";

// ---------------------------------------------------------------------------------------------------------------
// Webhooks (§3, §4, §9.1, §11.3)

/** Path of the LWS mutating (defaulting) webhook. */
export const WEBHOOK_PATH_MUTATE_LWS = "/mutate-leaderworkerset-x-k8s-io-v1-leaderworkerset";
/** Path of the LWS validating webhook. */
export const WEBHOOK_PATH_VALIDATE_LWS = "/validate-leaderworkerset-x-k8s-io-v1-leaderworkerset";
/** Path of the pod mutating webhook. */
export const WEBHOOK_PATH_MUTATE_POD = "/mutate--v1-pod";
/** Path of the pod validating webhook (admits everything). */
export const WEBHOOK_PATH_VALIDATE_POD = "/validate--v1-pod";
/** Path of the CRD conversion webhook named by the install manifest (never called with a single version). */
export const WEBHOOK_PATH_CONVERT = "/convert";
/** Name of the LWS mutating webhook. */
export const WEBHOOK_NAME_MUTATE_LWS = "mleaderworkerset.kb.io";
/** Name of the LWS validating webhook (kubectl shows `admission webhook "<name>" denied the request: ...`). */
export const WEBHOOK_NAME_VALIDATE_LWS = "vleaderworkerset.kb.io";
/** Name of the pod mutating webhook. */
export const WEBHOOK_NAME_MUTATE_POD = "mpod.kb.io";
/** Name of the pod validating webhook. */
export const WEBHOOK_NAME_VALIDATE_POD = "vpod.kb.io";

// ---------------------------------------------------------------------------------------------------------------
// Install names (§11.1, §11.2, §11.5, §12.1)

/** Operator namespace used when the service-account namespace file is absent. */
export const DEFAULT_OPERATOR_NAMESPACE = "lws-system";
/** Default `internalCertManagement.webhookServiceName`. */
export const DEFAULT_WEBHOOK_SERVICE_NAME = "lws-webhook-service";
/** Default `internalCertManagement.webhookSecretName`. */
export const DEFAULT_WEBHOOK_SECRET_NAME = "lws-webhook-server-cert";
/** Fixed name of the MutatingWebhookConfiguration the cert manager injects the CA into. */
export const MUTATING_WEBHOOK_CONFIGURATION_NAME = "lws-mutating-webhook-configuration";
/** Fixed name of the ValidatingWebhookConfiguration the cert manager injects the CA into. */
export const VALIDATING_WEBHOOK_CONFIGURATION_NAME = "lws-validating-webhook-configuration";
