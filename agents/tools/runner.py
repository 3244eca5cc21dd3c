"""Runs one tool call: validate the arguments, dispatch to the handler with a timeout, never raise."""

import asyncio
import json
import time

import structlog

from agents.ports import ToolCallRecord
from agents.providers.llm.base import ToolCallRequest
from agents.tools.registry import ToolRegistry
from agents.tools.spec import ToolDefinition, validate_arguments

log = structlog.get_logger(__name__)


class ToolRunner:
    """A failing, slow or unknown tool becomes an error result the LLM can talk about, never a dead call."""

    def __init__(self, registry: ToolRegistry, timeout_s: float = 10.0) -> None:
        self.registry = registry
        self.timeout_s = timeout_s

    async def run(self, definitions: dict[str, ToolDefinition], call: ToolCallRequest) -> ToolCallRecord:
        record = ToolCallRecord(call.call_id, call.name, call.arguments)
        started = time.perf_counter()
        try:
            record.result = await self._dispatch(definitions, call)
        except _ToolFailure as exc:
            record.error = str(exc)
        except asyncio.TimeoutError:
            record.error = f"the tool {call.name} did not answer within {self.timeout_s:g} s"
        except Exception as exc:  # a plugin's bug must not end the call
            log.exception("tool_failed", tool=call.name)
            record.error = f"the tool {call.name} failed: {type(exc).__name__}"
        record.duration_ms = round((time.perf_counter() - started) * 1000)
        log.info("tool_called", tool=call.name, call_id=call.call_id, ok=record.error is None,
                 duration_ms=record.duration_ms)
        return record

    async def _dispatch(self, definitions: dict[str, ToolDefinition], call: ToolCallRequest):
        definition = definitions.get(call.name)
        if definition is None:
            raise _ToolFailure(f"there is no tool named {call.name}; available: {', '.join(definitions) or 'none'}")
        handler = self.registry.get(call.name)
        if handler is None:
            raise _ToolFailure(f"the tool {call.name} is not installed on this gateway")
        problem = validate_arguments(definition, call.arguments)
        if problem:
            raise _ToolFailure(f"invalid arguments for {call.name}: {problem}")
        result = await asyncio.wait_for(handler(**call.arguments), self.timeout_s)
        json.dumps(result)  # must be JSON: fail here, not in the LLM prompt or the database
        return result


class _ToolFailure(Exception):
    pass
