/**
 * Starting control-plane processes that outlive the command that starts them, and stopping exactly those processes
 * again (by recorded PID, after checking `/proc/<pid>/cmdline`). Linux only.
 *
 * @module
 */
import type { ProcessRecord } from "./state.ts";

/**
 * Starts `record.binary` with `record.args` in a new session (`setsid`), detached from the caller: stdin is
 * `/dev/null`, stdout and stderr are appended to `record.log`. The launcher shell exits at once, so nothing stays
 * pending in the calling Deno process (test sanitizers stay quiet) and the process survives the caller.
 *
 * @param record what to start (`pid` is ignored)
 * @returns the PID of the started binary
 * @throws when the launcher fails or the process is gone right after starting
 */
export async function spawnDetached(record: Omit<ProcessRecord, "pid">): Promise<number> {
  // `sh -c` without job control does not make the background job a process-group leader, so `setsid` calls
  // setsid(2) and execs in place: `$!` is the PID of the binary itself.
  const script = 'LOG="$1"; shift; setsid "$@" </dev/null >>"$LOG" 2>&1 & echo $!';
  const output = await new Deno.Command("sh", {
    args: ["-c", script, "sh", record.log, record.binary, ...record.args],
    env: record.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  const pid = Number(text);
  if (!output.success || !Number.isInteger(pid) || pid <= 0) {
    throw new Error(
      `Cannot start ${record.binary}: launcher exited ${output.code}, printed ${JSON.stringify(text)}: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  // Between fork and exec the PID still shows `setsid`: wait until it is the binary, so the recorded PID is
  // verifiably ours from the first moment.
  const deadline = Date.now() + 5_000;
  while (!(await isOurs({ ...record, pid }))) {
    if (Date.now() > deadline) {
      throw new Error(`Cannot start ${record.binary}: PID ${pid} exited or is not it\n${await tailFile(record.log)}`);
    }
    await sleep(10);
  }
  return pid;
}

/**
 * Reads the argument vector of a running process.
 *
 * @param pid the process
 * @returns argv, or `undefined` when the process does not exist or is a zombie
 */
export async function commandLine(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // The state is the field after the parenthesised command name: "Z" is a zombie (exited, not yet reaped).
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return undefined;
    const raw = await Deno.readTextFile(`/proc/${pid}/cmdline`);
    return raw.split("\0").filter((part, index, all) => index < all.length - 1 || part !== "");
  } catch {
    return undefined;
  }
}

/**
 * Whether `record.pid` is alive and still the process we started: its argv is exactly `[binary, ...args]`. A PID
 * reused by some other process never matches, so it is never signalled.
 *
 * @param record the recorded process
 * @returns true when the PID is alive and ours
 */
export async function isOurs(record: ProcessRecord): Promise<boolean> {
  const argv = await commandLine(record.pid);
  if (!argv) return false;
  const expected = [record.binary, ...record.args];
  return argv.length === expected.length && argv.every((part, index) => part === expected[index]);
}

/**
 * Stops a recorded process if it is alive and ours: `signal` first (SIGTERM by default), SIGKILL after `graceMs`.
 * Waits until it is gone.
 *
 * @param record the recorded process
 * @param options `signal` to send first, `graceMs` before SIGKILL (default 10 s)
 * @returns `"stopped"`, `"not running"` (dead already) or `"not ours"` (PID reused by another program: left alone)
 */
export async function stopProcess(
  record: ProcessRecord,
  options: { signal?: Deno.Signal; graceMs?: number } = {},
): Promise<"stopped" | "not running" | "not ours"> {
  const argv = await commandLine(record.pid);
  if (!argv) return "not running";
  if (!(await isOurs(record))) return "not ours";
  const signal = options.signal ?? "SIGTERM";
  const deadline = Date.now() + (options.graceMs ?? 10_000);
  trySignal(record.pid, signal);
  while (await commandLine(record.pid)) {
    if (signal !== "SIGKILL" && Date.now() > deadline) {
      trySignal(record.pid, "SIGKILL");
    }
    await sleep(50);
  }
  return "stopped";
}

function trySignal(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Resolves after `ms` milliseconds (the timer is always cleared, so test sanitizers see nothing pending).
 *
 * @param ms how long to wait
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Reads the resident set size of a process from `/proc/<pid>/status`.
 *
 * @param pid the process
 * @returns bytes, or 0 when the process is gone
 */
export async function residentBytes(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const match = status.match(/^VmRSS:\s+(\d+)\s+kB$/m);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Prints the last lines of a log file, for error messages.
 *
 * @param path the log file
 * @param lines how many lines (default 25)
 * @returns the tail, or a note that the file could not be read
 */
export async function tailFile(path: string, lines = 25): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch (error) {
    return `(cannot read ${path}: ${error instanceof Error ? error.message : String(error)})`;
  }
}
