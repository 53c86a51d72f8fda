/**
 * Test helpers of the dashboard (package-internal).
 *
 * @module
 */

/** One parsed SSE message. */
export interface SseMessage {
  /** Event name (`message` when absent). */
  event: string;
  /** Data lines joined with newlines. */
  data: string;
}

/**
 * Reads an SSE body in the background and collects parsed messages, so a test can advance a fake clock and then
 * look at what arrived. `stop()` cancels the stream.
 */
export function collect(body: ReadableStream<Uint8Array>): { messages: SseMessage[]; stop(): Promise<void> } {
  const messages: SseMessage[] = [];
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const done = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        if (data.length) messages.push({ event, data: data.join("\n") });
      }
    }
  })();
  return {
    messages,
    stop: async () => {
      await reader.cancel();
      await done;
    },
  };
}
