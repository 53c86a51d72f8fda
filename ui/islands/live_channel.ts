/**
 * The page's one Server-Sent Events connection (browser only). Reconnects after a drop (EventSource retries by
 * itself; when it gives up or the stream goes silent for longer than two heartbeats, this reopens it with backoff),
 * and reports `live` / `reconnecting` / `stale` so the page can say it is showing old data.
 *
 * @module
 */
import type { LiveSource, LiveState } from "../components/live.ts";

/** Options of a {@linkcode LiveChannel}. */
export interface LiveChannelOptions {
  /** Heartbeat assumed until the server's `hello` says otherwise. */
  heartbeatMs?: number;
}

/** A reconnecting EventSource with view and state listeners. */
export class LiveChannel implements LiveSource {
  #url: string;
  #source: EventSource | undefined;
  #views = new Set<(view: unknown) => void>();
  #states = new Set<(state: LiveState, lastMessageAt: number | undefined) => void>();
  #state: LiveState = "connecting";
  #lastMessageAt: number | undefined;
  #heartbeatMs: number;
  #retryMs = 1000;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #lastReopen = 0;

  /**
   * Creates a channel; nothing connects until {@linkcode LiveChannel.start}.
   *
   * @param url initial stream URL
   * @param options heartbeat assumption
   */
  constructor(url: string, options: LiveChannelOptions = {}) {
    this.#url = url;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
  }

  /** Opens the stream and starts the staleness watchdog. */
  start(): void {
    // The server-rendered data is fresh at load: staleness counts from now.
    this.#lastMessageAt = Date.now();
    this.#open();
    this.#watchdog = setInterval(() => this.#check(), 1000);
    addEventListener("online", () => this.#reopen());
  }

  url(): string {
    return this.#url;
  }

  connect(url: string): void {
    if (url === this.#url && this.#source) return;
    this.#url = url;
    this.#reopen();
  }

  onView(listener: (view: unknown) => void): () => void {
    this.#views.add(listener);
    return () => this.#views.delete(listener);
  }

  onState(listener: (state: LiveState, lastMessageAt: number | undefined) => void): () => void {
    this.#states.add(listener);
    listener(this.#state, this.#lastMessageAt);
    return () => this.#states.delete(listener);
  }

  #open(): void {
    clearTimeout(this.#retryTimer);
    const source = new EventSource(this.#url);
    this.#source = source;
    source.addEventListener("hello", (e) => {
      const hello = JSON.parse((e as MessageEvent).data) as { heartbeatMs?: number };
      if (hello.heartbeatMs) this.#heartbeatMs = hello.heartbeatMs;
      this.#alive();
    });
    source.addEventListener("view", (e) => {
      this.#alive();
      const view = JSON.parse((e as MessageEvent).data);
      for (const listener of this.#views) listener(view);
    });
    source.addEventListener("ping", () => this.#alive());
    source.onerror = () => {
      if (source !== this.#source) return;
      if (this.#state === "live") this.#setState("reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. an HTTP error): retry ourselves, backing off to 30 s.
        this.#retryTimer = setTimeout(() => this.#open(), this.#retryMs);
        this.#retryMs = Math.min(this.#retryMs * 2, 30_000);
      }
    };
  }

  #reopen(): void {
    this.#source?.close();
    this.#source = undefined;
    if (this.#state === "live") this.#setState("reconnecting");
    this.#open();
  }

  #alive(): void {
    this.#lastMessageAt = Date.now();
    this.#retryMs = 1000;
    this.#setState("live");
  }

  #check(): void {
    const now = Date.now();
    const silentFor = now - (this.#lastMessageAt ?? now);
    if (silentFor <= this.#heartbeatMs * 2 + 5000) return;
    if (this.#state !== "stale") {
      this.#state = "stale";
      this.#emit();
    }
    // A silent stream may be a half-open TCP connection the browser will not notice: reopen it now and then.
    if (now - this.#lastReopen >= 15_000) {
      this.#lastReopen = now;
      this.#reopen();
    }
  }

  #setState(state: LiveState): void {
    if (this.#state === "stale" && state === "reconnecting") return;
    if (this.#state === state) return;
    this.#state = state;
    this.#emit();
  }

  #emit(): void {
    for (const listener of this.#states) listener(this.#state, this.#lastMessageAt);
  }
}
