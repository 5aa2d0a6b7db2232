"""Routes, silences and deliveries through the SDK and the ``puraify`` CLI, against the local runner over HTTP."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

import puraify_client as pc
from puraify import wiring
from tests.client.mockplane import E2E_ADMIN_KEY
from tests.client.test_sdk_cli import puraify
from tests.receivers import Receiver

SECRET = "whsec_" + base64.b64encode(b"sdk-and-cli-test-secret-0123456789").decode()
ADMIN = ("admin", E2E_ADMIN_KEY)


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.stop()


def _deliver() -> dict:
    """The schedule's pass, run now (the plane of these tests fires no schedules itself)."""
    return wiring.current().monitoring.scheduled()


def test_sdk_routes_a_critical_alert_to_a_signed_webhook_and_shows_the_delivery(plane, receiver):
    project = "pf-sdk-routes"
    with pc.SyncControlPlane(plane.base_url, *ADMIN) as cp:
        saved = cp.monitoring.set_routes(project, [
            {"name": "critical", "match": {"severity": ["critical"]},
             "channels": [{"type": "webhook", "url": receiver.url, "secret": SECRET}]}])  # fmt: skip
        assert saved.routes[0]["channels"][0]["secret"] == "****" + SECRET[-4:]
        assert cp.monitoring.routes(project).routes == saved.routes
        alert = cp.monitoring.alert(project, "checkout down", severity="critical")
        _deliver()
        [delivery] = cp.monitoring.deliveries(alert.alert_id)
    assert delivery.status == "delivered" and delivery.last_status_code == 200 and delivery.attempts == 1
    [request] = receiver.requests
    assert Webhook(SECRET).verify(request["body"], request["headers"])["alert"]["alert_id"] == alert.alert_id


def test_sdk_refused_route_is_a_validation_error_naming_the_field(plane, receiver):
    with pc.SyncControlPlane(plane.base_url, *ADMIN) as cp, pytest.raises(pc.ValidationError) as raised:
        cp.monitoring.set_routes("pf-sdk-bad", [{"name": "x", "channels": [{"type": "webhook", "url": receiver.url,
                                                                          "secret": "whsec_short"}]}])  # fmt: skip
    assert raised.value.details[0]["field"] == "body.routes.0.channels.0.webhook.secret"  # the type names the variant


def test_cli_routes_set_from_yaml_get_silence_and_unsilence(plane, receiver, tmp_path):
    project = "pf-cli-routes"
    routes = tmp_path / "routes.yaml"
    routes.write_text(f"""routes:
  - name: everything
    channels:
      - type: webhook
        url: {receiver.url}
        secret: {SECRET}
""")
    done = puraify("alerts", "routes", "set", "--project", project, str(routes), url=plane.base_url, engine=ADMIN)
    assert done.returncode == 0, done.stderr
    assert "1 route(s) saved" in done.stdout
    got = puraify("alerts", "routes", "get", "--project", project, url=plane.base_url, engine=ADMIN)
    assert got.returncode == 0 and SECRET not in got.stdout
    shown = json.loads(got.stdout)
    assert shown["routes"][0]["channels"][0]["secret"].startswith("****")
    # The masked document set back as it is keeps the secret
    again = tmp_path / "again.json"
    again.write_text(got.stdout)
    assert puraify("alerts", "routes", "set", "--project", project, str(again), url=plane.base_url,
                   engine=ADMIN).returncode == 0  # fmt: skip
    # Silence, raise: stored, not sent
    silenced = puraify("--json", "alerts", "silence", "--project", project, "--match", "severity=high,critical",
                       "--for", "1h", "--reason", "planned work", url=plane.base_url, engine=ADMIN)  # fmt: skip
    assert silenced.returncode == 0, silenced.stderr
    silence_id = json.loads(silenced.stdout)["silence_id"]
    listed = puraify("alerts", "silences", "--project", project, url=plane.base_url, engine=ADMIN)
    assert silence_id in listed.stdout and "planned work" in listed.stdout
    with pc.SyncControlPlane(plane.base_url, *ADMIN) as cp:
        held = cp.monitoring.alert(project, "db failover", severity="critical")
        _deliver()
        assert receiver.requests == []
        assert [d.status for d in cp.monitoring.deliveries(held.alert_id)] == ["silenced"]
        # When unsilenced, the next alert goes out, with the secret kept through the masked set
        assert puraify("alerts", "unsilence", silence_id, url=plane.base_url, engine=ADMIN).returncode == 0
        sent = cp.monitoring.alert(project, "db failover again", severity="critical")
        _deliver()
    [request] = receiver.requests
    assert Webhook(SECRET).verify(request["body"], request["headers"])["alert"]["alert_id"] == sent.alert_id
    table = puraify("alerts", "deliveries", sent.alert_id, url=plane.base_url, engine=ADMIN)
    assert table.returncode == 0 and "delivered" in table.stdout and "alert.opened" in table.stdout
    missing = puraify("alerts", "unsilence", silence_id, url=plane.base_url, engine=ADMIN)
    assert missing.returncode == 5  # not found


def test_sdk_silence_takes_datetimes(plane):
    with pc.SyncControlPlane(plane.base_url, *ADMIN) as cp:
        made = cp.monitoring.silence("pf-sdk-silence", datetime.now(UTC) + timedelta(minutes=30), "deploy",
                                     match={"platform": "slack"})  # fmt: skip
        assert made.active and made.match == {"platform": ["slack"]}
        assert [s.silence_id for s in cp.monitoring.silences("pf-sdk-silence").silences] == [made.silence_id]
        cp.monitoring.unsilence(made.silence_id)
        assert cp.monitoring.silences("pf-sdk-silence").silences == []


def test_cli_alerts_show_prints_the_alert_and_its_deliveries(plane, receiver):
    project = "pf-cli-show"
    with pc.SyncControlPlane(plane.base_url, *ADMIN) as cp:
        cp.monitoring.set_routes(project, [{"name": "hook", "channels": [
            {"type": "webhook", "url": receiver.url, "secret": SECRET}]}])  # fmt: skip
        alert = cp.monitoring.alert(project, "queue stuck", severity="high")
        assert cp.monitoring.get_alert(alert.alert_id).deliveries[0]["status"] == "pending"
    _deliver()
    shown = puraify("alerts", "show", alert.alert_id, url=plane.base_url, engine=ADMIN)
    assert shown.returncode == 0, shown.stderr
    assert "queue stuck" in shown.stdout and "delivered" in shown.stdout and "hook" in shown.stdout
