"""Runs under the Lambda runtime's Python (3.13), isolated, stdlib only: ``build_check`` starts it.

usage: python3.13 -I -S layer_probe.py SHIM LAYER FUNCTION_DIR...

sys.path becomes SHIM, LAYER and nothing else but the standard library, as on Lambda where the layer is
/opt/python. SHIM holds this machine's builds of the distributions that ship compiled extensions, at the very
versions the layer holds (the layer's own aarch64 ``.so`` files cannot load on another architecture); everything
else, the longhaul package included, comes from the layer. Prints one JSON line.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

# What each function imports first (runtime getters import the rest lazily; importing them here proves they load).
MODULES = [
    "longhaul.runtime",
    "longhaul.worker",
    "longhaul.tasks",
    "longhaul.kinds",
    "longhaul.adapters.dynamodb",
    "longhaul.adapters.s3",
    "longhaul.adapters.stepfunctions",
    "longhaul.adapters.agentcore",
]
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, check_source off


def stale_bytecode(layer: Path) -> list[str]:
    """Every .py in the layer must have a .pyc for this interpreter, unchecked-hash, with this interpreter's magic."""
    bad = []
    for source in layer.rglob("*.py"):
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.is_file():
            bad.append(f"{source.relative_to(layer)}: no {cached.name}")
            continue
        header = cached.read_bytes()[:8]
        if header[:4] != importlib.util.MAGIC_NUMBER or int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            bad.append(f"{source.relative_to(layer)}: {cached.name} is not unchecked-hash bytecode of this Python")
    return bad


def main(shim: str, layer: str, function_dirs: list[str]) -> dict:
    sys.path[:0] = [shim, layer]
    for name in MODULES:
        importlib.import_module(name)
    handlers = {}
    for directory in function_dirs:
        spec = importlib.util.spec_from_file_location(f"handler_{Path(directory).name}", Path(directory) / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handlers[Path(directory).name] = callable(getattr(module, "lambda_handler", None))
    allowed = (shim, layer, sys.base_prefix, *function_dirs)
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    outside = sorted(
        name
        for name, file in files.items()
        if name not in ("__main__", "__mp_main__") and isinstance(file, str) and not file.startswith(allowed)
    )
    return {
        "python": sys.version.split()[0],
        "modules": len(sys.modules),
        "handlers": handlers,
        "loaded_from_elsewhere": outside,
        "stale_bytecode": stale_bytecode(Path(layer))[:20],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], sys.argv[3:])))
