import assert from "node:assert/strict";
import { flush, ManualClock } from "./clock.ts";
import { ApiError } from "./errors.ts";
import type { KubeObject, ListOptions, ListWatch, ObjectList, RawWatchEvent, WatchOptions } from "./types.ts";
import { Watcher, type WatcherEvent } from "./watcher.ts";

type Obj = KubeObject;
type WatchStep = RawWatchEvent<Obj> | { throw: unknown } | "hang";

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/**
 * A ListWatch that plays scripts: each list() takes the next page (or throws it if it is an Error; hangs until
 * aborted when the script is exhausted), each watch() plays the next script (a stream that ends normally at the
 * end of its script; "hang" waits for abort).
 */
class ScriptedListWatch implements ListWatch<Obj> {
  readonly listCalls: ListOptions[] = [];
  readonly watchCalls: WatchOptions[] = [];
  constructor(readonly pages: (ObjectList<Obj> | Error)[], readonly watches: WatchStep[][] = []) {}

  async list(options: ListOptions, signal?: AbortSignal): Promise<ObjectList<Obj>> {
    this.listCalls.push(options);
    const page = this.pages.shift();
    if (page === undefined) {
      await aborted(signal!);
      throw signal!.reason;
    }
    if (page instanceof Error) throw page;
    return page;
  }

  async *watch(options: WatchOptions, signal: AbortSignal): AsyncIterable<RawWatchEvent<Obj>> {
    this.watchCalls.push(options);
    for (const step of this.watches.shift() ?? ["hang"]) {
      if (step === "hang") {
        await aborted(signal);
        return;
      }
      if ("throw" in step) throw step.throw;
      yield step;
    }
  }
}

function obj(name: string, rv: string): Obj {
  return { metadata: { namespace: "ns", name, resourceVersion: rv, uid: `uid-${name}` } };
}
function page(items: Obj[], rv: string, cont?: string): ObjectList<Obj> {
  return { items, metadata: { resourceVersion: rv, ...(cont ? { continue: cont } : {}) } };
}
const gone = () => new ApiError({ code: 410, reason: "Expired", message: "too old resource version" }, { code: 410 });
const expiredEvent = (): RawWatchEvent<Obj> => ({
  type: "ERROR",
  object: { code: 410, reason: "Expired", message: "too old resource version: 5 (9)" },
});

/** Short names for events: `init`, `initApply:a`, `apply:a@11`, ... */
function describe(event: WatcherEvent<Obj>): string {
  if (event.type === "init" || event.type === "initDone") return event.type;
  return `${event.type}:${event.object.metadata?.name}@${event.object.metadata?.resourceVersion}`;
}

/** Pending backoff sleeps (at most 30 s), leaving out the watch watchdog (the server timeout + grace). */
function backoffs(clock: ManualClock): number[] {
  return clock.pendingDelays().filter((ms) => ms <= 30_000);
}

/** Runs a watcher in the background, collecting its events. */
function start(lw: ListWatch<Obj>, clock = new ManualClock()) {
  const controller = new AbortController();
  const watcher = new Watcher(lw, { clock, backoff: { random: () => 0.5 }, name: "test" });
  const events: string[] = [];
  const done = (async () => {
    for await (const event of watcher.events(controller.signal)) events.push(describe(event));
  })();
  return {
    watcher,
    events,
    clock,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

Deno.test("Watcher.events() lists page by page, then watches from the list's resourceVersion", async () => {
  const lw = new ScriptedListWatch(
    [page([obj("a", "3"), obj("b", "4")], "10", "tok1"), page([obj("c", "5")], "10")],
    [[
      { type: "ADDED", object: obj("d", "11") },
      { type: "MODIFIED", object: obj("a", "12") },
      { type: "DELETED", object: obj("b", "13") },
      "hang",
    ]],
  );
  const run = start(lw);
  await flush();
  assert.deepEqual(run.events, [
    "init",
    "initApply:a@3",
    "initApply:b@4",
    "initApply:c@5",
    "initDone",
    "apply:d@11",
    "apply:a@12",
    "delete:b@13",
  ]);
  assert.deepEqual(lw.listCalls.map((c) => [c.limit, c.continue]), [[500, undefined], [500, "tok1"]]);
  assert.equal(lw.watchCalls.length, 1);
  assert.equal(lw.watchCalls[0]?.resourceVersion, "10");
  assert.equal(lw.watchCalls[0]?.allowWatchBookmarks, true);
  assert.equal(lw.watchCalls[0]?.timeoutSeconds, 290);
  const health = run.watcher.health();
  assert.equal(health.state, "Watching");
  assert.equal(health.resourceVersion, "13");
  assert.equal(health.lastEventAt, run.clock.now());
  assert.deepEqual([health.relists, health.watchRestarts, health.errors], [0, 0, 0]);
  await run.stop();
});

Deno.test("Watcher.events() passes namespace and selectors to list and watch", async () => {
  const lw = new ScriptedListWatch([page([], "1")]);
  const controller = new AbortController();
  const watcher = new Watcher(lw, {
    clock: new ManualClock(),
    namespace: "ns1",
    labelSelector: "app",
    fieldSelector: "x=y",
    pageSize: 7,
    timeoutSeconds: 60,
  });
  const done = (async () => {
    for await (const _ of watcher.events(controller.signal));
  })();
  await flush();
  assert.deepEqual(lw.listCalls[0], {
    namespace: "ns1",
    labelSelector: "app",
    fieldSelector: "x=y",
    limit: 7,
    continue: undefined,
  });
  assert.deepEqual(lw.watchCalls[0], {
    namespace: "ns1",
    labelSelector: "app",
    fieldSelector: "x=y",
    resourceVersion: "1",
    allowWatchBookmarks: true,
    timeoutSeconds: 60,
  });
  controller.abort();
  await done;
});

Deno.test("Watcher.events() handles an empty list", async (t) => {
  for (const items of [[], null]) {
    await t.step(`items: ${JSON.stringify(items)}`, async () => {
      const empty = { items, metadata: { resourceVersion: "7" } } as unknown as ObjectList<Obj>;
      const lw = new ScriptedListWatch([empty]);
      const run = start(lw);
      await flush();
      assert.deepEqual(run.events, ["init", "initDone"]);
      assert.equal(lw.watchCalls[0]?.resourceVersion, "7");
      await run.stop();
    });
  }
});

Deno.test("Watcher.events() takes the resourceVersion from a bookmark and re-watches at once when a stream ends", async () => {
  const lw = new ScriptedListWatch([page([obj("a", "3")], "10")], [
    [{ type: "BOOKMARK", object: { metadata: { resourceVersion: "20" } } }],
    [{ type: "MODIFIED", object: obj("a", "21") }],
  ]);
  const run = start(lw);
  await flush();
  assert.deepEqual(run.events, ["init", "initApply:a@3", "initDone", "apply:a@21"]);
  assert.deepEqual(lw.watchCalls.map((c) => c.resourceVersion), ["10", "20", "21"]);
  assert.deepEqual(backoffs(run.clock), [], "a normal end re-watches without backing off");
  assert.equal(run.watcher.health().watchRestarts, 2);
  assert.equal(run.watcher.health().errors, 0);
  await run.stop();
});

Deno.test("Watcher.events() backs off and re-watches from the last resourceVersion after a disconnect", async () => {
  const lw = new ScriptedListWatch([page([obj("a", "3")], "10")], [
    [{ type: "MODIFIED", object: obj("a", "11") }, { throw: new TypeError("connection reset") }],
    [{ type: "MODIFIED", object: obj("a", "12") }, "hang"],
  ]);
  const run = start(lw);
  await flush();
  assert.deepEqual(backoffs(run.clock), [800]);
  assert.equal(lw.watchCalls.length, 1, "no re-watch before the backoff elapsed");
  await run.clock.advance(799);
  assert.equal(lw.watchCalls.length, 1);
  await run.clock.advance(1);
  assert.deepEqual(lw.watchCalls.map((c) => c.resourceVersion), ["10", "11"]);
  assert.deepEqual(run.events, ["init", "initApply:a@3", "initDone", "apply:a@11", "apply:a@12"]);
  assert.equal(lw.listCalls.length, 1, "a disconnect does not relist");
  const health = run.watcher.health();
  assert.deepEqual([health.relists, health.watchRestarts, health.errors], [0, 1, 1]);
  assert.equal(health.lastError, "connection reset");
  await run.stop();
});

Deno.test("Watcher.events() relists on 410 Gone", async (t) => {
  const cases: [string, WatchStep[]][] = [
    ["when the watch call fails with 410", [{ throw: gone() }]],
    ["on a 410 ERROR event", [expiredEvent()]],
    ["on a 410 ERROR event after other events", [{ type: "ADDED", object: obj("b", "11") }, expiredEvent()]],
  ];
  for (const [name, script] of cases) {
    await t.step(name, async () => {
      const lw = new ScriptedListWatch(
        [page([obj("a", "3")], "10"), page([obj("a", "30")], "40")],
        [script, ["hang"]],
      );
      const run = start(lw);
      await flush();
      const watched = script.length > 1 ? ["apply:b@11"] : [];
      assert.deepEqual(run.events, [
        "init",
        "initApply:a@3",
        "initDone",
        ...watched,
        "init",
        "initApply:a@30",
        "initDone",
      ]);
      assert.deepEqual(backoffs(run.clock), [], "a relist does not back off");
      assert.equal(lw.listCalls[1]?.resourceVersion, undefined, "the relist is a consistent read");
      assert.deepEqual(lw.watchCalls.map((c) => c.resourceVersion), ["10", "40"]);
      assert.equal(run.watcher.health().relists, 1);
      await run.stop();
    });
  }
});

Deno.test("Watcher.events() backs off and re-watches on a non-410 ERROR event", async () => {
  const lw = new ScriptedListWatch([page([], "10")], [
    [{ type: "ADDED", object: obj("a", "11") }, {
      type: "ERROR",
      object: { code: 500, reason: "InternalError", message: "etcd unavailable" },
    }],
    ["hang"],
  ]);
  const run = start(lw);
  await flush();
  assert.deepEqual(backoffs(run.clock), [800]);
  await run.clock.advance(800);
  assert.deepEqual(lw.watchCalls.map((c) => c.resourceVersion), ["10", "11"]);
  assert.equal(lw.listCalls.length, 1);
  assert.equal(run.watcher.health().lastError, "etcd unavailable");
  await run.stop();
});

Deno.test("Watcher.events() backs off when watch() throws before returning a stream", async () => {
  const lw = new ScriptedListWatch([page([], "10")], [["hang"]]);
  let throws = 1;
  const watch = lw.watch.bind(lw);
  lw.watch = (options, signal) => {
    if (throws-- > 0) throw new TypeError("bad URL");
    return watch(options, signal);
  };
  const run = start(lw);
  await flush();
  assert.deepEqual(backoffs(run.clock), [800]);
  await run.clock.advance(800);
  assert.deepEqual(lw.watchCalls.map((c) => c.resourceVersion), ["10"]);
  assert.equal(run.watcher.health().errors, 1);
  await run.stop();
});

Deno.test("Watcher.events() retries a failed page with the same continue token", async () => {
  const lw = new ScriptedListWatch([
    page([obj("a", "3")], "10", "tok1"),
    new ApiError({ code: 500, reason: "InternalError", message: "boom" }, { code: 500 }),
    page([obj("b", "4")], "10"),
  ]);
  const run = start(lw);
  await flush();
  assert.deepEqual(run.events, ["init", "initApply:a@3"]);
  await run.clock.advance(800);
  assert.deepEqual(run.events, ["init", "initApply:a@3", "initApply:b@4", "initDone"]);
  assert.deepEqual(lw.listCalls.map((c) => c.continue), [undefined, "tok1", "tok1"]);
  assert.equal(run.watcher.health().relists, 0);
  await run.stop();
});

Deno.test("Watcher.events() starts the list again when its continue token expired", async () => {
  const lw = new ScriptedListWatch([
    page([obj("a", "3")], "10", "tok1"),
    gone(),
    page([obj("a", "3")], "20", "tok2"),
    page([obj("b", "15")], "20"),
  ]);
  const run = start(lw);
  await flush();
  assert.deepEqual(run.events, [
    "init",
    "initApply:a@3",
    "init",
    "initApply:a@3",
    "initApply:b@15",
    "initDone",
  ]);
  assert.deepEqual(lw.listCalls.map((c) => c.continue), [undefined, "tok1", undefined, "tok2"]);
  assert.equal(lw.watchCalls[0]?.resourceVersion, "20");
  assert.equal(run.watcher.health().relists, 1);
  assert.deepEqual(backoffs(run.clock), []);
  await run.stop();
});

Deno.test("Watcher.events() grows its backoff on repeated failures", async () => {
  const failure = () => ({ throw: new Error("refused") });
  const lw = new ScriptedListWatch([page([], "10")], [[failure()], [failure()], [failure()], ["hang"]]);
  const run = start(lw);
  const delays: number[] = [];
  for (let i = 0; i < 3; i++) {
    await flush();
    delays.push(...backoffs(run.clock));
    await run.clock.advance(backoffs(run.clock)[0]!);
  }
  assert.deepEqual(delays, [800, 1600, 3200]);
  await run.stop();
});

Deno.test("Watcher.events() gives up on a watch that outlives the server timeout and re-watches", async () => {
  const lw = new ScriptedListWatch([page([], "10")], [
    [{ type: "BOOKMARK", object: { metadata: { resourceVersion: "11" } } }],
    [{ type: "ADDED", object: obj("a", "12") }, "hang"],
    ["hang"],
  ]);
  const run = start(lw);
  await flush();
  assert.deepEqual(run.clock.pendingDelays(), [350_000], "one watchdog, for the open watch only");
  await run.clock.advance(349_999);
  assert.equal(lw.watchCalls.length, 2);
  await run.clock.advance(1);
  assert.deepEqual(backoffs(run.clock), [800]);
  assert.match(run.watcher.health().lastError ?? "", /Watch from 12 stalled: still open after 350 s/);
  await run.clock.advance(800);
  assert.deepEqual(lw.watchCalls.map((c) => c.resourceVersion), ["10", "11", "12"]);
  assert.deepEqual([run.watcher.health().watchRestarts, run.watcher.health().errors], [2, 1]);
  assert.deepEqual(run.events, ["init", "initDone", "apply:a@12"]);
  await run.stop();
  assert.deepEqual(run.clock.pendingDelays(), [], "stopping cancels the watchdog");
});

Deno.test("Watcher.events() stops promptly when aborted", async (t) => {
  await t.step("while listing", async () => {
    const run = start(new ScriptedListWatch([]));
    await flush();
    assert.deepEqual(run.events, ["init"]);
    await run.stop();
    assert.equal(run.watcher.health().state, "InitPage");
  });
  await t.step("while watching", async () => {
    const lw = new ScriptedListWatch([page([], "1")], [["hang"]]);
    const run = start(lw);
    await flush();
    await run.stop();
    assert.equal(run.watcher.health().state, "Watching");
    assert.equal(run.watcher.health().errors, 0);
  });
  await t.step("while backing off", async () => {
    const lw = new ScriptedListWatch([new Error("refused")]);
    const run = start(lw);
    await flush();
    await run.stop();
    assert.deepEqual(backoffs(run.clock), [], "the sleep's timer is cancelled");
    assert.equal(lw.listCalls.length, 1);
  });
  await t.step("when the consumer stops iterating", async () => {
    const lw = new ScriptedListWatch([page([obj("a", "1")], "1")], [["hang"]]);
    const controller = new AbortController();
    const watcher = new Watcher(lw, { clock: new ManualClock() });
    for await (const event of watcher.events(controller.signal)) {
      if (event.type === "initDone") break;
    }
    controller.abort();
  });
});
