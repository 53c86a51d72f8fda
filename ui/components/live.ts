/**
 * The live channel as islands see it: a Preact context holding the page's one SSE connection (client only; on the
 * server the context is empty and islands render their initial props), and a hook that follows it.
 *
 * @module
 */
import { type Context, createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";

/** Connection state shown by the connection badge. */
export type LiveState = "connecting" | "live" | "reconnecting" | "stale";

/** What islands need from the page's live connection (implemented by `ui/islands/live_channel.ts`). */
export interface LiveSource {
  /** Subscribes to `view` messages; the listener gets the parsed JSON. Returns an unsubscribe function. */
  onView(listener: (view: unknown) => void): () => void;
  /** Subscribes to state changes; called at once with the current state. Returns an unsubscribe function. */
  onState(listener: (state: LiveState, lastMessageAt: number | undefined) => void): () => void;
  /** Switches the stream to `url` (another page of the grid, other filters). */
  connect(url: string): void;
  /** The stream URL in use. */
  url(): string;
}

/** The page's live connection; `null` during server rendering. */
export const LiveContext: Context<LiveSource | null> = createContext<LiveSource | null>(null);

/**
 * Follows the live stream: starts from `initial` and replaces it with `select(message)` for every `view` message
 * that `select` accepts (returns non-`undefined` for).
 *
 * @param initial The server-rendered value.
 * @param select Picks this island's part of a message.
 * @returns The current value.
 */
export function useLive<T>(initial: T, select: (message: unknown) => T | undefined): T {
  const live = useContext(LiveContext);
  const [value, setValue] = useState(initial);
  useEffect(() => {
    if (!live) return;
    return live.onView((message) => {
      const next = select(message);
      if (next !== undefined) setValue(next);
    });
  }, [live]);
  return value;
}
