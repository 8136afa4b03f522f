"""A built wheel of longhaul is complete: it holds every module of the source tree, installs into a clean venv,
and every module imports from the installed copy (not from this checkout)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from longhaul_dev.template import PROJECT_ROOT

PACKAGE_ROOTS = {
    "longhaul": PROJECT_ROOT / "layers/longhaul/longhaul",
    "longhaul_dev": PROJECT_ROOT / "dev/longhaul_dev",
}

IMPORT_ALL = """
import importlib, json, sys
# The dependencies come from the development venv, appended so that longhaul itself resolves from this venv's
# site-packages (the wheel), never from the editable install (its .pth finder is not processed from sys.path).
sys.path.append(sys.argv[1])
failed = {}
for name in json.loads(sys.argv[2]):
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = f"{type(error).__name__}: {error}"
files = {name: sys.modules[name].__file__ for name in ("longhaul", "longhaul_dev")}
print(json.dumps({"failed": failed, "files": files}))
"""


def source_modules() -> set[str]:
    modules = set()
    for package, root in PACKAGE_ROOTS.items():
        for path in root.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            modules.add(".".join((package, *parts)).removesuffix(".__init__"))
    return modules


def run(*command: str | Path) -> str:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_wheel_installs_in_a_clean_venv_and_every_module_imports(tmp_path):
    # Build from a copy, so the build's own output (build/, *.egg-info) never lands in the checkout.
    source = tmp_path / "source"
    shutil.copytree(
        PROJECT_ROOT, source, ignore=shutil.ignore_patterns(".*", "node_modules", "build", "*.egg-info", "__pycache__")
    )
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", tmp_path / "dist", source)
    (wheel,) = (tmp_path / "dist").glob("longhaul-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
            for name in archive.namelist()
            if name.endswith(".py")
        }
        entry_points = archive.read(next(n for n in archive.namelist() if n.endswith("entry_points.txt"))).decode()
    modules = source_modules()
    # Nothing left out (e.g. a new subpackage), nothing extra.
    assert (sorted(modules - shipped), sorted(shipped - modules)) == ([], [])
    assert "longhaul = longhaul_dev.cli:main" in entry_points

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet", wheel)

    dependencies = sysconfig.get_paths()["purelib"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [python, "-c", IMPORT_ALL, dependencies, json.dumps(sorted(modules))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # not the checkout: its directories must not be importable by accident
        env=env,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["failed"] == {}
    installed = venv.resolve()
    for name, file in report["files"].items():
        assert Path(file).resolve().is_relative_to(installed), f"{name} imported from {file}, not the wheel"
