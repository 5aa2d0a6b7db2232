"""Bad credentials do not amplify into writes (issue 19, item 8), replayed on the real handler and boto3.

The attack: 1,000 requests with bad credentials wrote 1,000 audit rows in 5.1 s. Now each is
counted in one aggregate per source, claimed engine id and minute (an ``UpdateItem ADD``), which
keeps the first few requests as samples; the audit line of each still feeds the metric filter.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import time

import pytest

from tests.conftest import load_event

ADMIN = "admin"


@pytest.fixture
def engine(aws, admin_key, invoke) -> tuple[str, str]:
    reply = invoke("register/register", engine=(ADMIN, admin_key), body={"engine_id": "action"})
    assert reply.status == 201, reply.body
    return ("action", reply.body["engine_key"])


@pytest.fixture
def lines():
    from puraify.observability import logger

    stream = io.StringIO()
    handler = logging.getLogger("puraify").handlers[0]
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    level = logger.log_level
    logger.setLevel("INFO")
    yield stream
    handler.setStream(previous)  # type: ignore[attr-defined]
    logger.setLevel(level)


def _from(source: str) -> dict:
    event = copy.deepcopy(load_event("check/check"))
    event["requestContext"]["http"]["sourceIp"] = source
    return event


def _aggregates(aws) -> list[dict]:
    items = aws.client("dynamodb").scan(TableName=aws.name("AuditTable"))["Items"]
    return [i for i in items if i["pk"]["S"].startswith("AUTH#")]


def test_a_thousand_bad_credentials_write_a_handful_of_aggregates_with_the_count(aws, engine, invoke, lines):
    # Given: an attacker at two addresses: a wrong key for a real engine, and made-up ids, one per request
    before = aws.client("dynamodb").scan(TableName=aws.name("AuditTable"), Select="COUNT")["Count"]
    wrong_key = ("action", "pfk_wrong-key-0123456789abcdefghijklmnopqrstuvw")
    started = time.time()
    # When
    for n in range(1000):
        if n % 10:
            assert invoke(_from("203.0.113.7"), engine=wrong_key).status == 401
        else:
            assert invoke(_from("198.51.100.9"), engine=(f"ghost-{n}", wrong_key[1])).status == 401
    # Then: one aggregate per source, engine and minute (more minutes only if the run straddles them)
    minutes = int(time.time() // 60 - started // 60) + 1
    aggregates = _aggregates(aws)
    after = aws.client("dynamodb").scan(TableName=aws.name("AuditTable"), Select="COUNT")["Count"]
    assert after - before == len(aggregates) <= 2 * minutes
    assert {a["sk"]["S"] for a in aggregates} == {"action#203.0.113.7", "-#198.51.100.9"}
    counts = {
        sk: sum(int(a["count"]["N"]) for a in aggregates if a["sk"]["S"] == sk)
        for sk in ("action#203.0.113.7", "-#198.51.100.9")
    }
    assert counts == {"action#203.0.113.7": 900, "-#198.51.100.9": 100}
    for aggregate in aggregates:
        samples = aggregate["samples"]["L"]
        assert 1 <= len(samples) <= 5 and aggregate["expires_at"]["N"]
        if aggregate["sk"]["S"].startswith("-#"):  # made-up ids are counted together; the samples name them
            assert all(s["M"]["engine_id"]["S"].startswith("ghost-") for s in samples)
    # and every failure still writes its audit line, which the metric filter counts
    audit = [json.loads(line) for line in lines.getvalue().splitlines() if '"audit"' in line]
    failures = [line for line in audit if line["kind"] == "auth"]
    assert len(failures) == 1000 and all(line["status"] == "denied" for line in failures)
    assert max(line["count"] for line in failures if line["engine_id"] == "action") >= 900 // minutes
