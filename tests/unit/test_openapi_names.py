"""The contract generates good clients: every operation is named on purpose, tagged, described, with named schemas."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from puraify import openapi, operations, versions

ROOT = Path(__file__).resolve().parents[2]
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


@pytest.fixture(scope="module")
def spec():
    return openapi.build(openapi._load_apps(openapi.FUNCTIONS))


def _operations(spec):
    return {f"{m.upper()} {p}": op for p, item in spec["paths"].items() for m, op in item.items()}


def test_every_route_has_a_chosen_operation_id(spec):
    """A route added without a name in puraify/operations.py (or operation_id= on its decorator) fails here."""
    handlers = openapi._handlers(openapi._load_apps(openapi.FUNCTIONS))
    unnamed = [
        key
        for key in _operations(spec)
        if key not in operations.OPERATIONS
        and handlers[key][1].operation_id == handlers[key][1]._generate_operation_id()
    ]
    assert not unnamed, (
        f"routes without a chosen operationId: {unnamed}. Add each to OPERATIONS in "
        "layers/core/puraify/operations.py (a stable camelCase operationId, a summary, a description): "
        "generated clients name their methods after it, so it must never change once released."
    )


def test_operation_ids_are_unique_camel_case_and_stable(spec):
    ids = {key: op["operationId"] for key, op in _operations(spec).items()}
    assert all(CAMEL.match(i) for i in ids.values()), [i for i in ids.values() if not CAMEL.match(i)]
    assert len(set(ids.values())) == len(ids)
    # the names the issue asked for, as clients already call them
    assert ids["POST /actions/check"] == "checkAction"
    assert ids["POST /engines/register"] == "registerEngine"
    assert ids["POST /monitoring/logs"] == "ingestLogs"
    assert not [key for key in operations.OPERATIONS if key not in ids], "OPERATIONS names routes that are gone"


def test_every_operation_has_one_declared_tag_a_summary_and_a_description(spec):
    declared = {tag["name"] for tag in spec["tags"]}
    for key, op in _operations(spec).items():
        assert len(op["tags"]) == 1 and op["tags"][0] in declared, key
        assert op["summary"] and op["description"] and op["summary"] != key, key


def test_a_route_not_listed_yet_gets_a_derived_name():
    assert operations.derived_id("query_logs") == "queryLogs"
    assert operations.derived_id("_check") == "check"


def test_success_answers_have_named_schemas_and_list_routes_the_envelope(spec):
    for key, op in _operations(spec).items():
        for status, answer in op["responses"].items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            if int(status) < 300 and schema is not None:
                assert "$ref" in schema, (key, status, schema)
            assert answer["headers"][versions.HEADER]
    schemas = spec["components"]["schemas"]
    assert not [name for name in schemas if "Return" in name or name.startswith("Body_")]
    for key in versions.LIST_ENVELOPES:
        ref = _operations(spec)[key]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        shape = schemas[ref.rsplit("/", 1)[1]]
        assert list(shape["properties"])[:2] == ["items", "next_cursor"], key
        assert versions.LIST_ENVELOPES[key] not in shape["properties"], key


def test_request_examples_are_the_sample_events_bodies(spec):
    body = _operations(spec)["POST /engines/register"]["requestBody"]["content"]["application/json"]
    event = json.loads((ROOT / "events/register/register.json").read_text())
    assert body["examples"]["register"]["value"] == json.loads(event["body"])
    ingest = _operations(spec)["POST /monitoring/logs"]["requestBody"]["content"]["application/json"]
    assert set(ingest["examples"]) == {"ingest", "ingest_batch"}


def test_openapi_python_client_generates_readable_names(spec, tmp_path):
    """The Python client that openapi-python-client generates calls the operations by their names."""
    generator = Path(sys.executable).with_name("openapi-python-client")
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(spec))
    subprocess.run(
        [str(generator), "generate", "--path", str(document), "--output-path", str(tmp_path / "out"), "--overwrite"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    package = tmp_path / "out" / "puraify_control_plane_client"
    modules = {p.relative_to(package / "api").as_posix() for p in (package / "api").rglob("*.py")}
    assert {"checks/check_action.py", "engines/register_engine.py", "monitoring/ingest_logs.py"} <= modules
    assert "monitoring/query_logs.py" in modules
    models = {p.stem for p in (package / "models").glob("*.py")}
    assert "query_logs_response" in models and "engine_list_response" in models
    assert not [m for m in models if "return" in m or "_get_" in m or "_post" in m], sorted(models)
