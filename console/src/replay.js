// Session replay: a session's events in order, each with the check that allowed it where one exists.

export const MATCH_WINDOW_MS = 15 * 60 * 1000; // a check older than this before an event did not allow it

const engineOf = (event) => event.engine || event.reported_by || null;

/**
 * The control-plane decision behind `event` among `decisions` (audit timeline entries of kind
 * "decision"): the check of the same request when the event names its `request_id`; otherwise the
 * latest allowed check of the same engine, platform and action (and flow, when both name one) made at
 * most 15 minutes before the event. Null when there is none: the event was not checked.
 */
export function decisionFor(event, decisions) {
  const checks = decisions.filter((d) => d.decision === "check");
  if (event.request_id) {
    const same = checks.find((d) => d.request_id === event.request_id);
    if (same) return same;
  }
  const at = Date.parse(event.timestamp);
  let best = null;
  for (const d of checks) {
    const t = Date.parse(d.timestamp);
    if (d.status !== "allowed" || t > at || at - t > MATCH_WINDOW_MS) continue;
    if (d.engine_id !== engineOf(event) || d.platform !== event.platform || d.action_type !== event.action) continue;
    if (event.flow_id && d.flow_id && d.flow_id !== event.flow_id) continue;
    if (!best || t > Date.parse(best.timestamp)) best = d;
  }
  return best;
}

/** The steps of a replay, oldest first: `events` as `GET /monitoring/logs` answers them (newest first). */
export function replaySteps(events, decisions) {
  return [...events]
    .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0))
    .map((event, index) => ({
      index,
      event,
      engine: engineOf(event),
      error: /error|fail/i.test(event.status || "") || event.type === "error" ? [event.error_type, event.message].filter(Boolean).join(": ") || "error" : null,
      decision: decisionFor(event, decisions),
    }));
}
