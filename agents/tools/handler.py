"""What a tool handler is: an async callable, its default description and schema, and what it may use.

Plugins take the tool's arguments as keyword arguments and return JSON. Built-in
call-control tools (`wants_context`) also get a ToolContext first: the session,
the door's CallControl and the session's transfer targets. Any handler may raise
ToolFailure with a message the LLM can talk about ("no such order").
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from agents.ports import CallControl

Handler = Callable[..., Awaitable[Any]]
Ending = Literal["hang_up", "transfer"]


class ToolFailure(Exception):
    """A tool could not do its job; str(exc) becomes the call's error result, for the LLM to talk about."""


@dataclass
class ToolContext:
    """One reply's view of its session, shared by the tool calls of that reply.

    `ending` is set by end_call ("hang_up") and by transfer_call ("transfer", to `transfer_to`): the
    reply then says no more than its last words, and the conversation ends the call or transfers it
    once they have been heard (agents/conversation.py), or not at all if the caller talks over them.
    """

    session_id: str
    turn_id: str
    control: CallControl | None = None
    transfer_targets: tuple[str, ...] = ()
    ending: Ending | None = None
    transfer_to: str | None = None


def tool(description: str, parameters: dict, *, wants_context: bool = False,
         hold_line: bool = True) -> Callable[[Handler], Handler]:
    """Give a handler its default description and JSON Schema parameters.

    `wants_context`: call it as handler(context, **arguments). `hold_line`: a slow call gets
    the hold line ("Let me look that up."); false for tools that are not look-ups (end_call).
    """

    def mark(fn: Handler) -> Handler:
        fn.description = description  # type: ignore[attr-defined]
        fn.parameters = parameters  # type: ignore[attr-defined]
        fn.wants_context = wants_context  # type: ignore[attr-defined]
        fn.hold_line = hold_line  # type: ignore[attr-defined]
        return fn

    return mark
