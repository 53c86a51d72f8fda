/**
 * Pod admission latency in process: `deno bench -A webhook/admission_bench.ts`. Run the file directly
 * (`deno run -A webhook/admission_bench.ts`) to print p50/p99 over 10,000 admissions instead.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { WEBHOOK_PATH_MUTATE_POD } from "../api/constants.ts";
import { createWebhookApp } from "./app.ts";
import { mutatePod } from "./pod.ts";
import { generateCertificateAuthority, generateServingCertificate, localIdentity } from "./certs.ts";
import { startWebhookServer } from "./server.ts";
import { reviewBody } from "./_testing.ts";

const P = "leaderworkerset.sigs.k8s.io/";
const app = createWebhookApp();

/** A realistic worker pod: subgroups, exclusive placement, two TPU containers, a few env vars. */
function workerPod(): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "vllm-3-5",
      namespace: "inference",
      labels: {
        [`${P}name`]: "vllm",
        [`${P}group-index`]: "3",
        [`${P}group-key`]: "0123456789abcdef0123456789abcdef01234567",
        [`${P}template-revision-hash`]: "5d4c7b9f8",
        app: "vllm",
      },
      annotations: {
        [`${P}size`]: "8",
        [`${P}leader-name`]: "vllm-3",
        [`${P}subgroup-size`]: "4",
        [`${P}subgroup-exclusive-topology`]: "cloud.google.com/gke-nodepool",
        [`${P}leader-requests-tpus`]: "true",
      },
    },
    spec: {
      hostname: "vllm-3-5",
      subdomain: "vllm",
      containers: ["engine", "sidecar"].map((name) => ({
        name,
        image: "vllm/vllm-openai:latest",
        env: [{ name: "MODEL", value: "llama" }, { name: "PORT", value: "8080" }],
        resources: { limits: { "google.com/tpu": "4", cpu: "8", memory: "64Gi" } },
        ports: [{ containerPort: 8080, protocol: "TCP" }],
      })),
    },
  };
}

const body = reviewBody({ operation: "CREATE", namespace: "inference", object: workerPod() });
const init = { method: "POST", body, headers: { "content-type": "application/json" } };

async function admitOnce(): Promise<void> {
  const res = await app.request(WEBHOOK_PATH_MUTATE_POD, init);
  await res.arrayBuffer();
}

Deno.bench("pod admission through the app (decode, mutate, diff, encode)", async () => {
  await admitOnce();
});

Deno.bench("mutatePod() alone", () => {
  mutatePod(workerPod(), { namespace: "inference" });
});

async function percentiles(what: string, admit: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 1000; i++) await admit(); // warm up
  const samples: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    const start = performance.now();
    await admit();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!;
  console.log(
    `${what}, 10,000 requests: p50 ${pct(50).toFixed(3)} ms, p99 ${pct(99).toFixed(3)} ms, max ${
      pct(100).toFixed(3)
    } ms`,
  );
}

if (import.meta.main) {
  await percentiles("pod admission in process (app.request)", admitOnce);
  // The same over HTTPS through the real server, one keep-alive connection (as the API server's client does).
  const ca = await generateCertificateAuthority(Date.now());
  const certificate = await generateServingCertificate(ca, localIdentity(), Date.now());
  const server = await startWebhookServer(app.fetch, { certificate, port: 0, hostname: "127.0.0.1" });
  const client = Deno.createHttpClient({ caCerts: [ca.cert] });
  const url = `https://127.0.0.1:${server.addr.port}${WEBHOOK_PATH_MUTATE_POD}`;
  try {
    await percentiles("pod admission over HTTPS (node:https server, keep-alive)", async () => {
      const res = await fetch(url, { ...init, ...{ client } });
      await res.arrayBuffer();
    });
  } finally {
    client.close();
    await server.shutdown();
  }
}
