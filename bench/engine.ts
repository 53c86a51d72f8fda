/**
 * Engine figures, from micro-benchmarks that need no cluster:
 *
 * - `kube/store_bench.ts` (run as is): heap bytes per cached LWS pod, store apply events/s, JSON.parse + apply;
 * - `bench/engine_child.ts` against a fake API server served here: resident memory of a Deno process caching
 *   `cachedPods` LWS pods through the real client → watcher → informer cache, and watch events per second through
 *   the same path. The fake server runs in this process so that the child's memory is the cache alone.
 *
 * @module
 */
import { join } from "node:path";
import { lwsPodJson } from "../kube/store_bench.ts";
import { runDeno } from "./_run.ts";
import type { Preset } from "./presets.ts";
import type { EngineFigures } from "./results.ts";

async function run(args: string[]): Promise<string> {
  return (await runDeno(args)).stdout;
}

/** What `kube/store_bench.ts` prints for frozen stores, the product's default. */
export interface StoreBenchFigures {
  bytesPerPod: number;
  applyPerSecond: number;
  parseApplyPerSecond: number;
}

/**
 * Reads the `freeze=true` line of `kube/store_bench.ts`'s output.
 *
 * @param output what it printed
 * @returns the figures, or `undefined` when the line is missing (its format changed)
 */
export function parseStoreBench(output: string): StoreBenchFigures | undefined {
  const match = output.match(
    /freeze=true: heap (-?[\d,]+) B\/pod; apply ([\d,]+) events\/s; JSON\.parse\+apply ([\d,]+) events\/s/,
  );
  if (!match) return undefined;
  const n = (text: string) => Number(text.replaceAll(",", ""));
  return { bytesPerPod: n(match[1]!), applyPerSecond: n(match[2]!), parseApplyPerSecond: n(match[3]!) };
}

/**
 * Serves a pod list (`pods` LWS pods, pages by `limit`/`continue`) and, on a watch, `events` MODIFIED events as
 * fast as the connection takes them; then keeps the watch open until the client goes.
 *
 * @param pods pods to list
 * @param events watch events to stream
 * @returns the server (`await using` stops it) and its URL
 */
export function fakeApiServer(pods: number, events: number): AsyncDisposable & { url: string } {
  const items = Array.from({ length: pods }, (_, i) => lwsPodJson(Math.floor(i / 4), i % 4, 1000 + i));
  const encoder = new TextEncoder();
  const watchLines = Array.from(
    { length: events },
    (_, k) =>
      encoder.encode(`{"type":"MODIFIED","object":${lwsPodJson(Math.floor((k % pods) / 4), k % 4, 5000 + k)}}\n`),
  );
  const open = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/api/v1/pods") return new Response("not found", { status: 404 });
    if (url.searchParams.get("watch") === "true") {
      let sent = 0;
      let registered: ReadableStreamDefaultController<Uint8Array> | undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          registered = controller;
          open.add(controller);
        },
        pull(controller) {
          // Batches of 64 lines per pull keep the stream busy without building one huge buffer.
          for (let i = 0; i < 64 && sent < watchLines.length; i++) controller.enqueue(watchLines[sent++]!);
          if (sent >= watchLines.length) return new Promise(() => {}); // stay open, like a real watch
        },
        cancel() {
          if (registered) open.delete(registered);
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    const limit = Number(url.searchParams.get("limit") ?? pods) || pods;
    const from = Number(url.searchParams.get("continue") ?? 0);
    const to = Math.min(items.length, from + limit);
    const metadata = { resourceVersion: "4999", ...(to < items.length ? { continue: String(to) } : {}) };
    const text = `{"kind":"PodList","apiVersion":"v1","metadata":${JSON.stringify(metadata)},"items":[${
      items.slice(from, to).join(",")
    }]}`;
    return new Response(text, { headers: { "content-type": "application/json" } });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: async () => {
      for (const controller of open) {
        try {
          controller.close();
        } catch { /* already closed */ }
      }
      await server.shutdown();
    },
  };
}

/**
 * Runs the engine micro-benchmarks at the preset's sizes.
 *
 * @param preset `engine.storePods`, `engine.cachedPods`, `engine.watchEvents`
 * @returns the figures (a figure is `null` when its benchmark's output could not be read)
 */
export async function runEngineBench(preset: Preset): Promise<EngineFigures> {
  const { storePods, cachedPods, watchEvents } = preset.engine;
  const storeOutput = await run(["run", "--v8-flags=--expose-gc", "kube/store_bench.ts", String(storePods)]);
  const store = parseStoreBench(storeOutput);

  await using server = fakeApiServer(cachedPods, watchEvents);
  const childOutput = await run([
    "run",
    "--allow-net=127.0.0.1",
    "--v8-flags=--expose-gc",
    join("bench", "engine_child.ts"),
    server.url,
    String(cachedPods),
    String(watchEvents),
  ]);
  const child = JSON.parse(childOutput.trim().split("\n").at(-1) ?? "{}") as {
    baseRssBytes?: number;
    cacheRssBytes?: number;
    listSeconds?: number;
    watchEventsPerSecond?: number | null;
    cacheStopSeconds?: number | null;
  };
  return {
    storeBytesPerPod: store?.bytesPerPod ?? null,
    storeApplyPerSecond: store?.applyPerSecond ?? null,
    storeParseApplyPerSecond: store?.parseApplyPerSecond ?? null,
    watcherEventsPerSecond: child.watchEventsPerSecond ? Math.round(child.watchEventsPerSecond) : null,
    cachedPods,
    cacheRssBytes: child.cacheRssBytes ?? null,
    baseRssBytes: child.baseRssBytes ?? null,
    cacheStopSeconds: child.cacheStopSeconds ?? null,
    output: [
      `$ deno run --v8-flags=--expose-gc kube/store_bench.ts ${storePods}`,
      ...storeOutput.trim().split("\n"),
      `$ deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc bench/engine_child.ts <fake API> ${cachedPods} ${watchEvents}`,
      childOutput.trim(),
    ],
  };
}
