/**
 * The embedded static assets (`ui/static/`): the islands bundle and the stylesheet, read relative to
 * `import.meta.dirname` so the same code finds them under `deno run` and inside a `deno compile`d binary
 * (`--include ui/static`). Nothing is fetched from the internet and nothing is built at run time.
 *
 * @module
 */
import { Hono } from "hono";
import type { Assets, DashboardContext } from "./context.ts";

/** Files served under `/static/`, with their content types. Anything else is 404. */
export const STATIC_FILES: Record<string, string> = {
  "islands.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

/** Directory of the embedded assets. */
export const STATIC_DIR = `${import.meta.dirname}/static`;

async function hashOf(body: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>));
  return [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Reads the assets once.
 *
 * @param dir Directory holding `islands.js` and `style.css`. Default {@linkcode STATIC_DIR}.
 * @returns The assets with content-hashed URLs.
 * @throws {Deno.errors.NotFound} when a file is missing (run `deno task ui:bundle`)
 */
export async function loadAssets(dir = STATIC_DIR): Promise<Assets> {
  const files: Assets["files"] = new Map();
  for (const [name, type] of Object.entries(STATIC_FILES)) {
    const body = await Deno.readFile(`${dir}/${name}`);
    files.set(name, { body, type, hash: await hashOf(body) });
  }
  return {
    js: `/static/islands.js?v=${files.get("islands.js")!.hash}`,
    css: `/static/style.css?v=${files.get("style.css")!.hash}`,
    files,
  };
}

/**
 * The static area: `GET /static/islands.js` and `GET /static/style.css`. With the current `?v=` hash the response
 * may be cached forever; otherwise it must be revalidated.
 *
 * @param ctx Shared dashboard context.
 * @returns A Hono app to mount at `/static`.
 */
export function assetsApp(ctx: DashboardContext): Hono {
  const app = new Hono();
  app.get("/:file", async (c) => {
    const file = c.req.param("file");
    const assets = await ctx.assets();
    const entry = Object.hasOwn(STATIC_FILES, file) ? assets.files.get(file) : undefined;
    if (!entry) return c.text("Not found", 404);
    const immutable = c.req.query("v") === entry.hash;
    return c.body(entry.body as Uint8Array<ArrayBuffer>, 200, {
      "content-type": entry.type,
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      etag: `"${entry.hash}"`,
    });
  });
  return app;
}
