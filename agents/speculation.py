"""A reply started in the caller's pause, before the turn is known to be over (issue 13: answers that start sooner).

At a pause the engine has the words so far (agents/listening.py transcribes them to judge the end of
turn). Waiting for the turn to end before asking the model spends the rest of the pause doing nothing;
a speculative reply asks the model at once, with those words as the caller's turn. It runs behind a
gate: it may read the prompt, write text and synthesise its first sentence, but it sends no audio, emits
no event and runs no tool until the conversation adopts it. It is adopted when the turn ends with the
very words it answered (and nothing else happened meanwhile), and dropped as soon as the caller goes on
talking, the words differ, or the session ends: a dropped one was never heard and leaves no trace but
the CPU it used.
"""

import asyncio
from dataclasses import dataclass, field

from agents.providers.llm.base import Message
from agents.reply import ReplyState


@dataclass
class Speculation:
    messages: list[Message]  # what the model was asked: the context as it will be once the words are stored
    mark: int  # the caller's speech (ms) it heard: more speech means the caller went on
    generation: int  # the conversation's generation when it began (a typed turn or a key press bumps it)
    state: ReplyState  # its turn id is the one the reply will have if adopted
    task: asyncio.Task  # Reply.run(...) behind `gate`
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    def fits(self, messages: list[Message], generation: int, next_turn_id: str) -> bool:
        """Does it answer this turn? The very context the reply would be asked with, nothing in between, and
        still running (it cannot finish behind the gate: its speaker waits there with the first audio, its
        tools before they run)."""
        return (messages == self.messages and generation == self.generation and next_turn_id == self.state.turn_id
                and not self.task.done())

    def adopt(self, started: float) -> asyncio.Task:
        """Let it speak: its latency counts from `started` (the end of the caller's speech)."""
        self.state.started = started
        self.gate.set()
        return self.task

    def drop(self) -> None:
        self.task.cancel()
