"""The process-wide Powertools logger and metrics (service and namespace come from the template)."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="puraify", use_rfc3339=True)
metrics = Metrics(namespace="Puraify", service="puraify")

# Functions without application metrics still flush (cold-start metric); that is not worth a warning per call.
warnings.filterwarnings("ignore", message="No application metrics to publish")
