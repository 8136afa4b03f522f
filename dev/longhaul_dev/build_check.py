"""Check what `sam build` produced before it is deployed (``make build`` runs this after ``sam build``).

1. Every compiled extension in the layer is an ELF for arm64 (aarch64), none for this machine.
2. The layer imports on the target layout: Python 3.13, isolated, with nothing but the layer and the standard
   library on ``sys.path`` (``layer_probe.py``), importing the longhaul package and every function's handler from
   the build directory. This machine cannot load the aarch64 extensions, so the distributions that ship them are
   installed for this machine at exactly the layer's versions into a shim in front of the layer; every other
   module (the longhaul package, pydantic, boto3, mcp, ...) is the layer's own file.
3. Every .py in the layer has unchecked-hash .pyc bytecode for 3.13 (Lambda's /opt is read-only).
4. The unzipped size of the layer plus the largest function stays within BUDGET_MB (Lambda's limit: 250 MB).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from longhaul_dev.template import PROJECT_ROOT, function_specs, load_template

LAMBDA_LIMIT_MB = 250
BUDGET_MB = 150  # far below the limit: room for task kinds' own dependencies
EM_AARCH64 = 183
LAYER = "LonghaulLayer"


def elf_machine(path: Path) -> int | None:
    """The ELF header's e_machine, or None if the file is not ELF."""
    with path.open("rb") as file:
        header = file.read(20)
    if header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def foreign_extensions(site: Path) -> list[str]:
    """Shared objects in the layer that are not built for arm64."""
    return [
        str(path.relative_to(site))
        for path in site.rglob("*.so*")
        if path.is_file() and elf_machine(path) not in (EM_AARCH64, None)
    ]


def native_distributions(site: Path) -> list[str]:
    """``name==version`` of every distribution in the layer that ships a compiled extension (from its RECORD)."""
    found = set()
    for record in site.glob("*.dist-info/RECORD"):
        paths = [line.split(",", 1)[0] for line in record.read_text().splitlines()]
        if any(p.endswith(".so") or ".so." in p for p in paths):
            meta = dict(
                line.split(": ", 1)
                for line in (record.parent / "METADATA").read_text().splitlines()
                if line.startswith(("Name: ", "Version: "))
            )
            found.add(f"{meta['Name']}=={meta['Version']}")
    return sorted(found)


def host_shim(python: str, requirements: list[str], shim: Path) -> None:
    """This machine's wheels of the layer's compiled distributions, reinstalled only when the versions change."""
    stamp = shim / ".requirements"
    if stamp.is_file() and stamp.read_text() == "\n".join(requirements):
        return
    shutil.rmtree(shim, ignore_errors=True)
    pip = [python, "-m", "pip", "install", "-qq", "--disable-pip-version-check", "--root-user-action=ignore"]
    subprocess.run(
        [*pip, "--no-deps", "--no-compile", "--only-binary=:all:", "--target", str(shim), *requirements], check=True
    )
    stamp.write_text("\n".join(requirements))


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=PROJECT_ROOT / ".aws-sam" / "build")
    parser.add_argument("--python", default="python3.13", help="the Lambda runtime's Python on this machine")
    args = parser.parse_args(argv)

    site = args.build_dir / LAYER / "python"
    functions = sorted(function_specs(load_template()))
    problems: list[str] = []
    if not site.is_dir():
        print(f"{site} not found: run `make build`", file=sys.stderr)
        return 1

    foreign = foreign_extensions(site)
    problems += [f"not an arm64 extension: {name}" for name in foreign]

    # The interpreter itself, so that the probe runs with an empty environment (pyenv shims need theirs).
    python = subprocess.run(
        [args.python, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    natives = native_distributions(site)
    shim = args.build_dir.parent / "layer-check" / "host-natives"
    host_shim(python, natives, shim)
    probe_script = str(Path(__file__).with_name("layer_probe.py"))
    probe = subprocess.run(
        [python, "-I", "-S", probe_script, str(shim), str(site), *(str(args.build_dir / name) for name in functions)],
        capture_output=True,
        text=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1"},
    )
    if probe.returncode != 0:
        problems.append(f"the layer does not import on Python 3.13:\n{probe.stderr.strip()}")
        report = {}
    else:
        report = json.loads(probe.stdout.strip().splitlines()[-1])
        problems += [
            f"handler {name} has no callable lambda_handler" for name, ok in report["handlers"].items() if not ok
        ]
        problems += [f"imported from outside the layer: {name}" for name in report["loaded_from_elsewhere"]]
        problems += [f"bytecode: {line}" for line in report["stale_bytecode"]]

    layer_mb = tree_bytes(site) / 2**20
    function_mb = max((tree_bytes(args.build_dir / name) for name in functions), default=0) / 2**20
    total_mb = layer_mb + function_mb
    pyc = sum(1 for _ in site.rglob("*.pyc"))
    print(f"layer {LAYER}: {layer_mb:.1f} MB unzipped ({pyc} .pyc); largest function {function_mb:.2f} MB")
    print(f"unzipped code per function: {total_mb:.1f} MB of Lambda's {LAMBDA_LIMIT_MB} MB (budget {BUDGET_MB} MB)")
    print(f"distributions with compiled extensions: {', '.join(natives)}")
    if report:
        print(f"imports on Python {report['python']}: longhaul package and handlers {', '.join(report['handlers'])}")
    if total_mb > BUDGET_MB:
        problems.append(f"{total_mb:.1f} MB exceeds the {BUDGET_MB} MB budget")
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
