# The engine watch: does one engine misbehave? Asked by the Planning Engine's schedule once a minute for
# every engine that called in the current or the previous minute. Input: {"deployment": {"phase":
# "engine_watch"}, "engine": {"engine_id", "minute", "checks", "denied", "limited"}}, the engine's
# counters of that minute as the check path stored them (AggregatesTable, pk CHECKS: one item a minute,
# never a scan). Thresholds live in data.json (data.gate.engine_anomaly); what happens to an engine
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

engine_watch_decision := {"allow": count(anomaly_reasons) == 0, "deny": sort(anomaly_reasons), "notes": []}
