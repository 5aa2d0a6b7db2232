"""Policy bundles in the versioned bucket: publishing, hot reload, and rejection of bad bundles."""

from __future__ import annotations

import json
from pathlib import Path

from puraify.planning.bundles import read_folder

GATE = Path(__file__).resolve().parents[3] / "policies" / "gate"


def _files(**changes: str) -> dict[str, str]:
    files = {name: body.decode() for name, body in read_folder(GATE)[0].items()}
    files.update(changes)
    return files


def _stricter_data(max_error_rate: float) -> str:
    data = json.loads((GATE / "data.json").read_text())
    data["gate"]["thresholds"]["max_error_rate"] = max_error_rate
    return json.dumps(data)


def test_publish_route_writes_bundle_then_manifest_and_activates_it(aws, admin, system, invoke):
    # When
    reply = invoke("plan/publish_policy", engine=admin)
    # Then
    assert reply.status == 201, reply.body
    assert reply.body["revision"] == "gate-1"
    assert reply.body["created"] is True
    s3 = aws.client("s3")
    bucket = aws.name("PolicyBucket")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {
        "manifest.json",
        "bundles/gate-1/manifest.json",
        "bundles/gate-1/gate.rego",
        "bundles/gate-1/data.json",
    }
    manifest = json.loads(s3.get_object(Bucket=bucket, Key="manifest.json")["Body"].read())
    assert manifest["sha256"] == reply.body["sha256"]
    assert all(entry["version_id"] for entry in manifest["files"].values())
    status = invoke("plan/policy", engine=admin).body
    assert (status["revision"], status["sha256"], status["last_rejected"]) == ("gate-1", reply.body["sha256"], None)
    assert invoke("plan/decide", engine=admin).body["policy"]["revision"] == "gate-1"


def test_publish_same_revision_is_idempotent_and_other_content_conflicts(aws, admin, invoke):
    first = invoke("plan/publish_policy", engine=admin)
    again = invoke("plan/publish_policy", engine=admin)
    assert (first.status, again.status) == (201, 200)
    assert again.body["created"] is False
    assert again.body["sha256"] == first.body["sha256"]
    changed = {"revision": "gate-1", "files": _files(**{"data.json": _stricter_data(0.01)})}
    conflict = invoke("plan/publish_policy", engine=admin, body=changed)
    assert conflict.status == 409
    assert conflict.body["error"]["code"] == "revision_exists"


def test_publish_a_bundle_that_does_not_compile_is_422_and_nothing_is_written(aws, admin, invoke):
    body = {"revision": "broken", "files": _files(**{"gate.rego": "package gate\n\ndecision := {"})}
    reply = invoke("plan/publish_policy", engine=admin, body=body)
    assert reply.status == 422
    assert reply.body["error"]["code"] == "bundle_rejected"
    assert "compile error" in reply.body["error"]["message"]
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket=aws.name("PolicyBucket"))


def test_publish_a_bundle_slower_than_the_decision_budget_on_the_current_facts_is_422(aws, admin, invoke):
    # cheap on an empty input, about a second of work on any production decision (the budget is 200 ms)
    slow = """package gate
import rego.v1

default work := 1
work := 200000 if { input.deployment.environment == "production" }

multiples := [x | some x in numbers.range(1, work); x % 7 == 0]
decision := {"allow": count(multiples) < 100000000, "deny": []}
"""
    reply = invoke("plan/publish_policy", engine=admin, body={"revision": "slow", "files": {"gate.rego": slow}})
    assert reply.status == 422
    assert reply.body["error"]["code"] == "bundle_rejected"
    assert "did not finish within the 200 ms decision budget" in reply.body["error"]["message"]
    assert "Contents" not in aws.client("s3").list_objects_v2(Bucket=aws.name("PolicyBucket"))


def test_publish_a_bundle_without_the_entrypoint_is_422(aws, admin, invoke):
    body = {"revision": "r2", "entrypoint": "gate/verdict", "files": _files()}
    reply = invoke("plan/publish_policy", engine=admin, body=body)
    assert reply.status == 422
    assert "gate/verdict" in reply.body["error"]["message"]


def test_publish_invalid_bodies_are_field_level_422(aws, admin, invoke):
    cases = [
        ({"revision": "r", "files": {"../evil.rego": "package x"}}, "body.files"),
        ({"revision": "bad revision", "files": _files()}, "body.revision"),
        ({"revision": "r", "files": {}}, "body.files"),
        ({"revision": "r", "files": _files(), "extra": 1}, "body.extra"),
        ({"revision": "r", "files": _files(**{"data.json": "[1, 2]"})}, "body.files.data.json"),
    ]
    for body, field in cases:
        reply = invoke("plan/publish_policy", engine=admin, body=body)
        assert reply.status == 422, (body, reply.body)
        assert any(d["field"].startswith(field) for d in reply.body["error"]["details"]), (field, reply.body)


def test_publish_needs_admin(aws, engine, invoke):
    operator = engine("operator", ["plan:read", "plan:decide"])
    assert invoke("plan/publish_policy", engine=operator).status == 403


def test_new_revision_in_s3_takes_effect_after_the_poll_interval_without_restart(
    aws, admin, system, gate, bucket, invoke, monkeypatch
):
    from puraify import wiring
    from puraify.planning.bundles import publish

    system.error_rate = 0.03
    assert invoke("plan/decide", engine=admin).body["allow"] is True
    loader = wiring.current().planning.loader
    # When: another process publishes a stricter revision straight to the bucket
    publish(bucket, {k: v.encode() for k, v in _files(**{"data.json": _stricter_data(0.02)}).items()},
            revision="gate-2", entrypoint="gate/decision")  # fmt: skip
    # Then: within the poll interval this process keeps the old one ...
    assert invoke("plan/decide", engine=admin).body["policy"]["revision"] == "gate-1"
    # ... and once the interval has passed, the next decision uses the new one
    loader.checked_at -= loader.poll_seconds
    decision = invoke("plan/decide", engine=admin).body
    assert decision["policy"]["revision"] == "gate-2"
    assert decision["deny_reasons"] == [
        "error rate of v1.5.0 in staging over the last 3600s is 3% over 200 events: above 2%"
    ]


def test_tampered_bundle_is_rejected_last_good_stays_and_an_alert_is_raised(aws, admin, system, gate, bucket, invoke):
    from puraify import wiring
    from puraify.planning.bundles import publish

    assert invoke("plan/decide", engine=admin).body["policy"]["revision"] == "gate-1"
    # Given: revision gate-3 is published, then its policy file is overwritten in the bucket
    files = {k: v.encode() for k, v in _files().items()}
    publish(bucket, files, revision="gate-3", entrypoint="gate/decision")
    aws.client("s3").put_object(Bucket=aws.name("PolicyBucket"), Key="bundles/gate-3/gate.rego",
                                Body=b"package gate\ndecision := {\"allow\": true, \"deny\": []}\n")  # fmt: skip
    # The manifest names the object version it published, so the overwrite alone changes nothing;
    # a manifest that points at the tampered version must be refused:
    manifest = json.loads(bucket.get("manifest.json"))
    manifest["files"]["gate.rego"]["version_id"] = None
    bucket.put("manifest.json", json.dumps(manifest).encode())
    wiring.current().planning.loader.checked_at = None
    # When
    system.error_rate = 0.5
    decision = invoke("plan/decide", engine=admin).body
    status = invoke("plan/policy", engine=admin).body
    # Then
    assert decision["policy"]["revision"] == "gate-1"
    assert decision["allow"] is False
    assert status["revision"] == "gate-1"
    assert status["last_rejected"]["revision"] == "gate-3"
    assert "digest mismatch for gate.rego" in status["last_rejected"]["reason"]
    assert [a["event_type"] for a in system.alerts] == ["policy_bundle_rejected"]


def test_bundle_whose_result_is_malformed_is_rejected(aws, admin, system, gate, bucket, invoke):
    from puraify import wiring
    from puraify.planning.bundles import publish

    assert invoke("plan/policy", engine=admin).body["revision"] == "gate-1"
    bad = 'package gate\n\ndecision := {"allow": "yes", "deny": []}\n'
    publish(bucket, {"gate.rego": bad.encode()}, revision="gate-4", entrypoint="gate/decision")
    wiring.current().planning.loader.checked_at = None
    status = invoke("plan/policy", engine=admin).body
    assert status["revision"] == "gate-1"
    assert status["last_rejected"]["revision"] == "gate-4"
    assert "'allow' must be a boolean" in status["last_rejected"]["reason"]


def test_cold_start_with_a_bad_active_manifest_uses_the_newest_good_earlier_one(
    aws, admin, system, gate, bucket, invoke
):
    from puraify import wiring
    from puraify.planning.bundles import publish

    publish(bucket, {"gate.rego": b"package gate\n\ndecision := {\n"}, revision="broken", entrypoint="gate/decision")
    publish(bucket, {"gate.rego": b"package gate\n\ndecision := {\n"}, revision="broken-2", entrypoint="gate/decision")
    # When: a fresh process (a new Lambda instance) starts and decides
    wiring.reset()
    decision = invoke("plan/decide", engine=admin).body
    status = invoke("plan/policy", engine=admin).body
    # Then
    assert decision["policy"]["revision"] == "gate-1"
    assert decision["allow"] is True
    assert status["revision"] == "gate-1"
    assert status["last_rejected"]["revision"] == "broken-2"
    assert [a["event_type"] for a in system.alerts] == ["policy_bundle_rejected"]
