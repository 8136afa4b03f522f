"""One parse per state machine definition: moto 5.2.5 parses the ASL with its ANTLR grammar at CreateStateMachine
and again at every StartExecution (~70 ms of CPU each for template.yaml's workflow), the largest cost of a local
stack and of each task it runs.

The parsed program is read-only at run time: every execution evaluates it against its own ``Environment`` (heap,
stack, states, program state, callback and Map-run pools), as a Map state's iterations already evaluate one parsed
sub-program side by side within an execution. The one lazily written attribute is ``EvalComponent.heap_key`` (a
random id Retry uses to keep its attempt count in the environment's heap): it is set on every component before the
program is shared, so concurrent executions never race to set it. tests/unit/test_moto_asl_cache.py pins this.

Wraps a private moto API (pinned moto version), like moto_stop.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_original_parse: Callable[[str], tuple[Any, Any]] | None = None
_parsed: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
_MAX_DEFINITIONS = 32  # a dev server or test process holds a handful of distinct definitions
stats = {"parsed": 0, "reused": 0}


def _fix_heap_keys(component: Any, seen: set[int]) -> None:
    """Touch ``heap_key`` on every evaluation component reachable from ``component``."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    stack = [component]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, EvalComponent):
            _ = item.heap_key
        if isinstance(item, Component):
            stack.extend(vars(item).values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())


def _cached_parse(definition: str) -> tuple[Any, Any]:
    with _lock:
        hit = _parsed.get(definition)
        if hit is not None:
            _parsed.move_to_end(definition)
            stats["reused"] += 1
            return hit
    assert _original_parse is not None
    parsed = _original_parse(definition)  # a syntax error raises and is not cached
    _fix_heap_keys(parsed[0], set())
    with _lock:
        stats["parsed"] += 1
        _parsed[definition] = parsed
        while len(_parsed) > _MAX_DEFINITIONS:
            _parsed.popitem(last=False)
    return parsed


def install() -> None:
    """Patch moto once per process; idempotent."""
    global _original_parse
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    with _lock:
        if _original_parse is None:
            _original_parse = AmazonStateLanguageParser.parse
            AmazonStateLanguageParser.parse = staticmethod(_cached_parse)  # type: ignore[method-assign]


def uninstall() -> None:
    global _original_parse
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    with _lock:
        if _original_parse is not None:
            AmazonStateLanguageParser.parse = staticmethod(_original_parse)  # type: ignore[method-assign,assignment]
            _original_parse = None
