"""Explain, capabilities, simulate and the audit views through the SDK and the ``puraify`` command, against
the local runner over real HTTP."""

from __future__ import annotations

import itertools
import json

import pytest

import puraify_client as pc
from tests.client.mockplane import E2E_ADMIN_KEY
from tests.client.test_sdk_cli import puraify

_ids = itertools.count(1)
ADMIN = ("admin", E2E_ADMIN_KEY)


@pytest.fixture
async def admin(plane):
    async with pc.ControlPlane(plane.base_url, "admin", E2E_ADMIN_KEY) as cp:
        yield cp


@pytest.fixture
async def engine(plane, admin):
    """A fresh engine allowed gmail send_email and read_email in project ``shop``, with its key."""
    engine_id = f"why-{next(_ids)}"
    created = await admin.engines.register(
        engine_id, permissions={"gmail": ["send_email", "read_email"]}, projects=["shop"], description="why"
    )
    key = created.engine_key.get_secret_value()
    async with pc.ControlPlane(plane.base_url, engine_id, key) as cp:
        yield cp, key


async def test_sdk_explains_lists_capabilities_simulates_and_reads_the_audit(admin, engine):
    cp, _ = engine
    explained = await cp.actions.check("gmail", "add_label", project_id="shop", explain=True)
    assert not explained.allowed and explained.explanation is not None
    assert explained.explanation.decided_by == explained.rule == "not_granted"
    assert [s.outcome for s in explained.explanation.steps][:5] == ["pass", "pass", "pass", "pass", "fail"]
    plain = await cp.actions.check("gmail", "send_email", project_id="shop")
    assert plain.allowed and plain.explanation is None

    capabilities = await cp.engines.capabilities(project_id="shop")
    assert [(c.action_type, c.allowed) for c in capabilities] == [("read_email", True), ("send_email", True)]

    await cp.actions.check("gmail", "read_email", project_id="shop")
    flips = await admin.actions.simulate(engine={"engine_id": cp.engine_id, "permissions": {"gmail": ["send_email"]}})
    assert (flips.allow_to_deny, flips.deny_to_allow, flips.replayed) == (1, 0, 3)
    assert flips.examples[0].action_type == "read_email" and flips.examples[0].rule == "not_granted"

    mine = await cp.monitoring.engine_audit(cp.engine_id)
    assert [d["action_type"] for d in mine.decisions] == ["read_email", "send_email", "add_label"]
    changes = await admin.monitoring.admin_audit(engine_id=cp.engine_id)
    assert [c["operation"] for c in changes.changes] == ["simulate", "register_engine"]  # newest first
    assert changes.changes[1]["target"] == cp.engine_id and changes.changes[1]["after"]["projects"] == ["shop"]


def test_cli_check_explain_capabilities_simulate_and_audit(plane, engine):
    cp, key = engine
    me = (cp.engine_id, key)
    explained = puraify("check", "gmail", "add_label", "--explain", url=plane.base_url, engine=me)
    assert explained.returncode == 3, explained.stderr
    assert "permission" in explained.stdout and "decided by: not_granted" in explained.stdout
    assert puraify("check", "gmail", "send_email", "--project", "shop", url=plane.base_url, engine=me).returncode == 0

    listed = puraify("--json", "engines", "capabilities", url=plane.base_url, engine=me)
    assert listed.returncode == 0, listed.stderr
    assert [c["action_type"] for c in json.loads(listed.stdout)] == ["read_email", "send_email"]
    other = puraify("engines", "capabilities", "admin", url=plane.base_url, engine=me)
    assert other.returncode != 0

    simulated = puraify("simulate", "--engine", cp.engine_id, "--no-permissions", url=plane.base_url, engine=ADMIN)
    assert simulated.returncode == 0, simulated.stderr
    assert "1 allowed -> denied" in simulated.stdout and "send_email" in simulated.stdout
    as_json = json.loads(puraify("--json", "simulate", "--platform", "gmail=disabled", url=plane.base_url,
                                 engine=ADMIN).stdout)  # fmt: skip
    assert as_json["allow_to_deny"] >= 1 and as_json["truncated"] is False
    bad = puraify("simulate", "--engine", cp.engine_id, "-p", "gmail:fly", url=plane.base_url, engine=ADMIN)
    assert bad.returncode == 7 and "permissions.gmail.fly" in bad.stderr

    audit = puraify("audit", "--engine", cp.engine_id, url=plane.base_url, engine=me)
    assert audit.returncode == 0 and "not_granted" in audit.stdout and "add_label" in audit.stdout
    header, *lines = audit.stdout.splitlines()
    start, end = header.index("REASON"), header.index("REQUEST_ID")
    reasons = " ".join(line[start:end].strip() for line in lines if line[start:end].strip())
    assert f"action 'add_label' on 'gmail' is not granted to engine '{cp.engine_id}'" in reasons  # whole, not cut
    admin_view = puraify("audit", "--admin", "--engine", cp.engine_id, url=plane.base_url, engine=ADMIN)
    assert admin_view.returncode == 0 and "register_engine" in admin_view.stdout


def test_cli_audit_shows_a_gate_denials_reasons(plane):
    project = f"pf-why-gate-{next(_ids)}"
    state = json.dumps({"entities": ["Lead"], "flows": {}})
    assert puraify("env", "publish", project, "-", "--label", "v1.0.0", url=plane.base_url, engine=ADMIN,
                   stdin=state).returncode == 0  # fmt: skip
    assert puraify("env", "create", project, "production", url=plane.base_url, engine=ADMIN).returncode == 0
    assert puraify("flags", "set", "deployments", "--off", url=plane.base_url, engine=ADMIN).returncode == 0
    try:
        denied = puraify("env", "promote", project, "development", "production", url=plane.base_url, engine=ADMIN)
        assert denied.returncode == 3
    finally:
        assert puraify("flags", "set", "deployments", "--on", url=plane.base_url, engine=ADMIN).returncode == 0
    shown = puraify("audit", "--project", project, url=plane.base_url, engine=ADMIN)
    assert shown.returncode == 0
    (row,) = [line for line in shown.stdout.splitlines() if " denied " in line]
    assert "change freeze" in row and row.rstrip().split()[-1] != "-"
