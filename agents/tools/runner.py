"""Runs one tool call: validate the arguments, dispatch (webhook, built-in or plugin) with a timeout, never raise."""

import asyncio
import json
import time

import structlog

from agents.ports import ToolCallRecord
from agents.providers.llm.base import ToolCallRequest
from agents.tools.handler import ToolContext, ToolFailure
from agents.tools.registry import ToolRegistry
from agents.tools.spec import ToolDefinition, lacking_argument, validate_arguments
from agents.tools.webhook import WebhookClient

log = structlog.get_logger(__name__)


class ToolRunner:
    """A failing, slow or unknown tool becomes an error result the LLM can talk about, never a dead call.

    `timeout_s` bounds a call whose definition sets no `timeout_s` of its own. `webhooks`
    is the process's WebhookClient (the gateway attaches it); without it `url` tools fail cleanly.
    """

    def __init__(self, registry: ToolRegistry, timeout_s: float = 10.0, webhooks: WebhookClient | None = None) -> None:
        self.registry = registry
        self.timeout_s = timeout_s
        self.webhooks = webhooks

    def holds(self, definition: ToolDefinition) -> bool:
        """Whether a slow call of this tool gets the hold line: look-ups do, call control does not."""
        if definition.url is not None:
            return True
        handler = self.registry.get(definition.name)
        return handler is None or getattr(handler, "hold_line", True)

    def lacking(self, definition: ToolDefinition, arguments: dict) -> tuple[str, str] | None:
        """(argument, error) when a call must not run because a required value is absent, empty, a
        placeholder or invalid and the caller is the one to give it; None to run the call as usual.

        Look-ups (the tools that get the hold line: webhooks, order searches) take their values from
        what the caller says, so the caller is asked. Call control (transfer_call, send_dtmf) takes them
        from the persona's instructions: a bad value there stays an error result the LLM can correct.
        """
        if not self.holds(definition) or definition.url is None and self.registry.get(definition.name) is None:
            return None  # call control, or a tool not installed (its run is an error result anyway)
        lacking = lacking_argument(definition, arguments)
        if lacking is None:
            return None
        name, problem = lacking
        if problem is None:
            return name, f"missing {name}: asked the caller"
        return name, f"invalid arguments for {definition.name}: {problem}; asked the caller for {name}"

    def timeout_for(self, definition: ToolDefinition | None) -> float:
        return definition.timeout_s if definition is not None and definition.timeout_s else self.timeout_s

    async def run(self, definitions: dict[str, ToolDefinition], call: ToolCallRequest,
                  context: ToolContext | None = None) -> ToolCallRecord:
        record = ToolCallRecord(call.call_id, call.name, call.arguments)
        started = time.perf_counter()
        timeout = self.timeout_for(definitions.get(call.name))
        try:
            record.result = await asyncio.wait_for(self._dispatch(definitions, call, context), timeout)
        except ToolFailure as exc:
            record.error = str(exc)
        except asyncio.TimeoutError:
            record.error = f"the tool {call.name} did not answer within {timeout:g} s"
        except Exception as exc:  # a plugin's bug must not end the call
            log.exception("tool_failed", tool=call.name)
            record.error = f"the tool {call.name} failed: {type(exc).__name__}"
        record.duration_ms = round((time.perf_counter() - started) * 1000)
        log.info("tool_called", tool=call.name, call_id=call.call_id, ok=record.error is None,
                 duration_ms=record.duration_ms, webhook=call.name in definitions and definitions[call.name].url is not None)
        return record

    async def _dispatch(self, definitions: dict[str, ToolDefinition], call: ToolCallRequest,
                        context: ToolContext | None):
        definition = definitions.get(call.name)
        if definition is None:
            raise ToolFailure(f"there is no tool named {call.name}; available: {', '.join(definitions) or 'none'}")
        context = context or ToolContext(session_id="", turn_id="")
        if definition.url is not None:
            problem = validate_arguments(definition, call.arguments)
            if problem:
                raise ToolFailure(f"invalid arguments for {call.name}: {problem}")
            if self.webhooks is None:
                raise ToolFailure(f"the tool {call.name} cannot be reached: webhooks are not running on this gateway")
            return await self.webhooks.call(definition.url, call.name, call.arguments, session_id=context.session_id,
                                            call_id=call.call_id, turn_id=context.turn_id)
        handler = self.registry.get(call.name)
        if handler is None:
            raise ToolFailure(f"the tool {call.name} is not installed on this gateway")
        problem = validate_arguments(definition, call.arguments)
        if problem:
            raise ToolFailure(f"invalid arguments for {call.name}: {problem}")
        if getattr(handler, "wants_context", False):
            result = await handler(context, **call.arguments)
        else:
            result = await handler(**call.arguments)
        json.dumps(result)  # must be JSON: fail here, not in the LLM prompt or the database
        return result
