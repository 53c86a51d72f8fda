/**
 * Polling until something holds, for start-up and for tests.
 *
 * @module
 */
import { commandLine, isOurs, sleep, tailFile } from "./process.ts";
import type { ProcessRecord } from "./state.ts";

/** Options of {@linkcode eventually}. */
export interface EventuallyOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between checks (default 200 ms). */
  intervalMs?: number;
  /** Fail at once when this process dies meanwhile; the error then carries its log tail. */
  process?: ProcessRecord;
}

/**
 * Calls `check` until it returns something other than `undefined` or `false`, and returns that.
 *
 * @param what the awaited condition, for the error message
 * @param check the condition; a thrown error counts as "not yet" (the last one is reported on timeout)
 * @param options timeout, interval, and a process whose death makes waiting pointless
 * @returns the first result that is not `undefined`/`false`
 * @throws on timeout, or when `options.process` died
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (true) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = "";
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    const detail = last ? ` (last error: ${last})` : "";
    const process = options.process;
    if (process && !(await isOurs(process)) && (await sleep(100), !(await isOurs(process)))) {
      const argv = await commandLine(process.pid);
      const seen = argv
        ? `pid ${process.pid} is now ${JSON.stringify(argv.slice(0, 3))}…`
        : `pid ${process.pid} is gone`;
      throw new Error(
        `${process.binary} exited while waiting for ${what}${detail}; ${seen}\n--- last lines of ${process.log}:\n${await tailFile(
          process.log,
        )}`,
      );
    }
    if (Date.now() > deadline) {
      const tail = process ? `\n--- last lines of ${process.log}:\n${await tailFile(process.log)}` : "";
      throw new Error(`Timed out after ${timeoutMs / 1000}s waiting for ${what}${detail}${tail}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}
