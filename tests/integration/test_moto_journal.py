"""The journal of ``make run``'s moto (local/recorded_moto.py): only changes are kept, compacted, and a
replay gives back the same state, S3 version ids included, however many reads came between."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

from local.recorded_moto import _compacted, changes_state
from local.template import ROOT

JSON = {"Content-Type": "application/x-amz-json-1.1"}
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


@pytest.mark.parametrize(
    ("method", "path", "headers", "query", "body", "expected"),
    [
        ("GET", "/policybucket/manifest.json", {}, "", b"", False),
        ("HEAD", "/policybucket/manifest.json", {}, "", b"", False),
        ("GET", "/policybucket", {}, "versions", b"", False),
        ("PUT", "/policybucket/bundles/x", {}, "", b"rego", True),
        ("DELETE", "/policybucket/bundles/x", {}, "versionId=1", b"", True),
        ("POST", "/policybucket", {}, "delete", b"<Delete/>", True),
        ("POST", "/", {**JSON, "X-Amz-Target": "secretsmanager.GetSecretValue"}, "", b"{}", False),
        ("POST", "/", {**JSON, "X-Amz-Target": "secretsmanager.DescribeSecret"}, "", b"{}", False),
        ("POST", "/", {**JSON, "X-Amz-Target": "secretsmanager.ListSecrets"}, "", b"{}", False),
        ("POST", "/", {**JSON, "X-Amz-Target": "secretsmanager.PutSecretValue"}, "", b"{}", True),
        ("POST", "/", {**JSON, "X-Amz-Target": "secretsmanager.DeleteSecret"}, "", b"{}", True),
        ("POST", "/", {**JSON, "X-Amz-Target": "AmazonSSM.GetParameter"}, "", b"{}", False),
        ("POST", "/", {**JSON, "X-Amz-Target": "AmazonSSM.PutParameter"}, "", b"{}", True),
        ("POST", "/", FORM, "", b"Action=Publish&TopicArn=t&Message=m", False),
        ("POST", "/", FORM, "", b"Action=CreateTopic&Name=t", True),
        ("POST", "/", FORM, "", b"Action=ListTopics", False),
        ("GET", "/", {}, "Action=GetTopicAttributes&TopicArn=t", b"", False),
        ("POST", "/moto-api/seed", {}, "a=1", b"", False),
    ],
)
def test_only_requests_that_change_state_are_journaled(method, path, headers, query, body, expected):
    assert changes_state(method, path, headers, query, body) is expected


def _line(seq: int, target: str, body: dict) -> tuple[dict, str]:
    entry = {
        "seq": seq,
        "method": "POST",
        "url": "http://127.0.0.1:4566/",
        "headers": {**JSON, "X-Amz-Target": target},
        "body": base64.b64encode(json.dumps(body).encode()).decode(),
        "body_encoded": True,
    }
    return entry, json.dumps(entry)


def _versioning(seq: int, status: str) -> tuple[dict, str]:
    xml = f"<VersioningConfiguration><Status>{status}</Status></VersioningConfiguration>"
    entry = {
        "seq": seq,
        "method": "PUT",
        "url": "http://127.0.0.1:4566/policybucket?versioning",
        "headers": {},
        "body": base64.b64encode(xml.encode()).decode(),
        "body_encoded": True,
    }
    return entry, json.dumps(entry)


def test_compaction_drops_secrets_deleted_for_good_and_settings_repeated_unchanged():
    kept = [
        _versioning(1, "Enabled"),
        _line(2, "secretsmanager.CreateSecret", {"Name": "preview/a", "SecretString": "x"}),
        _line(3, "secretsmanager.PutSecretValue", {"SecretId": "prod/b", "SecretString": "y"}),
        _line(4, "secretsmanager.PutSecretValue", {"SecretId": "preview/a", "SecretString": "z"}),
        _line(5, "secretsmanager.DeleteSecret", {"SecretId": "preview/a", "ForceDeleteWithoutRecovery": True}),
        _line(6, "secretsmanager.DeleteSecret", {"SecretId": "prod/b"}),  # recoverable: kept
        _versioning(7, "Enabled"),  # the next start's: no change
        _versioning(8, "Suspended"),
        _versioning(9, "Enabled"),  # a change back: kept
        _line(10, "secretsmanager.CreateSecret", {"Name": "preview/a", "SecretString": "again"}),
    ]
    seqs = [json.loads(line)["seq"] for line in _compacted(kept)]
    assert seqs == [1, 3, 6, 8, 9, 10]


SERVE = """
import sys
from pathlib import Path
from local.recorded_moto import RecordedMoto
moto = RecordedMoto(Path(sys.argv[1]), 0)
moto.start()
print(moto.port, moto.replayed, moto.dropped, flush=True)
sys.stdin.read()
moto.stop()
"""


@contextmanager
def _recorded_moto(journal: Path) -> Iterator[tuple[str, int, int]]:
    """A RecordedMoto in a process of its own (moto's state is per process, as in ``make run``):
    (endpoint, requests replayed, requests compacted away)."""
    child = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(journal)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        port, replayed, dropped = child.stdout.readline().split()
        yield f"http://127.0.0.1:{port}", int(replayed), int(dropped)
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=60)


def _s3(endpoint: str):
    return boto3.session.Session().client("s3", region_name="us-east-1", endpoint_url=endpoint)


def _secrets(endpoint: str):
    return boto3.session.Session().client("secretsmanager", region_name="us-east-1", endpoint_url=endpoint)


def test_a_replay_gives_back_the_same_s3_versions_without_the_reads_and_drops_refused_requests(tmp_path: Path):
    journal = tmp_path / "moto-recording.jsonl"
    # Given S3 versions made between many reads (each read draws from moto's random source)
    with _recorded_moto(journal) as (endpoint, replayed, _):
        assert replayed == 0
        s3 = _s3(endpoint)
        s3.create_bucket(Bucket="policy-bucket")
        s3.put_bucket_versioning(Bucket="policy-bucket", VersioningConfiguration={"Status": "Enabled"})
        made = []
        for i in range(5):
            made.append(s3.put_object(Bucket="policy-bucket", Key="manifest.json", Body=f"v{i}".encode())["VersionId"])
            for _ in range(10):
                s3.head_object(Bucket="policy-bucket", Key="manifest.json")
        secrets = _secrets(endpoint)
        with pytest.raises(secrets.exceptions.ResourceNotFoundException):
            secrets.put_secret_value(SecretId="env/a", SecretString="x")  # refused: nothing changed
        secrets.create_secret(Name="env/a", SecretString="x")
    assert sum(1 for _ in journal.open()) == 9  # bucket, versioning, 5 puts, 2 secret calls, and no read
    # When it starts again from the journal
    with _recorded_moto(journal) as (endpoint, replayed, dropped):
        # Then the versions are those the policy manifests name, and the refused request is compacted away
        s3 = _s3(endpoint)
        versions = s3.list_object_versions(Bucket="policy-bucket", Prefix="manifest.json")["Versions"]
        assert sorted(v["VersionId"] for v in versions) == sorted(made)
        body = s3.get_object(Bucket="policy-bucket", Key="manifest.json", VersionId=made[2])["Body"].read()
        assert body == b"v2"
        assert _secrets(endpoint).get_secret_value(SecretId="env/a")["SecretString"] == "x"
        assert (replayed, dropped) == (9, 1)  # the refused put
        # And a change made after the restart does not reuse an id
        later = s3.put_object(Bucket="policy-bucket", Key="manifest.json", Body=b"v5")["VersionId"]
        assert later not in made
    # And the next start replays the compacted journal to the same state
    with _recorded_moto(journal) as (endpoint, replayed, dropped):
        versions = _s3(endpoint).list_object_versions(Bucket="policy-bucket", Prefix="manifest.json")["Versions"]
        assert sorted(v["VersionId"] for v in versions) == sorted([*made, later])
        assert (replayed, dropped) == (9, 0)


def test_a_line_cut_short_by_a_kill_is_ignored(tmp_path: Path):
    journal = tmp_path / "moto-recording.jsonl"
    with _recorded_moto(journal) as (endpoint, _, _):
        _secrets(endpoint).create_secret(Name="env/b", SecretString="kept")
    with journal.open("a") as out:
        out.write('{"seq": 99, "method": "PO')  # the kill came while this line was written
    with _recorded_moto(journal) as (endpoint, replayed, _):
        assert replayed == 1
        assert _secrets(endpoint).get_secret_value(SecretId="env/b")["SecretString"] == "kept"
