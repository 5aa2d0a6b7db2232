"""Helpers of the SDK tests: a recording mocked control plane and canned answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

E2E_ADMIN_KEY = "pfk_e2e-admin-key-0123456789abcdefghijklmnopqrstuv"
ENGINE_KEY = "pfk_unit-test-key-must-never-leak-0123456789abcdef"


@dataclass
class Recorder:
    """What a mocked control plane received, and the waits the client asked for."""

    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def reply(status: int = 200, body: Any = None, **headers: str) -> httpx.Response:
    """A JSON response as the control plane would send it."""
    return httpx.Response(status, json=body if body is not None else {}, headers=headers)


def envelope(status: int, code: str, message: str, request_id: str = "req-1", **headers: str) -> httpx.Response:
    payload = {"error": {"code": code, "message": message, "details": []}, "request_id": request_id}
    return httpx.Response(status, json=payload, headers=headers)


CHECK_OK = {
    "allowed": True,
    "required_scopes": ["mail.send"],
    "reason": None,
    "rule": None,
    "engine_id": "engine-1",
    "platform": "gmail",
    "action_type": "send_email",
    "request_id": "req-ok",
}
