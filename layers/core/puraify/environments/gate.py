"""The shapes of the gate's answers when the Planning Engine does not give them.

The gate itself is the Planning Engine's (``puraify.planning.gate``), handed to the Environment
Manager by the wiring; ``PURAIFY_PRODUCTION_GATE=off`` switches it off (``GateDecision`` allow).
Without a judge the deployment watch's every judgement is ``Undecided`` (never a rollback).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNAVAILABLE = "planning gate unavailable"


@dataclass(frozen=True)
class GateDecision:
    allow: bool
    reasons: list[str] = field(default_factory=list)
    decision_id: str = ""


@dataclass(frozen=True)
class Undecided:
    reasons: list[str]
    verdict: str = "undecided"
    notes: list[str] = field(default_factory=list)
    decision_id: str = ""
    candidate: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
