/**
 * Logging of the binary (`@logtape/logtape`), in one of two formats:
 *
 * - `text`: zap's development console format, which upstream's e2e tests grep —
 *   `<ISO time>\t<LEVEL>\t<logger name>\t<message>\t<JSON of the fields>`, e.g.
 *   `2026-01-02T03:04:05.678Z\tINFO\tcontroller-runtime.metrics\tServing metrics server\t{"bindAddress":":8443","secure":true}`.
 *   The logger name is the logtape category joined with dots; the fields part is left out when there are none.
 * - `json`: one JSON object a line: `{"level":"info","ts":"…","logger":"…","msg":"…",…fields}`.
 *
 * Everything goes to stderr; stdout stays for command output (`lws version`).
 *
 * @module
 */
import { configure, type LogRecord, reset } from "@logtape/logtape";
import type { LogFormat, LogLevel } from "../config.ts";

const ZAP_LEVELS: Record<string, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
  fatal: "FATAL",
};

/** Options of {@linkcode configureLogging}. */
export interface LoggingOptions {
  /** Lowest level logged. */
  level: LogLevel;
  /** Line format. */
  format: LogFormat;
  /** Where lines go (default: synchronously to stderr). Gets one line without the newline. */
  write?: (line: string) => void;
}

/** A field value as it appears in the logs: errors as their message, everything else JSON-safe. */
function plain(value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Set) return [...value];
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return value;
  const p = plain(value);
  if (typeof p === "string") return p;
  try {
    return JSON.stringify(p) ?? String(p);
  } catch {
    return String(p);
  }
}

function fieldsJson(properties: Record<string, unknown>): string | undefined {
  const entries = Object.entries(properties);
  if (entries.length === 0) return undefined;
  try {
    return JSON.stringify(Object.fromEntries(entries.map(([k, v]) => [k, plain(v)])));
  } catch {
    return JSON.stringify(Object.fromEntries(entries.map(([k, v]) => [k, String(v)])));
  }
}

/**
 * Renders the message of a record: template parts verbatim, substituted values as text (strings raw, the rest JSON).
 *
 * @param record A log record.
 * @returns The message text.
 */
export function renderMessage(record: Pick<LogRecord, "message">): string {
  return record.message.map((part, i) => (i % 2 === 0 ? String(part) : renderValue(part))).join("");
}

/**
 * Formats a record in zap's development console format (see the module documentation).
 *
 * @param record A log record.
 * @returns One line, without a newline.
 */
export function formatText(record: LogRecord): string {
  const parts = [
    new Date(record.timestamp).toISOString(),
    ZAP_LEVELS[record.level] ?? record.level.toUpperCase(),
    record.category.join("."),
    renderMessage(record),
  ];
  const fields = fieldsJson(record.properties);
  if (fields !== undefined) parts.push(fields);
  return parts.join("\t");
}

/**
 * Formats a record as one JSON object (zap's production encoder field names).
 *
 * @param record A log record.
 * @returns One line, without a newline.
 */
export function formatJson(record: LogRecord): string {
  const fields = Object.fromEntries(Object.entries(record.properties).map(([k, v]) => [k, plain(v)]));
  const line = {
    level: record.level === "warning" ? "warn" : record.level,
    ts: new Date(record.timestamp).toISOString(),
    logger: record.category.join("."),
    msg: renderMessage(record),
    ...fields,
  };
  try {
    return JSON.stringify(line);
  } catch {
    return JSON.stringify({ ...line, ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])) });
  }
}

const encoder = new TextEncoder();

/**
 * Writes all of a line to stderr synchronously (log lines from many loops never interleave mid-line). When stderr
 * is gone (a closed pipe), lines are dropped: losing the log must not stop the controller.
 */
function writeStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  try {
    while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
  } catch {
    // Broken pipe or closed stderr: nothing sensible to do with the line.
  }
}

/**
 * Configures logtape for the whole process (replacing any earlier configuration): every category at `level` and
 * above, logtape's own meta logger at warning and above.
 *
 * @param options Level, format and an optional line writer.
 */
export async function configureLogging(options: LoggingOptions): Promise<void> {
  const format = options.format === "json" ? formatJson : formatText;
  const write = options.write ?? writeStderr;
  await configure({
    reset: true,
    sinks: { out: (record: LogRecord) => write(format(record)) },
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"], parentSinks: "override" },
      { category: [], lowestLevel: options.level, sinks: ["out"] },
    ],
  });
}

/** Drops the logging configuration (tests). */
export async function resetLogging(): Promise<void> {
  await reset();
}
