# The default deployment gate. Input: {"deployment": {...}, "facts": {id: {value, stale, age_seconds, error}}}.
# Thresholds live in data.json (data.gate). A fact that is missing, stale or errored denies.
package gate

import rego.v1

protected if input.deployment.environment in data.gate.protected_environments

# A fact's value, only when it is present and fresh.
fresh(id) := input.facts[id].value if not input.facts[id].stale

pct(x) := round(x * 1000) / 10

deny contains sprintf("fact %s is missing", [id]) if {
	some id in data.gate.required_facts
	not input.facts[id]
}

deny contains sprintf("fact %s is unavailable: %s", [id, input.facts[id].error]) if {
	some id in data.gate.required_facts
	input.facts[id].error
}

deny contains sprintf("fact %s is stale (%vs old)", [id, input.facts[id].age_seconds]) if {
	some id in data.gate.required_facts
	input.facts[id].stale
	not input.facts[id].error
}

deny contains sprintf("error rate %v%% is above %v%%", [pct(rate), pct(data.gate.thresholds.max_error_rate)]) if {
	rate := fresh("error_rate")
	rate > data.gate.thresholds.max_error_rate
}

deny contains sprintf("%v critical alert(s) open (at most %v allowed)", [n, data.gate.thresholds.max_open_critical_alerts]) if {
	n := fresh("open_critical_alerts")
	n > data.gate.thresholds.max_open_critical_alerts
}

deny contains sprintf("platform %s is in maintenance", [name]) if {
	some name in fresh("platforms_in_maintenance")
}

deny contains sprintf("change freeze is active for %s", [input.deployment.environment]) if {
	protected
	fresh("change_freeze") == true
}

deny contains sprintf("production lags staging by %v versions (at most %v allowed)", [n, data.gate.thresholds.max_versions_behind]) if {
	protected
	n := fresh("versions_behind")
	is_number(n)
	n > data.gate.thresholds.max_versions_behind
}

default allow := false

allow if count(deny) == 0

decision := {"allow": allow, "deny": sort(deny)}
