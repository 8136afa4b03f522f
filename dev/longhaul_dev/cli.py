"""The ``longhaul`` command: local development tools. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="longhaul", description="longhaul local development tools")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from longhaul_dev import dev_server, invoke, scaffold, tasks_cli

    dev_server.add_parser(commands)
    invoke.add_parser(commands)
    tasks_cli.add_parser(commands)
    scaffold.add_parser(commands)

    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
