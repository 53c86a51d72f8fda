/**
 * The watcher: lists then watches one resource (kube-rs `watcher.rs`), and turns the API server's raw list pages
 * and watch events into semantic events for a store. It never gives up: a 410 Gone relists, any other failure
 * backs off and re-watches from the last resourceVersion, a normal stream end re-watches at once. Only the
 * caller's `AbortSignal` stops it.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import { type Clock, realClock, type Timer } from "./clock.ts";
import { apiErrorFromStatus, isGone } from "./errors.ts";
import type { KubeObject, ListWatch, RawWatchEvent } from "./types.ts";

const log = getLogger(["lws", "kube", "watcher"]);

/**
 * What a watcher yields: kube-rs's semantic events, not raw ADDED/MODIFIED.
 *
 * A (re)list is always `init`, any number of `initApply`, then `initDone`; `apply`/`delete` only come after an
 * `initDone`. An `init` may follow another `init` without an `initDone` (a list restarted because its continue
 * token expired): the consumer then drops what the unfinished list gave it.
 */
export type WatcherEvent<T> =
  | { type: "init" }
  | { type: "initApply"; object: T }
  | { type: "initDone" }
  | { type: "apply"; object: T }
  | { type: "delete"; object: T };

/** The watcher's states (kube-rs): `Empty` → `InitPage` → `InitListed` → `Watching`. */
export type WatcherStateName = "Empty" | "InitPage" | "InitListed" | "Watching";

/** Counters for metrics and `/readyz`; a snapshot, never updated after it is returned. */
export interface WatcherHealth {
  /** The state the machine is in (or stopped in). */
  state: WatcherStateName;
  /** Last resourceVersion seen (list, event or bookmark); opaque. */
  resourceVersion: string | undefined;
  /** `clock.now()` of the last list page, watch event or bookmark. */
  lastEventAt: number | undefined;
  /** Lists started after the first one (each 410 Gone or expired continue token). */
  relists: number;
  /** Watches opened again after a stream ended or failed. */
  watchRestarts: number;
  /** Failed list or watch calls and non-410 ERROR events. */
  errors: number;
  /** Message of the last failure. */
  lastError: string | undefined;
}

/** Options of a {@linkcode Watcher}. */
export interface WatcherOptions {
  /** Namespace to list and watch; omitted watches every namespace. */
  namespace?: string;
  /** Label selector of every list and watch call. */
  labelSelector?: string;
  /** Field selector of every list and watch call. */
  fieldSelector?: string;
  /** Page size of the list (`limit`); default 500. */
  pageSize?: number;
  /** Server-side watch timeout (`timeoutSeconds`); default 290 s, after which the watcher re-watches. */
  timeoutSeconds?: number;
  /** Time source for backoff sleeps, the watchdog and health timestamps; default the real clock. */
  clock?: Clock;
  /** Retry policy for failures other than 410; default {@linkcode WATCHER_BACKOFF}. */
  backoff?: BackoffOptions;
  /** Names the watcher in logs (e.g. `pods -l leaderworkerset.sigs.k8s.io/name`). */
  name?: string;
}

type State<T> =
  | { kind: "Empty" }
  | { kind: "InitPage"; continueToken: string | undefined }
  | { kind: "InitListed"; resourceVersion: string | undefined }
  | Watching<T>;

interface Watching<T> {
  kind: "Watching";
  resourceVersion: string | undefined;
  stream: AsyncIterator<RawWatchEvent<T>>;
  abort: AbortController;
  /** Aborts the watch if it outlives the server timeout by a grace period: the connection is dead. */
  watchdog: Timer;
  stalled: boolean;
}

/**
 * Lists and watches one resource through a {@linkcode ListWatch}.
 *
 * Invariants: resourceVersion is an opaque string, taken from every list, event and bookmark, never parsed or
 * compared. Objects are yielded as the server sent them; the watcher keeps no copy. One `events()` iteration at a
 * time per watcher (health is per watcher).
 *
 * @example
 * const watcher = new Watcher(client.listWatch(PODS), { labelSelector: lwsOwnedSelector() });
 * for await (const event of watcher.events(signal)) store.apply(event);
 */
export class Watcher<T extends KubeObject> {
  readonly #lw: ListWatch<T>;
  readonly #options: WatcherOptions;
  readonly #clock: Clock;
  #health: WatcherHealth = {
    state: "Empty",
    resourceVersion: undefined,
    lastEventAt: undefined,
    relists: 0,
    watchRestarts: 0,
    errors: 0,
    lastError: undefined,
  };

  /**
   * Creates a watcher; nothing happens until {@linkcode Watcher.events} is iterated.
   *
   * @param lw the list/watch calls, typically `client.listWatch(type, { namespace })`
   * @param options selectors, page size, watch timeout, clock and backoff
   */
  constructor(lw: ListWatch<T>, options: WatcherOptions = {}) {
    this.#lw = lw;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  /** A snapshot of the watcher's counters. */
  health(): WatcherHealth {
    return { ...this.#health };
  }

  /**
   * Runs the state machine and yields its events until `signal` aborts (then it returns without throwing).
   * Never throws for API failures: they are logged, counted and retried.
   */
  async *events(signal: AbortSignal): AsyncGenerator<WatcherEvent<T>, void, undefined> {
    const backoff = new Backoff(this.#clock, this.#options.backoff);
    const { namespace, labelSelector, fieldSelector } = this.#options;
    const selectors = { namespace, labelSelector, fieldSelector };
    let state: State<T> = { kind: "Empty" };
    let listedBefore = false;
    // Sleeps after a failure; false when aborted.
    const retryLater = (err: unknown, what: string): Promise<boolean> => {
      const delay = backoff.next();
      this.#failed(err);
      log.warn("{name}: {what} failed, retrying in {delay} ms: {error}", {
        name: this.#name(),
        what,
        delay,
        error: this.#health.lastError,
      });
      return this.#clock.sleep(delay, signal);
    };
    try {
      while (!signal.aborted) {
        this.#health.state = state.kind;
        switch (state.kind) {
          case "Empty": {
            if (listedBefore) this.#health.relists++;
            listedBefore = true;
            state = { kind: "InitPage", continueToken: undefined };
            yield { type: "init" };
            break;
          }
          case "InitPage": {
            const token = state.continueToken;
            let page;
            try {
              page = await this.#lw.list(
                { ...selectors, limit: this.#options.pageSize ?? 500, continue: token },
                signal,
              );
            } catch (err) {
              if (signal.aborted) return;
              if (isGone(err) && token !== undefined) {
                // The continue token expired: the snapshot is gone, so start the whole list again.
                this.#failed(err);
                log.info("{name}: list continue token expired, listing again", { name: this.#name() });
                state = { kind: "Empty" };
              } else if (!(await retryLater(err, "list"))) return;
              break;
            }
            this.#touch(page.metadata?.resourceVersion);
            for (const object of page.items ?? []) yield { type: "initApply", object };
            const next = page.metadata?.continue;
            if (next) {
              state = { kind: "InitPage", continueToken: next };
            } else {
              state = { kind: "InitListed", resourceVersion: page.metadata?.resourceVersion };
              yield { type: "initDone" };
            }
            break;
          }
          case "InitListed": {
            const abort = new AbortController();
            const timeoutSeconds = this.#options.timeoutSeconds ?? 290;
            let stream: AsyncIterator<RawWatchEvent<T>>;
            try {
              stream = this.#lw.watch({
                ...selectors,
                resourceVersion: state.resourceVersion,
                allowWatchBookmarks: true,
                timeoutSeconds,
              }, AbortSignal.any([signal, abort.signal]))[Symbol.asyncIterator]();
            } catch (err) {
              // The contract says watch() fails through its iterator; be safe if an implementation throws early.
              if (!(await retryLater(err, "watch"))) return;
              break;
            }
            const watching: Watching<T> = {
              kind: "Watching",
              resourceVersion: state.resourceVersion,
              stream,
              abort,
              stalled: false,
              // The server ends every watch after timeoutSeconds; one still open well after that sits on a dead
              // connection that would otherwise stall the cache silently.
              watchdog: this.#clock.setTimer((timeoutSeconds + WATCHDOG_GRACE_SECONDS) * 1000, () => {
                watching.stalled = true;
                abort.abort(new Error("Watch stalled"));
              }),
            };
            state = watching;
            break;
          }
          case "Watching": {
            const current: Watching<T> = state;
            let event: Exclude<RawWatchEvent<T>, { type: "ERROR" }> | undefined;
            let failure: { error: unknown } | undefined;
            try {
              const result = await current.stream.next();
              if (result.done) event = undefined;
              else if (result.value.type === "ERROR") failure = { error: apiErrorFromStatus(result.value.object) };
              else event = result.value;
            } catch (err) {
              failure = { error: err };
            }
            if (!event) {
              // The watch is over: the server ended it, it failed, or the watchdog cut it.
              closeWatch(current);
              if (signal.aborted) return;
              if (current.stalled) failure = { error: this.#stallError(current) };
              if (failure && isGone(failure.error)) {
                this.#failed(failure.error);
                log.info("{name}: watch from {rv} is gone (410), relisting", {
                  name: this.#name(),
                  rv: current.resourceVersion,
                });
                state = { kind: "Empty" };
                break;
              }
              this.#health.watchRestarts++;
              state = { kind: "InitListed", resourceVersion: current.resourceVersion };
              // A normal end (the server's timeout) re-watches at once; a failure backs off first.
              if (failure && !(await retryLater(failure.error, "watch"))) return;
              break;
            }
            const rv = event.object.metadata?.resourceVersion;
            if (rv) current.resourceVersion = rv;
            this.#touch(current.resourceVersion);
            if (event.type === "ADDED" || event.type === "MODIFIED") yield { type: "apply", object: event.object };
            else if (event.type === "DELETED") yield { type: "delete", object: event.object };
            // BOOKMARK: only the resourceVersion matters, taken above.
            break;
          }
        }
      }
    } finally {
      if (state.kind === "Watching") closeWatch(state);
      this.#health.state = state.kind;
    }
  }

  #stallError(current: Watching<T>): Error {
    const seconds = (this.#options.timeoutSeconds ?? 290) + WATCHDOG_GRACE_SECONDS;
    return new Error(`Watch from ${current.resourceVersion} stalled: still open after ${seconds} s`);
  }

  #touch(resourceVersion: string | undefined): void {
    this.#health.lastEventAt = this.#clock.now();
    if (resourceVersion) this.#health.resourceVersion = resourceVersion;
  }

  #failed(err: unknown): void {
    this.#health.errors++;
    this.#health.lastError = err instanceof Error ? err.message : String(err);
  }

  #name(): string {
    return this.#options.name ?? "watcher";
  }
}

/** Seconds past the server-side watch timeout after which the watcher gives up on a silent watch. */
export const WATCHDOG_GRACE_SECONDS = 60;

function closeWatch(state: Watching<unknown>): void {
  state.watchdog.cancel();
  state.abort.abort();
  // return() may reject if the stream already failed; the abort above is what releases the connection.
  state.stream.return?.().catch(() => {});
}
