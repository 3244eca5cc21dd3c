"""The reply in progress, if any: what the conversation plays and turn-taking asks about (its ReplySide)."""

import asyncio
from dataclasses import dataclass

from agents.reply import ReplyState


@dataclass
class CurrentReply:
    task: asyncio.Task | None = None  # generates the reply and waits for it to be heard out
    state: ReplyState | None = None  # its timings, text timeline and tool calls; kept after it ends

    def running(self) -> bool:
        """Being generated or played, and not cut already (a cut reply may still be finishing its tool call)."""
        task = self.task
        return task is not None and not task.done() and not task.cancelling()

    def talking(self) -> bool:
        """The caller is hearing it: running, and its first audio went out."""
        return self.running() and self.state is not None and self.state.first_audio_at is not None
