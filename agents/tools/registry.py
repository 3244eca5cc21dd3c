"""Tool handlers: the built-ins plus Python plugins found through the `parley.tools` entry-point group.

A handler is an async callable taking the tool's arguments as keyword
arguments and returning JSON-serialisable data. It may carry `description`
and `parameters` (JSON Schema) attributes, set with the `tool` decorator, which
a declaration that only names the tool inherits (`{"name": "lookup_order"}`).
The built-in call-control tools (end_call, transfer_call, send_dtmf) are always
installed and cannot be replaced by a plugin.
"""

from importlib.metadata import entry_points

import structlog

from agents.tools.builtins import BUILTINS
from agents.tools.handler import Handler, tool

log = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "parley.tools"

__all__ = ["ENTRY_POINT_GROUP", "Handler", "ToolRegistry", "tool"]


class ToolRegistry:
    """The installed handlers by tool name. Built once per process; read-only afterwards."""

    def __init__(self, handlers: dict[str, Handler] | None = None) -> None:
        self._handlers: dict[str, Handler] = {**(handlers or {}), **BUILTINS}

    @classmethod
    def discover(cls) -> "ToolRegistry":
        handlers: dict[str, Handler] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in BUILTINS:
                log.warning("tool_plugin_ignored", tool=ep.name, target=ep.value, reason="a built-in has this name")
                continue
            try:
                handlers[ep.name] = ep.load()
            except Exception as exc:  # one broken plugin must not take the gateway down
                log.error("tool_plugin_failed", tool=ep.name, target=ep.value, error=str(exc))
        return cls(handlers)

    def get(self, name: str) -> Handler | None:
        return self._handlers.get(name)

    def names(self) -> list[str]:
        return sorted(self._handlers)

    def is_builtin(self, name: str) -> bool:
        return name in BUILTINS

    def describe(self, name: str) -> dict:
        fn = self._handlers[name]
        return {"name": name, "description": getattr(fn, "description", "") or "",
                "parameters": getattr(fn, "parameters", None) or {"type": "object", "properties": {}}}
