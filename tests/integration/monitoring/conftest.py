"""Fixtures for Monitoring.

The template's resources are created once per test module here (``aws`` overrides the per-test
fixture of tests/conftest.py, which recreates every service's tables for each test); each test
gets its own project id and engine ids instead, so it still sees only its own data.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from local.gateway import LambdaContext, load_handler
from local.template import ROOT, Template
from tests.conftest import Aws, use_resources

_ids = itertools.count(1)


@pytest.fixture(scope="module")
def aws(moto_endpoint: str) -> Iterator[Aws]:
    from puraify import wiring

    saved = dict(os.environ)
    yield use_resources(moto_endpoint, f"mon{uuid.uuid4().hex[:6]}-")
    os.environ.clear()
    os.environ.update(saved)
    wiring.reset()


@pytest.fixture
def project() -> str:
    """A project id no other test uses."""
    return f"pf_{next(_ids)}_{uuid.uuid4().hex[:6]}"


@pytest.fixture
def admin(admin_key: str) -> tuple[str, str]:
    return ("admin", admin_key)


def _register(invoke: Any, admin: tuple[str, str], prefix: str, scopes: list[str]) -> tuple[str, str]:
    engine_id = f"{prefix}-{next(_ids)}"
    reply = invoke(
        "register/register", engine=admin, body={"engine_id": engine_id, "scopes": scopes, "projects": ["*"]}
    )
    assert reply.status == 201, reply.body
    return (engine_id, reply.body["engine_key"])


@pytest.fixture
def writer(aws, admin, invoke) -> tuple[str, str]:
    """An engine that may write events (``logs:write``), entitled to report for every environment
    (``report``), that may not read them."""
    return _register(invoke, admin, "execution", ["logs:write", "report"])


@pytest.fixture
def alerter(aws, admin, invoke) -> tuple[str, str]:
    """An engine that may raise alerts (``alerts:write``)."""
    return _register(invoke, admin, "alerter", ["alerts:write"])


@pytest.fixture
def reader(aws, admin, invoke) -> tuple[str, str]:
    return _register(invoke, admin, "support", ["logs:read"])


class SlackReceiver:
    """A Slack-compatible incoming-webhook receiver on 127.0.0.1 that records what it gets."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                receiver.received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/XXXX"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack_receiver() -> Iterator[SlackReceiver]:
    """A receiver only (the test puts its URL where it needs it)."""
    receiver = SlackReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def slack(aws) -> Iterator[SlackReceiver]:
    """A receiver whose URL is in SSM (moto) under a parameter name only this test uses."""
    from puraify import wiring

    receiver = SlackReceiver()
    name = f"/puraify/test/{uuid.uuid4().hex}/slack-webhook-url"
    aws.client("ssm").put_parameter(Name=name, Value=receiver.url, Type="SecureString")
    previous = os.environ.get("PURAIFY_SLACK_WEBHOOK_PARAMETER", "")
    os.environ["PURAIFY_SLACK_WEBHOOK_PARAMETER"] = name
    wiring.reset()
    yield receiver
    receiver.stop()
    os.environ["PURAIFY_SLACK_WEBHOOK_PARAMETER"] = previous
    wiring.reset()


@pytest.fixture
def sns_inbox(aws):
    """An SQS queue subscribed to the alerts topic: returns a reader of what SNS delivered."""
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(
        TopicArn=aws.template.arn("AlertsTopic"),
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )

    def read() -> list[str]:
        messages = []
        while True:
            batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return messages
            messages.extend(m["Body"] for m in batch)
            for m in batch:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])

    return read


@pytest.fixture
def run_schedule(aws):
    """Fire the LogFunction schedule as EventBridge would, with the event from events/log/."""
    handler = load_handler(Template().functions()["LogFunction"])
    event = json.loads((ROOT / "events" / "log" / "dispatch_retry.json").read_text())

    def fire() -> dict[str, Any]:
        return handler(event, LambdaContext("LogFunction", event["id"]))

    return fire


@pytest.fixture
def sample(project: str):
    """The body of ``events/log/<case>.json`` with this test's project id."""

    def body(case: str) -> dict[str, Any]:
        found = json.loads(json.loads((ROOT / "events" / "log" / f"{case}.json").read_text())["body"])
        for event in found.get("events", [found]):
            event["project_id"] = project
        return found

    return body
