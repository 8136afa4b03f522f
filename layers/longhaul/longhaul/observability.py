"""One logger and metrics object for every function, configured by POWERTOOLS_* variables.

No Powertools tracer: creating one imports the X-Ray SDK, about 0.2 s of every cold start (and a worker is cold after
every long Wait). The functions' active tracing (template.yaml) still records each invocation in X-Ray."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
# Powertools writes structured JSON itself; propagating would print each record again through any root handler
# (the Lambda runtime's, or the one the MCP SDK's logging.basicConfig installs).
logging.getLogger(logger.name).propagate = False
metrics = Metrics()
