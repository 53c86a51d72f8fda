import assert from "node:assert/strict";
import { ManualClock } from "../kube/clock.ts";
import { collect } from "./_testing.ts";
import { CONTENT_SECURITY_POLICY, createDashboardApp, type DashboardOptions, serveDashboard } from "./app.ts";
import { FAILURE_RETENTION_MS } from "./failures.ts";
import { demoWorlds, eventFixture, FIXTURE_NOW, kwokFailedPod, podFixture, worldFixture } from "./fixtures.ts";
import { MemoryDashboardSource } from "./memory_source.ts";
import type { DetailView, FailureView, OverviewView, PodDetailView } from "./view_model.ts";

/** A value that must never appear in any response: it is what the referenced Secret would hold. */
const SECRET_VALUE = "hunter2-Sup3rS3cret";

function setup(options: DashboardOptions = {}) {
  const clock = new ManualClock(FIXTURE_NOW);
  const source = new MemoryDashboardSource({ failures: { now: () => clock.now() } });
  for (const world of demoWorlds()) source.load(world);
  // An LWS whose template and pods reference a Secret, and (invalid, hand-made) carry a literal beside the reference.
  const secretEnv = [
    { name: "API_KEY", valueFrom: { secretKeyRef: { name: "api-credentials", key: "key" } } },
    { name: "SHADOWED", value: SECRET_VALUE, valueFrom: { secretKeyRef: { name: "api-credentials", key: "other" } } },
  ];
  source.load(
    worldFixture({ name: "secretive", namespace: "vault", replicas: 2, size: 2, env: secretEnv, podEnv: secretEnv }),
  );
  source.setPodEvents("inference", "mixtral-serving-4-2", [
    eventFixture({
      lwsName: "mixtral-serving",
      namespace: "inference",
      kind: "Pod",
      name: "mixtral-serving-4-2",
      reason: "BackOff",
      type: "Warning",
      note: "Back-off restarting failed container worker",
      agoMs: 20_000,
    }),
  ]);
  const app = createDashboardApp(source, { clock, ...options });
  return { app, clock, source };
}

async function text(res: Response): Promise<string> {
  return await res.text();
}

Deno.test("GET / renders the overview with every LWS, security headers and local assets only", async () => {
  const { app } = setup();
  const res = await app.request("/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/html/);
  const html = await text(res);
  assert.match(html, /^<!doctype html>/);
  for (const name of ["llama-70b", "mixtral-serving", "trainer-gpt", "embedder", "secretive"]) {
    assert.ok(html.includes(name));
  }
  assert.ok(html.includes("2 groups restarting"), "warning badge");
  assert.ok(html.includes("Updating"));
  assert.equal(res.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /https?:|\*|unsafe/);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("x-frame-options"), "DENY");
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, "no external script, style, font or image");
  assert.match(html, /<script type="module" src="\/static\/islands\.js\?v=[0-9a-f]{12}">/);
  assert.match(html, /data-island="OverviewTable"/);
  assert.match(html, /data-stream="\/api\/stream\?view=overview&amp;ns=&amp;q="/);
});

Deno.test("GET / filters by namespace and searches", async (t) => {
  const { app } = setup();
  await t.step("namespace", async () => {
    const html = await text(await app.request("/?ns=training"));
    assert.ok(html.includes("trainer-gpt"));
    assert.ok(!html.includes(">llama-70b<"));
    assert.match(html, /<option selected value="training">/);
  });
  await t.step("search", async () => {
    const html = await text(await app.request("/?q=MIXTRAL"));
    assert.ok(html.includes(">mixtral-serving<"));
    assert.ok(!html.includes(">embedder<"));
    assert.ok(html.includes("1 of 5 shown"));
  });
  await t.step("nothing matches", async () => {
    const html = await text(await app.request("/?q=nope"));
    assert.ok(html.includes("No LeaderWorkerSet matches the search."));
  });
});

Deno.test("GET /lws/:ns/:name renders summary, grid with partition line and surge, events and spec", async () => {
  const { app } = setup();
  const res = await app.request("/lws/inference/mixtral-serving");
  assert.equal(res.status, 200);
  const html = await text(res);
  for (
    const expected of [
      "mixtral-serving-4-2",
      "CrashLoopBackOff",
      "Partition 1: groups below keep their revision",
      "Rolling update: groups from 3 are being updated",
      "Surge: groups from 6 are temporary",
      "subgroup 1",
      "Rolling Upgrade is in progress",
      "Failed to create worker statefulset for leader pod mixtral-serving-6",
      "Spec (YAML)",
      "Page 1 of 1",
    ]
  ) assert.ok(html.includes(expected), `page contains ${expected}`);
  assert.match(html, /data-island="GroupGrid"/);
  assert.match(html, /href="\?pod=mixtral-serving-4-2"/, "cells link to the drawer without JavaScript");
  assert.doesNotMatch(html, /class="drawer"/);
});

Deno.test("GET /lws/:ns/:name?pod= renders the pod drawer with env references and events", async () => {
  const { app } = setup();
  const html = await text(await app.request("/lws/inference/mixtral-serving?pod=mixtral-serving-4-2"));
  assert.match(html, /class="drawer"/);
  assert.ok(html.includes("secretKeyRef hf-credentials/token"));
  assert.ok(html.includes("from Secret"));
  assert.ok(html.includes("LWS_LEADER_ADDRESS"));
  assert.ok(html.includes("Back-off restarting failed container worker"));
  assert.ok(html.includes("worker 2 of group 4"));
});

Deno.test("GET /lws/:ns/:name pages a 1,000-group grid and keeps the page small", async () => {
  const clock = new ManualClock(FIXTURE_NOW);
  const source = new MemoryDashboardSource();
  source.load(worldFixture({ name: "big", replicas: 1000, size: 8 }));
  const app = createDashboardApp(source, { clock });
  const html = await text(await app.request("/lws/default/big?page=4"));
  assert.ok(html.includes("Page 4 of 20"));
  assert.ok(html.includes("big-150-7") && html.includes("big-199-7"));
  assert.ok(!html.includes("big-200-0") && !html.includes("big-149-7"));
  assert.ok(html.length < 400_000, `detail page is ${html.length} bytes`);
  const jumped = await text(await app.request("/lws/default/big?group=777"));
  assert.ok(jumped.includes("Page 16 of 20"));
  assert.ok(jumped.includes('id="group-777" class="group-row target"') || jumped.includes("group-row target"));
});

Deno.test("unknown LeaderWorkerSets, pods and routes give 404", async () => {
  const { app } = setup();
  const page = await app.request("/lws/inference/nope");
  assert.equal(page.status, 404);
  assert.ok((await page.text()).includes("No LeaderWorkerSet"));
  const api = await app.request("/api/lws/inference/nope");
  assert.equal(api.status, 404);
  assert.deepEqual(await api.json(), { error: "LeaderWorkerSet inference/nope not found in the cache" });
  // A pod of another LWS is not served under this one.
  assert.equal((await app.request("/api/lws/inference/llama-70b/pods/mixtral-serving-0")).status, 404);
  assert.equal((await app.request("/api/nothing")).status, 404);
  assert.equal((await app.request("/nothing")).status, 404);
  assert.equal((await app.request("/static/view_model.ts")).status, 404);
  assert.equal((await app.request("/static/..%2Fdeno.json")).status, 404);
});

Deno.test("the JSON API serves the same view models as the pages", async (t) => {
  const { app } = setup();
  await t.step("/api/namespaces", async () => {
    assert.deepEqual(await (await app.request("/api/namespaces")).json(), {
      namespaces: ["inference", "training", "vault"],
    });
  });
  await t.step("/api/lws", async () => {
    const view: OverviewView = await (await app.request("/api/lws?ns=inference&q=l")).json();
    assert.deepEqual(Object.keys(view).sort(), ["namespace", "namespaces", "query", "rows", "synced", "total"]);
    assert.deepEqual(view.rows.map((r) => r.name), ["llama-70b", "mixtral-serving"]);
    assert.equal(view.total, 3);
    const row = view.rows[1]!;
    assert.deepEqual(row.partition, { spec: 1, current: 3 });
    assert.equal(row.href, "/lws/inference/mixtral-serving");
    assert.equal(row.warnings.restarting, 2);
  });
  await t.step("/api/lws/:ns/:name", async () => {
    const view: DetailView = await (await app.request("/api/lws/inference/mixtral-serving?pageSize=3&page=2")).json();
    assert.deepEqual(view.grid.rows.map((r) => r.index), [3, 4, 5]);
    assert.equal(view.grid.pageCount, 3);
    assert.equal(view.grid.rows[1]!.cells[2]!.label, "CrashLoopBackOff");
    assert.deepEqual(view.revisions.map((r) => r.update), [true, false]);
    assert.equal(typeof view.specYaml, "string");
  });
  await t.step("/api/lws/:ns/:name?filter=attention", async () => {
    const view: DetailView = await (await app.request("/api/lws/inference/mixtral-serving?filter=attention")).json();
    assert.deepEqual(view.grid.rows.map((r) => r.index), [1, 2, 3, 4, 6]);
  });
  await t.step("/api/lws/:ns/:name/pods/:pod", async () => {
    const view: PodDetailView = await (await app.request("/api/lws/inference/mixtral-serving/pods/mixtral-serving-4-2"))
      .json();
    assert.equal(view.state, "restarting");
    assert.equal(view.node, "node-14");
    assert.equal(view.events[0]!.reason, "BackOff");
    assert.deepEqual(view.containers[0]!.env.find((e) => e.name === "HF_TOKEN"), {
      name: "HF_TOKEN",
      source: "secretKeyRef hf-credentials/token",
      secret: true,
      injected: false,
    });
  });
});

/** Fails pod (group, worker) of `default/demo` the way the lws-pod-fail KWOK stage does, then replaces it (new UID). */
function failAndReplace(
  source: MemoryDashboardSource,
  group: number,
  worker: number,
  status: { reason?: string; message?: string } = {},
) {
  const pod = podFixture({ lwsName: "demo", group, worker, size: 2, revision: "5b9c7d4f6b" });
  const failed = kwokFailedPod(pod, FIXTURE_NOW, status);
  source.apply({ kind: "Pod", object: failed });
  source.remove({ kind: "Pod", object: failed });
  source.apply({ kind: "Pod", object: { ...pod, metadata: { ...pod.metadata, uid: `${pod.metadata!.uid}-new` } } });
}

Deno.test("a pod failure stays on the pages and in the JSON API after its pod is replaced", async (t) => {
  const { app, clock, source } = setup();
  source.load(worldFixture({ replicas: 3, size: 2 }));
  failAndReplace(source, 1, 1);
  await clock.advance(12_000);
  const expected = "failed 12s ago: Error, exit 1 — pod replaced";
  await t.step("/api/lws/:ns/:name/failures", async () => {
    const res = await app.request("/api/lws/default/demo/failures");
    assert.equal(res.status, 200);
    const { failures }: { failures: FailureView[] } = await res.json();
    assert.deepEqual(failures.map((f) => [f.group, f.worker, f.pod, f.kind, f.text]), [
      [1, 1, "demo-1-1", "failed", expected],
    ]);
    assert.equal((await app.request("/api/lws/default/nothing/failures")).status, 404);
  });
  await t.step("/api/lws/:ns/:name and /api/lws", async () => {
    const view: DetailView = await (await app.request("/api/lws/default/demo")).json();
    const row = view.grid.rows[1]!;
    assert.equal(row.state, "ready");
    assert.equal(row.failure?.latest.text, expected);
    assert.equal(row.cells[1]!.failure?.short, "failed 12s ago");
    assert.equal(view.summary.warnings.text, "1 group failed recently");
    assert.equal(view.failures.length, 1);
    const overview: OverviewView = await (await app.request("/api/lws?ns=default")).json();
    assert.equal(overview.rows.find((r) => r.name === "demo")?.warnings.text, "1 group failed recently");
  });
  await t.step("the pages, without JavaScript", async () => {
    const overview = await text(await app.request("/?ns=default"));
    assert.ok(overview.includes("1 group failed recently"), "the overview's warning badge");
    const detail = await text(await app.request("/lws/default/demo"));
    assert.ok(detail.includes(`<span class="cell-failure fk-failed"><span aria-hidden="true">✕</span> failed 12s ago`));
    assert.ok(detail.includes(`<b>W1</b> ${expected}`), "the group row says what happened");
    assert.ok(detail.includes(`, ${expected}"`), "the cell's accessible name includes it");
    assert.match(detail, /data-island="FailuresPanel"/);
    assert.ok(detail.includes("Pod failures"));
  });
  await t.step(`gone after ${FAILURE_RETENTION_MS / 60_000} minutes`, async () => {
    await clock.advance(FAILURE_RETENTION_MS);
    const { failures } = await (await app.request("/api/lws/default/demo/failures")).json();
    assert.deepEqual(failures, []);
    const html = await text(await app.request("/lws/default/demo"));
    assert.ok(html.includes("No pod failure seen in the last 15 minutes."));
    assert.ok(!html.includes("failed recently"));
  });
});

Deno.test("a recorded failure's reason and message are escaped on every page and in the stream", async () => {
  const { app, clock, source } = setup();
  source.load(worldFixture({ replicas: 2, size: 2 }));
  const stream = collect((await app.request("/api/stream?view=detail&ns=default&name=demo")).body!);
  await clock.advance(0);
  const reason = `<script>alert("r")</script>`;
  const message = `"><img src=x onerror=alert(1)>`;
  failAndReplace(source, 0, 1, { reason, message });
  await clock.advance(5_000);
  for (const path of ["/lws/default/demo", "/?ns=default"]) {
    const html = await text(await app.request(path));
    assert.ok(!html.includes("<script>alert"), `${path}: no script element from the reason`);
    assert.ok(!html.includes("<img src=x"), `${path}: no element from the message`);
  }
  const detail = await text(await app.request("/lws/default/demo"));
  assert.ok(
    detail.includes(`<b>W1</b> failed 5s ago: &lt;script>alert(&quot;r&quot;)&lt;/script>, exit 1 — pod replaced`),
  );
  assert.ok(detail.includes(`class="group-failure" title="&quot;>&lt;img src=x onerror=alert(1)>"`));
  const views = stream.messages.filter((m) => m.event === "view");
  const latest: DetailView = JSON.parse(views[views.length - 1]!.data);
  assert.equal(latest.failures[0]?.reason, reason, "the stream carries the text; the browser renders it as text");
  assert.equal(latest.failures[0]?.message, message);
  await stream.stop();
});

Deno.test("an open page gets a failure live and loses it when it expires, with no pod change", async () => {
  const { app, clock, source } = setup();
  source.load(worldFixture({ replicas: 2, size: 2 }));
  const stream = collect((await app.request("/api/stream?view=detail&ns=default&name=demo")).body!);
  const overview = collect((await app.request("/api/stream?view=overview&ns=default")).body!);
  await clock.advance(0);
  failAndReplace(source, 1, 1);
  await clock.advance(250);
  const last = <T>(messages: { event: string; data: string }[]): T =>
    JSON.parse(messages.filter((m) => m.event === "view").at(-1)!.data);
  assert.equal(last<DetailView>(stream.messages).grid.rows[1]?.failure?.latest.kind, "failed");
  assert.equal(last<OverviewView>(overview.messages).rows[0]?.warnings.text, "1 group failed recently");
  // Nothing changes in the cache; the heartbeat's re-render drops the failure once it is older than the retention.
  await clock.advance(FAILURE_RETENTION_MS + 15_000);
  const detail = last<DetailView>(stream.messages);
  assert.equal(detail.grid.rows[1]?.failure, undefined);
  assert.deepEqual(detail.failures, []);
  assert.equal(last<OverviewView>(overview.messages).rows[0]?.warnings.text, "");
  await stream.stop();
  await overview.stop();
});

Deno.test("the dashboard is read-only: every mutating method gets 405", async () => {
  const { app } = setup();
  for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
    for (const path of ["/", "/api/lws", "/api/lws/inference/llama-70b", "/api/stream", "/static/style.css"]) {
      const res = await app.request(path, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get("allow"), "GET, HEAD");
      await res.body?.cancel();
    }
  }
});

Deno.test("allowedHosts rejects other Host headers (DNS rebinding guard)", async () => {
  const { app } = setup({ allowedHosts: ["localhost", "127.0.0.1"] });
  assert.equal((await app.request("http://localhost:8081/api/namespaces")).status, 200);
  const evil = await app.request("http://localhost:8081/api/namespaces", { headers: { host: "evil.example:8081" } });
  assert.equal(evil.status, 403);
  assert.equal(evil.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
});

Deno.test("GET /static/* serves the embedded assets, cacheable forever with the current hash", async () => {
  const { app } = setup();
  const html = await text(await app.request("/"));
  const js = /src="(\/static\/islands\.js\?v=[0-9a-f]+)"/.exec(html)![1]!;
  const res = await app.request(js);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /text\/javascript/);
  assert.match(res.headers.get("cache-control")!, /immutable/);
  assert.ok((await res.text()).length > 1000);
  const stale = await app.request("/static/style.css?v=old");
  assert.equal(stale.headers.get("cache-control"), "no-cache");
  await stale.body?.cancel();
});

Deno.test("Secret values never appear in any response", async () => {
  const { app, clock, source } = setup();
  const paths = [
    "/",
    "/api/lws",
    "/lws/vault/secretive",
    "/lws/vault/secretive?pod=secretive-0-1",
    "/api/lws/vault/secretive",
    "/api/lws/vault/secretive/pods/secretive-0-1",
    "/api/lws/vault/secretive/pods/secretive-1",
  ];
  for (const path of paths) {
    const body = await text(await app.request(path));
    assert.ok(!body.includes(SECRET_VALUE), `${path} leaks the secret`);
    if (path.includes("secretive")) assert.ok(body.includes("api-credentials"), `${path} shows the reference`);
  }
  const stream = collect((await app.request("/api/stream?view=detail&ns=vault&name=secretive")).body!);
  source.apply({
    kind: "Pod",
    object: podFixture({
      lwsName: "secretive",
      namespace: "vault",
      group: 0,
      worker: 1,
      size: 2,
      revision: "5b9c7d4f6b",
      state: "crashloop",
      env: [{ name: "X", value: SECRET_VALUE, valueFrom: { secretKeyRef: { name: "s", key: "k" } } }],
    }),
  });
  await clock.advance(300);
  await stream.stop();
  assert.ok(stream.messages.filter((m) => m.event === "view").length >= 2);
  assert.ok(stream.messages.every((m) => !m.data.includes(SECRET_VALUE)));
});

Deno.test("GET /api/stream coalesces a 1,000-event burst and sends the new view", async () => {
  const { app, clock, source } = setup();
  const res = await app.request("/api/stream?view=detail&ns=inference&name=mixtral-serving&page=1&pageSize=50");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /text\/event-stream/);
  assert.equal(res.headers.get("cache-control"), "no-cache, no-transform");
  const overview = collect((await app.request("/api/stream?view=overview&ns=inference")).body!);
  const other = collect((await app.request("/api/stream?view=overview&ns=training")).body!);
  const stream = collect(res.body!);
  await clock.advance(0);
  for (let i = 0; i < 1000; i++) {
    source.apply({
      kind: "Pod",
      object: podFixture({
        lwsName: "mixtral-serving",
        namespace: "inference",
        group: i % 7,
        worker: i % 4,
        size: 4,
        revision: "5b9c7d4f6b",
        state: i === 999 ? "failed" : "ready",
        subGroupSize: 2,
      }),
    });
  }
  await clock.advance(250);
  const views = stream.messages.filter((m) => m.event === "view");
  assert.equal(views.length, 2, "initial view + one coalesced update");
  const latest: DetailView = JSON.parse(views[1]!.data);
  assert.equal(latest.grid.rows.find((r) => r.index === 999 % 7)!.cells[999 % 4]!.state, "failed");
  assert.equal(overview.messages.filter((m) => m.event === "view").length, 2);
  assert.equal(other.messages.filter((m) => m.event === "view").length, 1, "another namespace is not concerned");
  await clock.advance(15_000);
  assert.ok(stream.messages.some((m) => m.event === "ping"));
  for (const s of [stream, overview, other]) await s.stop();
  assert.equal(source.listenerCount(), 0);
});

Deno.test("GET /api/stream rejects unknown views", async () => {
  const { app } = setup();
  assert.equal((await app.request("/api/stream?view=nodes")).status, 400);
  assert.equal((await app.request("/api/stream?view=detail&ns=a")).status, 400);
});

Deno.test("serveDashboard() binds to 127.0.0.1 and answers only loopback host names", async () => {
  const source = new MemoryDashboardSource();
  source.load(worldFixture());
  const controller = new AbortController();
  const server = serveDashboard(source, { port: 0, signal: controller.signal });
  try {
    assert.equal(server.addr.hostname, "127.0.0.1");
    const ok = await fetch(`${server.url}/api/namespaces`);
    assert.deepEqual(await ok.json(), { namespaces: ["default"] });
    const stream = await fetch(`${server.url}/api/stream?view=overview`);
    const reader = stream.body!.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /event: hello/);
    await reader.cancel();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n"));
    const buf = new Uint8Array(256);
    const n = await conn.read(buf);
    conn.close();
    assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 403/);
  } finally {
    controller.abort();
    await server.finished;
  }
});
