/**
 * Live updates over Server-Sent Events, coalesced: a change only marks its LeaderWorkerSet dirty; at most every
 * `intervalMs` (250 ms) the hub re-renders each **distinct** view that a dirty LWS concerns — once, however many
 * clients watch it — and sends it to the clients of that view whose last message differs. A burst of 1,000 pod
 * events therefore becomes a handful of messages per client.
 *
 * Wire format (`text/event-stream`): `retry: 2000`, then `event: hello` (`{heartbeatMs}`), then `event: view` with
 * the whole current view as JSON (so a reconnecting client is current at once), further `event: view` on change,
 * and `event: ping` (`{t}`) every `heartbeatMs` so the client can tell a silent stream from a dead one. With each
 * heartbeat every watched view is rendered again and sent when it differs, so ages and time windows move on an idle
 * LeaderWorkerSet too.
 *
 * The hub subscribes to the source only while at least one client is connected and stops its timers when the last
 * one leaves, so an idle dashboard costs nothing.
 *
 * @module
 */
import { type Clock, realClock, type Timer } from "../kube/clock.ts";
import type { DashboardChange, DashboardSource } from "./source.ts";

/** A view a client watches: what it depends on and how to render it. */
export interface LiveView {
  /** Identity: clients with the same id share one render per flush (e.g. `detail?ns=a&name=b&page=2`). */
  id: string;
  /** Whether a change of the LWS `namespace/name` may change this view. */
  concerns(namespace: string, lwsName: string): boolean;
  /** Renders the view as plain JSON-serialisable data. Called at most once per flush per distinct view. */
  render(): unknown;
}

/** Counters of a hub, for tests, the benchmark and metrics. */
export interface StreamCounters {
  /** Clients connected now. */
  clients: number;
  /** `view` messages written (summed over clients). */
  messages: number;
  /** Bytes written (summed over clients). */
  bytes: number;
  /** Flushes that found dirty keys. */
  flushes: number;
  /** View renders. */
  renders: number;
  /** Changes received from the source. */
  changes: number;
  /** Clients dropped because they fell too far behind. */
  dropped: number;
  /** Wall time spent in flushes (rendering, serialising, writing), in ms. */
  flushMs: number;
}

/** Options of a {@linkcode LiveHub}. */
export interface LiveHubOptions {
  /** Time source (tests pass a `ManualClock`). Default: the real clock. */
  clock?: Clock;
  /** Minimum time between two flushes, in ms. Default 250. */
  intervalMs?: number;
  /** Time between heartbeats, in ms. Default 15,000. */
  heartbeatMs?: number;
  /** A client whose unread backlog exceeds this many bytes is disconnected (it reconnects fresh). Default 8 MiB. */
  maxBacklogBytes?: number;
  /** Counters to update; a new object by default (see {@linkcode LiveHub.counters}). */
  counters?: StreamCounters;
}

/**
 * A fresh set of zeroed counters.
 *
 * @returns New counters.
 */
export function createStreamCounters(): StreamCounters {
  return { clients: 0, messages: 0, bytes: 0, flushes: 0, renders: 0, changes: 0, dropped: 0, flushMs: 0 };
}

interface Client {
  view: LiveView;
  controller: ReadableStreamDefaultController<Uint8Array>;
  lastPayload: string | undefined;
  closed: boolean;
}

const encoder = new TextEncoder();
/** Bytes a stream buffers before it reports backpressure. */
const HIGH_WATER_MARK = 64 * 1024;

/**
 * Fans coalesced view updates out to SSE clients. One hub per dashboard app.
 *
 * Invariants: a client receives `view` messages in order and never two identical ones in a row; per flush each
 * distinct view renders at most once; no timer runs and no source subscription exists while no client is
 * connected.
 */
export class LiveHub {
  readonly #source: DashboardSource;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #heartbeatMs: number;
  readonly #maxBacklog: number;
  readonly #clients = new Set<Client>();
  readonly #dirty = new Set<string>();
  #unsubscribe: (() => void) | undefined;
  #flushTimer: Timer | undefined;
  #heartbeatTimer: Timer | undefined;
  #lastFlush = -Infinity;
  /** Counters of this hub (live object). */
  readonly counters: StreamCounters;

  /**
   * Creates an idle hub (no subscription, no timers until the first client connects).
   *
   * @param source where changes come from
   * @param options timing and counters
   */
  constructor(source: DashboardSource, options: LiveHubOptions = {}) {
    this.#source = source;
    this.#clock = options.clock ?? realClock;
    this.#intervalMs = options.intervalMs ?? 250;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#maxBacklog = options.maxBacklogBytes ?? 8 * 1024 * 1024;
    this.counters = options.counters ?? createStreamCounters();
  }

  /** Heartbeat period in ms (the client's staleness timeout derives from it). */
  get heartbeatMs(): number {
    return this.#heartbeatMs;
  }

  /**
   * Opens a stream for one client: `hello`, the current view, then coalesced updates and heartbeats until the
   * client cancels the stream or `signal` aborts.
   *
   * @param view What the client watches.
   * @param signal Aborts when the client goes away (the request's signal).
   * @returns The body of a `text/event-stream` response.
   */
  open(view: LiveView, signal?: AbortSignal): ReadableStream<Uint8Array> {
    let client: Client | undefined;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = { view, controller, lastPayload: undefined, closed: false };
        this.#add(client);
        this.#write(
          client,
          `retry: 2000\nevent: hello\ndata: ${JSON.stringify({ heartbeatMs: this.#heartbeatMs })}\n\n`,
        );
        this.#sendView(client, JSON.stringify(this.#render(view)));
        if (signal) {
          if (signal.aborted) this.#remove(client, true);
          else signal.addEventListener("abort", () => client && this.#remove(client, true), { once: true });
        }
      },
      cancel: () => {
        if (client) this.#remove(client, false);
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: HIGH_WATER_MARK }));
  }

  /** Disconnects every client and stops timers and the source subscription. */
  close(): void {
    for (const client of [...this.#clients]) this.#remove(client, true);
  }

  #add(client: Client): void {
    this.#clients.add(client);
    this.counters.clients = this.#clients.size;
    if (!this.#unsubscribe) this.#unsubscribe = this.#source.subscribe((change) => this.#onChange(change));
    if (!this.#heartbeatTimer) this.#scheduleHeartbeat();
  }

  #remove(client: Client, closeStream: boolean): void {
    if (client.closed) return;
    client.closed = true;
    this.#clients.delete(client);
    this.counters.clients = this.#clients.size;
    if (closeStream) {
      try {
        client.controller.close();
      } catch {
        // Already closed or errored by the runtime: nothing to do.
      }
    }
    if (this.#clients.size === 0) {
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
      this.#flushTimer?.cancel();
      this.#flushTimer = undefined;
      this.#heartbeatTimer?.cancel();
      this.#heartbeatTimer = undefined;
      this.#dirty.clear();
    }
  }

  #onChange(change: DashboardChange): void {
    this.counters.changes++;
    if (change.lwsName === undefined) return;
    this.#dirty.add(`${change.namespace}/${change.lwsName}`);
    if (this.#flushTimer) return;
    const now = this.#clock.now();
    // Trailing edge: wait a moment to collect the rest of a burst, and never flush more often than the interval.
    const delay = Math.max(Math.min(25, this.#intervalMs), this.#lastFlush + this.#intervalMs - now);
    this.#flushTimer = this.#clock.setTimer(delay, () => this.#flush());
  }

  #flush(): void {
    this.#flushTimer = undefined;
    this.#lastFlush = this.#clock.now();
    if (this.#dirty.size === 0) return;
    const dirty = [...this.#dirty].map((key) => {
      const slash = key.indexOf("/");
      return [key.slice(0, slash), key.slice(slash + 1)] as const;
    });
    this.#dirty.clear();
    this.counters.flushes++;
    const started = performance.now();
    const payloads = new Map<string, string>();
    for (const client of [...this.#clients]) {
      const { view } = client;
      let payload = payloads.get(view.id);
      if (payload === undefined) {
        if (!dirty.some(([ns, name]) => view.concerns(ns, name))) continue;
        payload = JSON.stringify(this.#render(view));
        payloads.set(view.id, payload);
      }
      this.#sendView(client, payload);
    }
    this.counters.flushMs += performance.now() - started;
  }

  #render(view: LiveView): unknown {
    this.counters.renders++;
    return view.render();
  }

  #sendView(client: Client, payload: string): void {
    if (payload === client.lastPayload) return;
    client.lastPayload = payload;
    this.counters.messages++;
    this.#write(client, `event: view\ndata: ${payload}\n\n`);
  }

  #scheduleHeartbeat(): void {
    this.#heartbeatTimer = this.#clock.setTimer(this.#heartbeatMs, () => {
      const message = `event: ping\ndata: ${JSON.stringify({ t: this.#clock.now() })}\n\n`;
      for (const client of [...this.#clients]) this.#write(client, message);
      this.#refresh();
      if (this.#clients.size > 0) this.#scheduleHeartbeat();
      else this.#heartbeatTimer = undefined;
    });
  }

  /**
   * Renders every watched view again, though nothing changed: views carry ages ("3m ago") and time windows (a
   * recent group recreation), which move with the clock alone. Only views whose payload differs are sent.
   */
  #refresh(): void {
    const started = performance.now();
    const payloads = new Map<string, string>();
    for (const client of [...this.#clients]) {
      let payload = payloads.get(client.view.id);
      if (payload === undefined) {
        payload = JSON.stringify(this.#render(client.view));
        payloads.set(client.view.id, payload);
      }
      this.#sendView(client, payload);
    }
    this.counters.flushMs += performance.now() - started;
  }

  #write(client: Client, text: string): void {
    if (client.closed) return;
    const bytes = encoder.encode(text);
    try {
      client.controller.enqueue(bytes);
      this.counters.bytes += bytes.length;
    } catch {
      this.#remove(client, false);
      return;
    }
    const queued = HIGH_WATER_MARK - (client.controller.desiredSize ?? HIGH_WATER_MARK);
    if (queued > this.#maxBacklog) {
      // The client reads slower than we write: drop it; EventSource reconnects and gets the current view.
      this.counters.dropped++;
      this.#remove(client, true);
    }
  }
}
