"""Lazily created, cached boto3 clients, so endpoint overrides and test servers take effect.

No ``endpoint_url`` is passed (except under ``sam local invoke``: ``sam_local_endpoint_url``):
botocore resolves ``AWS_ENDPOINT_URL`` and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``
(DynamoDB Local for DynamoDB, moto for the rest) itself, and an explicit URL would override the
per-service one.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from puraify.settings import get_settings

_lock = threading.Lock()
_clients: dict[str, Any] = {}

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
    tcp_keepalive=True,
)
# DynamoDB's parameters are built here from typed records (store/items.py), never taken from a request as they
# are, and DynamoDB validates each call itself. botocore's client-side validation walked every attribute of every
# item again: half the handler's compute for a batch of 25 checks (make bench, section 2). Its docs name turning it
# off "for performance reasons"; a malformed call still fails, as DynamoDB's ValidationException.
_DYNAMODB_CONFIG = _CONFIG.merge(Config(parameter_validation=False))


def client(service: str) -> Any:
    """The process-wide boto3 client for ``service``, created on first use."""
    found = _clients.get(service)
    if found is not None:
        return found
    with _lock:
        if service not in _clients:
            settings = get_settings()
            # Only `sam local invoke` sets this (the container's AWS_ENDPOINT_URL cannot be set by SAM).
            endpoint = {"endpoint_url": settings.sam_local_endpoint_url} if settings.sam_local_endpoint_url else {}
            made = boto3.session.Session().client(
                service,
                region_name=settings.region,
                config=_DYNAMODB_CONFIG if service == "dynamodb" else _CONFIG,
                **endpoint,
            )
            _clients[service] = made
        return _clients[service]


def reset() -> None:
    """Forget every client (tests that point the process at another endpoint)."""
    with _lock:
        _clients.clear()
