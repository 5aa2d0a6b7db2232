# The default deployment gate. Input: {"deployment": {...}, "facts": {id: {value, stale, age_seconds, error}}}.
# Thresholds live in data.json (data.gate). A fact that is missing, stale or errored denies.
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

deny contains sprintf("error rate %v%% is above %v%%", [pct(rate), pct(data.gate.thresholds.max_error_rate)]) if {
	f := input.facts.error_rate
	not f.stale
	rate := f.value
	rate > data.gate.thresholds.max_error_rate
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

# Before a deployment: may it go ahead? After one (phase post_deploy, see post_deploy.rego): may it stay?
decision := {"allow": allow, "deny": sort(deny)} if not post_deploy_phase

decision := post_deploy_decision if post_deploy_phase
