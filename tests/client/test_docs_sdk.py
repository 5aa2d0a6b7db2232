"""docs/sdk.md as written: every Python block runs, in order, as one script against the local runner,
and every ``puraify`` line of its other blocks names a command the CLI has."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator

import click
import pytest

from local.runner import LocalControlPlane
from local.template import ROOT
from puraify_client.cli import main as cli_main
from tests.client.conftest import plane_on_socket
from tests.client.mockplane import E2E_ADMIN_KEY

DOC = ROOT / "docs" / "sdk.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
DOC_SOCKET = "/tmp/puraify.sock"


def blocks(language: str | None = None) -> list[str]:
    found = [(lang, body) for lang, body in BLOCK.findall(DOC.read_text())]
    return [body for lang, body in found if language is None or lang == language]


@pytest.fixture(scope="module")
def docs_plane(moto_endpoint: str) -> Iterator[LocalControlPlane]:
    """The local runner as the page's socket section starts it (``PURAIFY_SOCKET``), on its own tables."""
    with plane_on_socket(moto_endpoint, "docsdk") as local:
        yield local


def test_every_python_block_of_docs_sdk_runs_against_the_local_runner(docs_plane):
    python = blocks("python")
    assert len(python) >= 7
    script = "\n\n".join(python).replace(DOC_SOCKET, docs_plane.socket_path)
    body = "\n".join("    " + line if line.strip() else "" for line in script.splitlines())
    program = (
        "import asyncio, os\n"
        "url, admin_key = os.environ['PURAIFY_URL'], os.environ['DOC_ADMIN_KEY']\n"
        "async def page():\n"
        "    global engine_key\n"
        f"{body}\n"
        "    print('page ran')\n"
        "asyncio.run(page())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PURAIFY_")}
    env.update(PURAIFY_URL=docs_plane.base_url, DOC_ADMIN_KEY=E2E_ADMIN_KEY, PYTHONPATH=str(ROOT / "client"))
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (
        "[1009] invalid arguments for LogEvent: duration_ms: Input should be greater than or equal to 0\n"
        in done.stdout
    )
    assert done.stdout.strip().endswith("page ran")


def test_every_puraify_line_of_docs_sdk_names_a_command():
    lines = [line for body in blocks() for line in body.splitlines() if line.startswith("puraify ")]
    assert len(lines) >= 25
    for line in lines:
        words = [w for w in shlex.split(line.split("  #")[0])[1:] if w != "--json"]
        command: click.Command = cli_main
        for word in words:
            if not isinstance(command, click.Group) or word.startswith("-"):
                break
            found = command.get_command(click.Context(command), word)
            if found is None:
                break
            command = found
        assert not isinstance(command, click.Group), f"{line!r} does not name a command"
