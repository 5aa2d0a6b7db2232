# The engine watch: does one engine misbehave? Asked by the Planning Engine's schedule once a minute for
# every engine that called in the current or the previous minute. Input: {"deployment": {"phase":
# "engine_watch"}, "engine": {"engine_id", "minute", "checks", "denied", "limited", "auth_failed"}}, the
# engine's counters of that minute as the request path stored them (AggregatesTable, pk CHECKS: one item a
# minute, never a scan; auth_failed counts the 401s of requests naming the engine's id). Thresholds live in data.json (data.gate.engine_anomaly); what happens to an engine
# judged anomalous ("alert", or "suspend" as well) is read by the Planning Engine from on_anomaly there.
# Each reason names the engine and the numbers; no reason: the engine behaves.
package gate

import rego.v1

engine_watch_phase if input.deployment.phase == "engine_watch"

watched := input.engine

anomaly_reasons contains sprintf(
	"engine %s: %v of %v checks denied in minute %s (%v%%, above %v%% over at least %v checks)",
	[
		watched.engine_id, watched.denied, watched.checks, watched.minute,
		pct(watched.denied / watched.checks), pct(data.gate.engine_anomaly.max_denied_share),
		data.gate.engine_anomaly.min_checks,
	],
) if {
	watched.checks >= data.gate.engine_anomaly.min_checks
	watched.denied / watched.checks > data.gate.engine_anomaly.max_denied_share
}

anomaly_reasons contains sprintf(
	"engine %s: %v requests refused by its rate limit (429) in minute %s (above %v)",
	[watched.engine_id, watched.limited, watched.minute, data.gate.engine_anomaly.max_limited_per_minute],
) if {
	watched.limited > data.gate.engine_anomaly.max_limited_per_minute
}

# Failed authentications are made by whoever sends the engine's id, not by the engine: they raise the alert
# but are never grounds to suspend it (else anyone knowing an id could have its engine suspended). They are
# listed in notes, which the Planning Engine leaves out when it decides whether on_anomaly "suspend" applies.
credential_reasons contains sprintf(
	"engine %s: %v failed authentications (401) naming it in minute %s (above %v)",
	[watched.engine_id, auth_failed, watched.minute, data.gate.engine_anomaly.max_auth_failures_per_minute],
) if {
	auth_failed > data.gate.engine_anomaly.max_auth_failures_per_minute
}

auth_failed := object.get(watched, "auth_failed", 0)

anomaly_reasons contains reason if some reason in credential_reasons

engine_watch_decision := {
	"allow": count(anomaly_reasons) == 0,
	"deny": sort(anomaly_reasons),
	"notes": sort(credential_reasons),
}
