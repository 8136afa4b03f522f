"""longhaul: durable long-running tasks for MCP servers on AWS serverless."""

__version__ = "0.1.0"
