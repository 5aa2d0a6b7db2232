"""A bundle that aborts regopy is rejected in a child process; this process keeps running."""

from __future__ import annotations

from pathlib import Path

import pytest

from puraify.planning.compiler import compile_bundle
from puraify.planning.rego import BundleRejectedError

GATE = Path(__file__).resolve().parents[3] / "policies" / "gate"

# regopy 1.5.2 aborts (C++ std::runtime_error) compiling a `with input as` inside another package.
ABORTING_MODULE = b"""package gate_test
import rego.v1
import data.gate

test_allow if {
    gate.decision.allow with input as {"facts": {}}
}
"""


def gate_files() -> dict[str, bytes]:
    return {name: (GATE / name).read_bytes() for name in ("gate.rego", "data.json")}


def test_bundle_that_aborts_the_engine_is_rejected_and_we_survive():
    with pytest.raises(BundleRejectedError, match="crashed"):
        compile_bundle({**gate_files(), "gate_test.rego": ABORTING_MODULE}, revision="r", entrypoint="gate/decision")
    # the shipped gate still compiles, in this process, afterwards
    policy = compile_bundle(gate_files(), revision="r2", entrypoint="gate/decision")
    assert policy.evaluate({"deployment": {}, "facts": {}}).allow is False


def test_compile_error_reason_comes_back_from_the_child():
    with pytest.raises(BundleRejectedError, match="compile error"):
        compile_bundle({"gate.rego": b"package gate\nthis is not rego"}, revision="r", entrypoint="gate/decision")
