"""What every benchmark reports: figures measured in one run, each beside its anchor and target.

``make bench`` (benchmarks/run.py) imports each benchmark module, calls its ``measure(quick)`` and writes the
figures to docs/performance.md. A figure is a ratio or a count, never a raw timing alone: these machines are noisy,
so timings are quoted as medians against an anchor measured in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    area: str  # the table it belongs to: "cost", "cold start", "warm path", "size", "suite"
    name: str  # what was measured, in a user's words
    value: float
    unit: str  # "x" for a ratio against the anchor, or "count", "ms", "KB", "MB", "$", "s"
    target: str = ""  # the target in words, e.g. "<= 1.10x"; empty: informational
    met: bool | None = None  # None: informational, no target
    anchor: str = ""  # what the value is compared with, and that anchor's own measured value
    note: str = ""  # how it was measured (median of N, the command), briefly

    def formatted_value(self) -> str:
        if self.unit == "x":
            return f"{self.value:.2f}x"
        if self.unit == "count":
            return f"{self.value:g}"
        if self.unit == "$":
            return f"${self.value:.2f}"
        return f"{self.value:.1f} {self.unit}" if self.value < 100 else f"{self.value:.0f} {self.unit}"
