"""Schemathesis hooks for ``make fuzz`` (loaded through ``SCHEMATHESIS_HOOKS``).

The fuzzer may rotate, revoke or re-scope any engine but the ones it authenticates as: a run
that locked itself out would fuzz nothing but 401s from then on.
"""

from __future__ import annotations

import os

import schemathesis

PROTECTED = frozenset(filter(None, os.environ.get("PURAIFY_FUZZ_PROTECTED", "").split(",")))


@schemathesis.hook
def before_call(context, case, kwargs):
    engine = (case.path_parameters or {}).get("engine_id")
    if engine in PROTECTED and case.path.startswith("/engines/"):
        case.path_parameters["engine_id"] = f"{engine}-x"
