/**
 * Micro-benchmark of the store: memory per cached LWS pod and apply throughput.
 *
 *     deno run --v8-flags=--expose-gc kube/store_bench.ts [count]
 *
 * Pods are realistic worker pods as the API server returns them (managedFields, status, projected token volume,
 * LWS labels/annotations/env), each with distinct names, UIDs and IPs, parsed from JSON like the client does.
 * Memory is the V8 heap growth after a forced GC, divided by the count.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { StoreWriter } from "./store.ts";

/** A realistic LWS worker pod `<lws>-<group>-<worker>` with managedFields, as JSON text. */
export function lwsPodJson(group: number, worker: number, rv: number): string {
  const lws = "vllm-llama3-70b";
  const name = `${lws}-${group}-${worker}`;
  const uid = crypto.randomUUID();
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      generateName: `${lws}-${group}-`,
      namespace: "inference",
      uid,
      resourceVersion: String(rv),
      creationTimestamp: "2026-11-25T17:40:50Z",
      labels: {
        "apps.kubernetes.io/pod-index": String(worker),
        "controller-revision-hash": `${lws}-${group}-6c9f7d8b5`,
        "leaderworkerset.sigs.k8s.io/group-index": String(group),
        "leaderworkerset.sigs.k8s.io/group-key": "8d4f0c2e1b7a9f3c5d6e8a0b1c2d3e4f5a6b7c8d",
        "leaderworkerset.sigs.k8s.io/name": lws,
        "leaderworkerset.sigs.k8s.io/template-revision-hash": "5f7b9c6d4",
        "leaderworkerset.sigs.k8s.io/worker-index": String(worker),
        "statefulset.kubernetes.io/pod-name": name,
      },
      annotations: {
        "leaderworkerset.sigs.k8s.io/leader-name": `${lws}-${group}`,
        "leaderworkerset.sigs.k8s.io/size": "4",
      },
      ownerReferences: [{
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        name: `${lws}-${group}`,
        uid: crypto.randomUUID(),
        controller: true,
        blockOwnerDeletion: true,
      }],
      managedFields: [
        {
          manager: "kube-controller-manager",
          operation: "Update",
          apiVersion: "v1",
          time: "2026-11-25T17:40:50Z",
          fieldsType: "FieldsV1",
          fieldsV1: {
            "f:metadata": {
              "f:annotations": { ".": {}, "f:leaderworkerset.sigs.k8s.io/leader-name": {} },
              "f:generateName": {},
              "f:labels": { ".": {}, "f:apps.kubernetes.io/pod-index": {}, "f:controller-revision-hash": {} },
              "f:ownerReferences": { ".": {}, [`k:{"uid":"${uid}"}`]: {} },
            },
            "f:spec": {
              "f:containers": {
                'k:{"name":"vllm-worker"}': {
                  ".": {},
                  "f:env": { ".": {}, 'k:{"name":"LWS_LEADER_ADDRESS"}': { ".": {}, "f:name": {}, "f:value": {} } },
                  "f:image": {},
                  "f:imagePullPolicy": {},
                  "f:name": {},
                  "f:resources": { ".": {}, "f:limits": { ".": {}, "f:nvidia.com/gpu": {} } },
                },
              },
              "f:hostname": {},
              "f:subdomain": {},
            },
          },
        },
        {
          manager: "kwok",
          operation: "Update",
          apiVersion: "v1",
          time: "2026-11-25T17:40:52Z",
          fieldsType: "FieldsV1",
          subresource: "status",
          fieldsV1: {
            "f:status": {
              "f:conditions": { 'k:{"type":"Ready"}': { ".": {}, "f:lastTransitionTime": {}, "f:status": {} } },
              "f:containerStatuses": {},
              "f:hostIP": {},
              "f:phase": {},
              "f:podIP": {},
              "f:podIPs": { ".": {}, 'k:{"ip":"10.0.0.1"}': { ".": {}, "f:ip": {} } },
              "f:startTime": {},
            },
          },
        },
      ],
    },
    spec: {
      containers: [{
        name: "vllm-worker",
        image: "vllm/vllm-openai:v0.6.3",
        command: ["sh", "-c", "ray start --address=$(LWS_LEADER_ADDRESS):6379 --block"],
        env: [
          { name: "LWS_LEADER_ADDRESS", value: `${lws}-${group}.${lws}.inference` },
          { name: "LWS_GROUP_SIZE", value: "4" },
          { name: "LWS_WORKER_INDEX", value: String(worker) },
          { name: "HF_HOME", value: "/models" },
        ],
        ports: [{ containerPort: 8080, protocol: "TCP" }],
        resources: { limits: { "nvidia.com/gpu": "8" }, requests: { "nvidia.com/gpu": "8" } },
        volumeMounts: [{
          name: "kube-api-access-x7k2p",
          readOnly: true,
          mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
        }],
        terminationMessagePath: "/dev/termination-log",
        terminationMessagePolicy: "File",
        imagePullPolicy: "IfNotPresent",
      }],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      serviceAccountName: "default",
      serviceAccount: "default",
      nodeName: `kwok-node-${group % 50}`,
      hostname: name,
      subdomain: lws,
      securityContext: {},
      schedulerName: "default-scheduler",
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
      volumes: [{
        name: "kube-api-access-x7k2p",
        projected: {
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
            { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
            {
              downwardAPI: {
                items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
              },
            },
          ],
          defaultMode: 420,
        },
      }],
    },
    status: {
      phase: "Running",
      conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map((
        type,
      ) => ({
        type,
        status: "True",
        lastProbeTime: null as unknown as string,
        lastTransitionTime: "2026-11-25T17:40:52Z",
      })),
      hostIP: `10.1.${group % 50}.1`,
      hostIPs: [{ ip: `10.1.${group % 50}.1` }],
      podIP: `10.0.${group % 250}.${worker + 2}`,
      podIPs: [{ ip: `10.0.${group % 250}.${worker + 2}` }],
      startTime: "2026-11-25T17:40:50Z",
      containerStatuses: [{
        name: "vllm-worker",
        state: { running: { startedAt: "2026-11-25T17:40:52Z" } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: "vllm/vllm-openai:v0.6.3",
        imageID: "",
        started: true,
      }],
      qosClass: "BestEffort",
    },
  };
  return JSON.stringify(pod);
}

declare const gc: (() => void) | undefined;

function heapAfterGc(): number {
  if (typeof gc === "function") {
    gc();
    gc();
  }
  return Deno.memoryUsage().heapUsed;
}

function listedStore(texts: string[], freeze: boolean): StoreWriter<Pod> {
  const writer = new StoreWriter<Pod>({ freeze });
  writer.apply({ type: "init" });
  for (const text of texts) writer.apply({ type: "initApply", object: JSON.parse(text) });
  writer.apply({ type: "initDone" });
  return writer;
}

/** Heap bytes per cached pod: list `texts` into a store and compare the heap after GC. */
function bytesPerPod(texts: string[], freeze: boolean): number {
  const before = heapAfterGc();
  const writer = listedStore(texts, freeze);
  const after = heapAfterGc();
  if (writer.store.size() !== texts.length) throw new Error("Bench bug: pods missing from the store");
  return (after - before) / texts.length;
}

/**
 * Watch `apply` events per second into a synced store of `texts.length` pods: the median of `rounds` rounds.
 * With `parse`, each event is also JSON-parsed from text first, as the client does.
 */
function applyPerSecond(texts: string[], freeze: boolean, parse: boolean, rounds = 7): number {
  const writer = listedStore(texts, freeze);
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const objects = parse ? [] : texts.map((t) => JSON.parse(t) as Pod);
    heapAfterGc();
    const start = performance.now();
    for (let i = 0; i < texts.length; i++) {
      const object = parse ? JSON.parse(texts[i]!) as Pod : objects[i]!;
      writer.apply({ type: "apply", object });
    }
    rates.push(texts.length / ((performance.now() - start) / 1000));
  }
  return rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
}

if (import.meta.main) {
  const count = Number(Deno.args[0] ?? 20_000);
  if (typeof gc !== "function") console.warn("Run with --v8-flags=--expose-gc for stable memory figures");
  const texts: string[] = [];
  for (let i = 0; i < count; i++) texts.push(lwsPodJson(Math.floor(i / 4), i % 4, 1000 + i));
  const jsonBytes = Math.round(texts.reduce((n, t) => n + t.length, 0) / count);
  const strippedBytes = JSON.stringify({
    ...JSON.parse(texts[0]!),
    metadata: { ...JSON.parse(texts[0]!).metadata, managedFields: undefined },
  }).length;
  console.log(`${count} realistic LWS pods: JSON ${jsonBytes} B/pod (${strippedBytes} B without managedFields)`);
  const small = texts.slice(0, 2000);
  for (const freeze of [true, false]) {
    applyPerSecond(small, freeze, false, 2); // warm-up
    const heap = Math.round(bytesPerPod(texts, freeze));
    const apply = Math.round(applyPerSecond(small, freeze, false));
    const parseApply = Math.round(applyPerSecond(small, freeze, true));
    console.log(
      `freeze=${freeze}: heap ${heap} B/pod; apply ${apply.toLocaleString("en")} events/s; ` +
        `JSON.parse+apply ${parseApply.toLocaleString("en")} events/s`,
    );
  }
}
