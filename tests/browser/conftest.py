"""The console in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright.

Playwright's own browser download cannot work on these machines, so the tests launch the system
Chromium by path. They are skipped only when it is absent outside CI; CI (CI=true) installs it
(.ci/run) and fails here if it is missing.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from local.runner import LocalControlPlane
from local.template import ROOT
from tests.conftest import _prefixes

CHROMIUM = os.environ.get("PURAIFY_CHROMIUM", "/usr/bin/chromium")
ADMIN_KEY = "pfk_browser-admin-key-0123456789abcdefghijklmnopqrs"
# The flags Chromium needs on a machine with no network but loopback (see DESIGN.md).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A loaded 2-core machine answers a cold route in seconds: wait as long for what a person would see.
expect.set_options(timeout=20_000)
WRITE_BUTTON = re.compile(
    r"^(Register|Rotate|Revoke|Suspend|Reinstate|Edit|Set |Make available|Disable|Enable|Acknowledge|Resolve"
    r"|Promote|Roll back|Create)"
)


def _chromium_or_skip() -> str:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium for the console tests")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = _chromium_or_skip()
    built = ROOT / "functions" / "console" / "static" / "index.html"
    assert built.exists(), "build the console first: make console"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def console_plane(moto_endpoint: str) -> Iterator[LocalControlPlane]:
    """The local runner on a free port; check counts flushed with every check so the chart is immediate."""
    saved = dict(os.environ)
    os.environ["PURAIFY_CHECK_COUNT_FLUSH_SECONDS"] = "0"
    plane = LocalControlPlane(
        port=0, endpoint_url=moto_endpoint, admin_key=ADMIN_KEY, prefix=f"b{next(_prefixes)}-", schedules=False
    )
    plane.start()
    yield plane
    plane.stop()
    os.environ.clear()
    os.environ.update(saved)
    from puraify import wiring

    wiring.reset()


@pytest.fixture(scope="module")
def api(console_plane: LocalControlPlane) -> Iterator[httpx.Client]:
    """The API as an operator's script would call it (admin)."""
    with httpx.Client(
        base_url=console_plane.base_url, timeout=20, headers={"X-Engine-ID": "admin", "X-Engine-Key": ADMIN_KEY}
    ) as client:
        yield client


def console_problem(message: Any) -> str | None:
    """A console message that is a defect: any error or CSP violation (an invalid `pattern` is one).

    Chromium also logs every non-2xx fetch as "Failed to load resource"; those are answers the console
    handles (a 403 shown as "Not allowed", a 404 read as "no environments yet"), not errors of the page.
    """
    text = message.text
    if "Content Security Policy" in text:
        return text
    if message.type == "error" and not text.startswith("Failed to load resource"):
        return f"console error: {text}"
    return None


def watch_problems(tab: Any) -> list[str]:
    """Collects page errors and console errors of ``tab``; the test asserts the list stays empty."""
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("console", lambda message: (found := console_problem(message)) and problems.append(found))
    return problems


@pytest.fixture
def page(browser: Any, console_plane: LocalControlPlane) -> Iterator[Any]:
    """A fresh tab (own session storage) at 1280 px; fails the test on any console error or page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=console_plane.base_url)
    tab = context.new_page()
    problems = watch_problems(tab)
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    assert not problems, problems


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: PURAIFY_SCREENSHOTS (make screenshots: docs/console), else a temp folder."""
    folder = Path(os.environ.get("PURAIFY_SCREENSHOTS") or tmp_path_factory.mktemp("console-shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(tab: Any, engine_id: str, key: str) -> None:
    tab.goto("/console/")
    tab.get_by_label("Engine id").fill(engine_id)
    tab.get_by_label("Engine key").fill(key)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_role("button", name="Sign out").wait_for()


def open_project(tab: Any, project_id: str) -> None:
    tab.get_by_label("Project").fill(project_id)
    tab.get_by_role("button", name="Open").click()
