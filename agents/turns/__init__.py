"""Turn-taking: when the caller is done, and when speech over a reply is an interruption.

One small strategy per file, each a plain synchronous judgement on numbers and words
(milliseconds of speech and silence, a transcript) so it is tested alone with exact
values; `agents/listening.py` feeds them from the speech detector on the frame path
and carries out what they decide.

- end_of_turn.py: the VAD pause, ended after a wait chosen by the voters' votes
- transcript.py: a voter that reads the words ("?" done; digits, "and", "um" not yet)
- interruption.py: speech over a reply pauses it, words or length make it an interruption
- backchannel.py: "mm-hmm", "okay", hums: listener sounds, not requests
- length.py: a turn with no pause at all still ends
- echo.py: the assistant's own voice coming back is not the caller
"""

from agents.turns.base import Completeness, EndOfTurnVoter, ReplySide
from agents.turns.echo import EchoGate
from agents.turns.end_of_turn import EndOfTurn, PauseVerdict
from agents.turns.interruption import InterruptionGuard, Overlap
from agents.turns.length import TurnLength
from agents.turns.transcript import TranscriptCompleteness, completeness
from agents.turns.backchannel import is_backchannel

__all__ = ["Completeness", "EchoGate", "EndOfTurn", "EndOfTurnVoter", "InterruptionGuard", "Overlap",
           "PauseVerdict", "ReplySide", "TranscriptCompleteness", "TurnLength", "completeness", "is_backchannel"]
