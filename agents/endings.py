"""A reply that ends the call (end_call) or moves it (transfer_call): the endings half of `Conversation`
(agents/conversation.py).

The tools only mark the reply's ending; nothing happens to the call until the reply's last words (the
goodbye, "Transferring your call now.") have been heard out and its turn is stored. Then a transfer is
handed to the door, and the session ends ("hangup"): the session's runner stores the end and has the
door hang up or close (gateway/call_session.py), the same single path as DELETE or a limit, on every door.
A caller who talks over those last words keeps the call, and the stored tool call says it was cancelled;
a transfer the door could not make is said to the caller, and the conversation goes on.
"""

import structlog

from agents import lines
from agents.ports import CallControl, CallControlError
from agents.reply import ReplyState
from agents.session import SessionSettings

log = structlog.get_logger(__name__)

ENDING_TOOLS = ("end_call", "transfer_call")
ENDING_CANCELLED = "cancelled: the caller spoke before it was done; the call goes on"


def cancel_ending(state: ReplyState) -> None:
    """The caller spoke over the reply's last words: the call goes on, and its stored tool call says so,
    for the next reply and for whoever reads the transcript."""
    for call in state.tool_calls:
        if call.name in ENDING_TOOLS and call.error is None:
            call.result, call.error = None, ENDING_CANCELLED


class Endings:
    """Mixed into Conversation, which provides `control`, `settings`, `end` and `_say`."""

    control: CallControl | None
    settings: SessionSettings

    async def _end_call(self, state: ReplyState) -> None:
        """The reply that asked for it has been heard out: transfer (if asked), then end the session."""
        if state.ending == "transfer" and state.transfer_to is not None and self.control is not None:
            try:
                await self.control.transfer(state.transfer_to)
            except CallControlError as exc:
                log.warning("transfer_failed", target=state.transfer_to, error=str(exc))
                said = lines.in_language(lines.TRANSFER_FAILED, self.settings.language)
                await self._say(said)  # type: ignore[attr-defined]
                return
            log.info("transferred", target=state.transfer_to)
        await self.end("hangup")  # type: ignore[attr-defined]
