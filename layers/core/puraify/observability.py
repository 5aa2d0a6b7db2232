"""The process-wide Powertools logger and metrics (service and namespace come from the template)."""

from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model

logger = Logger(service="puraify", use_rfc3339=True)
metrics = Metrics(namespace="Puraify", service="puraify")

# Functions without application metrics still flush (cold-start metric); that is not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")

_cold_start = True


def bind_invocation(event: dict[str, Any], context: Any) -> None:
    """The keys ``logger.inject_lambda_context(correlation_id_path=API_GATEWAY_HTTP, clear_state=True)``
    gives each line of an invocation, set without its per-call formatter rebuild and JMESPath query.

    For a function that appends no keys of its own but ``engine_id`` (the check): every key is set
    afresh here, ``engine_id`` cleared, so nothing carries over from the previous invocation.
    """
    global _cold_start
    logger.append_keys(
        cold_start=_cold_start,
        **build_lambda_context_model(context).__dict__,
        correlation_id=(event.get("requestContext") or {}).get("requestId"),
        engine_id=None,
    )
    _cold_start = False


def restored() -> None:
    """A SnapStart restore starts an instance: its first invocation is logged as a cold start."""
    global _cold_start
    _cold_start = True
