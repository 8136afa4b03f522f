"""Keep the layers' requirements (what SAM installs into them) in step with pyproject.toml.

``layers/longhaul/requirements.txt`` is every dependency: LonghaulLayer, the MCP endpoint's. The workflow's functions
(RunStep, WriteResult, Reconcile, Sweep) get WorkerLayer, built from ``requirements-worker.txt``: the same list
without what only the endpoint imports, so a worker's cold start and layer carry no MCP SDK, Starlette or
PyJWT/cryptography. A dependency you add to pyproject.toml (a task kind's library, say) lands in both.
"""

from __future__ import annotations

import re
import sys
import tomllib

from longhaul_dev.template import PROJECT_ROOT

LAYER_DIR = PROJECT_ROOT / "layers" / "longhaul"
REQUIREMENTS = LAYER_DIR / "requirements.txt"
WORKER_REQUIREMENTS = LAYER_DIR / "requirements-worker.txt"
HEADER = "# Generated from pyproject.toml [project.dependencies] by `make requirements`; do not edit.\n"
WORKER_HEADER = (
    "# Generated from pyproject.toml [project.dependencies] by `make requirements`; do not edit.\n"
    "# WorkerLayer: without what only the MCP endpoint imports (longhaul_dev/requirements.py ENDPOINT_ONLY).\n"
)
# Imported by longhaul.endpoint only (build_check proves every worker imports without them).
ENDPOINT_ONLY = frozenset({"mcp", "mangum", "starlette", "pyjwt"})


def distribution(requirement: str) -> str:
    """The normalized distribution name of a requirement line ("pyjwt[crypto]>=2.10" -> "pyjwt")."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


def expected() -> dict[str, str]:
    dependencies = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    worker = [dep for dep in dependencies if distribution(dep) not in ENDPOINT_ONLY]
    return {
        str(REQUIREMENTS): HEADER + "".join(f"{dep}\n" for dep in dependencies),
        str(WORKER_REQUIREMENTS): WORKER_HEADER + "".join(f"{dep}\n" for dep in worker),
    }


def main(argv: list[str]) -> int:
    files = expected()
    if argv[:1] == ["write"]:
        for path, text in files.items():
            with open(path, "w") as file:
                file.write(text)
        return 0
    stale = [path for path, text in files.items() if _read(path) != text]
    for path in stale:
        print(f"{path.removeprefix(str(PROJECT_ROOT) + '/')} is out of date: run `make requirements`", file=sys.stderr)
    return 1 if stale else 0


def _read(path: str) -> str:
    try:
        with open(path) as file:
            return file.read()
    except FileNotFoundError:
        return ""


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
