"""The MCP endpoint: an MCP server whose tools start and follow longhaul tasks, served on Lambda via Mangum."""
