"""The template is the single source of routes and resources: check what others rely on."""

from __future__ import annotations

import json

from local.template import ROOT, Template


def test_every_route_has_a_sample_event_in_its_function_folder():
    template = Template()
    missing = []
    for function in template.functions().values():
        folder = ROOT / "events" / function.folder.name
        keys = {json.loads(p.read_text()).get("routeKey") for p in folder.glob("*.json")} if folder.exists() else set()
        missing += [f"{r.method} {r.path}" for r in function.routes if f"{r.method} {r.path}" not in keys]
    assert not missing, f"routes without an event in events/<function>/: {missing}"


def test_every_function_has_its_handler_and_uses_the_core_layer():
    template = Template()
    for function in template.functions().values():
        module, attr = function.handler.rsplit(".", 1)
        source = (function.folder / f"{module}.py").read_text()
        assert f"def {attr}(" in source, function.logical_id
    assert "CoreLayer" in json.dumps(template.body["Globals"]["Function"]["Layers"])


def test_routes_are_unique():
    routes = [(r.method, r.path) for r in Template().routes()]
    assert len(routes) == len(set(routes))


def test_tables_with_records_that_expire_declare_ttl():
    template = Template()
    for name in ("AuditTable", "EventsTable"):
        ttl = template.tables()[name]["TimeToLiveSpecification"]
        assert ttl == {"AttributeName": "expires_at", "Enabled": True}


def test_dashboard_shows_checks_auth_failures_latency_errors_throttles_and_alerts_for_every_function():
    template = Template()
    body = template.resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    metrics = [
        tuple(m[:-1]) if isinstance(m[-1], dict) else tuple(m) for w in widgets for m in w["properties"]["metrics"]
    ]
    stats = {(m[1], m[3], m[-1]["stat"]) for w in widgets for m in w["properties"]["metrics"] if "stat" in m[-1]}
    for name in ("CheckAllowed", "CheckDenied", "CheckAuthFailures"):
        assert ("Puraify", name) in metrics
    assert ("Puraify", "AlertsRaised", "service", "puraify") in metrics
    for function in template.functions():
        ref = "${" + function + "}"
        assert ("Duration", ref, "p50") in stats and ("Duration", ref, "p99") in stats, function
        assert ("AWS/Lambda", "Errors", "FunctionName", ref) in metrics, function
        assert ("AWS/Lambda", "Throttles", "FunctionName", ref) in metrics, function
    for table in template.tables():
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
            assert ("AWS/DynamoDB", metric, "TableName", "${" + table + "}") in metrics, table


def test_checkov_skips_without_a_written_reason_or_readme_row_fail():
    """`make lint` runs checkov; each check it skips is skipped on its resource with a reason a
    reviewer can read, and listed in the README's "Template security" table."""
    template = Template()
    readme = (ROOT / "README.md").read_text()
    section = readme.split("**Template security (checkov).**", 1)[1].split("\n## ", 1)[0]
    listed = {line.split("|")[1].split()[0] for line in section.splitlines() if line.startswith("| CKV_")}
    skipped: dict[str, list[str]] = {}
    for logical_id, resource in template.resources.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            reason = str(skip.get("comment", ""))
            assert len(reason.split()) >= 8, f"{logical_id} skips {skip.get('id')} without a reason"
            skipped.setdefault(skip["id"], []).append(logical_id)
    assert skipped, "no checkov skip found: the README table describes skips that no longer exist"
    assert set(skipped) == listed, f"skipped {sorted(skipped)} but the README lists {sorted(listed)}"
