"""Schemathesis hooks for ``make fuzz`` (loaded through ``SCHEMATHESIS_HOOKS``).

Every request asks for the newest API version, the one the served document describes.
The fuzzer may rotate, revoke or re-scope any engine but the ones it authenticates as: a run
that locked itself out would fuzz nothing but 401s from then on.
"""

from __future__ import annotations

import os

import schemathesis

from puraify.versions import HEADER, LATEST

PROTECTED = frozenset(filter(None, os.environ.get("PURAIFY_FUZZ_PROTECTED", "").split(",")))


@schemathesis.hook
def before_call(context, case, kwargs):
    # The document describes the newest API version's shapes; an older version's answers are the same data
    # transformed at the edge (puraify/versions.py, tested in tests/e2e/test_api_versions_http.py).
    case.headers = {**(case.headers or {}), HEADER: LATEST}
    engine = (case.path_parameters or {}).get("engine_id")
    if engine in PROTECTED and case.path.startswith("/engines/"):
        case.path_parameters["engine_id"] = f"{engine}-x"
