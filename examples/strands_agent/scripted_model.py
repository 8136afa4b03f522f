"""A Strands model provider that follows a fixed script instead of calling an LLM, so the example (and its test)
runs without model access. It drives the agent exactly as an LLM would: through tool calls and text turns.

The script: asked to "Train ...", it calls the ``model_training`` tool; given a tool result, it reports the task id
(or, when the call ran as a native task to its end, the result);
asked anything else, it looks through the conversation history for what it knows about the tasks it started.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

from strands.models import Model

STARTED = "Started longhaul task"
FINISHED = "The training task finished"


class ScriptedModel(Model):
    def __init__(self, session_id: str, epochs: int = 3, epoch_seconds: float = 1.0):
        self.config = {"session_id": session_id, "epochs": epochs, "epoch_seconds": epoch_seconds}

    def update_config(self, **model_config: Any) -> None:
        self.config.update(model_config)

    def get_config(self) -> Any:
        return self.config

    def structured_output(self, output_model: Any, prompt: Any, system_prompt: str | None = None, **kwargs: Any):  # type: ignore[override]
        raise NotImplementedError("the scripted model has no structured output")

    async def stream(
        self, messages: Any, tool_specs: Any = None, system_prompt: str | None = None, **kwargs: Any
    ) -> AsyncIterable[dict]:  # type: ignore[override]
        last = messages[-1]
        results = [block["toolResult"] for block in last["content"] if "toolResult" in block]
        if results and _outcome(results[0]) is not None:  # a native task ran to its end (agent.py --wait)
            async for event in _text(f"{FINISHED}: {json.dumps(_outcome(results[0]))}"):
                yield event
        elif results:
            task_id = _task_id(results[0])
            async for event in _text(f"{STARTED} {task_id}. Its result will be delivered to this session's memory."):
                yield event
        elif _text_of(last).lower().startswith("train"):
            arguments = {
                "epochs": self.config["epochs"],
                "epoch_seconds": self.config["epoch_seconds"],
                "session_id": self.config["session_id"],
            }
            async for event in _tool_call("model_training", arguments):
                yield event
        else:
            async for event in _text(_recall(messages[:-1])):
                yield event


def _text_of(message: dict) -> str:
    return " ".join(block.get("text", "") for block in message["content"])


def _outcome(result: dict) -> dict | None:
    """A finished task's result (native tasks answer with it), or None for a start tool's task handle."""
    for block in result.get("content", []):
        value = block.get("json")
        if value is None and "text" in block:
            try:
                value = json.loads(block["text"])
            except ValueError:
                continue
        if isinstance(value, dict) and "task_id" not in value:
            return value
    return None


def _task_id(result: dict) -> str:
    for block in result.get("content", []):
        if "json" in block and "task_id" in block["json"]:
            return str(block["json"]["task_id"])
        match = re.search(r'"task_id":\s*"(\w+)"', block.get("text", ""))
        if match:
            return match[1]
    return "(unknown)"


def _recall(history: list[dict]) -> str:
    """What the history says about the tasks this agent started (the ids are in its own earlier replies)."""
    started = re.findall(rf"{STARTED} (\w+)", " ".join(_text_of(m) for m in history if m["role"] == "assistant"))
    for message in reversed(history):
        text = _text_of(message)
        outcome = text.startswith(FINISHED) or (not text.startswith(STARTED) and any(t in text for t in started))
        if message["role"] == "assistant" and outcome:
            return f"From my memory of this session: {text}"
    if started:
        return f"I started task {started[-1]}, but I have no outcome for it in this session yet."
    return "I have not started any task in this session."


async def _text(text: str) -> AsyncGenerator[dict, None]:
    yield {"messageStart": {"role": "assistant"}}
    yield {"contentBlockStart": {"start": {}}}
    yield {"contentBlockDelta": {"delta": {"text": text}}}
    yield {"contentBlockStop": {}}
    yield {"messageStop": {"stopReason": "end_turn"}}
    yield _usage()


async def _tool_call(name: str, arguments: dict) -> AsyncGenerator[dict, None]:
    yield {"messageStart": {"role": "assistant"}}
    yield {"contentBlockStart": {"start": {"toolUse": {"toolUseId": f"call-{name}", "name": name}}}}
    yield {"contentBlockDelta": {"delta": {"toolUse": {"input": json.dumps(arguments)}}}}
    yield {"contentBlockStop": {}}
    yield {"messageStop": {"stopReason": "tool_use"}}
    yield _usage()


def _usage() -> dict:
    return {"metadata": {"usage": {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}, "metrics": {"latencyMs": 0}}}
