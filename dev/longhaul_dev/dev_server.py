"""``longhaul dev``: the whole system on this machine, no AWS account (built in the MCP endpoint issue)."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("dev", help="run longhaul locally on moto and serve MCP over HTTP")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    raise SystemExit("longhaul dev is not available yet")
