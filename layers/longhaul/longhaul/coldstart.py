"""What a function does once per execution environment, before its first request (functions/*/app.py)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

_frozen = False


@contextmanager
def loading() -> Iterator[None]:
    """Around a handler module's imports. Importing allocates objects that live as long as the process, so the
    cyclic garbage collector, which runs every few thousand allocations, scans them again and again and finds
    nothing: ~8% of a worker's cold start on the built layer (benchmarks/cold_start.py). Collection is off while
    loading; what the first loading in a process built is then frozen (never scanned again, so later collections
    stay small), and collection resumes for the requests. Only the first: a process that loads handlers again (the
    local stack, tests) would otherwise freeze its garbage too."""
    global _frozen
    # pydantic looks for plugins when it builds its first model: it reads the entry points of every installed
    # distribution (~3 ms of a worker's cold start). longhaul's functions use none; a deployment whose kinds do sets
    # PYDANTIC_DISABLE_PLUGINS itself (to "" to load them all), and this leaves it alone.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    gc.disable()
    try:
        yield
    finally:
        if not _frozen:
            gc.freeze()
            _frozen = True
        gc.enable()
