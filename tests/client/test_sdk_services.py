"""The Monitoring, Environment Manager and Planning modules against a mocked control plane."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import puraify_client as pc
from puraify_client.services.env import SecretInput
from puraify_client.services.plan import bundle_paths, read_bundle
from tests.client.mockplane import envelope, reply

ROOT = Path(__file__).resolve().parents[2]


async def test_log_gets_an_event_id_and_a_retry_resends_the_same_one(mocked, recorder):
    answers = iter([envelope(503, "unavailable", "store down"), reply(202, {"accepted": 1, "rejected": []})])
    cp = mocked(lambda request: next(answers))
    result = await cp.monitoring.log(project_id="pf_123", event_type="execution", platform="Slack", status="success")
    assert result.accepted == 1
    first, second = recorder.bodies()
    assert first == second and len(first["event_id"]) == 32
    assert first == {
        "project_id": "pf_123",
        "event_type": "execution",
        "platform": "Slack",
        "status": "success",
        "event_id": first["event_id"],
    }


async def test_batch_sends_events_and_reports_rejected_by_index(mocked, recorder):
    cp = mocked(
        lambda request: reply(202, {"accepted": 1, "rejected": [{"index": 1, "error": "project_id: required"}]})
    )
    result = await cp.monitoring.log_batch(
        [
            {"project_id": "pf_1", "event_type": "execution", "event_id": "mine-1"},
            {"project_id": "pf_1", "event_type": "x"},
        ]
    )
    assert result.rejected[0].index == 1
    events = recorder.bodies()[0]["events"]
    assert events[0]["event_id"] == "mine-1" and events[1]["event_id"] != "mine-1"


async def test_batch_over_500_is_refused_before_sending(mocked, recorder):
    cp = mocked(lambda request: reply(202, {"accepted": 0, "rejected": []}))
    with pytest.raises(pc.InvalidArgumentError) as caught:
        await cp.monitoring.log_batch([{"project_id": "p", "event_type": "e"}] * 501)
    assert recorder.requests == []
    assert caught.value.code == 1009 and caught.value.details[0]["field"] == "events"


async def test_iter_logs_follows_cursors_to_the_end(mocked, recorder):
    pages = {
        None: {"logs": [{"event_id": "a"}, {"event_id": "b"}], "next_cursor": "c1"},
        "c1": {"logs": [{"event_id": "c"}], "next_cursor": "c2"},
        "c2": {"logs": [], "next_cursor": None},
    }
    cp = mocked(lambda request: reply(200, pages[request.url.params.get("cursor")]))
    seen = [log.event_id async for log in cp.monitoring.iter_logs("pf_1", page_size=2, status="error")]
    assert seen == ["a", "b", "c"]
    params = dict(recorder.requests[1].url.params)
    assert params == {"project_id": "pf_1", "status": "error", "limit": "2", "cursor": "c1"}


async def test_errors_and_stats_parse_the_contract(mocked):
    answers = iter(
        [
            reply(
                200,
                {
                    "project_id": "pf_1",
                    "errors": [
                        {
                            "fingerprint": "f1",
                            "count": 7,
                            "first_seen": "t1",
                            "last_seen": "t2",
                            "sample_message": "token expired",
                        }
                    ],
                    "total": 7,
                    "truncated": False,
                },
            ),
            reply(
                200,
                {
                    "project_id": "pf_1",
                    "events": 3,
                    "stats": [
                        {
                            "platform": "Slack",
                            "action": "send",
                            "count": 3,
                            "errors": 1,
                            "error_rate": 0.3333,
                            "retries": 2,
                            "duration_ms": {"p50": 10, "p95": 20, "max": 30},
                        }
                    ],
                },
            ),
        ]
    )
    cp = mocked(lambda request: next(answers))
    grouped = await cp.monitoring.errors("pf_1", since="2025-07-25T00:00:00Z")
    assert grouped.errors[0].count == 7 and grouped.errors[0].sample_message == "token expired"
    stats = await cp.monitoring.stats("pf_1")
    assert stats.stats[0].duration_ms.p95 == 20


async def test_alert_defaults_triggered_by_to_engine_and_is_retried_with_one_key(mocked, recorder):
    cp = mocked(lambda request: envelope(503, "unavailable", "x"))
    with pytest.raises(pc.UnavailableError):
        await cp.monitoring.alert("pf_1", "token expired", severity="high")
    assert len(recorder.requests) == 4
    assert len({r.headers["Idempotency-Key"] for r in recorder.requests}) == 1
    assert recorder.bodies()[0] == {
        "project_id": "pf_1",
        "event_type": "error",
        "severity": "high",
        "message": "token expired",
        "triggered_by": "engine-1",
    }


async def test_promote_is_not_retried_and_409_carries_details(mocked, recorder):
    cp = mocked(
        lambda request: httpx.Response(
            409,
            json={
                "error": {
                    "code": "revision_conflict",
                    "message": "changed meanwhile",
                    "details": [{"current_revision": 8}],
                },
                "request_id": "r9",
            },
        )
    )
    with pytest.raises(pc.ConflictError) as caught:
        await cp.env.promote("pf-777", "staging", "production", expected_revision=7)
    assert len(recorder.requests) == 1
    assert caught.value.details == [{"current_revision": 8}] and caught.value.error_code == "revision_conflict"
    assert recorder.bodies()[0] == {
        "project_id": "pf-777",
        "source_env": "staging",
        "target_env": "production",
        "expected_revision": 7,
    }


async def test_promote_parses_diff_and_keeps_extra_fields(mocked):
    body = {
        "status": "ready_for_deploy",
        "version": "v2.3.1",
        "environment": "production",
        "previous_version": "v2.2.0",
        "diff_from_previous": {
            "entities_added": ["Notification"],
            "entities_removed": [],
            "logic_changed": 2,
            "env_updated": ["API_KEY"],
        },
        "revision": 4,
        "deployment_id": "d-1",
        "gate": {"decision_id": "dec-1", "reasons": []},
    }
    cp = mocked(lambda request: reply(200, body))
    promoted = await cp.env.promote("pf-777", "staging", "production")
    assert promoted.diff_from_previous.entities_added == ["Notification"]
    assert promoted.gate is not None and promoted.gate.decision_id == "dec-1"


async def test_config_patch_sends_nulls_to_remove_and_secret_inputs(mocked, recorder):
    cp = mocked(lambda request: reply(200, {"status": "updated", "changes": {}, "environment": {"env": "staging"}}))
    await cp.env.set_config(
        "pf-777",
        "staging",
        env_variables={"OLD": None, "BASE_URL": "https://x", "WEBHOOK": SecretInput(value="s3cr3t")},
        feature_flags={"BETA": True},
    )
    sent = recorder.requests[0]
    assert (sent.method, sent.url.path) == ("PUT", "/env/pf-777/staging/config")
    assert recorder.bodies()[0] == {
        "env_variables": {"OLD": None, "BASE_URL": "https://x", "WEBHOOK": {"value": "s3cr3t", "secret": True}},
        "feature_flags": {"BETA": True},
    }


async def test_iter_history_pages_with_next_before(mocked, recorder):
    def page(request):
        before = request.url.params.get("before")
        if before is None:
            return reply(200, {"entries": [{"revision": 3}, {"revision": 2}], "next_before": 2})
        return reply(200, {"entries": [{"revision": 1}], "next_before": None})

    cp = mocked(page)
    revisions = [e.revision async for e in cp.env.iter_history("pf-777", "staging", page_size=2)]
    assert revisions == [3, 2, 1]
    assert recorder.requests[1].url.params["before"] == "2"


async def test_path_parameters_cannot_add_segments(mocked, recorder):
    cp = mocked(lambda request: reply(200, {"project_id": "x", "environments": []}))
    await cp.env.list("../engines/admin")
    assert recorder.requests[0].url.raw_path == b"/env/..%2Fengines%2Fadmin"


async def test_decide_is_retried_and_parses_reasons(mocked, recorder):
    decision = {
        "decision_id": "d1",
        "allow": False,
        "outcome": "deny",
        "deny_reasons": ["error rate 7.5% is above 5%"],
        "policy": {"revision": "gate-1", "sha256": "ab" * 32},
        "facts": {"error_rate": {"value": 0.075, "age_seconds": 3.0, "max_age_seconds": 45, "stale": False}},
        "evaluated_at": "2025-07-25T14:01:00Z",
        "eval_duration_ms": 0.4,
    }
    answers = iter([envelope(503, "unavailable", "x"), reply(200, decision)])
    cp = mocked(lambda request: next(answers))
    result = await cp.plan.decide("deployment-123", "production", "pf-777")
    assert not result.allow and result.deny_reasons == ["error rate 7.5% is above 5%"]
    assert result.facts["error_rate"].value == 0.075 and len(recorder.requests) == 2


def test_bundle_folder_reads_rego_and_data_and_the_revision_file():
    folder = ROOT / "policies" / "gate"
    if not folder.is_dir():
        pytest.skip("no default bundle in this checkout")
    names = [p.name for p in bundle_paths(folder)]
    assert "data.json" in names and any(n.endswith(".rego") for n in names)
    assert not any(n.endswith("_test.rego") or n == "bundle.json" for n in names)
    bundle = read_bundle(folder, {n: (folder / n).read_text() for n in names})
    assert bundle.revision and bundle.entrypoint


def test_bundle_without_revision_is_named_by_its_content(tmp_path):
    (tmp_path / "gate.rego").write_text("package gate\n")
    (tmp_path / "gate_test.rego").write_text("package gate\n")
    texts = {p.name: p.read_text() for p in bundle_paths(tmp_path)}
    assert list(texts) == ["gate.rego"]
    first, again = read_bundle(tmp_path, texts), read_bundle(tmp_path, dict(texts))
    assert first.revision == again.revision and first.revision.startswith("sha-")
    assert read_bundle(tmp_path, {"gate.rego": "package other\n"}).revision != first.revision


async def test_publish_puts_the_bundle(mocked, recorder, tmp_path):
    cp = mocked(
        lambda request: reply(
            201, {"revision": "r1", "sha256": "00" * 32, "entrypoint": "gate/decision", "created": True}
        )
    )
    published = await cp.plan.publish(read_bundle(tmp_path, {"gate.rego": "package gate\n"}, "r1"))
    assert published.created
    sent = recorder.requests[0]
    assert (sent.method, sent.url.path) == ("PUT", "/plan/policy")
    assert recorder.bodies()[0] == {
        "revision": "r1",
        "entrypoint": "gate/decision",
        "files": {"gate.rego": "package gate\n"},
    }


def test_sync_facade_iterates_pages():
    pages = {None: {"logs": [{"event_id": "a"}], "next_cursor": "n"}, "n": {"logs": [{"event_id": "b"}]}}
    history = {"entries": [{"revision": 2}, {"revision": 1}], "next_before": None}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/env/"):
            return reply(200, history)
        return reply(200, pages[request.url.params.get("cursor")])

    transport = httpx.MockTransport(answer)
    http = httpx.Client(transport=transport, base_url="http://plane.test")
    with pc.SyncControlPlane("http://plane.test", "e", "k", http=http) as cp:
        assert [log.event_id for log in cp.monitoring.iter_logs("pf_1")] == ["a", "b"]
        assert [e.revision for e in cp.env.iter_history("pf-1", "staging")] == [2, 1]


def test_sync_facade_retries_and_raises_like_the_async_client():
    waits: list[float] = []
    answers = iter(
        [envelope(503, "unavailable", "x", **{"Retry-After": "1"}), envelope(404, "engine_not_found", "gone")]
    )
    http = httpx.Client(transport=httpx.MockTransport(lambda request: next(answers)), base_url="http://plane.test")
    retry = pc.RetryPolicy(blocking_sleep=waits.append)
    with (
        pc.SyncControlPlane("http://plane.test", "e", "k", http=http, retry=retry) as cp,
        pytest.raises(pc.NotFoundError) as caught,
    ):
        cp.engines.validate()
    assert waits == [1.0] and caught.value.error_code == "engine_not_found"


def test_sync_facade_refuses_an_async_pool():
    with pytest.raises(pc.ConfigurationError):
        pc.SyncControlPlane("http://plane.test", "e", "k", http=httpx.AsyncClient())


def test_every_service_module_is_registered():
    assert pc.service_names() == ["actions", "config", "engines", "env", "monitoring", "plan", "platforms"]


async def test_a_new_module_is_one_small_class(mocked):
    @pc.register
    class Echo(pc.Service):
        name = "echo"

        async def ping(self) -> dict:
            return await self.transport.raw("GET", "/health", safety=pc.SAFE)

    try:
        cp = mocked(lambda request: reply(200, {"status": "ok"}))
        assert await cp.echo.ping() == {"status": "ok"}
    finally:
        from puraify_client.services.base import REGISTRY

        REGISTRY.pop("echo")
