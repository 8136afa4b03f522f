"""Keep only the botocore service models longhaul's functions call (``aws-services.txt``); runs at layer build.

usage: python trim_botocore.py SITE SERVICES_FILE

botocore ships every AWS service's model (~28 MB of its 32 MB); a client needs only its own service's folder plus
the shared files at the top of ``botocore/data`` (endpoints, partitions, _retry.json, sdk-default-configuration),
which stay. A service missing here fails at ``boto3.client(name)`` with UnknownServiceError naming it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def main(site: Path, services_file: Path) -> int:
    wanted = {
        line.strip() for line in services_file.read_text().splitlines() if line.strip() and not line.startswith("#")
    }
    data = site / "botocore" / "data"
    present = {path.name for path in data.iterdir() if path.is_dir()}
    if unknown := sorted(wanted - present):
        print(f"{services_file.name}: botocore has no service named {', '.join(unknown)}", file=sys.stderr)
        return 1
    for name in sorted(present - wanted):
        shutil.rmtree(data / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2])))
