/**
 * The JSON API (for the islands, scripts and tests) and the SSE stream, under `/api/`:
 *
 * | Route | Body |
 * |---|---|
 * | `GET /api/namespaces` | `{ namespaces: string[] }` |
 * | `GET /api/lws?ns=&q=` | `OverviewView` |
 * | `GET /api/lws/:ns/:name?page=&pageSize=&filter=&group=` | `DetailView` |
 * | `GET /api/lws/:ns/:name/pods/:pod` | `PodDetailView` |
 * | `GET /api/lws/:ns/:name/failures` | `{ failures: FailureView[] }`: recorded pod failures, newest first |
 * | `GET /api/stream?view=overview&ns=&q=` | SSE of `OverviewView` |
 * | `GET /api/stream?view=detail&ns=&name=&page=&pageSize=&filter=` | SSE of `DetailView` (or `{gone: true}`) |
 *
 * Read-only: there is no mutating route. Unknown LWS or pods give 404 with `{ error }`.
 *
 * @module
 */
import { Hono } from "hono";
import type { DashboardContext } from "./context.ts";
import {
  detailLiveView,
  loadDetail,
  loadFailures,
  loadOverview,
  loadPod,
  overviewLiveView,
  parseDetailQuery,
  parseOverviewQuery,
} from "./data.ts";

/**
 * The API area.
 *
 * @param ctx Shared dashboard context.
 * @returns A Hono app to mount at `/api`.
 */
export function apiApp(ctx: DashboardContext): Hono {
  const app = new Hono();

  app.get("/namespaces", (c) => {
    const namespaces = [...new Set(ctx.source.listLeaderWorkerSets().map((l) => l.metadata.namespace ?? ""))].sort();
    return c.json({ namespaces });
  });

  app.get("/lws", (c) => {
    const query = parseOverviewQuery(new URL(c.req.url).searchParams);
    return c.json(loadOverview(ctx.source, query, ctx.now()));
  });

  app.get("/lws/:namespace/:name", (c) => {
    const { namespace, name } = c.req.param();
    const query = parseDetailQuery(namespace, name, new URL(c.req.url).searchParams, ctx.pageSize);
    const view = loadDetail(ctx.source, query, ctx.now());
    if (!view) return c.json({ error: `LeaderWorkerSet ${namespace}/${name} not found in the cache` }, 404);
    return c.json(view);
  });

  app.get("/lws/:namespace/:name/failures", (c) => {
    const { namespace, name } = c.req.param();
    const failures = loadFailures(ctx.source, namespace, name, ctx.now());
    if (!failures) return c.json({ error: `LeaderWorkerSet ${namespace}/${name} not found in the cache` }, 404);
    return c.json({ failures });
  });

  app.get("/lws/:namespace/:name/pods/:pod", async (c) => {
    const { namespace, name, pod } = c.req.param();
    const view = await loadPod(ctx.source, { namespace, lwsName: name, podName: pod }, { now: ctx.now() });
    if (!view) {
      return c.json({ error: `Pod ${namespace}/${pod} of LeaderWorkerSet ${name} not found in the cache` }, 404);
    }
    return c.json(view);
  });

  app.get("/stream", (c) => {
    const params = new URL(c.req.url).searchParams;
    const kind = params.get("view") ?? "overview";
    let view;
    if (kind === "overview") view = overviewLiveView(ctx.source, parseOverviewQuery(params), ctx.now);
    else if (kind === "detail") {
      const namespace = params.get("ns") ?? "";
      const name = params.get("name") ?? "";
      if (!namespace || !name) return c.json({ error: "Cannot stream a detail view: ns and name are required" }, 400);
      view = detailLiveView(ctx.source, parseDetailQuery(namespace, name, params, ctx.pageSize), ctx.now);
    } else return c.json({ error: `Cannot stream: view must be overview or detail, got ${kind}` }, 400);
    // The stream's cancel() tells the hub when the client goes away (Deno.serve cancels the body on disconnect);
    // request.signal is not used: under Deno's legacy behaviour it also aborts after every successful response.
    const body = ctx.hub.open(view);
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  });

  app.notFound((c) => c.json({ error: `No API route ${new URL(c.req.url).pathname}` }, 404));
  return app;
}
