"""What the turn strategies share: the vote on whether the caller is done, and the shape of a voter."""

from enum import Enum
from typing import Protocol


class Completeness(Enum):
    COMPLETE = "complete"  # a finished question or sentence: answer after a short pause
    NEUTRAL = "neutral"  # no clue either way: the usual pause
    INCOMPLETE = "incomplete"  # digits, "and", "um", a trailing comma: the caller is likely to go on


class EndOfTurnVoter(Protocol):
    """One opinion on whether the caller is done, asked once per pause (transcript, model, ...)."""

    name: str

    def vote(self, transcript: str, language: str) -> Completeness: ...


class ReplySide(Protocol):
    """What turn-taking asks of the reply side, instead of reading its fields (agents/current_reply.py)."""

    def talking(self) -> bool:
        """The caller is hearing the assistant's reply now: speech over it may be an interruption."""
