# After a deployment: may the new version stay? Asked by the deployment watch on every schedule tick
# of a bake. Input: {"deployment": {"phase": "post_deploy", "version", "baseline_version",
# "bake": {"elapsed_seconds", "bake_seconds", "final"}}, "facts": {"candidate_health", "baseline_health"}}.
# Each health fact's value: {"events", "errors", "error_rate", "latency_p95_ms", "reporters"} of one
# version in that environment (the candidate since the deployment, the baseline before it; null when
# there is none), counting only engines entitled to report there. "reporters" holds each reporting
# engine's own {"events", "errors", "error_rate", "latency_p95_ms"}: every reporter with enough events
# is judged on its own traffic against its own baseline, and any one that sees the version fail rolls
# it back, so one reporter's successes cannot dilute another's errors. The totals are judged too
# (they catch several reporters each below min_events) unless there is just one reporter.
# Thresholds and the no-signal choice live in data.json (data.gate.post_deploy).
#
# verdict: "continue" (keep baking), "healthy" (bake over, clean), "rollback", "no_signal" (bake over
# with too little traffic to judge, and the data says keep), "undecided" (facts unusable: ask again).
package gate

import rego.v1

post_deploy_phase if input.deployment.phase == "post_deploy"

post_deploy_facts := {"candidate_health", "baseline_health"}

post_deploy_problems contains sprintf("fact %s is missing", [id]) if {
	some id in post_deploy_facts
	not input.facts[id]
}

post_deploy_problems contains sprintf("fact %s is unavailable: %s", [id, f.error]) if {
	some id in post_deploy_facts
	f := input.facts[id]
	f.error
}

post_deploy_problems contains sprintf("fact %s is stale (%vs old)", [id, f.age_seconds]) if {
	some id in post_deploy_facts
	f := input.facts[id]
	f.stale
	not f.error
}

candidate_signal if input.facts.candidate_health.value.events >= data.gate.post_deploy.min_events

baseline_signal if input.facts.baseline_health.value.events >= data.gate.post_deploy.min_events

default baseline_error_rate := 0

baseline_error_rate := input.facts.baseline_health.value.error_rate if baseline_signal

post_deploy_deny contains sprintf(
	"error rate of %s is %v%% over %v events: above %v%% and more than %v points above the previous version's %v%%",
	[
		input.deployment.version, pct(input.facts.candidate_health.value.error_rate),
		input.facts.candidate_health.value.events, pct(data.gate.post_deploy.max_error_rate),
		pct(data.gate.post_deploy.max_error_rate_increase), pct(baseline_error_rate),
	],
) if {
	judged_total
	candidate_signal
	rate := input.facts.candidate_health.value.error_rate
	rate > data.gate.post_deploy.max_error_rate
	rate > baseline_error_rate + data.gate.post_deploy.max_error_rate_increase
}

post_deploy_deny contains sprintf(
	"p95 latency of %s is %v ms: more than %vx and %v ms above the previous version's %v ms",
	[
		input.deployment.version, input.facts.candidate_health.value.latency_p95_ms,
		data.gate.post_deploy.max_latency_ratio, data.gate.post_deploy.min_latency_increase_ms,
		input.facts.baseline_health.value.latency_p95_ms,
	],
) if {
	judged_total
	candidate_signal
	baseline_signal
	slow := input.facts.candidate_health.value.latency_p95_ms
	usual := input.facts.baseline_health.value.latency_p95_ms
	is_number(slow)
	is_number(usual)
	slow > usual * data.gate.post_deploy.max_latency_ratio
	slow - usual > data.gate.post_deploy.min_latency_increase_ms
}

reporter_count := count(object.get(input.facts.candidate_health.value, "reporters", {}))

judged_total if reporter_count != 1

# A reporter's own baseline error rate: what it saw of the previous version, when that was enough to judge.
reporter_baseline_rate(name) := rate if {
	row := input.facts.baseline_health.value.reporters[name]
	row.events >= data.gate.post_deploy.min_events
	rate := row.error_rate
} else := 0

post_deploy_deny contains sprintf(
	"error rate of %s is %v%% over %v events reported by engine %s: above %v%% and more than %v points above the %v%% it saw of the previous version",
	[
		input.deployment.version, pct(row.error_rate), row.events, name,
		pct(data.gate.post_deploy.max_error_rate), pct(data.gate.post_deploy.max_error_rate_increase),
		pct(reporter_baseline_rate(name)),
	],
) if {
	some name, row in input.facts.candidate_health.value.reporters
	row.events >= data.gate.post_deploy.min_events
	row.error_rate > data.gate.post_deploy.max_error_rate
	row.error_rate > reporter_baseline_rate(name) + data.gate.post_deploy.max_error_rate_increase
}

post_deploy_deny contains sprintf(
	"p95 latency of %s is %v ms as reported by engine %s: more than %vx and %v ms above the %v ms it saw of the previous version",
	[
		input.deployment.version, slow, name, data.gate.post_deploy.max_latency_ratio,
		data.gate.post_deploy.min_latency_increase_ms, usual,
	],
) if {
	some name, row in input.facts.candidate_health.value.reporters
	row.events >= data.gate.post_deploy.min_events
	before := input.facts.baseline_health.value.reporters[name]
	before.events >= data.gate.post_deploy.min_events
	slow := row.latency_p95_ms
	usual := before.latency_p95_ms
	is_number(slow)
	is_number(usual)
	slow > usual * data.gate.post_deploy.max_latency_ratio
	slow - usual > data.gate.post_deploy.min_latency_increase_ms
}

bake_over if input.deployment.bake.final == true

no_signal_reason := sprintf(
	"no signal: %s served %v event(s) during the bake (at least %v needed to judge it)",
	[input.deployment.version, object.get(input.facts, ["candidate_health", "value", "events"], 0), data.gate.post_deploy.min_events],
)

default post_deploy_verdict := "undecided"

post_deploy_verdict := "rollback" if {
	count(post_deploy_problems) == 0
	count(post_deploy_deny) > 0
}

post_deploy_verdict := "continue" if {
	count(post_deploy_problems) == 0
	count(post_deploy_deny) == 0
	not bake_over
}

post_deploy_verdict := "healthy" if {
	count(post_deploy_problems) == 0
	count(post_deploy_deny) == 0
	bake_over
	candidate_signal
}

post_deploy_verdict := verdict if {
	count(post_deploy_problems) == 0
	count(post_deploy_deny) == 0
	bake_over
	not candidate_signal
	verdict := {"keep": "no_signal", "rollback": "rollback"}[data.gate.post_deploy.on_no_signal]
}

post_deploy_reasons := post_deploy_problems if count(post_deploy_problems) > 0

post_deploy_reasons := post_deploy_deny if {
	count(post_deploy_problems) == 0
	count(post_deploy_deny) > 0
}

post_deploy_reasons := {no_signal_reason} if {
	count(post_deploy_problems) == 0
	count(post_deploy_deny) == 0
	post_deploy_verdict == "rollback"
}

default post_deploy_reasons := set()

default post_deploy_notes := []

post_deploy_notes := [no_signal_reason] if post_deploy_verdict == "no_signal"

post_deploy_decision := {
	"allow": post_deploy_verdict in {"continue", "healthy", "no_signal"},
	"deny": sort(post_deploy_reasons),
	"verdict": post_deploy_verdict,
	"notes": post_deploy_notes,
}
