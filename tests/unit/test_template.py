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
