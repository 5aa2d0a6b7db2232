"""`make run` restarts stay flat: after 20,000 calls to its AWS endpoint, a restart takes about as long as a
fresh start, because the journal keeps only what changes moto's state, compacted.

The calls are the mix the control plane sends moto (secret reads for resolved/compare, the policy
manifest's polls, alert notifications, SSM reads, and in a hundred: a secret change, a preview's secret
made, one deleted), over HTTP to the runner's own moto port, so they pass the real journal. A moto call
costs milliseconds (tens on a loaded machine), so not all 20,000 are sent: the first 1,000 are, and the
test checks that of those, exactly the changes were journaled; of the other 19,000 only the changes are
sent (570), the reads being the ones just shown to leave no line. The journal then is the one 20,000
calls leave.
"""

from __future__ import annotations

import http.client
import json
import re
import time
from pathlib import Path

import pytest

from local.dynamodb_local import missing_tools
from tests.e2e.test_restart import Runner

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason="DynamoDB Local needs Java 17 and npm")

CALLS = 20_000
SECRET = "puraify/dev/env/pf-1/production/DB_PASSWORD"


def _json_call(port: int, service: str, target: str, body: dict) -> tuple[int, dict]:
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": target,
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20261206/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    return _call(port, "POST", "/", headers, json.dumps(body).encode())


def _call(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        data = reply.read()
    finally:
        connection.close()
    try:
        return reply.status, json.loads(data) if data else {}
    except ValueError:
        return reply.status, {}


def _s3(port: int, method: str, path: str) -> int:
    auth = "AWS4-HMAC-SHA256 Credential=testing/20261206/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
    return _call(port, method, path, {"Authorization": auth, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})[0]


def _sns_publish(port: int, topic: str, i: int) -> int:
    auth = "AWS4-HMAC-SHA256 Credential=testing/20261206/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0"
    form = f"Action=Publish&Version=2010-03-31&TopicArn={topic}&Message=alert-{i}".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": auth}
    return _call(port, "POST", "/", headers, form)[0]


WRITES = range(96, 99)  # the slots of a hundred calls that change state


def _mixed_calls(port: int, calls: range, versions: dict[str, str], *, reads: bool = True) -> int:
    """The calls numbered ``calls`` of the control plane's mix (reads too, or only the changes); records the
    secret versions written (id -> value) in ``versions``; returns how many changes it sent."""
    topic = "arn:aws:sns:us-east-1:123456789012:AlertsTopic"
    get = {"SecretId": SECRET}
    changes = 0
    for i in calls:
        slot = i % 100
        if not reads and slot not in WRITES:
            continue
        changes += slot in WRITES
        if slot < 50:
            status, _ = _json_call(port, "secretsmanager", "secretsmanager.GetSecretValue", get)
        elif slot < 70:
            status = _s3(port, "HEAD", "/policybucket/manifest.json")
        elif slot < 80:
            status = _s3(port, "GET", "/policybucket/manifest.json")
        elif slot < 90:
            status = _sns_publish(port, topic, i)
        elif slot < 96:
            status, _ = _json_call(port, "ssm", "AmazonSSM.GetParameter", {"Name": "/puraify/dev/slack-webhook-url"})
            status = 200 if status == 400 else status  # not set: a read that finds nothing
        elif slot < 97:
            token = f"00000000-0000-4000-8000-{i:012d}"
            body = {"SecretId": SECRET, "SecretString": f"v-{i}", "ClientRequestToken": token}
            status, put = _json_call(port, "secretsmanager", "secretsmanager.PutSecretValue", body)
            versions[put.get("VersionId", "")] = f"v-{i}"
        elif slot < 98:
            status, _ = _json_call(
                port, "secretsmanager", "secretsmanager.CreateSecret", {"Name": f"preview-{i}", "SecretString": "p"}
            )
        elif slot < 99:
            status, _ = _json_call(
                port,
                "secretsmanager",
                "secretsmanager.DeleteSecret",
                {"SecretId": f"preview-{i - 1}", "ForceDeleteWithoutRecovery": True},
            )
        else:
            status, _ = _json_call(port, "secretsmanager", "secretsmanager.ListSecrets", {})
        assert status == 200, (i, slot, status)
    return changes


def _timed_start(runner: Runner) -> tuple[float, str]:
    started = time.monotonic()
    output = runner.start()
    return time.monotonic() - started, output


def _lines(journal: Path) -> int:
    return sum(1 for _ in journal.open())


def test_a_restart_after_20000_calls_takes_about_as_long_as_a_fresh_start(tmp_path: Path):
    runner = Runner(tmp_path / "state")
    aws_port = int(runner.env["PURAIFY_AWS_PORT"])
    journal = tmp_path / "state" / "moto-recording.jsonl"
    try:
        # Given a fresh start
        fresh, _ = _timed_start(runner)
        status, made = _json_call(
            aws_port, "secretsmanager", "secretsmanager.CreateSecret", {"Name": SECRET, "SecretString": "v-0"}
        )
        assert status == 200, made
        versions = {made["VersionId"]: "v-0"}
        # When 1,000 calls of the mix are sent: only their changes are journaled
        sent = time.monotonic()
        before = _lines(journal)
        changes = _mixed_calls(aws_port, range(1_000), versions)
        assert _lines(journal) - before == changes == 30
        # and the changes of the other 19,000 (their reads would leave nothing, as just shown)
        changes += _mixed_calls(aws_port, range(1_000, CALLS), versions, reads=False)
        sent = time.monotonic() - sent
        runner.stop()
        lines_before = _lines(journal)
        # And it starts again
        restart, output = _timed_start(runner)
        # Then it is ready in about the time of a fresh start, from a journal of the changes only, compacted
        replayed = int(re.search(r"moto replayed (\d+) recorded changes", output).group(1))
        lines_after = _lines(journal)
        print(
            f"fresh {fresh:.1f} s; {CALLS} calls ({changes} changes) in {sent:.1f} s; restart {restart:.1f} s "
            f"({restart / fresh:.2f}x); journal {lines_before} lines, {replayed} replayed, {lines_after} kept; "
            + output.splitlines()[0]
        )
        assert restart / fresh < 1.5, (fresh, restart)
        assert lines_before < 700 and lines_after < 300
        # And the state is whole: secret versions old and new, a preview's secret deleted for good stays deleted
        sample = list(versions.items())
        for version_id, value in [*sample[:: max(1, len(sample) // 8)], sample[-1]]:
            body = {"SecretId": SECRET, "VersionId": version_id}
            status, found = _json_call(aws_port, "secretsmanager", "secretsmanager.GetSecretValue", body)
            assert status == 200 and found["SecretString"] == value
        described = {"SecretId": "preview-97"}
        status, gone = _json_call(aws_port, "secretsmanager", "secretsmanager.DescribeSecret", described)
        assert status >= 400 and "ResourceNotFound" in str(gone)
    finally:
        runner.stop()
