"""Failure behaviour of the SDK: timeouts, retries, Retry-After, the error hierarchy, secrecy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time

import httpx
import pytest

import puraify_client as pc
from puraify_client import errors
from tests.client.mockplane import CHECK_OK, ENGINE_KEY, envelope, reply


async def test_check_sends_credentials_and_parses_decision(mocked, recorder):
    # Given
    cp = mocked(lambda request: reply(200, CHECK_OK))
    # When
    decision = await cp.actions.check("gmail", "send_email", project_id="pf_1")
    # Then
    sent = recorder.requests[0]
    assert (sent.method, sent.url.path) == ("POST", "/actions/check")
    assert sent.headers["x-engine-id"] == "engine-1" and sent.headers["x-engine-key"] == ENGINE_KEY
    assert recorder.bodies() == [{"platform": "gmail", "action_type": "send_email", "project_id": "pf_1"}]
    assert decision.allowed and decision.required_scopes == ["mail.send"]


async def test_default_timeouts_are_5s_connect_and_10s_read():
    async with pc.ControlPlane("http://127.0.0.1:9", "e", "k") as cp:
        timeout = cp.transport.http.timeout
    assert (timeout.connect, timeout.read) == (5.0, 10.0)


async def test_settings_come_from_environment(monkeypatch):
    monkeypatch.setenv("PURAIFY_URL", "http://from-env.test/")
    monkeypatch.setenv("PURAIFY_ENGINE_ID", "env-engine")
    monkeypatch.setenv("PURAIFY_ENGINE_KEY", "env-key")
    async with pc.ControlPlane() as cp:
        assert cp.engine_id == "env-engine"
        assert str(cp.transport.http.base_url) == "http://from-env.test"
        sent = cp.transport.http.build_request("GET", "/health")
        assert cp.transport.http.auth.auth_flow(sent).__next__().headers["x-engine-key"] == "env-key"


def test_missing_url_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("PURAIFY_URL", raising=False)
    with pytest.raises(pc.ConfigurationError) as caught:
        pc.ControlPlane(engine_id="e", engine_key="k")
    assert caught.value.code == 1008


async def test_safe_call_retries_503_then_succeeds(mocked, recorder):
    answers = iter(
        [envelope(503, "unavailable", "store down"), envelope(503, "unavailable", "x"), reply(200, CHECK_OK)]
    )
    cp = mocked(lambda request: next(answers))
    decision = await cp.actions.check("gmail", "send_email")
    assert decision.allowed
    assert len(recorder.requests) == 3
    assert len(recorder.sleeps) == 2


async def test_retries_are_bounded_at_three_then_typed_error(mocked, recorder):
    cp = mocked(lambda request: envelope(503, "unavailable", "store down", request_id="req-503"))
    with pytest.raises(pc.UnavailableError) as caught:
        await cp.actions.check("gmail", "send_email")
    assert len(recorder.requests) == 4  # the first attempt and 3 retries
    assert caught.value.error_code == "unavailable" and caught.value.request_id == "req-503"
    assert caught.value.code == 1004 and caught.value.status == 503


async def test_backoff_grows_exponentially_with_jitter_and_cap(mocked, recorder):
    policy = pc.RetryPolicy(retries=6, backoff_base=0.1, backoff_max=0.5, sleep=recorder.sleep)
    cp = mocked(lambda request: envelope(502, "bad_gateway", "x"), retry=policy)
    with pytest.raises(pc.ServerError):
        await cp.actions.check("gmail", "send_email")
    caps = [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    assert len(recorder.sleeps) == 6
    assert all(0 <= s <= cap for s, cap in zip(recorder.sleeps, caps, strict=True))
    # jitter: the waits are not simply the caps
    assert recorder.sleeps != caps


async def test_retry_after_seconds_is_honoured(mocked, recorder):
    answers = iter([envelope(429, "throttled", "slow down", **{"Retry-After": "2"}), reply(200, CHECK_OK)])
    cp = mocked(lambda request: next(answers))
    await cp.actions.check("gmail", "send_email")
    assert recorder.sleeps == [2.0]


async def test_retry_after_http_date_is_honoured(mocked, recorder):
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 3))
    answers = iter([envelope(503, "unavailable", "x", **{"Retry-After": when}), reply(200, CHECK_OK)])
    cp = mocked(lambda request: next(answers))
    await cp.actions.check("gmail", "send_email")
    assert 1.0 <= recorder.sleeps[0] <= 3.0


async def test_unreadable_retry_after_falls_back_to_backoff(mocked, recorder):
    answers = iter([envelope(503, "unavailable", "x", **{"Retry-After": "soon"}), reply(200, CHECK_OK)])
    cp = mocked(lambda request: next(answers))
    await cp.actions.check("gmail", "send_email")
    assert len(recorder.sleeps) == 1 and 0 <= recorder.sleeps[0] <= 0.2


async def test_proxy_html_error_page_is_a_retried_server_error(mocked, recorder):
    cp = mocked(
        lambda request: httpx.Response(502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"})
    )
    with pytest.raises(pc.ServerError) as caught:
        await cp.engines.validate()
    assert caught.value.status == 502 and caught.value.message == "Bad Gateway" and len(recorder.requests) == 4


async def test_retry_after_beyond_limit_raises_at_once(mocked, recorder):
    cp = mocked(lambda request: envelope(429, "throttled", "come back tomorrow", **{"Retry-After": "86400"}))
    with pytest.raises(pc.RateLimitedError) as caught:
        await cp.actions.check("gmail", "send_email")
    assert len(recorder.requests) == 1 and caught.value.retry_after == 86400


async def test_registration_is_retried_after_503_with_one_idempotency_key(mocked, recorder):
    cp = mocked(lambda request: envelope(503, "unavailable", "store down"))
    with pytest.raises(pc.UnavailableError):
        await cp.engines.register("new-engine")
    assert len(recorder.requests) == 4
    keys = {r.headers["Idempotency-Key"] for r in recorder.requests}
    assert len(keys) == 1 and len(keys.pop()) >= 32


async def test_registration_is_retried_with_its_key_when_outcome_unknown(mocked, recorder):
    answers = iter([httpx.ReadTimeout, None])

    def hang_up_once(request):
        error = next(answers)
        if error:
            raise error("no answer", request=request)
        return reply(201, {"engine_id": "new-engine", "engine_key": "pfk_x", "permissions": {}, "scopes": [],
                           "created_at": "2026-01-01T00:00:00Z"})  # fmt: skip

    cp = mocked(hang_up_once)
    created = await cp.engines.register("new-engine")
    assert created.engine_key.get_secret_value() == "pfk_x"
    first, second = recorder.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


async def test_each_call_gets_its_own_idempotency_key_and_gets_are_left_alone(mocked, recorder):
    cp = mocked(lambda request: envelope(409, "engine_exists", "exists"))
    for _ in range(2):
        with pytest.raises(pc.ConflictError):
            await cp.engines.register("new-engine")
    with pytest.raises(pc.ConflictError):
        await cp.engines.get("new-engine")
    posts = [r for r in recorder.requests if r.method == "POST"]
    assert len({r.headers["Idempotency-Key"] for r in posts}) == 2
    assert "Idempotency-Key" not in recorder.requests[-1].headers


async def test_retry_while_the_first_attempt_runs_waits_for_its_answer(mocked, recorder):
    answers = iter([envelope(409, "idempotency_in_progress", "in progress", **{"Retry-After": "1"}), None])

    def busy_once(request):
        return next(answers) or reply(200, {"engine_id": "e", "engine_key": "pfk_y", "previous_key_valid_until": None})

    cp = mocked(busy_once)
    rotated = await cp.engines.rotate("e")
    assert rotated.engine_key.get_secret_value() == "pfk_y" and recorder.sleeps == [1.0]


async def test_revocation_is_not_retried_after_dropped_connection(mocked, recorder):
    def drop(request):
        raise httpx.RemoteProtocolError("server disconnected", request=request)

    cp = mocked(drop)
    with pytest.raises(pc.ConnectionFailed) as caught:
        await cp.engines.revoke("pf-777")
    assert len(recorder.requests) == 1 and caught.value.sent and caught.value.code == 1003


async def test_registration_is_retried_when_never_sent(mocked, recorder):
    calls = iter([httpx.ConnectError, None])

    def refuse_once(request):
        error = next(calls)
        if error:
            raise error("refused", request=request)
        return reply(
            201, {"engine_id": "new-engine", "engine_key": "pfk_x", "permissions": {}, "scopes": [], "created_at": "t"}
        )

    cp = mocked(refuse_once)
    created = await cp.engines.register("new-engine")
    assert created.engine_id == "new-engine" and len(recorder.requests) == 2


async def test_registration_is_retried_after_429(mocked, recorder):
    answers = iter(
        [
            envelope(429, "throttled", "x", **{"Retry-After": "0"}),
            reply(201, {"engine_id": "n", "engine_key": "k", "permissions": {}, "scopes": [], "created_at": "t"}),
        ]
    )
    cp = mocked(lambda request: next(answers))
    await cp.engines.register("n")
    assert len(recorder.requests) == 2 and recorder.sleeps == [0.0]


async def test_connect_timeout_is_retried_then_raised(mocked, recorder):
    def slow_connect(request):
        raise httpx.ConnectTimeout("connect timed out", request=request)

    cp = mocked(slow_connect)
    with pytest.raises(pc.ConnectTimeoutError) as caught:
        await cp.actions.check("gmail", "send_email")
    assert len(recorder.requests) == 4 and caught.value.phase == "connect"


async def test_read_timeout_against_silent_server_is_raised_after_retries(recorder):
    # Given a server on 127.0.0.1 that accepts connections and never answers
    async def silent(reader, writer):
        await reader.read(65536)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    policy = pc.RetryPolicy(retries=1, sleep=recorder.sleep)
    # When
    started = time.perf_counter()
    async with pc.ControlPlane(f"http://127.0.0.1:{port}", "e", "k", read_timeout=0.2, retry=policy) as cp:
        with pytest.raises(pc.ReadTimeoutError):
            await cp.actions.check("gmail", "send_email")
    elapsed = time.perf_counter() - started
    server.close()
    # Then two attempts of 0.2 s each, not the 10 s default
    assert 0.35 <= elapsed < 2.0


async def test_connect_timeout_against_full_backlog_is_retried_even_for_registration(recorder):
    # Given a listener whose accept queue is full: new connections never complete their handshake
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    policy = pc.RetryPolicy(retries=1, sleep=recorder.sleep)
    started = time.perf_counter()
    try:
        async with pc.ControlPlane(f"http://127.0.0.1:{port}", "e", "k", connect_timeout=0.2, retry=policy) as cp:
            with pytest.raises(pc.ConnectTimeoutError) as caught:
                await cp.engines.register("new-engine")
    finally:
        for sock in [*fillers, listener]:
            sock.close()
    # Then: never sent, so even a registration was retried once; 0.2 s per attempt, not 5 s
    assert caught.value.phase == "connect" and len(recorder.sleeps) == 1
    assert time.perf_counter() - started < 2.0


async def test_guard_fails_closed_when_the_control_plane_is_down(mocked):
    cp = mocked(lambda request: envelope(503, "unavailable", "the decision could not be made"))
    ran = []

    @cp.actions.guard("gmail", "send_email")
    async def send() -> None:
        ran.append(True)

    with pytest.raises(pc.UnavailableError):
        await send()
    assert ran == []


async def test_refused_connection_is_connection_error(recorder):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = pc.RetryPolicy(retries=2, sleep=recorder.sleep)
    async with pc.ControlPlane(f"http://127.0.0.1:{port}", "e", "k", retry=policy) as cp:
        with pytest.raises(pc.ConnectionFailed) as caught:
            await cp.engines.validate()
    assert caught.value.code == 1003 and not caught.value.sent and len(recorder.sleeps) == 2


async def test_unsupported_protocol_is_not_retried(recorder):
    async with pc.ControlPlane("ftp://plane.test", "e", "k", retry=pc.RetryPolicy(sleep=recorder.sleep)) as cp:
        with pytest.raises(pc.UnsupportedProtocolError) as caught:
            await cp.actions.check("gmail", "send_email")
    assert caught.value.code == 1002 and recorder.sleeps == []


async def test_success_with_non_json_body_is_invalid_json(mocked):
    cp = mocked(
        lambda request: httpx.Response(200, text="<html>proxy login</html>", headers={"content-type": "text/html"})
    )
    with pytest.raises(pc.InvalidJSONError) as caught:
        await cp.actions.check("gmail", "send_email")
    assert caught.value.code == 1006 and "text/html" in caught.value.message


async def test_response_missing_contract_fields_is_unexpected(mocked):
    cp = mocked(lambda request: reply(200, {"allowed": True}))
    with pytest.raises(pc.UnexpectedError) as caught:
        await cp.actions.check("gmail", "send_email")
    assert caught.value.code == 1005 and "engine_id" in caught.value.message


async def test_extra_response_fields_are_kept(mocked):
    cp = mocked(lambda request: reply(200, {**CHECK_OK, "ttl_seconds": 30}))
    decision = await cp.actions.check("gmail", "send_email")
    assert decision.model_extra == {"ttl_seconds": 30}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, pc.BadRequestError),
        (401, pc.AuthenticationError),
        (403, pc.PermissionDenied),
        (404, pc.NotFoundError),
        (409, pc.ConflictError),
        (413, pc.PayloadTooLargeError),
        (422, pc.ValidationError),
        (429, pc.RateLimitedError),
        (503, pc.UnavailableError),
        (500, pc.ServerError),
        (418, pc.HTTPError),
    ],
)
async def test_error_status_maps_to_typed_class_with_server_fields(mocked, status, cls):
    cp = mocked(lambda request: envelope(status, "some_code", "what went wrong", request_id="req-42"))
    with pytest.raises(cls) as caught:
        await cp.engines.rotate("engine-1")
    err = caught.value
    assert type(err) is cls
    assert (err.status, err.error_code, err.message, err.request_id) == (
        status,
        "some_code",
        "what went wrong",
        "req-42",
    )
    assert "req-42" in str(err) and str(status) in str(err)


async def test_422_details_are_field_level(mocked):
    details = [{"field": "body.platform", "message": "Field required", "type": "missing"}]
    cp = mocked(
        lambda request: httpx.Response(
            422,
            json={
                "error": {"code": "validation_failed", "message": "1 invalid field(s)", "details": details},
                "request_id": "r",
            },
        )
    )
    with pytest.raises(pc.ValidationError) as caught:
        await cp.config.set_flag("f", True)
    assert caught.value.details == details


async def test_require_raises_action_denied_with_reason(mocked):
    denied = {**CHECK_OK, "allowed": False, "reason": "platform gmail is in maintenance", "rule": "platform_status"}
    cp = mocked(lambda request: reply(200, denied))
    with pytest.raises(pc.PermissionDenied) as caught:
        await cp.actions.require("gmail", "send_email")
    assert isinstance(caught.value, pc.ActionDenied)
    assert caught.value.reason == "platform gmail is in maintenance" and caught.value.code == 1007
    assert caught.value.request_id == "req-ok"


async def test_guard_runs_coroutine_only_when_allowed(mocked):
    answers = iter([reply(200, CHECK_OK), reply(200, {**CHECK_OK, "allowed": False, "reason": "no"})])
    cp = mocked(lambda request: next(answers))
    sent = []

    @cp.actions.guard("gmail", "send_email")
    async def send(to: str) -> str:
        sent.append(to)
        return "ok"

    assert await send("a@example.com") == "ok"
    with pytest.raises(pc.ActionDenied):
        await send("b@example.com")
    assert sent == ["a@example.com"]


async def test_credentials_never_in_reprs_errors_or_logs(mocked, caplog):
    caplog.set_level(logging.DEBUG)
    answers = iter(
        [
            reply(
                201,
                {
                    "engine_id": "n",
                    "engine_key": "pfk_new-secret-key",
                    "permissions": {},
                    "scopes": [],
                    "created_at": "t",
                },
            ),
            envelope(401, "unauthorized", "missing or invalid engine credentials"),
        ]
    )
    cp = mocked(lambda request: next(answers))
    created = await cp.engines.register("n")
    with pytest.raises(pc.AuthenticationError) as caught:
        await cp.engines.validate()
    seen = " ".join(
        [repr(cp.transport.http.headers), repr(cp.transport.http.auth), repr(cp.transport.http)]
        + [
            repr(cp),
            str(cp.transport.settings),
            repr(created),
            str(created),
            str(caught.value),
            repr(caught.value),
            caplog.text,
        ]
    )
    assert ENGINE_KEY not in seen and "pfk_new-secret-key" not in seen
    assert created.engine_key.get_secret_value() == "pfk_new-secret-key"


def test_error_codes_are_stable():
    assert (
        errors.TIMEOUT,
        errors.UNSUPPORTED_PROTOCOL,
        errors.CONNECTION,
        errors.HTTP,
        errors.UNEXPECTED,
        errors.INVALID_JSON,
    ) == (
        1001,
        1002,
        1003,
        1004,
        1005,
        1006,
    )


def test_client_does_not_import_the_server_package():
    import subprocess
    import sys

    code = "import sys, puraify_client, puraify_client.cli; print('puraify' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip() == "False"


async def test_a_422s_text_names_the_fields_and_their_messages_the_first_five_of_many(mocked):
    details = [{"field": f"body.checks.{n}.platform", "message": "Field required", "type": "missing"} for n in range(7)]
    error = {"code": "validation_failed", "message": "7 invalid field(s)", "details": details}
    body = {"error": error, "request_id": "r"}
    cp = mocked(lambda request: httpx.Response(422, json=body))
    with pytest.raises(pc.ValidationError) as caught:
        await cp.config.set_flag("f", True)
    text = str(caught.value)
    assert "body.checks.0.platform: Field required; body.checks.1.platform: Field required" in text
    assert "body.checks.4.platform" in text and "body.checks.5.platform" not in text and "and 2 more" in text
