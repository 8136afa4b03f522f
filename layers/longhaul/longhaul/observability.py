"""One logger, tracer and metrics object for every function, configured by POWERTOOLS_* variables."""

import logging

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Powertools writes structured JSON itself; propagating would print each record again through any root handler
# (the Lambda runtime's, or the one the MCP SDK's logging.basicConfig installs).
logging.getLogger(logger.name).propagate = False
tracer = Tracer()
metrics = Metrics()
