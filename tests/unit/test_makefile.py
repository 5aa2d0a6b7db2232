"""The Makefile's documented targets each work alone on a fresh clone: what a target's tests or server need
is built by the target itself, not by another target that CI happens to run first."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from local.template import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(target: str, *changed: str) -> str:
    """What ``make TARGET`` would run if ``changed`` files had just been edited (nothing is run)."""
    command = ["make", "-n", *[f"-W{path}" for path in changed], target, "FUNCTION=CheckFunction", "EVENT=x.json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


# Every target that serves the console or runs its tests (tests/browser, tests/integration/test_console_assets.py)
@pytest.mark.parametrize("target", ["run", "test", "test-localstack", "test-dynamodb-local", "screenshots", "build"])
def test_targets_that_need_the_console_build_it_themselves(target):
    assert "node build.mjs" in dry_run(target, "console/build.mjs")


def test_make_build_and_deploy_run_the_sam_cli_with_telemetry_off():
    for target in ("build", "deploy"):
        sam_lines = [line for line in dry_run(target, "template.yaml").splitlines() if "bin/sam " in line]
        assert sam_lines, target
        assert all(line.startswith("SAM_CLI_TELEMETRY=0 ") for line in sam_lines), sam_lines


def test_a_first_install_says_what_it_installs_and_shows_progress():
    steps = dry_run("install", "requirements-dev.txt")
    assert "installing the Python packages of requirements-dev.txt" in steps
    pip = next(line for line in steps.splitlines() if "-r requirements-dev.txt" in line)
    assert " -q" not in pip  # pip names each package as it goes
    console = dry_run("console", "console/package-lock.json")
    assert "installing the console's npm packages" in console and "building the operator console" in console
