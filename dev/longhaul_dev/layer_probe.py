"""Runs under the Lambda runtime's Python (3.13), isolated, stdlib only: ``build_check`` starts it once per function.

usage: python3.13 -I -S layer_probe.py SHIM LAYER KINDS FUNCTION_DIR GETTER

sys.path becomes SHIM, LAYER (the function's own layer), KINDS and nothing else but the standard library, as on Lambda
where the layers are /opt/python. SHIM holds this machine's builds of the distributions that ship compiled
extensions, at the very versions the layer holds (the layer's own aarch64 ``.so`` files cannot load on another
architecture); everything else, the longhaul package included, comes from the layer. The probe imports the
function's handler, builds its services with ``longhaul.runtime.GETTER`` and every boto3 client they use (from the
layer's trimmed botocore models), then prints one JSON line.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

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


def main(shim: str, layer: str, kinds: str, function_dir: str, getter: str) -> dict:
    sys.path[:0] = [shim, layer, kinds]
    spec = importlib.util.spec_from_file_location("handler", Path(function_dir) / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    runtime = importlib.import_module("longhaul.runtime")
    clients = runtime.build_clients(getattr(runtime, getter)())
    allowed = (shim, layer, kinds, sys.base_prefix, function_dir)
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    outside = sorted(
        name
        for name, file in files.items()
        if name not in ("__main__", "__mp_main__") and isinstance(file, str) and not file.startswith(allowed)
    )
    return {
        "python": sys.version.split()[0],
        "modules": len(sys.modules),
        "handler": callable(getattr(module, "lambda_handler", None)),
        "clients": clients,
        "loaded_from_elsewhere": outside,
        "stale_bytecode": stale_bytecode(Path(layer))[:20],
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:6])))
