import assert from "node:assert/strict";
import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";
import { ManualClock } from "./clock.ts";
import {
  buildUserAgent,
  type ClientOptions,
  createClient,
  decodeWatchStream,
  type KubeClient,
  type RequestInfo,
  resourcePath,
} from "./client.ts";
import { ApiError, isConflict, isNotFound, TransportError } from "./errors.ts";
import { type AuthMaterial, type ClusterConfig, type Credentials, staticCredentials } from "./kubeconfig.ts";
import { CONFIG_MAPS, LEADER_WORKER_SETS, NODES, PODS, STATEFUL_SETS } from "./resources.ts";
import type { RawWatchEvent } from "./types.ts";

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Headers;
  body: string;
}

type Handler = (req: Request, seen: Seen) => Response | Promise<Response>;

/** Runs `fn` against a plain-HTTP server on 127.0.0.1 that records every request. */
async function withServer(
  handler: Handler,
  fn: (ctx: { config: ClusterConfig; seen: Seen[] }) => Promise<void>,
  credentials: Credentials = staticCredentials({ authorization: "Bearer secret" }),
): Promise<void> {
  const seen: Seen[] = [];
  const abort = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const entry: Seen = {
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: await req.text(),
    };
    seen.push(entry);
    return handler(req, entry);
  });
  const config: ClusterConfig = {
    server: `http://127.0.0.1:${server.addr.port}`,
    namespace: "default",
    insecureSkipTLSVerify: false,
    credentials,
    source: "test",
  };
  try {
    await fn({ config, seen });
  } finally {
    abort.abort();
    await server.finished;
  }
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

const statusBody = (code: number, reason: string, message: string) => ({
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  code,
  reason,
  message,
});

const options = (extra: Partial<ClientOptions> = {}): ClientOptions => ({
  qps: 0,
  burst: 1,
  userAgent: "lws/v0.1.0 (linux/amd64) abcdef0",
  ...extra,
});

async function withClient(config: ClusterConfig, extra: Partial<ClientOptions>, fn: (c: KubeClient) => Promise<void>) {
  const client = createClient(config, options(extra));
  try {
    await fn(client);
  } finally {
    client.close();
  }
}

const cm = (name: string, data: Record<string, string> = {}): ConfigMap => ({
  metadata: { name, namespace: "ns1" },
  data,
});

Deno.test("buildUserAgent() follows lws/<version> (<os>/<arch>) <commit7>", () => {
  assert.equal(
    buildUserAgent({ version: "v0.10.0", commit: "0123456789abcdef", os: "linux", arch: "amd64" }),
    "lws/v0.10.0 (linux/amd64) 0123456",
  );
  assert.equal(buildUserAgent({ version: "v1", os: "linux", arch: "arm64" }), "lws/v1 (linux/arm64) unknown");
  assert.match(buildUserAgent({ version: "v1" }), /^lws\/v1 \((linux|darwin|windows)\/(amd64|arm64)\) unknown$/);
});

Deno.test("resourcePath() builds core, group, namespaced, cluster-scoped and subresource paths", () => {
  assert.equal(resourcePath(PODS, { namespace: "a b" }), "/api/v1/namespaces/a%20b/pods");
  assert.equal(resourcePath(PODS), "/api/v1/pods");
  assert.equal(resourcePath(NODES, { namespace: "x", name: "n1" }), "/api/v1/nodes/n1");
  assert.equal(
    resourcePath(LEADER_WORKER_SETS, { namespace: "ns", name: "lws", subresource: "status" }),
    "/apis/leaderworkerset.x-k8s.io/v1/namespaces/ns/leaderworkersets/lws/status",
  );
});

Deno.test("createClient() sends each verb with the right method, path, query, content type and headers", async (t) => {
  await withServer((req) => {
    if (req.method === "DELETE") return json({ kind: "Status", status: "Success" });
    return json({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns1" } });
  }, async ({ config, seen }) => {
    await withClient(config, {}, async (client) => {
      const last = () => seen[seen.length - 1]!;
      await t.step("get", async () => {
        const got = await client.get<ConfigMap>(CONFIG_MAPS, "a", { namespace: "ns1" });
        assert.equal(got.metadata?.name, "a");
        assert.equal(last().method, "GET");
        assert.equal(last().path, "/api/v1/namespaces/ns1/configmaps/a");
        assert.equal(last().headers.get("authorization"), "Bearer secret");
        assert.equal(last().headers.get("user-agent"), "lws/v0.1.0 (linux/amd64) abcdef0");
        assert.equal(last().headers.get("accept"), "application/json");
      });
      await t.step("create with an object fills apiVersion and kind", async () => {
        await client.create(CONFIG_MAPS, cm("a"), { fieldManager: "lws", dryRun: true });
        assert.equal(last().method, "POST");
        assert.equal(last().path, "/api/v1/namespaces/ns1/configmaps");
        assert.deepEqual(last().query, { fieldManager: "lws", dryRun: "All" });
        assert.equal(last().headers.get("content-type"), "application/json");
        assert.deepEqual(JSON.parse(last().body), { ...cm("a"), apiVersion: "v1", kind: "ConfigMap" });
      });
      await t.step("create with a string body sends it byte-exact", async () => {
        const body = '{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"r","namespace":"ns2"},' +
          '"data":{"spec":{"b":1,"a":"\\u003c"}},"revision":1}';
        await client.create({ ...STATEFUL_SETS, kind: "ControllerRevision", plural: "controllerrevisions" }, body);
        assert.equal(last().body, body);
        assert.equal(last().path, "/apis/apps/v1/namespaces/ns2/controllerrevisions");
      });
      await t.step("update and updateStatus", async () => {
        await client.update(CONFIG_MAPS, {
          ...cm("a"),
          metadata: { name: "a", namespace: "ns1", resourceVersion: "7" },
        });
        assert.equal(last().method, "PUT");
        assert.equal(last().path, "/api/v1/namespaces/ns1/configmaps/a");
        assert.equal(JSON.parse(last().body).metadata.resourceVersion, "7");
        await client.updateStatus(LEADER_WORKER_SETS, { metadata: { name: "l", namespace: "ns1" } });
        assert.equal(last().path, "/apis/leaderworkerset.x-k8s.io/v1/namespaces/ns1/leaderworkersets/l/status");
      });
      await t.step("patch flavours", async () => {
        const cases = [
          ["merge", "application/merge-patch+json"],
          ["strategic", "application/strategic-merge-patch+json"],
          ["json", "application/json-patch+json"],
        ] as const;
        for (const [patchType, contentType] of cases) {
          const patch = patchType === "json" ? [{ op: "add", path: "/data/x", value: "1" }] : { data: { x: "1" } };
          await client.patch(CONFIG_MAPS, "a", { namespace: "ns1", patch, patchType });
          assert.equal(last().method, "PATCH");
          assert.equal(last().headers.get("content-type"), contentType);
          assert.deepEqual(JSON.parse(last().body), patch);
        }
        await client.patchStatus(STATEFUL_SETS, "s", { namespace: "ns1", patch: { status: { replicas: 1 } } });
        assert.equal(last().path, "/apis/apps/v1/namespaces/ns1/statefulsets/s/status");
        assert.equal(last().headers.get("content-type"), "application/merge-patch+json");
      });
      await t.step("apply", async () => {
        await client.apply(CONFIG_MAPS, cm("a", { k: "v" }), { fieldManager: "lws", force: true });
        assert.equal(last().method, "PATCH");
        assert.equal(last().path, "/api/v1/namespaces/ns1/configmaps/a");
        assert.equal(last().headers.get("content-type"), "application/apply-patch+yaml");
        assert.deepEqual(last().query, { fieldManager: "lws", force: "true" });
        assert.deepEqual(JSON.parse(last().body), { ...cm("a", { k: "v" }), apiVersion: "v1", kind: "ConfigMap" });
        assert.throws(() => client.apply(CONFIG_MAPS, cm("a"), { fieldManager: "" }), /fieldManager is required/);
      });
      await t.step("delete with options", async () => {
        const result = await client.delete(PODS, "p", {
          namespace: "ns1",
          propagationPolicy: "Foreground",
          preconditions: { uid: "u1", resourceVersion: "9" },
          gracePeriodSeconds: 0,
        });
        assert.equal((result as { status?: string }).status, "Success");
        assert.equal(last().method, "DELETE");
        assert.deepEqual(JSON.parse(last().body), {
          kind: "DeleteOptions",
          apiVersion: "v1",
          propagationPolicy: "Foreground",
          preconditions: { uid: "u1", resourceVersion: "9" },
          gracePeriodSeconds: 0,
        });
      });
      await t.step("scale", async () => {
        await client.getScale(STATEFUL_SETS, "s", { namespace: "ns1" });
        assert.equal(last().path, "/apis/apps/v1/namespaces/ns1/statefulsets/s/scale");
        await client.updateScale(STATEFUL_SETS, { metadata: { name: "s", namespace: "ns1" }, spec: { replicas: 3 } });
        assert.equal(last().method, "PUT");
        assert.equal(JSON.parse(last().body).kind, "Scale");
      });
      await t.step("namespaced calls without a namespace are refused", () => {
        assert.throws(() => client.get(PODS, "p"), /a namespace is required/);
        assert.throws(() => client.create(PODS, { metadata: { name: "p" } }), /a namespace is required/);
      });
    });
  });
});

Deno.test("createClient() maps error responses to ApiError with the Status message", async () => {
  await withServer((req) => {
    if (req.url.includes("/missing")) return json(statusBody(404, "NotFound", 'configmaps "missing" not found'), 404);
    if (req.url.includes("/conflict")) return json(statusBody(409, "Conflict", "the object has been modified"), 409);
    return new Response("upstream connect error", { status: 502 });
  }, async ({ config }) => {
    await withClient(config, {}, async (client) => {
      await assert.rejects(client.get(CONFIG_MAPS, "missing", { namespace: "ns1" }), (err: unknown) => {
        assert.ok(isNotFound(err));
        assert.equal(err.message, 'configmaps "missing" not found');
        assert.equal(err.request?.method, "GET");
        return true;
      });
      await assert.rejects(client.delete(CONFIG_MAPS, "conflict", { namespace: "ns1" }), isConflict);
      await assert.rejects(client.get(CONFIG_MAPS, "other", { namespace: "ns1" }), (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.equal(err.code, 502);
        assert.match(err.message, /HTTP 502: upstream connect error/);
        return true;
      });
    });
  });
});

Deno.test("createClient() refreshes credentials and retries once after a 401", async () => {
  let generation = 0;
  let invalidations = 0;
  const credentials: Credentials = {
    refreshable: true,
    get: (): Promise<AuthMaterial> => Promise.resolve({ authorization: `Bearer t${generation}` }),
    invalidate: () => {
      invalidations++;
      generation++;
    },
  };
  await withServer(
    (req) =>
      req.headers.get("authorization") === "Bearer t1"
        ? json(cm("a"))
        : json(statusBody(401, "Unauthorized", "Unauthorized"), 401),
    async ({ config, seen }) => {
      await withClient(config, {}, async (client) => {
        const got = await client.get<ConfigMap>(CONFIG_MAPS, "a", { namespace: "ns1" });
        assert.equal(got.metadata?.name, "a");
        assert.equal(invalidations, 1);
        assert.equal(seen.length, 2);
        // A second 401 after the refresh is returned, not retried forever.
        generation = 5;
        await assert.rejects(
          client.get(CONFIG_MAPS, "a", { namespace: "ns1" }),
          (e: unknown) => (e as ApiError).code === 401,
        );
        assert.equal(seen.length, 4);
      });
    },
    credentials,
  );
});

Deno.test("createClient() waits Retry-After on a 429 and retries", async () => {
  let calls = 0;
  await withServer(() => {
    calls++;
    return calls === 1
      ? json(statusBody(429, "TooManyRequests", "slow down"), 429, { "Retry-After": "2" })
      : json(cm("a"));
  }, async ({ config }) => {
    const clock = new ManualClock();
    await withClient(config, { clock }, async (client) => {
      const pending = client.get<ConfigMap>(CONFIG_MAPS, "a", { namespace: "ns1" });
      await clock.waitForTimers(1);
      assert.deepEqual(clock.pendingDelays(), [2000]);
      await clock.advance(2000);
      assert.equal((await pending).metadata?.name, "a");
      assert.equal(calls, 2);
    });
  });
});

Deno.test("createClient() reports every round trip to onRequest", async () => {
  await withServer(
    (req) => req.url.includes("missing") ? json(statusBody(404, "NotFound", "x"), 404) : json(cm("a")),
    async ({ config }) => {
      const infos: RequestInfo[] = [];
      await withClient(config, { onRequest: (i) => infos.push(i) }, async (client) => {
        await client.get(CONFIG_MAPS, "a", { namespace: "ns1" });
        await client.patchStatus(STATEFUL_SETS, "s", { namespace: "ns1", patch: {} });
        await client.get(CONFIG_MAPS, "missing", { namespace: "ns1" }).catch(() => {});
      });
      assert.deepEqual(
        infos.map(({ verb, method, resource, code }) => ({ verb, method, resource, code })),
        [
          { verb: "get", method: "GET", resource: "configmaps", code: 200 },
          { verb: "patch", method: "PATCH", resource: "statefulsets/status", code: 200 },
          { verb: "get", method: "GET", resource: "configmaps", code: 404 },
        ],
      );
      assert.ok(infos.every((i) => i.durationMs >= 0));
    },
  );
});

Deno.test("createClient() list() and listAll() follow continue tokens", async () => {
  const names = Array.from({ length: 7 }, (_, i) => `cm-${i}`);
  await withServer((req) => {
    const url = new URL(req.url);
    const limit = Number(url.searchParams.get("limit") ?? names.length);
    const start = Number(url.searchParams.get("continue") ?? 0);
    const items = names.slice(start, start + limit).map((n) => ({ metadata: { name: n, namespace: "ns1" } }));
    const next = start + limit < names.length ? String(start + limit) : undefined;
    return json({
      kind: "ConfigMapList",
      apiVersion: "v1",
      metadata: { resourceVersion: "42", continue: next },
      items,
    });
  }, async ({ config, seen }) => {
    await withClient(config, {}, async (client) => {
      const page = await client.list<ConfigMap>(CONFIG_MAPS, { namespace: "ns1", limit: 3, labelSelector: "a=b" });
      assert.deepEqual(page.items.map((i) => i.metadata?.name), ["cm-0", "cm-1", "cm-2"]);
      assert.equal(page.items[0]?.kind, "ConfigMap", "items get kind and apiVersion");
      assert.equal(page.metadata.continue, "3");
      assert.deepEqual(seen[0]?.query, { limit: "3", labelSelector: "a=b" });
      const all = await client.listAll<ConfigMap>(CONFIG_MAPS, { namespace: "ns1", limit: 3 });
      assert.deepEqual(all.items.map((i) => i.metadata?.name), names);
      assert.equal(all.metadata.resourceVersion, "42");
      assert.equal(all.metadata.continue, undefined);
      assert.equal(seen.length, 1 + 3);
    });
  });
});

Deno.test("createClient() listAll() lists again in one call when a continue token expires", async () => {
  await withServer((req) => {
    const url = new URL(req.url);
    if (url.searchParams.get("continue")) return json(statusBody(410, "Expired", "continue token too old"), 410);
    if (url.searchParams.get("limit")) {
      return json({ metadata: { continue: "x" }, items: [{ metadata: { name: "a" } }] });
    }
    return json({
      metadata: { resourceVersion: "9" },
      items: [{ metadata: { name: "a" } }, { metadata: { name: "b" } }],
    });
  }, async ({ config }) => {
    await withClient(config, {}, async (client) => {
      const all = await client.listAll<ConfigMap>(CONFIG_MAPS, { limit: 1 });
      assert.deepEqual(all.items.map((i) => i.metadata?.name), ["a", "b"]);
    });
  });
});

function chunked(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

Deno.test("decodeWatchStream() splits lines across chunks", async (t) => {
  const e = (type: string, name: string) => JSON.stringify({ type, object: { metadata: { name } } });
  const text = `${e("ADDED", "a")}\n${e("MODIFIED", "ä-ü")}\n\n${e("DELETED", "c")}\n`;
  await t.step("one chunk", async () => {
    const events = await collect(decodeWatchStream<{ metadata: ObjectMeta }>(chunked([text])));
    assert.deepEqual(events.map((e) => [e.type, (e.object as ConfigMap).metadata?.name]), [["ADDED", "a"], [
      "MODIFIED",
      "ä-ü",
    ], [
      "DELETED",
      "c",
    ]]);
  });
  await t.step("every split point, including inside a multi-byte character", async () => {
    const bytes = new TextEncoder().encode(text);
    for (let cut = 1; cut < bytes.length; cut += 3) {
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(bytes.slice(0, cut));
          c.enqueue(bytes.slice(cut));
          c.close();
        },
      });
      const events = await collect(decodeWatchStream<{ metadata: ObjectMeta }>(stream));
      assert.equal(events.length, 3, `cut at ${cut}`);
      assert.equal((events[1]?.object as ConfigMap).metadata?.name, "ä-ü");
    }
  });
  await t.step("byte by byte, last line without newline", async () => {
    const chars = [...`${e("ADDED", "x")}\n${e("BOOKMARK", "y")}`];
    const events = await collect(decodeWatchStream(chunked(chars)));
    assert.deepEqual(events.map((e) => e.type), ["ADDED", "BOOKMARK"]);
  });
  await t.step("ERROR events carry a Status", async () => {
    const line = JSON.stringify({ type: "ERROR", object: statusBody(410, "Expired", "too old") });
    const [event] = await collect(decodeWatchStream(chunked([line + "\n"])));
    assert.equal(event?.type, "ERROR");
  });
  await t.step("a broken line is a TransportError", async () => {
    await assert.rejects(collect(decodeWatchStream(chunked(['{"type":"ADDED","obj']))), TransportError);
    await assert.rejects(collect(decodeWatchStream(chunked(['{"type":"WHAT","object":{}}\n']))), /unknown type/);
  });
});

Deno.test("createClient() watch() streams events until the server closes", async () => {
  await withServer((req) => {
    const url = new URL(req.url);
    assert.equal(url.searchParams.get("watch"), "true");
    const encoder = new TextEncoder();
    const lines = [
      JSON.stringify({ type: "ADDED", object: cm("a") }),
      JSON.stringify({ type: "MODIFIED", object: cm("a", { x: "1" }) }),
      JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "12" } } }),
      JSON.stringify({ type: "DELETED", object: cm("a") }),
    ].join("\n") + "\n";
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        // Split in awkward places, with pauses, so lines cross chunks.
        for (let i = 0; i < lines.length; i += 37) {
          controller.enqueue(encoder.encode(lines.slice(i, i + 37)));
          await new Promise((r) => setTimeout(r, 1));
        }
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  }, async ({ config, seen }) => {
    await withClient(config, {}, async (client) => {
      const signal = new AbortController().signal;
      const lw = client.listWatch<ConfigMap>(CONFIG_MAPS, { namespace: "ns1", labelSelector: "app=x" });
      const events: RawWatchEvent<ConfigMap>[] = await collect(
        lw.watch({ resourceVersion: "10", allowWatchBookmarks: true, timeoutSeconds: 30 }, signal),
      );
      assert.deepEqual(events.map((e) => e.type), ["ADDED", "MODIFIED", "BOOKMARK", "DELETED"]);
      assert.equal(seen[0]?.path, "/api/v1/namespaces/ns1/configmaps");
      assert.deepEqual(seen[0]?.query, {
        watch: "true",
        labelSelector: "app=x",
        resourceVersion: "10",
        allowWatchBookmarks: "true",
        timeoutSeconds: "30",
      });
    });
  });
});

Deno.test("createClient() watch() ends promptly when aborted while the server keeps the stream open", async () => {
  let serverStream: ReadableStreamDefaultController<Uint8Array> | undefined;
  await withServer(() => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        serverStream = controller;
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ type: "ADDED", object: cm("a") }) + "\n"));
      },
      cancel() {
        serverStream = undefined;
      },
    });
    return new Response(body);
  }, async ({ config }) => {
    await withClient(config, {}, async (client) => {
      const controller = new AbortController();
      const types: string[] = [];
      const started = performance.now();
      for await (const event of client.watch<ConfigMap>(CONFIG_MAPS, { namespace: "ns1", signal: controller.signal })) {
        types.push(event.type);
        setTimeout(() => controller.abort(), 20);
      }
      assert.deepEqual(types, ["ADDED"]);
      assert.ok(performance.now() - started < 2000, "ends promptly");
    });
  });
  serverStream?.close();
});

Deno.test("createClient() watch() throws ApiError for a non-2xx answer and breaking out cancels the stream", async () => {
  await withServer((req) => {
    if (req.url.includes("forbidden")) return json(statusBody(403, "Forbidden", "no watch for you"), 403);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(JSON.stringify({ type: "ADDED", object: cm("a") }) + "\n"));
      },
    });
    return new Response(body);
  }, async ({ config }) => {
    await withClient(config, {}, async (client) => {
      const signal = new AbortController().signal;
      await assert.rejects(
        collect(client.watch(CONFIG_MAPS, { namespace: "forbidden", signal })),
        (err: unknown) => err instanceof ApiError && err.code === 403,
      );
      for await (const event of client.watch(CONFIG_MAPS, { namespace: "open", signal })) {
        assert.equal(event.type, "ADDED");
        break; // return() must cancel the body
      }
    });
  });
});

Deno.test("createClient() turns connection failures and timeouts into TransportError, aborts into the reason", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const config: ClusterConfig = {
    server: `http://127.0.0.1:${port}`,
    namespace: "default",
    insecureSkipTLSVerify: false,
    credentials: staticCredentials({}),
    source: "test",
  };
  await withClient(config, {}, async (client) => {
    await assert.rejects(client.get(CONFIG_MAPS, "a", { namespace: "x" }), TransportError);
    await assert.rejects(
      collect(client.watch(CONFIG_MAPS, { signal: new AbortController().signal })),
      TransportError,
    );
  });
  // A server that never answers: the request timeout fires; an abort rejects with the caller's reason.
  await withServer(() => new Promise<Response>(() => {}), async ({ config: slow }) => {
    await withClient(slow, { requestTimeoutMs: 50 }, async (client) => {
      await assert.rejects(client.get(CONFIG_MAPS, "a", { namespace: "x" }), /timed out after 50 ms/);
    });
    await withClient(slow, {}, async (client) => {
      const controller = new AbortController();
      const pending = client.get(CONFIG_MAPS, "a", { namespace: "x", signal: controller.signal });
      controller.abort(new Error("shutting down"));
      await assert.rejects(pending, /shutting down/);
    });
  });
});

/** A self-signed certificate for 127.0.0.1 made with `openssl` (as tests/cluster/pki.ts does). */
async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const output = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
      "-days",
      "1",
      "-subj",
      "/CN=lws-test",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:lws-test.local",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(`openssl failed: ${new TextDecoder().decode(output.stderr)}`);
  return { cert: await Deno.readTextFile(`${dir}/cert.pem`), key: await Deno.readTextFile(`${dir}/key.pem`) };
}

Deno.test("createClient() verifies TLS with the CA, or skips verification when insecure-skip-tls-verify is set", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "lws-client-tls-" });
  const abort = new AbortController();
  try {
    const { cert, key } = await selfSigned(dir);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, cert, key, signal: abort.signal, onListen() {} },
      async (req) => {
        await req.body?.cancel();
        if (new URL(req.url).searchParams.get("watch")) {
          const lines = [cm("w1"), cm("w2")].map((o) => JSON.stringify({ type: "ADDED", object: o })).join("\n");
          return new Response(lines + "\n");
        }
        return json(cm("tls"));
      },
    );
    const base: ClusterConfig = {
      server: `https://127.0.0.1:${server.addr.port}`,
      namespace: "default",
      insecureSkipTLSVerify: false,
      credentials: staticCredentials({}),
      source: "test",
    };
    await t.step("CA given: fetch verifies", async () => {
      await withClient({ ...base, caCerts: [cert] }, {}, async (client) => {
        assert.equal((await client.get<ConfigMap>(CONFIG_MAPS, "a", { namespace: "x" })).metadata?.name, "tls");
      });
    });
    await t.step("no CA: verification fails with a TransportError", async () => {
      await withClient(base, {}, async (client) => {
        await assert.rejects(client.get(CONFIG_MAPS, "a", { namespace: "x" }), TransportError);
      });
    });
    await t.step("insecure: node:https without verification", async () => {
      await withClient({ ...base, insecureSkipTLSVerify: true }, {}, async (client) => {
        assert.equal((await client.get<ConfigMap>(CONFIG_MAPS, "a", { namespace: "x" })).metadata?.name, "tls");
        const events = await collect(client.watch<ConfigMap>(CONFIG_MAPS, { signal: abort.signal }));
        assert.deepEqual(events.map((e) => (e.object as ConfigMap).metadata?.name), ["w1", "w2"]);
      });
    });
    await t.step("tls-server-name: verified against the given name", async () => {
      await withClient({ ...base, caCerts: [cert], tlsServerName: "lws-test.local" }, {}, async (client) => {
        assert.equal((await client.get<ConfigMap>(CONFIG_MAPS, "a", { namespace: "x" })).metadata?.name, "tls");
      });
      await withClient({ ...base, caCerts: [cert], tlsServerName: "wrong.local" }, {}, async (client) => {
        await assert.rejects(client.get(CONFIG_MAPS, "a", { namespace: "x" }), TransportError);
      });
    });
    abort.abort();
    await server.finished;
  } finally {
    abort.abort();
    await Deno.remove(dir, { recursive: true });
  }
});
