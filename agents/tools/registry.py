"""Tool handlers: Python plugins found through the `parley.tools` entry-point group.

A handler is an async callable taking the tool's arguments as keyword
arguments and returning JSON-serialisable data. It may carry `description`
and `parameters` (JSON Schema) attributes, set with the `tool` decorator, which
a declaration that only names the tool inherits (`{"name": "lookup_order"}`).
"""

from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from typing import Any

import structlog

log = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "parley.tools"
Handler = Callable[..., Awaitable[Any]]


def tool(description: str, parameters: dict) -> Callable[[Handler], Handler]:
    """Give a handler its default description and JSON Schema parameters."""

    def mark(fn: Handler) -> Handler:
        fn.description = description  # type: ignore[attr-defined]
        fn.parameters = parameters  # type: ignore[attr-defined]
        return fn

    return mark


class ToolRegistry:
    """The installed handlers by tool name. Built once per process; read-only afterwards."""

    def __init__(self, handlers: dict[str, Handler] | None = None) -> None:
        self._handlers: dict[str, Handler] = dict(handlers or {})

    @classmethod
    def discover(cls) -> "ToolRegistry":
        handlers: dict[str, Handler] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                handlers[ep.name] = ep.load()
            except Exception as exc:  # one broken plugin must not take the gateway down
                log.error("tool_plugin_failed", tool=ep.name, target=ep.value, error=str(exc))
        return cls(handlers)

    def get(self, name: str) -> Handler | None:
        return self._handlers.get(name)

    def names(self) -> list[str]:
        return sorted(self._handlers)

    def describe(self, name: str) -> dict:
        fn = self._handlers[name]
        return {"name": name, "description": getattr(fn, "description", "") or "",
                "parameters": getattr(fn, "parameters", None) or {"type": "object", "properties": {}}}
