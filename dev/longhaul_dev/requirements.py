"""Keep layers/longhaul/requirements.txt (what SAM installs into the layer) in step with pyproject.toml."""

from __future__ import annotations

import sys
import tomllib

from longhaul_dev.template import PROJECT_ROOT

REQUIREMENTS = PROJECT_ROOT / "layers" / "longhaul" / "requirements.txt"
HEADER = "# Generated from pyproject.toml [project.dependencies] by `make requirements`; do not edit.\n"


def expected() -> str:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    return HEADER + "".join(f"{dep}\n" for dep in project["dependencies"])


def main(argv: list[str]) -> int:
    if argv[:1] == ["write"]:
        REQUIREMENTS.write_text(expected())
        return 0
    if REQUIREMENTS.read_text() != expected():
        print(f"{REQUIREMENTS.relative_to(PROJECT_ROOT)} is out of date: run `make requirements`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
