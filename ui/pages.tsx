/**
 * Server-rendered pages (Preact → HTML): the overview and the LeaderWorkerSet detail page with its grid and pod
 * drawer. Dynamic parts are islands (hydrated by `/static/islands.js`); everything else is plain HTML, so the pages
 * read fine without JavaScript.
 *
 * @module
 */
import { Hono } from "hono";
import type { ComponentChildren, VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { DashboardContext } from "./context.ts";
import { ConnectionBadge } from "./components/connection.tsx";
import {
  DetailSettings,
  DetailSummary,
  EventsPanel,
  FailuresPanel,
  settingsProps,
  summaryProps,
} from "./components/detail.tsx";
import { detailStreamUrl, GroupGrid, type GroupGridProps } from "./components/grid.tsx";
import { Island } from "./components/island.tsx";
import { overviewStreamUrl, OverviewTable } from "./components/overview.tsx";
import { loadDetail, loadOverview, loadPod, parseDetailQuery, parseOverviewQuery } from "./data.ts";

interface LayoutProps {
  title: string;
  css: string;
  js: string;
  /** SSE URL the page's islands follow; absent for pages without live data. */
  stream?: string;
  crumbs: { href?: string; text: string }[];
  children: ComponentChildren;
}

function Layout(props: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="referrer" content="no-referrer" />
        <title>{props.title} · LWS dashboard</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={props.css} />
        <script type="module" src={props.js} />
      </head>
      <body data-stream={props.stream}>
        <header class="topbar">
          <a class="brand" href="/">
            <span class="logo" aria-hidden="true">▦</span> LWS
          </a>
          <nav aria-label="Breadcrumb" class="crumbs">
            <ol>
              {props.crumbs.map((c, i) => (
                <li key={i}>{c.href ? <a href={c.href}>{c.text}</a> : <span aria-current="page">{c.text}</span>}</li>
              ))}
            </ol>
          </nav>
          <Island name="ConnectionBadge" component={ConnectionBadge} props={{}} />
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

function html(node: VNode): string {
  return `<!doctype html>${renderToString(node)}`;
}

/**
 * The pages area: `/` (overview) and `/lws/:namespace/:name` (detail, with `?page=`, `?pageSize=`, `?filter=`,
 * `?group=` and `?pod=` for the drawer).
 *
 * @param ctx Shared dashboard context.
 * @returns A Hono app to mount at `/`.
 */
export function pagesApp(ctx: DashboardContext): Hono {
  const app = new Hono();

  app.get("/", async (c) => {
    const assets = await ctx.assets();
    const query = parseOverviewQuery(new URL(c.req.url).searchParams);
    const view = loadOverview(ctx.source, query, ctx.now());
    return c.html(html(
      <Layout
        title="LeaderWorkerSets"
        css={assets.css}
        js={assets.js}
        stream={overviewStreamUrl(query.namespace, query.query)}
        crumbs={[{ text: "LeaderWorkerSets" }]}
      >
        <Island name="OverviewTable" component={OverviewTable} props={{ view }} />
      </Layout>,
    ));
  });

  app.get("/lws/:namespace/:name", async (c) => {
    const assets = await ctx.assets();
    const { namespace, name } = c.req.param();
    const params = new URL(c.req.url).searchParams;
    const query = parseDetailQuery(namespace, name, params, ctx.pageSize);
    const view = loadDetail(ctx.source, query, ctx.now());
    const crumbs = [{ href: "/", text: "LeaderWorkerSets" }, {
      href: `/?${new URLSearchParams({ ns: namespace })}`,
      text: namespace,
    }, { text: name }];
    if (!view) {
      return c.html(
        html(
          <Layout title={`${namespace}/${name}`} css={assets.css} js={assets.js} crumbs={crumbs}>
            <section class="empty">
              <h1>Not found</h1>
              <p>
                No LeaderWorkerSet <code>{namespace}/{name}</code>{" "}
                in the cache{ctx.source.isSynced() ? "" : " (still loading)"}.
              </p>
              <p>
                <a href="/">Back to the overview</a>
              </p>
            </section>
          </Layout>,
        ),
        404,
      );
    }
    const podName = params.get("pod") ?? undefined;
    const pod = podName
      ? await loadPod(ctx.source, { namespace, lwsName: name, podName }, { now: ctx.now() })
      : undefined;
    const gridProps: GroupGridProps = { namespace, name, grid: view.grid, highlight: query.group, podName, pod };
    const stream = detailStreamUrl(namespace, name, {
      page: view.grid.page,
      pageSize: view.grid.pageSize,
      filter: view.grid.filter,
    });
    return c.html(html(
      <Layout title={`${namespace}/${name}`} css={assets.css} js={assets.js} stream={stream} crumbs={crumbs}>
        <Island name="DetailSummary" component={DetailSummary} props={summaryProps(view)} />
        <Island name="DetailSettings" component={DetailSettings} props={settingsProps(view)} />
        <Island name="GroupGrid" component={GroupGrid} props={gridProps} />
        <Island name="FailuresPanel" component={FailuresPanel} props={{ failures: view.failures }} />
        <Island name="EventsPanel" component={EventsPanel} props={{ events: view.events }} />
        <details class="spec">
          <summary>Spec (YAML)</summary>
          <pre><code>{view.specYaml}</code></pre>
        </details>
      </Layout>,
    ));
  });

  return app;
}
