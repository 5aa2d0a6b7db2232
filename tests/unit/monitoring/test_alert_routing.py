"""Alert routing logic over the fakes: the address guard, which routes an alert takes, repeats after silences."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from puraify import clock
from puraify.auth import Principal
from puraify.monitoring.outbound import AddressGuard
from puraify.monitoring.ports import ChannelError
from puraify.monitoring.route_models import RoutesRequest, SilenceRequest
from puraify.monitoring.routing import take
from puraify.settings import Settings
from tests.fakes.monitoring import memory_monitoring

SECRET = "whsec_" + base64.b64encode(b"unit-test-secret-0123456789abcdef").decode()
ADMIN = Principal(engine_id="admin", scopes=frozenset({"admin"}), projects=frozenset({"*"}))


def _resolver(answers: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        return answers[host]

    return resolve


@pytest.mark.parametrize(
    ("url", "addresses", "refused"),
    [
        ("https://hooks.example.com/x", ["93.184.215.14"], False),
        ("https://hooks.example.com/x", ["93.184.215.14", "10.0.0.8"], True),  # any private answer refuses
        ("https://metadata.internal/x", ["169.254.169.254"], True),
        ("https://v6.example.com/x", ["fd00:ec2::254"], True),  # the IPv6 metadata address (ULA)
        ("https://mapped.example.com/x", ["::ffff:127.0.0.1"], True),
        ("https://shared.example.com/x", ["100.100.100.200"], True),
        ("http://hooks.example.com/x", ["93.184.215.14"], True),  # plain http
        ("ftp://hooks.example.com/x", ["93.184.215.14"], True),
    ],
)
def test_the_deployed_guard_refuses_what_is_not_public_https(url: str, addresses: list[str], refused: bool) -> None:
    host = url.split("/")[2]
    guard = AddressGuard(False, _resolver({host: addresses}))
    assert (guard.refusal(url) is not None) is refused


def test_the_guard_connects_to_the_address_it_checked_and_the_local_guard_allows_loopback() -> None:
    assert AddressGuard(False, _resolver({"h.example.com": ["93.184.215.14"]})).address("https://h.example.com/") == (
        "93.184.215.14"
    )
    assert AddressGuard(True).refusal("http://127.0.0.1:9/x") is None


class FakeSender:
    """Records what would be posted; answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[dict[str, Any]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        if url.startswith("https://refused"):
            raise ChannelError("refused by the address guard")
        self.posts.append({"url": url, "body": body, "headers": headers})
        return self.status


def _service(sender: FakeSender):
    return memory_monitoring(
        Settings(alerts_topic_arn="", slack_webhook_parameter="", allow_private_webhooks=True), sender=sender
    )


def _hook(name: str, match: dict[str, Any], url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "match": match, "channels": [{"type": "webhook", "url": url, "secret": SECRET}], **extra}


def test_first_match_then_on_while_continue() -> None:
    routes = [{"name": "a", "match": {"severity": ["critical"]}, "continue": True},
              {"name": "b", "match": {"platform": ["slack"]}}, {"name": "c", "match": {}}]  # fmt: skip
    assert [r["name"] for r in take(routes, {"severity": "critical", "platform": "Slack"})] == ["a", "b"]
    assert [r["name"] for r in take(routes, {"severity": "critical", "platform": "teams"})] == ["a", "c"]
    assert [r["name"] for r in take(routes, {"severity": "low", "platform": "slack"})] == ["b"]


def test_a_route_repeats_while_open_and_a_silenced_alert_is_sent_only_at_a_repeat_after_the_silence() -> None:
    sender = FakeSender()
    service = _service(sender)
    service.routing.put_routes(ADMIN, "p1", RoutesRequest.model_validate(
        {"routes": [_hook("repeat", {"severity": ["critical"]}, "http://hook.test/r", repeat_minutes=30),
                    _hook("once", {}, "http://hook.test/o")]}))  # fmt: skip
    start = clock.now()
    service.routing.add_silence(ADMIN, SilenceRequest.model_validate(
        {"project_id": "p1", "ends_at": clock.iso(start + 600), "reason": "work"}))  # fmt: skip
    critical = service.alerts.raise_alert(project_id="p1", event_type="e", severity="critical", message="m",
                                          triggered_by="t")  # fmt: skip
    low = service.alerts.raise_alert(project_id="p1", event_type="e", severity="low", message="m2", triggered_by="t")
    assert critical["silenced_by"] and low["silenced_by"]
    for minutes in (1, 9, 29):
        service.deliveries.deliver_due(start + minutes * 60)
    assert sender.posts == []  # held while silenced, and the silence's end is not a repeat
    service.deliveries.deliver_due(start + 31 * 60)
    assert [p["url"] for p in sender.posts] == ["http://hook.test/r"]  # the repeating route, after the silence
    service.deliveries.deliver_due(start + 62 * 60)
    assert len(sender.posts) == 2
    service.alerts.transition(critical["alert_id"], "acknowledged", by="x", reason=None)
    service.deliveries.deliver_due(start + 100 * 60)
    assert [p["url"] for p in sender.posts][2:] == ["http://hook.test/r"]  # the acknowledgement, then no repeats
    service.deliveries.deliver_due(start + 200 * 60)
    assert len(sender.posts) == 3
    assert [d["status"] for d in service.deliveries.of_alert(low["alert_id"])] == ["silenced"]


def test_a_url_refused_when_sent_is_a_failed_attempt() -> None:
    sender = FakeSender()
    service = _service(sender)
    service.routing.put_routes(ADMIN, "p1", RoutesRequest.model_validate(
        {"routes": [_hook("r", {}, "https://refused.example.com/x")]}))  # fmt: skip
    alert = service.alerts.raise_alert(project_id="p1", event_type="e", severity="high", message="m", triggered_by="t")
    service.deliveries.deliver_due(clock.now())
    [delivery] = service.deliveries.of_alert(alert["alert_id"])
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert "refused" in delivery["last_error"] and delivery["last_status_code"] is None
