import assert from "node:assert/strict";
import { createHealthApp, startHealthServer } from "./health.ts";

Deno.test("createHealthApp() answers ok while every check passes and lists failures otherwise", async () => {
  let synced = false;
  const app = createHealthApp({
    readiness: [
      { name: "informers", check: () => (synced ? undefined : "not synced: core/v1/pods") },
      {
        name: "broken",
        check: () => (synced ? undefined : (() => {
          throw new Error("boom");
        })()),
      },
    ],
  });
  const live = await app.request("/healthz");
  assert.equal(live.status, 200);
  assert.equal(await live.text(), "ok");
  const notReady = await app.request("/readyz");
  assert.equal(notReady.status, 500);
  assert.equal(
    await notReady.text(),
    "[+]ping ok\n[-]informers failed: not synced: core/v1/pods\n[-]broken failed: boom\nreadyz check failed\n",
  );
  synced = true;
  const ready = await app.request("/readyz");
  assert.equal(ready.status, 200);
  assert.equal(await ready.text(), "ok");
  const verbose = await app.request("/readyz?verbose");
  assert.equal(await verbose.text(), "[+]ping ok\n[+]informers ok\n[+]broken ok\nreadyz check passed\n");
  assert.equal((await app.request("/metrics")).status, 404);
});

Deno.test("createHealthApp() serves the configured endpoint names", async () => {
  const app = createHealthApp({ livenessPath: "/live", readinessPath: "/ready" });
  assert.equal((await app.request("/live")).status, 200);
  assert.equal((await app.request("/ready")).status, 200);
  assert.equal((await app.request("/healthz")).status, 404);
});

Deno.test("startHealthServer() serves plain HTTP until the signal aborts", async () => {
  const stop = new AbortController();
  const server = startHealthServer({ hostname: "127.0.0.1", port: 0 }, { signal: stop.signal });
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const response = await fetch(`${server.url}/healthz`);
  assert.equal(await response.text(), "ok");
  stop.abort();
  await server.finished;
});
