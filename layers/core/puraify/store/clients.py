"""Lazily created, cached boto3 clients, so endpoint overrides and test servers take effect.

No ``endpoint_url`` is passed (except under ``sam local invoke``: ``sam_local_endpoint_url``):
botocore resolves ``AWS_ENDPOINT_URL`` and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``
(DynamoDB Local for DynamoDB, moto for the rest) itself, and an explicit URL would override the
per-service one.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import boto3
from botocore.config import Config

from puraify.settings import get_settings

_lock = threading.Lock()
_clients: dict[str, Any] = {}

_BINARY = re.compile(rb'"BS?"\s*:')  # a binary attribute value's type (or a field so named: parsed as usual)
_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 3, "mode": "standard"},
    tcp_keepalive=True,
)


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
                config=_CONFIG,
                **endpoint,
            )
            if service == "dynamodb":
                made.meta.events.register("before-parse.dynamodb.Query", _items_as_sent)
            _clients[service] = made
        return _clients[service]


def _items_as_sent(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    """A Query's ``Items`` taken as DynamoDB sent them, not walked through botocore's shape parser.

    The JSON wire form of an item is what the parser returns for every type but binary (which it
    base64-decodes), and the parser was half of reading 10,000 audit records for a simulation. Answers
    holding a binary value, and errors, are parsed as usual; the rest of the answer always is.
    """
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes) or _BINARY.search(body):
        return
    try:
        document = json.loads(body)
    except ValueError:
        return
    if isinstance(document, dict) and isinstance(document.get("Items"), list):
        customized_response_dict["Items"] = document.pop("Items")
        response_dict["body"] = json.dumps(document).encode()


def reset() -> None:
    """Forget every client (tests that point the process at another endpoint)."""
    with _lock:
        _clients.clear()
