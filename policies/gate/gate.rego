# The default deployment gate. Input: {"deployment": {...}, "facts": {id: {value, stale, age_seconds, error}}}.
# Thresholds live in data.json (data.gate). A fact that is missing, stale or errored denies.
# The promoted version is judged by its own health in its source environment over the data's
# pre_deploy window (fact version_health); with too few events that is "no signal", which the data
# allows (a note on the decision) or, with pre_deploy.on_no_signal "deny", denies.
# A rollback (phase "rollback") to a known-good version is allowed whatever the facts say, since that
# is how an environment gets back to safety; any other rollback (an admin's forced one) is judged like
# a promotion.
# Written for regopy (rego-cpp): rules read data.gate.thresholds directly (a rule alias of it is
# reported as recursion), value rules read input.facts directly (helper functions cost ~100 us each), and
# the fact rules walk data.gate.required_facts rather than every input fact (60 us less per decision).
package gate

import rego.v1

protected if input.deployment.environment in data.gate.protected_environments

pct(x) := round(x * 1000) / 10

deny contains sprintf("fact %s is missing", [id]) if {
	some id in data.gate.required_facts
	not input.facts[id]
}

deny contains sprintf("fact %s is unavailable: %s", [id, f.error]) if {
	some id in data.gate.required_facts
	f := input.facts[id]
	f.error
}

deny contains sprintf("fact %s is stale (%vs old)", [id, f.age_seconds]) if {
	some id in data.gate.required_facts
	f := input.facts[id]
	f.stale
	not f.error
}

health := input.facts.version_health.value if not input.facts.version_health.stale

version_signal if health.events >= data.gate.pre_deploy.min_events

judged := sprintf("%s in %s over the last %vs", [health.version, health.environment, health.window_seconds])

deny contains sprintf("error rate of %s is %v%% over %v events: above %v%%", [judged, pct(health.error_rate), health.events, pct(data.gate.thresholds.max_error_rate)]) if {
	version_signal
	health.error_rate > data.gate.thresholds.max_error_rate
}

deny contains sprintf("p95 latency of %s is %v ms: above %v ms", [judged, health.latency_p95_ms, data.gate.thresholds.max_latency_p95_ms]) if {
	version_signal
	is_number(health.latency_p95_ms)
	is_number(data.gate.thresholds.max_latency_p95_ms)
	health.latency_p95_ms > data.gate.thresholds.max_latency_p95_ms
}

no_signal := sprintf("no signal: %s served %v event(s) (at least %v needed to judge it)", [judged, health.events, data.gate.pre_deploy.min_events]) if {
	not version_signal
	is_number(health.events)
}

deny contains no_signal if data.gate.pre_deploy.on_no_signal == "deny"

default pre_deploy_notes := []

pre_deploy_notes := [no_signal] if {
	no_signal
	data.gate.pre_deploy.on_no_signal != "deny"
}

deny contains sprintf("%v critical alert(s) open (at most %v allowed)", [n, data.gate.thresholds.max_open_critical_alerts]) if {
	f := input.facts.open_critical_alerts
	not f.stale
	n := f.value
	n > data.gate.thresholds.max_open_critical_alerts
}

deny contains sprintf("platform %s is in maintenance", [name]) if {
	f := input.facts.platforms_in_maintenance
	not f.stale
	some name in f.value
}

deny contains sprintf("change freeze is active for %s", [input.deployment.environment]) if {
	f := input.facts.change_freeze
	not f.stale
	f.value == true
	protected
}

deny contains sprintf("production lags staging by %v versions (at most %v allowed)", [n, data.gate.thresholds.max_versions_behind]) if {
	f := input.facts.versions_behind
	not f.stale
	n := f.value
	is_number(n)
	n > data.gate.thresholds.max_versions_behind
	protected
}

default allow := false

allow if count(deny) == 0

rollback_phase if input.deployment.phase == "rollback"

known_good_rollback if {
	rollback_phase
	input.deployment.rollback.known_good == true
}

rollback_note := sprintf("rollback of %s from %v to %s, a version it ran before that no rollback left: allowed during a change freeze, with alerts open and whatever the facts", [input.deployment.environment, object.get(input.deployment.rollback, "from_version", null), input.deployment.version])

# Before a deployment: may it go ahead? After one (phase post_deploy, see post_deploy.rego): may it stay?
# A rollback to a known-good version: yes; a forced one: as a promotion would be judged.
decision := {"allow": allow, "deny": sort(deny), "notes": pre_deploy_notes} if {
	not post_deploy_phase
	not engine_watch_phase
	not known_good_rollback
}

decision := {"allow": true, "deny": [], "notes": [rollback_note]} if known_good_rollback

decision := post_deploy_decision if post_deploy_phase

# An engine's counters of one minute (phase engine_watch, see engine_anomaly.rego): does it misbehave?
decision := engine_watch_decision if engine_watch_phase
