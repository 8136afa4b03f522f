"""AgentCore Memory ``ListEvents`` as AWS answers it, for the local stack: moto 5.2.5 ignores ``filter`` and
returns events oldest first, one page. Strands' ``AgentCoreMemorySessionManager`` depends on all three: it finds
its session and agent state with metadata filters, and restores messages by reversing a newest-first list. Without
this, a Strands agent on ``longhaul dev`` restores nothing (or its history backwards).

The patch wraps moto's response method (whatever is installed there, so request validation added by other local
patches still runs first) and answers from moto's own event store. moto is pinned; tests/unit/test_agentcore_events.py
tests the patch.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

_lock = threading.Lock()
_original: Callable[..., Any] | None = None
DEFAULT_PAGE = 20  # ListEvents' maxResults default


def install() -> None:
    """Patch moto once per process; idempotent."""
    global _original
    from moto.bedrockagentcore.responses import BedrockAgentCoreResponse

    with _lock:
        if _original is not None:
            return
        _original = BedrockAgentCoreResponse.list_events
        BedrockAgentCoreResponse.list_events = _as_aws(_original)  # type: ignore[method-assign]


def uninstall() -> None:
    global _original
    from moto.bedrockagentcore.responses import BedrockAgentCoreResponse

    with _lock:
        if _original is not None:
            BedrockAgentCoreResponse.list_events = _original  # type: ignore[method-assign]
            _original = None


def _as_aws(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.core.responses import ActionResult

    @functools.wraps(original)
    def list_events(self: Any) -> Any:
        original(self)  # moto's checks (and any validation wrapped around it) decide what is refused
        params = self._get_params()
        key = (params["memoryId"], params["actorId"], params["sessionId"])
        stored = list(self.backend.events.get(key, {}).values())
        wanted = params.get("filter") or {}
        matching = [e for e in stored if _matches(e, wanted)]
        # Newest first; events with the same timestamp keep their reverse creation order.
        ordered = [e for _, _, e in sorted(((_seconds(e.event_timestamp), i, e) for i, e in enumerate(matching)),
                                           key=lambda t: (t[0], t[1]), reverse=True)]  # fmt: skip
        start = int(params.get("nextToken") or 0)
        size = int(params.get("maxResults") or DEFAULT_PAGE)
        page = ordered[start : start + size]
        include = bool(params.get("includePayloads", True))
        result: dict[str, Any] = {"events": [e.to_dict(include_payload=include) for e in page]}
        if start + size < len(ordered):
            result["nextToken"] = str(start + size)
        return ActionResult(result)

    return list_events


def _matches(event: Any, wanted: dict[str, Any]) -> bool:
    branch = wanted.get("branch")
    if branch and event.branch.get("name") != branch.get("name"):
        return False
    for condition in wanted.get("eventMetadata") or []:
        key = condition["left"]["metadataKey"]
        present = key in event.metadata
        operator = condition["operator"]
        if operator == "EXISTS" and not present:
            return False
        if operator == "NOT_EXISTS" and present:
            return False
        if operator == "EQUALS_TO":
            expected = (condition.get("right") or {}).get("metadataValue")
            if not present or event.metadata[key] != expected:
                return False
    return True


def _seconds(stamp: Any) -> float:
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    if isinstance(stamp, int | float):
        return float(stamp)
    try:
        return float(stamp)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
