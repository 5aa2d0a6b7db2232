// Which routes an alert takes, evaluated in the browser exactly as the server does
// (layers/core/puraify/monitoring/routing.py): the first matching route, then on down the list
// while the route it took says `continue`. No match: the stack's default channels.

export const MATCH_FIELDS = ["severity", "platform", "engine", "environment", "error_type", "kind"];
export const SECRET_FIELDS = { webhook: "secret", pagerduty: "routing_key", slack: "webhook_url" };
export const CHANNEL_FIELDS = {
  webhook: ["url", "secret"],
  pagerduty: ["routing_key", "events_url"],
  slack: ["webhook_url"],
  email: ["topic_arn"],
};

/** The values routes and silences match on, from an alert (or the tester's form, same names). */
export function alertLabels(alert) {
  const details = alert.details || {};
  return {
    severity: alert.severity ?? null,
    kind: alert.event_type ?? alert.kind ?? null,
    platform: details.platform ?? alert.platform ?? null,
    engine: details.engine || alert.engine || alert.triggered_by || null,
    environment: details.environment ?? alert.environment ?? null,
    error_type: details.error_type ?? alert.error_type ?? null,
  };
}

function listOf(wanted) {
  if (wanted === undefined || wanted === null || wanted === "") return [];
  return Array.isArray(wanted) ? wanted : [wanted];
}

/** Every field the match names holds the alert's value, case-insensitively. */
export function matches(match, labels) {
  for (const name of MATCH_FIELDS) {
    const wanted = listOf((match || {})[name]);
    if (wanted.length) {
      const value = labels[name];
      if (value === null || value === undefined || value === "") return false;
      if (!wanted.map((w) => String(w).toLowerCase()).includes(String(value).toLowerCase())) return false;
    }
  }
  return true;
}

/** The routes an alert takes: the first match, then on while the matched route says `continue`. */
export function take(routes, labels) {
  const taken = [];
  for (const route of routes || []) {
    if (matches(route.match || {}, labels)) {
      taken.push(route);
      if (!route.continue) break;
    }
  }
  return taken;
}

/** "critical, high" -> ["critical", "high"]; "" -> undefined (the field is not matched on). */
export function parseValues(text) {
  const values = String(text || "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
  return values.length ? values : undefined;
}

export function isMasked(value) {
  return typeof value === "string" && value.startsWith("****");
}
