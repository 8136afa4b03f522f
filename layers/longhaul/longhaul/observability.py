"""One logger, tracer and metrics object for every function, configured by POWERTOOLS_* variables."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger()
# Powertools writes structured JSON itself; propagating would print each record again through any root handler
# (the Lambda runtime's, or the one the MCP SDK's logging.basicConfig installs).
logging.getLogger(logger.name).propagate = False
metrics = Metrics()


def __getattr__(name: str) -> Any:
    # The tracer is built on first import of `tracer`: creating it loads the X-Ray SDK (~0.2 s), which the worker
    # functions use and the latency-sensitive MCP endpoint does not import.
    if name == "tracer":
        from aws_lambda_powertools import Tracer

        globals()["tracer"] = Tracer()
        return globals()["tracer"]
    raise AttributeError(name)


tracer: Tracer
