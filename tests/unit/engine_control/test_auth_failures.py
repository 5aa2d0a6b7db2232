"""Rejected credentials are counted in aggregates, and the metric filter and anomaly rule read their lines."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from local.template import Template
from puraify.audit import AUTH_FAILURE_SAMPLES, AuditLog
from puraify.observability import logger
from tests.fakes.engine_control import MemoryAuditStore


@pytest.fixture
def lines():
    stream = io.StringIO()
    handler = logging.getLogger("puraify").handlers[0]
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    level = logger.log_level
    logger.setLevel("INFO")
    yield stream
    handler.setStream(previous)  # type: ignore[attr-defined]
    logger.setLevel(level)


def _fail(audit: AuditLog, n: int, claimed: str = "action", known: bool = True, source: str = "203.0.113.7") -> int:
    count = audit.auth_failure(
        request_id=f"r{n}", claimed=claimed, known=known, source=source, route="POST /actions/check"
    )
    assert count is not None
    return count


def test_failures_of_one_source_and_engine_in_a_minute_are_one_item_with_the_count_and_samples(lines):
    store = MemoryAuditStore()
    audit = AuditLog(store, 90)
    for n in range(20):
        _fail(audit, n)
        _fail(audit, 100 + n, claimed=f"ghost-{n}", known=False)  # a made-up id per request
    _fail(audit, 200, source="198.51.100.9")
    # Then: three aggregates (a minute boundary in between would make more, never one per request)
    assert len(store.records) == 0 and 3 <= len(store.auth_failures) <= 6
    by_key = {}
    for (_, sk), item in store.auth_failures.items():
        by_key[sk] = by_key.get(sk, 0) + item["count"]
        assert len(item["samples"]) <= AUTH_FAILURE_SAMPLES
    assert by_key == {"action#203.0.113.7": 20, "-#203.0.113.7": 20, "action#198.51.100.9": 1}
    unknown = next(i for (_, sk), i in store.auth_failures.items() if sk.startswith("-#"))
    assert all(s["engine_id"].startswith("ghost-") and s["request_id"] for s in unknown["samples"])


def _matches(pattern: str, line: dict) -> bool:
    """A CloudWatch JSON filter pattern of ``$.a.b = "v"`` terms joined by ``&&``, applied to a line."""
    terms = re.findall(r'\$\.([\w.]+)\s*=\s*"([^"]*)"', pattern)
    assert terms and pattern.count("&&") == len(terms) - 1
    for path, expected in terms:
        value: object = line
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value != expected:
            return False
    return True


def test_the_metric_filter_counts_each_failure_line_and_the_anomaly_alarm_reads_that_metric(lines):
    # Given
    audit = AuditLog(MemoryAuditStore(), 90)
    for n in range(7):
        _fail(audit, n)
    written = [json.loads(line) for line in lines.getvalue().splitlines()]
    resources = Template().of_type("AWS::Logs::MetricFilter", "AWS::CloudWatch::Alarm")
    metric_filter, alarm = resources["AuthFailureMetricFilter"], resources["AuthFailureAnomalyAlarm"]
    # Then: one line per failure, each matched by the filter and naming its aggregate and its count so far
    assert [_matches(metric_filter["FilterPattern"], line) for line in written] == [True] * 7
    assert [line["count"] for line in written] == list(range(1, 8))
    assert {line["details"]["aggregate"].split("/")[1] for line in written} == {"action#203.0.113.7"}
    (made,) = metric_filter["MetricTransformations"]
    stat = next(m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m)
    assert (stat["Namespace"], stat["MetricName"]) == (made["MetricNamespace"], made["MetricName"])
    assert any("ANOMALY_DETECTION_BAND" in m.get("Expression", "") for m in alarm["Metrics"])
