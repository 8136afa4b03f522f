"""Check what `sam build` produced before it is deployed (``make build`` runs this after ``sam build``).

1. Every compiled extension in each layer is an ELF for arm64 (aarch64), none for this machine.
2. Each function imports from its own layer on the target layout: Python 3.13, isolated, with nothing but that layer,
   the KindsLayer and the standard library on ``sys.path`` (``layer_probe.py``, one fresh interpreter per function),
   and builds every boto3 client it uses from the layer's trimmed botocore models. This machine cannot load the
   aarch64 extensions, so the distributions that ship them are installed for this machine at exactly the layer's
   versions into a shim in front of the layer; every other module (the longhaul package, pydantic, boto3, mcp, ...)
   is the layer's own file.
3. Every .py in a layer has unchecked-hash .pyc bytecode for 3.13 (Lambda's /opt is read-only).
4. Sizes: each layer unzipped and zipped (as ``sam deploy`` uploads it); the unzipped layer plus the largest function
   stays within BUDGET_MB (Lambda's limit: 250 MB); WorkerLayer's zipped size beside its target.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from longhaul_dev.template import PROJECT_ROOT, function_specs, load_template

LAMBDA_LIMIT_MB = 250
BUDGET_MB = 150  # far below the limit: room for task kinds' own dependencies
WORKER_ZIPPED_TARGET_MB = 10  # issue 12: a worker is cold after every long Wait; it should not load the endpoint's
EM_AARCH64 = 183
LAYERS = ("LonghaulLayer", "WorkerLayer")
# The runtime getter that builds each function's services (functions/*/app.py call it on their first request).
GETTERS = {
    "McpEndpointFunction": "task_service",
    "RunStepFunction": "step_runner",
    "WriteResultFunction": "outcome_delivery",
    "ReconcileFunction": "reconciler",
    "SweepFunction": "sweeper",
}
# What the probe's settings need (names only: building a client sends no request).
PROBE_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "probe",
    "AWS_SECRET_ACCESS_KEY": "probe",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "TASKS_TABLE_NAME": "probe-tasks",
    "RESULTS_BUCKET_NAME": "probe-results",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:probe",
    "MEMORY_ID": "probe-memory",
    # A deployment with athena_query set up, so the workers that run or stop queries build their Athena client too.
    "ATHENA_WORKGROUP": "probe-queries",
    "ATHENA_DATABASE": "probe_data",
}


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


def zipped_bytes(layer_dir: Path) -> int:
    """The layer's size as uploaded: ``python/`` zipped with deflate, as ``sam package`` does."""
    with tempfile.TemporaryFile() as file:
        with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(layer_dir.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(layer_dir))
        return file.tell()


def layer_of(properties: dict) -> str:
    """The longhaul layer a function runs with (its Layers line names it before KindsLayer)."""
    names = [layer["Ref"] for layer in properties.get("Layers", []) if isinstance(layer, dict) and "Ref" in layer]
    found = [name for name in names if name in LAYERS]
    return found[0] if len(found) == 1 else ""


def layer_sizes(build_dir: Path) -> dict[str, tuple[float, float]]:
    """Unzipped and zipped MB of each built layer (benchmarks/cold_start.py reads these too)."""
    sizes = {}
    for name in LAYERS:
        if (build_dir / name / "python").is_dir():
            sizes[name] = (tree_bytes(build_dir / name) / 2**20, zipped_bytes(build_dir / name) / 2**20)
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=PROJECT_ROOT / ".aws-sam" / "build")
    parser.add_argument("--python", default="python3.13", help="the Lambda runtime's Python on this machine")
    args = parser.parse_args(argv)

    template = load_template()
    specs = function_specs(template)
    problems: list[str] = []
    sites = {name: args.build_dir / name / "python" for name in LAYERS}
    if missing := [str(site) for site in sites.values() if not site.is_dir()]:
        print(f"{', '.join(missing)} not found: run `make build`", file=sys.stderr)
        return 1
    for name, site in sites.items():
        problems += [f"{name}: not an arm64 extension: {path}" for path in foreign_extensions(site)]

    # The interpreter itself, so that the probe runs with an empty environment (pyenv shims need theirs).
    python = subprocess.run(
        [args.python, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    natives = sorted({dist for site in sites.values() for dist in native_distributions(site)})
    shim = args.build_dir.parent / "layer-check" / "host-natives"
    host_shim(python, natives, shim)
    probe_script = str(Path(__file__).with_name("layer_probe.py"))
    kinds = args.build_dir / "KindsLayer" / "python"
    stale: set[str] = set()
    imported: dict[str, str] = {}
    for function in sorted(specs):
        layer, getter = layer_of(template["Resources"][function]["Properties"]), GETTERS.get(function)
        if not layer or not getter:
            problems.append(f"{function}: no longhaul layer in its Layers, or no getter in build_check.GETTERS")
            continue
        probe = subprocess.run(
            [
                python,
                "-I",
                "-S",
                probe_script,
                str(shim),
                str(sites[layer]),
                str(kinds),
                *(str(args.build_dir / function), getter),
            ],
            capture_output=True,
            text=True,
            env=PROBE_ENVIRONMENT,
        )
        if probe.returncode != 0:
            problems.append(f"{function} does not import or build its clients from {layer}:\n{probe.stderr.strip()}")
            continue
        report = json.loads(probe.stdout.strip().splitlines()[-1])
        if not report["handler"]:
            problems.append(f"handler {function} has no callable lambda_handler")
        problems += [f"{function} imported from outside {layer}: {name}" for name in report["loaded_from_elsewhere"]]
        stale.update(f"{layer}: {line}" for line in report["stale_bytecode"])
        imported[function] = f"{layer}, {report['modules']} modules, clients {', '.join(report['clients'])}"
    problems += [f"bytecode: {line}" for line in sorted(stale)]

    function_mb = max((tree_bytes(args.build_dir / name) for name in specs), default=0) / 2**20
    for name, (unzipped, zipped) in layer_sizes(args.build_dir).items():
        pyc = sum(1 for _ in sites[name].rglob("*.pyc"))
        target = ""
        if name == "WorkerLayer":
            met = "met" if zipped <= WORKER_ZIPPED_TARGET_MB else "NOT met"
            target = f" (target <= {WORKER_ZIPPED_TARGET_MB} MB zipped: {met})"
        print(f"layer {name}: {unzipped:.1f} MB unzipped, {zipped:.1f} MB zipped ({pyc} .pyc){target}")
        if unzipped + function_mb > BUDGET_MB:
            problems.append(f"{name}: {unzipped + function_mb:.1f} MB with the largest function exceeds {BUDGET_MB} MB")
    print(f"largest function {function_mb:.2f} MB; Lambda's limit {LAMBDA_LIMIT_MB} MB unzipped, budget {BUDGET_MB} MB")
    print(f"distributions with compiled extensions: {', '.join(natives)}")
    for function, line in imported.items():
        print(f"{function} imports on Python 3.13 from {line}")
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
