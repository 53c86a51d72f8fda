/**
 * Counting the controller's API requests from the API server's side: the audit log (JSON lines, one event per
 * request stage) records every request of the controller's user with its `userAgent`. A request is counted once
 * (by `auditID`) in the window its `requestReceivedTimestamp` falls in, whatever stages were logged (a watch logs
 * `ResponseStarted` when it opens and `ResponseComplete` when it ends).
 *
 * @module
 */

/** The fields of an audit event the benchmark reads. */
interface AuditEvent {
  auditID?: string;
  verb?: string;
  userAgent?: string;
  requestReceivedTimestamp?: string;
}

/** A time window in epoch milliseconds, inclusive. */
export interface Window {
  from: number;
  to: number;
}

/** Requests counted in one window. */
export interface AuditCount {
  /** Distinct requests. */
  total: number;
  /** Distinct requests per Kubernetes verb (`get`, `list`, `watch`, `create`, `patch`, ...). */
  byVerb: Record<string, number>;
}

/**
 * Counts distinct requests whose user agent starts with `userAgentPrefix`, per window.
 *
 * @param text the audit log (JSON lines; unparsable lines are skipped)
 * @param windows the windows to count in
 * @param userAgentPrefix e.g. `lws/` (the product's user agent)
 * @returns one count per window, in order
 */
export function countRequests(text: string, windows: readonly Window[], userAgentPrefix: string): AuditCount[] {
  const seen = windows.map(() => new Set<string>());
  const counts: AuditCount[] = windows.map(() => ({ total: 0, byVerb: {} }));
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let event: AuditEvent;
    try {
      event = JSON.parse(line) as AuditEvent;
    } catch {
      continue; // a line cut by a concurrent write
    }
    if (!event.userAgent?.startsWith(userAgentPrefix) || !event.requestReceivedTimestamp) continue;
    const at = Date.parse(event.requestReceivedTimestamp);
    const id = event.auditID ?? `${at}-${Math.random()}`;
    windows.forEach((window, i) => {
      if (at < window.from || at > window.to || seen[i]!.has(id)) return;
      seen[i]!.add(id);
      const count = counts[i]!;
      count.total++;
      const verb = event.verb ?? "unknown";
      count.byVerb[verb] = (count.byVerb[verb] ?? 0) + 1;
    });
  }
  return counts;
}
